"""``liaison submit`` of files larger than one stream may carry, against a gateway that takes 10
records per SubmitStream call (``[limits] max_records_per_stream``)."""

from __future__ import annotations

import io
import sys
from pathlib import Path

import pytest

from gateway.config import CentreConfig
from gateway.server import Gateway
from liaison.v1 import record_pb2
from tests.conftest import make_config
from tests.gateway.cli.running import invalid_person, jsonl, liaison
from tests.support.factories import person

LIMIT = 10
INVALID_MONTH = "person.birth_date.month: must be 1 to 12, or 0 when unknown"


@pytest.fixture
def gateway_config(tmp_path: Path) -> CentreConfig:
    return make_config(tmp_path, max_records_per_stream=LIMIT)


def people(count: int, invalid: int | None = None) -> list[record_pb2.Record]:
    return [
        invalid_person(f"P-{i}") if i == invalid else person(f"P-{i}", family=f"FAMILY{i}")
        for i in range(count)
    ]


@pytest.fixture
def records_file(tmp_path: Path) -> Path:
    path = tmp_path / "records.jsonl"
    path.write_text(jsonl(*people(25, invalid=17)))
    return path


class Terminal(io.StringIO):
    """Standard error as a terminal shows it."""

    def isatty(self) -> bool:
        return True


class Pipe(io.BytesIO):
    """Standard input from a pipe: read once, no going back."""

    def seekable(self) -> bool:
        return False

    def seek(self, offset: int, whence: int = 0) -> int:
        raise io.UnsupportedOperation("seek")


async def test_a_file_is_split_over_streams_with_one_summary(
    gateway: Gateway, records_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = await liaison(
        capsys,
        *("--target", gateway.address, "submit", str(records_file)),
        *("--records-per-stream", str(LIMIT), "--batch-size", "3"),
    )
    assert (code, out) == (1, "stored 24, duplicates 0, rejected 1 (3 streams)\n")
    # Named by its position in the file, though it went in the second stream.
    assert err == f"record #17 (P-17): {INVALID_MONTH}\n"
    assert await gateway.store.last_sequence() == 24


async def test_the_gateway_limit_is_learnt_and_the_refused_stream_sent_again(
    gateway: Gateway, records_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    # The default of 100,000 records per stream is more than this gateway takes: its refusal
    # comes after two messages of 4 were processed.
    code, out, err = await liaison(
        capsys, "--target", gateway.address, "submit", str(records_file), "--batch-size", "4"
    )
    assert code == 1
    summary = out.split(", ")
    stored, duplicates = int(summary[0].split()[1]), int(summary[1].split()[1])
    assert stored + duplicates == 24
    assert out.endswith("rejected 1 (3 streams)\n")
    lines = err.splitlines()
    assert lines[0] == f"record #17 (P-17): {INVALID_MONTH}"
    assert lines[1].startswith(f"liaison: note: the gateway takes at most {LIMIT} records per")
    assert f"--records-per-stream {LIMIT}" in lines[1]
    assert len(lines) == 2
    assert await gateway.store.last_sequence() == 24


async def test_seekable_standard_input_is_read_again(
    gateway: Gateway, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    data = jsonl(*people(15)).encode()
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data)))
    code, out, _ = await liaison(capsys, "--target", gateway.address, "submit", "-")
    assert code == 0
    assert out.endswith("rejected 0 (2 streams)\n")
    assert await gateway.store.last_sequence() == 15


async def test_a_pipe_that_cannot_be_read_again_says_what_to_give(
    gateway: Gateway, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    data = jsonl(*people(25)).encode()
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(Pipe(data)))
    code, out, err = await liaison(
        capsys, "--target", gateway.address, "submit", "-", "--batch-size", "5"
    )
    assert (code, out) == (1, "")
    assert err.startswith(
        f"liaison: error: the gateway takes at most {LIMIT} records per stream, and standard "
        "input cannot be read again"
    )
    assert err.rstrip().endswith(
        f"submit it again with --records-per-stream {LIMIT} (what is stored then counts as "
        "duplicates)"
    )
    assert len(err.splitlines()) == 1

    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(Pipe(data)))
    code, out, _ = await liaison(
        capsys, "--target", gateway.address, "submit", "-", "--records-per-stream", str(LIMIT)
    )
    assert code == 0
    assert out.startswith("stored ")
    assert out.endswith("rejected 0 (3 streams)\n")
    assert await gateway.store.last_sequence() == 25


async def test_a_malformed_record_in_a_later_stream_stops_the_submission(
    gateway: Gateway, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "records.jsonl"
    path.write_text(jsonl(*people(12)) + "{not json\n")
    code, out, err = await liaison(
        capsys,
        *("--target", gateway.address, "submit", str(path), "--records-per-stream", "5"),
    )
    assert (code, out) == (2, "")
    assert err == (
        f"liaison: error: {path}: line 13 column 2: invalid JSON: Expecting property name "
        "enclosed in double quotes (records before it may have been stored; submitting the "
        "corrected file again is safe)\n"
    )
    assert await gateway.store.last_sequence() >= 10  # the first two streams completed


async def test_progress_is_shown_on_a_terminal_only(
    gateway: Gateway,
    records_file: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    terminal = Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    code, out, _ = await liaison(
        capsys,
        *("--target", gateway.address, "submit", str(records_file)),
        *("--records-per-stream", str(LIMIT)),
    )
    assert (code, out) == (1, "stored 24, duplicates 0, rejected 1 (3 streams)\n")
    shown = terminal.getvalue()
    erase = "\r\x1b[K"
    assert f"{erase}{records_file}: 25 records read, 25 acknowledged in 3 streams" in shown
    assert f"{erase}record #17 (P-17): {INVALID_MONTH}\n" in shown
    assert shown.endswith(erase)  # the progress line is gone before the summary
