"""``liaison ingest`` against a real gateway serving the test adapters of
``tests.support.translation_adapters``: a file in one Ingest call (atomic, idempotent) or, when
it is too large for one, decoded here and submitted over streams.

The command runs through ``main()`` in a worker thread (the gateway serves on this test's event
loop).
"""

from __future__ import annotations

import asyncio
import io
import json
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from google.protobuf import json_format

from adapters import AdapterRegistry
from gateway.cli import ingestion as cli_ingestion
from gateway.cli import main
from gateway.config import CentreConfig
from gateway.server import Gateway
from liaison.rules.ids import in_namespace
from liaison.v1 import translation_pb2
from tests.conftest import TEST_CENTRE, make_config
from tests.gateway.cli.running import closed_port
from tests.support.translation_adapters import LinesAdapter, lines, lines_registry, serving

PEOPLE = lines("Doe;Jane;1975-03-12", "Roe;;1980-11")
WITH_ERRORS = lines("Doe;Jane;1975-03-12", "NOT A PERSON", "Roe;Rita;1980-13")


@pytest.fixture
def people(tmp_path: Path) -> Path:
    path = tmp_path / "people.lines"
    path.write_bytes(PEOPLE)
    return path


@pytest.fixture
async def gateway(gateway_config: CentreConfig) -> AsyncIterator[Gateway]:
    """A gateway serving the test adapters."""
    async with serving(gateway_config, lines_registry()) as started:
        yield started


async def liaison(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """Run ``main(argv)`` off the event loop; return the exit code, stdout and stderr."""
    code = await asyncio.to_thread(main, list(argv))
    out, err = capsys.readouterr()
    return code, out, err


async def test_ingest_prints_the_acks_and_is_idempotent(
    gateway: Gateway, people: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    decoded = LinesAdapter().decode(PEOPLE).records
    # Ingested records get their ids in the gateway's namespace.
    doe, roe = (in_namespace(record.record_id, TEST_CENTRE) for record in decoded)

    code, out, err = await liaison(
        capsys, "ingest", "--target", gateway.address, "--format", "lines", str(people)
    )
    assert code == 0
    assert out.splitlines() == [
        f"stored {doe} version 1",
        f"stored {roe} version 1",
        "stored 2, duplicates 0, skipped 0",
    ]
    assert err == "warning LINES_NO_GIVEN_NAME (line 2, column 5): the given name is empty\n"
    stored = await gateway.store.get(roe)
    assert stored is not None

    code, out, _ = await liaison(
        capsys, "--target", gateway.address, "ingest", "--format", "lines", str(people)
    )
    assert code == 0
    assert out.splitlines()[-1] == (
        "stored 0, duplicates 2, skipped 0 (this file was ingested before)"
    )


async def test_ingest_refused_exits_1_and_names_the_errors(
    gateway: Gateway, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "bad.lines"
    path.write_bytes(WITH_ERRORS)

    code, out, err = await liaison(
        capsys, "--target", gateway.address, "ingest", "--format", "lines", str(path)
    )

    assert (code, out) == (1, "")
    assert err.splitlines() == [
        "liaison: error: the payload has 2 error diagnostic(s); nothing was stored "
        "(accept_partial stores the records no error concerns) (INVALID_ARGUMENT)",
        "  line 2, column 1, byte 20: LINES_FIELD_COUNT: expected 3 fields separated by ';', "
        "found 1",
        "  line 3, column 10: LINES_DATE: the date must be YYYY, YYYY-MM or YYYY-MM-DD with a "
        "month 1 to 12",
    ]
    assert await gateway.store.last_sequence() == 0


async def test_ingest_accept_partial_reports_what_was_skipped(
    gateway: Gateway, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "bad.lines"
    path.write_bytes(WITH_ERRORS)
    doe, rita = (
        in_namespace(record.record_id, TEST_CENTRE)
        for record in LinesAdapter().decode(WITH_ERRORS).records
    )

    code, out, err = await liaison(
        capsys,
        "--target",
        gateway.address,
        "ingest",
        "--format",
        "lines",
        "--accept-partial",
        "--json",
        str(path),
    )

    assert code == 1
    response = json_format.Parse(out, translation_pb2.IngestResponse())
    assert [ack.record_id for ack in response.acks] == [doe]
    assert list(response.skipped_record_ids) == [rita]
    assert err.splitlines()[-1] == f"skipped {rita}: an error diagnostic concerns it"
    stored = await gateway.store.get(doe)
    assert stored is not None
    assert json.loads(out)["payloadSha256"]


async def test_ingest_from_standard_input_with_a_source_reference(
    gateway: Gateway, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(PEOPLE)))

    code, out, _ = await liaison(
        capsys,
        "--target",
        gateway.address,
        "ingest",
        "--format",
        "lines",
        "--source-reference",
        "batch-7",
        "-",
    )

    assert code == 0
    record_id = out.split()[1]
    stored = await gateway.store.get(record_id)
    assert stored is not None
    assert b"batch-7" in stored.blob


async def test_ingest_unknown_format_is_refused_by_the_gateway(
    gateway: Gateway, people: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, err = await liaison(
        capsys, "--target", gateway.address, "ingest", "--format", "paxlst", str(people)
    )

    assert code == 1
    assert err.splitlines() == [
        "liaison: error: unknown adapter 'paxlst' (INVALID_ARGUMENT)",
        "  adapter: unknown; known adapters: lines, lines-broken, lines-read-only",
    ]


async def test_ingest_usage_and_unreachable_exit_codes(
    tmp_path: Path, people: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    missing = tmp_path / "nowhere.lines"
    code, _, err = await liaison(capsys, "ingest", "--format", "lines", str(missing))
    assert code == 2
    assert err == f"liaison: error: cannot read {missing}: No such file or directory\n"

    with closed_port() as port:
        code, _, err = await liaison(
            capsys,
            "--target",
            f"127.0.0.1:{port}",
            "--timeout",
            "2",
            "ingest",
            "--format",
            "lines",
            str(people),
        )
    assert code == 3
    assert err.startswith(f"liaison: error: cannot reach the gateway at 127.0.0.1:{port}")


# --- files too large for one Ingest call ---------------------------------------------------------

MANY = lines(*(f"Family{i};Given{i};19{50 + i}-0{1 + i % 9}" for i in range(7)))
PAYLOAD_LIMIT = 100  # bytes: MANY is larger, PEOPLE is not
STREAM_LIMIT = 3  # records per SubmitStream call


@pytest.fixture
async def small_gateway(tmp_path: Path) -> AsyncIterator[Gateway]:
    """A gateway serving the test adapters that takes small payloads and short streams."""
    config = make_config(
        tmp_path, max_payload_bytes=PAYLOAD_LIMIT, max_records_per_stream=STREAM_LIMIT
    )
    async with serving(config, lines_registry()) as started:
        yield started


@pytest.fixture
def installed(monkeypatch: pytest.MonkeyPatch) -> None:
    """The test adapters, installed here too: a large file is decoded by the CLI."""
    monkeypatch.setattr(cli_ingestion, "default_registry", lines_registry)


@pytest.fixture
def many(tmp_path: Path) -> Path:
    path = tmp_path / "many.lines"
    path.write_bytes(MANY)
    assert len(MANY) > PAYLOAD_LIMIT
    return path


async def stored_ids(gateway: Gateway, record_ids: list[str]) -> list[str]:
    return [r for r in record_ids if await gateway.store.get(r) is not None]


@pytest.mark.usefixtures("installed")
async def test_a_file_the_gateway_refuses_as_too_large_is_decoded_here_and_streamed(
    small_gateway: Gateway, many: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    expected = [record.record_id for record in LinesAdapter().decode(MANY).records]
    target = ("--target", small_gateway.address)

    code, out, err = await liaison(capsys, *target, "ingest", "--format", "lines", str(many))

    assert code == 0
    assert out.splitlines() == [
        *(f"stored {record_id} version 1" for record_id in expected),
        "stored 7, duplicates 0, skipped 0 (over 3 streams, not atomically)",
    ]
    notice, note = err.splitlines()
    assert notice.startswith(f"liaison: {many} is too large for one Ingest call: the payload is ")
    assert notice.endswith(
        "decoding it here with lines 1.0.0 and storing its records over streams, not atomically "
        "(running it again is safe)"
    )
    assert note.startswith(f"liaison: note: the gateway takes at most {STREAM_LIMIT} records")
    assert await stored_ids(small_gateway, expected) == expected

    # The same records as the gateway's own decode: ingesting them again is no change.
    code, out, _ = await liaison(
        capsys,
        *target,
        *("ingest", "--format", "lines", str(many), "--records-per-stream", str(STREAM_LIMIT)),
    )
    assert code == 0
    assert out.splitlines()[-1] == (
        "stored 0, duplicates 7, skipped 0 (over 3 streams, not atomically)"
    )
    assert await small_gateway.store.last_sequence() == 7


@pytest.mark.usefixtures("installed")
async def test_a_file_over_max_payload_bytes_is_not_sent_whole(
    small_gateway: Gateway, many: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = await liaison(
        capsys,
        *("--target", small_gateway.address, "ingest", "--format", "lines", str(many)),
        *("--max-payload-bytes", "50", "--records-per-stream", str(STREAM_LIMIT), "--json"),
    )
    assert code == 0
    assert err.splitlines()[0].startswith(
        f"liaison: {many} is {len(MANY)} bytes, more than one Ingest call takes (50, "
        "--max-payload-bytes): decoding it here"
    )
    response = json_format.Parse(out, translation_pb2.IngestResponse())
    assert len(response.acks) == 7
    assert not response.duplicate
    assert len(response.payload_sha256) == 32


@pytest.mark.usefixtures("installed")
async def test_a_large_file_with_errors_stores_nothing_unless_partial_is_accepted(
    small_gateway: Gateway, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "bad.lines"
    # An adapter error on line 2, and a date the adapter passes but the gateway refuses.
    path.write_bytes(MANY + lines("NOT A PERSON", "Late;Lou;1975-02-30"))
    target = ("--target", small_gateway.address)

    code, out, err = await liaison(capsys, *target, "ingest", "--format", "lines", str(path))

    assert (code, out) == (1, "")
    refusal = err.splitlines()[-2:]
    assert refusal == [
        "liaison: error: the file has 1 error diagnostic(s) and 1 decoded record(s) failing "
        "validation; nothing was stored (--accept-partial stores the records no error concerns)",
        "  person.birth_date.day: is past the end of its month (decoded record #7)",
    ]
    assert "line 8, column 1" in err  # the adapter's diagnostic, summarised first
    assert await small_gateway.store.last_sequence() == 0

    code, out, err = await liaison(
        capsys, *target, "ingest", "--format", "lines", str(path), "--accept-partial"
    )
    assert code == 1
    assert out.splitlines()[-1] == (
        "stored 7, duplicates 0, skipped 1 (over 3 streams, not atomically)"
    )
    late = LinesAdapter().decode(lines("Late;Lou;1975-02-30")).records[0].record_id
    assert f"skipped {late}: an error concerns it" in err.splitlines()
    assert await small_gateway.store.last_sequence() == 7


async def test_a_large_file_needs_its_adapter_installed_here(
    small_gateway: Gateway,
    many: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setattr(cli_ingestion, "default_registry", lambda: AdapterRegistry([]))
    code, out, err = await liaison(
        capsys, "--target", small_gateway.address, "ingest", "--format", "lines", str(many)
    )
    assert (code, out) == (2, "")
    assert err.startswith(f"liaison: error: {many} is too large for one Ingest call: ")
    assert "decoding it here needs that adapter: unknown adapter 'lines'" in err
    assert await small_gateway.store.last_sequence() == 0
