"""Records of any number into the gateway: split over SubmitStream calls, with progress.

A gateway takes at most ``[limits] max_records_per_stream`` records per call (100,000 unless its
operator changed it). ``liaison submit`` and the large-file path of ``liaison ingest`` send
their records in calls of at most ``--records-per-stream`` records (the gateway's default),
and report once, at the end.

A gateway configured with a smaller limit refuses the first call that passes it, saying how many
it takes; the records that call carried before the refusal are stored. The command then reads
its input again from the start of that call and sends it in calls of the gateway's size: the
records already stored come back as duplicates, which the summary notes. Input that cannot be
read twice (a pipe) ends with an error that says which ``--records-per-stream`` to give.
"""

from __future__ import annotations

import argparse
import itertools
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Protocol

from gateway.cli.arguments import positive_int
from gateway.cli.exits import RefusedError, UsageError
from gateway.cli.jsonio import RecordFileError, iter_records
from gateway.cli.progress import Progress
from gateway.client import (
    DEFAULT_BATCH_SIZE,
    DEFAULT_RECORDS_PER_STREAM,
    LiaisonClient,
    StreamLimitError,
)
from liaison.v1 import exchange_pb2, record_pb2

__all__ = [
    "DecodedRecords",
    "FileRecords",
    "RecordSource",
    "StdinRecords",
    "Submitted",
    "add_stream_options",
    "limit_note",
    "record_source",
    "submit_records",
]


def add_stream_options(parser: argparse.ArgumentParser) -> None:
    """``--batch-size`` and ``--records-per-stream``, of commands that submit over streams."""
    parser.add_argument(
        "--batch-size",
        type=positive_int,
        default=DEFAULT_BATCH_SIZE,
        metavar="N",
        help=f"records per stream message (default: {DEFAULT_BATCH_SIZE})",
    )
    parser.add_argument(
        "--records-per-stream",
        type=positive_int,
        default=DEFAULT_RECORDS_PER_STREAM,
        metavar="N",
        help="records per SubmitStream call, at most the gateway's [limits] "
        f"max_records_per_stream (default: {DEFAULT_RECORDS_PER_STREAM}, the gateway's default; "
        "a gateway that takes fewer says so, and the records are sent again in smaller streams)",
    )


class RecordSource(Protocol):
    """Records a command submits, readable again from a given position when possible."""

    @property
    def description(self) -> str:
        """How messages name the input (a file name, "standard input")."""

    @property
    def rereadable(self) -> bool:
        """Whether :meth:`records` may be called again."""

    def records(self, skip: int) -> Iterator[record_pb2.Record]:
        """The records from the start, the first ``skip`` left out.

        Raises:
            UsageError: The input cannot be opened.
        """

    def close(self) -> None:
        """Release what the source holds open."""


class FileRecords:
    """The records of a file (JSON array or JSON Lines), read lazily."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.description = str(path)
        # A FIFO or a device reads differently the second time (or never).
        self.rereadable = path.is_file()
        # Opened first for the first reading, so that an unreadable file is reported before
        # anything else is tried.
        self._opened: IO[bytes] | None = self._open()

    def records(self, skip: int) -> Iterator[record_pb2.Record]:
        """The records from the start, the first ``skip`` left out; the file is opened now."""
        stream, self._opened = self._opened or self._open(), None
        return _reading(stream, skip)

    def close(self) -> None:
        """Close the file if it was opened and never read."""
        if self._opened is not None:
            self._opened.close()
            self._opened = None

    def _open(self) -> IO[bytes]:
        try:
            return open(self.path, "rb")
        except OSError as error:
            raise UsageError(f"cannot read {self.path}: {error.strerror}") from None


def _reading(stream: IO[bytes], skip: int) -> Iterator[record_pb2.Record]:
    with stream:
        yield from itertools.islice(iter_records(stream), skip, None)


class StdinRecords:
    """The records of standard input; readable again only when it is a file (``< FILE``)."""

    description = "standard input"

    def __init__(self) -> None:
        self._stream: IO[bytes] = sys.stdin.buffer
        self._read = False

    @property
    def rereadable(self) -> bool:
        return self._stream.seekable()

    def records(self, skip: int) -> Iterator[record_pb2.Record]:
        """The records from the start (seeking back the second time), the first ``skip`` left
        out. Standard input is not closed: it belongs to the interpreter."""
        if self._read:
            self._stream.seek(0)
        self._read = True
        return itertools.islice(iter_records(self._stream), skip, None)

    def close(self) -> None:
        """Nothing to close: standard input belongs to the interpreter."""


class DecodedRecords:
    """Records already in memory (decoded from a legacy file)."""

    def __init__(self, records: Sequence[record_pb2.Record], description: str) -> None:
        self._records = records
        self.description = description
        self.rereadable = True

    def records(self, skip: int) -> Iterator[record_pb2.Record]:
        return itertools.islice(self._records, skip, None)

    def close(self) -> None:
        """Nothing to close."""


def record_source(name: str) -> FileRecords | StdinRecords:
    """The source of ``liaison submit FILE``: a file, or ``-`` for standard input."""
    return StdinRecords() if name == "-" else FileRecords(Path(name))


@dataclass(slots=True)
class Submitted:
    """What a submission over several calls did, added up."""

    received: int = 0
    stored: int = 0
    duplicates: int = 0
    rejected: int = 0
    streams: int = 0
    """Calls that completed."""
    gateway_limit: int | None = None
    """The gateway's records per call, when it refused a call for carrying more."""

    def add(self, response: exchange_pb2.SubmitStreamResponse) -> None:
        """Count one completed call."""
        self.received += response.received
        self.stored += response.stored
        self.duplicates += response.duplicates
        self.rejected += response.rejected
        self.streams += 1


def submit_records(
    client: LiaisonClient,
    source: RecordSource,
    *,
    batch_size: int,
    records_per_stream: int,
    timeout: float | None,
    progress: Progress,
    on_result: Callable[[exchange_pb2.SubmitResult, str], None],
) -> Submitted:
    """Submit every record of ``source``, in calls of at most ``records_per_stream`` records
    (fewer when the gateway turns out to take fewer, see the module documentation).

    Args:
        client: The gateway's client.
        source: The records.
        batch_size: Records per stream message.
        records_per_stream: Records per call, at most.
        timeout: Deadline of each call in seconds; none when ``None``.
        progress: Where to show how far it got.
        on_result: Called with each record's result (``index``: its position in ``source``)
            and its record id, call after call.

    Returns:
        The counts of all calls.

    Raises:
        RefusedError: The gateway takes fewer records per call and ``source`` cannot be read
            again.
        UsageError: ``source`` cannot be opened, or a record of it cannot be read (the calls
            before it completed).
        ClientError: The gateway refused a call, or could not be reached.
    """
    submitted = Submitted()
    reading = _Reading(0, lambda: None)

    def describe() -> str:
        streams = "stream" if submitted.streams == 1 else "streams"
        return (
            f"{source.description}: {reading.read:,} records read, "
            f"{submitted.received:,} acknowledged in {submitted.streams} {streams}"
        )

    def on_read() -> None:
        progress.show(describe)

    per_stream = records_per_stream
    while True:
        reading = _Reading(submitted.received, on_read)
        records = source.records(reading.start)
        try:
            for response in client.submit_streams(
                reading.tracked(records), batch_size, records_per_stream=per_stream, timeout=timeout
            ):
                for result, record_id in reading.acknowledged(response):
                    on_result(result, record_id)
                submitted.add(response)
                progress.show(describe, now=True)
            return submitted
        except StreamLimitError as error:
            smaller = error.max_records
            if smaller is None or smaller >= per_stream:
                raise
            if not source.rereadable:
                raise RefusedError(
                    f"the gateway takes at most {smaller} records per stream, and "
                    f"{source.description} cannot be read again to send the rest in smaller "
                    f"streams; the records before #{submitted.received} are stored: submit it "
                    f"again with --records-per-stream {smaller} (what is stored then counts as "
                    "duplicates)"
                ) from None
            per_stream = smaller
            submitted.gateway_limit = smaller
        except RecordFileError as error:
            note = (
                " (records before it may have been stored; submitting the corrected file again "
                "is safe)"
                if reading.read
                else ""
            )
            raise UsageError(f"{source.description}: {error}{note}") from None
        finally:
            reading.stop()
            close = getattr(records, "close", None)
            if close is not None:
                close()


class _Reading:
    """One pass over a source, from ``start``: how far it read, and the ids of the records sent
    and not yet acknowledged (the gateway's results give positions only).

    The blocking client reads a call's records on a gRPC thread. They are all read before the
    call's response comes back, and the next call's only after it was handled; but a call that
    fails may leave that thread reading on for a moment, so :meth:`stop` waits for a read in
    progress and ends the pass before the source is closed or read again.
    """

    def __init__(self, start: int, on_read: Callable[[], None]) -> None:
        self.start = start
        self.read = start
        """Position after the last record read."""
        self._acknowledged = start
        self._pending: list[str] = []
        self._on_read = on_read
        self._lock = threading.Lock()
        self._stopped = False

    def tracked(self, records: Iterator[record_pb2.Record]) -> Iterator[record_pb2.Record]:
        """``records``, noted as they are read, until :meth:`stop`."""
        while True:
            with self._lock:
                if self._stopped:
                    return
                record = next(records, None)
            if record is None:
                return
            self._pending.append(record.record_id)
            self.read += 1
            self._on_read()
            yield record

    def stop(self) -> None:
        """End the pass: no record is read from the source once this returns."""
        with self._lock:
            self._stopped = True

    def acknowledged(
        self, response: exchange_pb2.SubmitStreamResponse
    ) -> Iterator[tuple[exchange_pb2.SubmitResult, str]]:
        """The results of a completed call, each with its record's id, their ``index`` made the
        record's position in the source."""
        already = self._acknowledged - self.start
        for result in response.results:
            position = result.index - already
            result.index += self.start
            yield result, self._pending[position] if position < len(self._pending) else "?"
        del self._pending[: response.received]
        self._acknowledged += response.received


def limit_note(submitted: Submitted) -> str | None:
    """What the summary should add when a call was refused and sent again, or ``None``."""
    if submitted.gateway_limit is None:
        return None
    limit = submitted.gateway_limit
    return (
        f"the gateway takes at most {limit} records per stream: a larger stream was refused "
        f"after storing part of its records and was sent again in streams of {limit}, so those "
        f"records count as duplicates (give --records-per-stream {limit} to avoid this)"
    )
