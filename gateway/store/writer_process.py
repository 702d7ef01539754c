"""The store's writer process: the group-commit writer, outside the gateway's interpreter.

Run as ``python -m gateway.store.writer_process DATABASE SYNCHRONOUS MAX_BATCH_RECORDS
[CENTRE KEY_ID PRIVATE_KEY]`` (the last three when the centre signs its versions) by
:class:`gateway.store.process_writer.ProcessWriter`, which talks to it over its standard input
and output in the frames of :mod:`gateway.store.wire`. Inside, one thread does everything, with
the writer thread's rules (:class:`~gateway.store.batching.GroupCommit`): it blocks for the first
request, takes whatever else has arrived, runs the same :class:`Transactions`, and answers each
transaction with one frame. A Submit's request handed over as received (``PREPARE``) is parsed,
validated, stamped, hashed and indexed here (:func:`gateway.store.preparation.
prepare_submission`), so that the gateway's event loop does not; the process loads the
contract's rules and nothing of the server.

Why a process (``docs/decisions/0013-store-writer-process.md``): a writer *thread* shares the
gateway's interpreter lock with the event loop, which then waits for the lock after every poll
while the writer runs its Python between SQLite steps.

The process ends when its input ends (the gateway closed it, or died): it commits every request
already received, answers them, and exits. It ignores SIGINT and SIGTERM, which a terminal or a
service manager sends to the whole process group: the gateway decides when the store stops.
"""

from __future__ import annotations

import json
import logging
import os
import select
import signal
import sqlite3
import sys
import time
from pathlib import Path
from typing import Any, Literal, cast

from gateway.signing import SigningKeyError, SigningKeySource
from gateway.store.base import Ingestion, PreparationRefused, StoreError, WriteItem
from gateway.store.batching import GroupCommit
from gateway.store.preparation import prepare_submission
from gateway.store.schema import open_writer
from gateway.store.transaction import Transactions
from gateway.store.watch import DatabaseFile
from gateway.store.wire import (
    COMMITTED,
    FAILED,
    INGEST,
    INGESTED,
    LOST,
    OPEN_FAILED,
    PREPARE,
    READY,
    REFUSED,
    frame,
    ingest_outcome_to_wire,
    items_from_wire,
    outcomes_to_wire,
    records_to_wire,
    take_messages,
)
from gateway.store.writer import describe_failure
from liaison.rules.lifecycle import RetentionDefaults

__all__ = ["main"]

logger = logging.getLogger(__name__)

_READ_SIZE = 1 << 20


class _Pipe:
    """Request frames in (standard input), answer frames out."""

    def __init__(self, requests: int, answers: int) -> None:
        self._requests = requests
        self._answers = answers
        self._buffer = bytearray()
        self.ended = False
        """The gateway closed its end (or died): no request will come any more."""

    def receive(self, *, wait: bool, linger: float = 0.0) -> list[tuple[Any, ...]]:
        """The requests that have arrived. With ``wait``, block until at least one (or the end),
        then keep taking what arrives for ``linger`` seconds more."""
        received: list[tuple[Any, ...]] = []
        deadline: float | None = None
        while not self.ended:
            if received or not wait:
                if wait and linger and deadline is None:
                    deadline = time.monotonic() + linger
                timeout = 0.0 if deadline is None else max(0.0, deadline - time.monotonic())
                if not select.select([self._requests], [], [], timeout)[0]:
                    break
            data = os.read(self._requests, _READ_SIZE)
            if not data:
                self.ended = True
                break
            self._buffer += data
            received += take_messages(self._buffer)
        return received

    def send(self, message: tuple[Any, ...]) -> None:
        data = memoryview(frame(message))
        while data:
            written = os.write(self._answers, data)
            data = data[written:]


def _size(request: tuple[Any, ...]) -> int:
    return 1 if request[0] == PREPARE else len(request[-1])


def _alone(request: tuple[Any, ...]) -> bool:
    return bool(request[0] == INGEST)


def _serve(
    pipe: _Pipe, transactions: Transactions, max_batch_records: int, watch: DatabaseFile
) -> None:
    commit: GroupCommit[tuple[Any, ...]] = GroupCommit(
        max_records=max_batch_records, size_of=_size, alone=_alone
    )
    while True:
        commit.add(pipe.receive(wait=not commit.pending, linger=commit.linger()))
        batch = commit.take()
        if not batch:
            return  # ended, and everything received is answered
        lost = watch.change()
        if lost is not None:
            # Nothing more is written to a file nobody will read again; the gateway fails what
            # it has not been answered.
            pipe.send((LOST, lost))
            return
        if batch[0][0] == INGEST:
            _ingest(pipe, transactions, batch[0])
        else:
            _write(pipe, transactions, batch)


def _write(pipe: _Pipe, transactions: Transactions, batch: list[tuple[Any, ...]]) -> None:
    calls: list[int] = []
    groups: list[tuple[WriteItem, ...]] = []
    prepared: list[tuple[int, int] | None] = []
    for request in batch:
        if request[0] == PREPARE:
            _, call, centre_id, submitted = request
            started = time.time_ns()
            item = prepare_submission(submitted, centre_id)
            if isinstance(item, PreparationRefused):
                pipe.send(
                    (
                        REFUSED,
                        call,
                        item.message,
                        list(item.violations),
                        item.prepared_ns,
                        item.foreign_centre,
                    )
                )
                continue
            items: tuple[WriteItem, ...] = (item,)
            when: tuple[int, int] | None = (started, time.time_ns())
        else:
            items, when = items_from_wire(request[2]), None
        calls.append(request[1])
        groups.append(items)
        prepared.append(when)
    if not calls:
        return  # every record of the batch was refused
    try:
        result = transactions.run(groups)
    except Exception as error:
        pipe.send((FAILED, calls, describe_failure(error)))
        return
    pipe.send(
        (
            COMMITTED,
            records_to_wire(result.records),
            calls,
            [outcomes_to_wire(outcomes) for outcomes in result.outcomes],
            prepared,
            transactions.last_seconds,
        )
    )


def _ingest(pipe: _Pipe, transactions: Transactions, request: tuple[Any, ...]) -> None:
    _, call, adapter, payload_sha256, items = request
    try:
        outcome, records = transactions.ingest(
            Ingestion(adapter, payload_sha256, items_from_wire(items))
        )
    except Exception as error:
        pipe.send((FAILED, [call], describe_failure(error)))
        return
    pipe.send(
        (
            INGESTED,
            call,
            ingest_outcome_to_wire(outcome),
            records_to_wire(records),
            transactions.last_seconds,
        )
    )


def _run(
    path: Path,
    synchronous: Literal["full", "normal"],
    max_batch_records: int,
    signing_key: SigningKeySource | None,
    retention: RetentionDefaults,
) -> None:
    # Frames go to a copy of stdout; stdout itself then points at stderr, so that a stray print
    # (a library's warning) cannot corrupt the stream of frames.
    pipe = _Pipe(0, os.dup(1))
    os.dup2(2, 1)
    try:
        signer = None if signing_key is None else signing_key.load()
        connection = open_writer(path, synchronous)
        watch = DatabaseFile(path)
    except (StoreError, sqlite3.Error, OSError, SigningKeyError) as error:
        described = isinstance(error, StoreError)  # already says which file and why
        pipe.send((OPEN_FAILED, str(error) if described else f"store {path}: cannot open: {error}"))
        return
    try:
        transactions = Transactions(connection, signer, retention)
        pipe.send((READY,))
        _serve(pipe, transactions, max_batch_records, watch)
    finally:
        connection.close()


def main(argv: list[str] | None = None) -> int:
    """Entry point: ``DATABASE SYNCHRONOUS MAX_BATCH_RECORDS RETENTION_JSON [CENTRE KEY_ID
    PRIVATE_KEY]``."""
    args = sys.argv[1:] if argv is None else argv
    if len(args) not in (4, 7) or args[1] not in ("full", "normal") or not args[2].isdigit():
        print(
            "usage: python -m gateway.store.writer_process DATABASE full|normal MAX_BATCH_RECORDS "
            "RETENTION_JSON [CENTRE KEY_ID PRIVATE_KEY]",
            file=sys.stderr,
        )
        return 2
    retention = RetentionDefaults.from_plain(json.loads(args[3]))
    signing_key = SigningKeySource(args[4], args[5], Path(args[6])) if len(args) == 7 else None
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    synchronous = cast(Literal["full", "normal"], args[1])
    try:
        _run(Path(args[0]), synchronous, int(args[2]), signing_key, retention)
    except BrokenPipeError:
        # The gateway is gone: what was committed stays committed; nobody is left to answer.
        logger.warning("store writer process: the gateway closed the pipe; ending")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
