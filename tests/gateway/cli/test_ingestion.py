"""``liaison ingest`` against a real gateway serving the test adapters of
``tests.translation_adapters``: a file in one Ingest call (atomic, idempotent) or, when it is too
large for one, decoded here and submitted over streams.

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

from gateway.cli import main
from gateway.config import CentreConfig
from gateway.server import Gateway
from liaison.v1 import translation_pb2
from tests.gateway.cli.running import closed_port
from tests.translation_adapters import LinesAdapter, lines, lines_registry, serving

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
    doe, roe = (record.record_id for record in decoded)

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
    doe, rita = (record.record_id for record in LinesAdapter().decode(WITH_ERRORS).records)

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
