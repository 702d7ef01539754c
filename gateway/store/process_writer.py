"""The gateway's side of the store writer process: requests out, outcomes back, on the loop.

:class:`ProcessWriter` has the interface of the writer thread (:class:`gateway.store.writer.
Writer`): ``start``, ``submit``, ``stop``. It starts ``python -m gateway.store.writer_process``
and speaks :mod:`gateway.store.wire` with it. Everything happens on the event loop, without a
thread of its own: the requests submitted during one turn of the loop leave in one pipe write,
and each transaction's outcomes arrive as one frame, which publishes the new versions and then
resolves the callers - the order the writer thread keeps too.

If the process ends unexpectedly, every request waiting for it fails with :class:`StoreError`
(their transactions may or may not have committed: the callers were not acknowledged, and a
retry is recognised as a duplicate), and so does every later write; reads go on. The process
ends on purpose, after a ``LOST`` answer, when the database file it opened was deleted or
replaced: the same follows, with that reason. Each transaction's outcome is reported to the
store's :class:`WriteHealth`.
"""

from __future__ import annotations

import asyncio
import json
import logging
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

from gateway.signing import SigningKeySource
from gateway.store.base import PreparationRefused, PreparedWrite, StoredRecord, StoreError
from gateway.store.health import WriteHealth
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
    WRITE,
    frame,
    ingest_outcome_from_wire,
    items_to_wire,
    outcomes_from_wire,
    records_from_wire,
    take_messages,
)
from gateway.store.writer import IngestRequest, PrepareRequest, WriteRequest, ingestion_wrote
from liaison.rules.lifecycle import RetentionDefaults

_Request = WriteRequest | IngestRequest | PrepareRequest

__all__ = ["ProcessWriter"]

logger = logging.getLogger(__name__)


class ProcessWriter:
    """Owns the writer process and the calls waiting for it."""

    def __init__(
        self,
        path: Path,
        synchronous: Literal["full", "normal"],
        max_batch_records: int,
        loop: asyncio.AbstractEventLoop,
        publish: Callable[[list[StoredRecord], float], None],
        signing_key: SigningKeySource | None = None,
        health: WriteHealth | None = None,
        retention: RetentionDefaults | None = None,
    ) -> None:
        """Prepare the writer; nothing runs before :meth:`start` (arguments as for ``Writer``;
        ``health`` also hears, as a loss, of the process ending before :meth:`stop`)."""
        self._health = health if health is not None else WriteHealth(30.0)
        self._path = path
        self._signing_key = signing_key
        self._retention = retention if retention is not None else RetentionDefaults()
        self._synchronous = synchronous
        self._max_batch_records = max_batch_records
        self._loop = loop
        self._publish = publish
        self._transport: asyncio.SubprocessTransport | None = None
        self._requests: asyncio.WriteTransport | None = None
        self._ready: asyncio.Future[None] = loop.create_future()
        self._exited: asyncio.Future[None] = loop.create_future()
        self._answered: asyncio.Future[None] = loop.create_future()
        self._waiting: dict[int, _Request] = {}
        self._next_call = 0
        self._outgoing: list[bytes] = []
        self._ended: str | None = None
        self._serving = False
        self._stopping = False
        self._transactions_committed = 0

    @property
    def transactions_committed(self) -> int:
        """Number of transactions committed since the start."""
        return self._transactions_committed

    @property
    def pid(self) -> int | None:
        """The writer process's id (``None`` before the start)."""
        return None if self._transport is None else self._transport.get_pid()

    async def start(self) -> None:
        """Start the process and wait until the database is open and migrated.

        Raises:
            StoreError: the database cannot be opened or migrated, or the process did not start.
        """
        try:
            transport, _ = await self._loop.subprocess_exec(
                lambda: _Answers(self),
                sys.executable,
                "-m",
                "gateway.store.writer_process",
                str(self._path),
                self._synchronous,
                str(self._max_batch_records),
                json.dumps(self._retention.to_plain()),
                *_signing_arguments(self._signing_key),
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                stderr=None,
            )
        except OSError as error:
            raise StoreError(
                f"store {self._path}: cannot start the writer process: {error}"
            ) from error
        self._transport = transport
        requests = transport.get_pipe_transport(0)
        assert isinstance(requests, asyncio.WriteTransport)  # stdin=PIPE was asked for
        self._requests = requests
        try:
            await self._ready
        except BaseException:
            await self._kill()
            raise

    def submit(self, request: _Request) -> None:
        """Queue a request (event loop thread only; never blocks)."""
        if self._ended is not None:
            _fail(request, self._ended)
            return
        call = self._next_call = self._next_call + 1
        self._waiting[call] = request
        if isinstance(request, WriteRequest):
            message: tuple[Any, ...] = (WRITE, call, items_to_wire(request.items))
        elif isinstance(request, PrepareRequest):
            message = (PREPARE, call, request.centre_id, request.request)
        else:
            ingestion = request.ingestion
            message = (
                INGEST,
                call,
                ingestion.adapter,
                ingestion.payload_sha256,
                items_to_wire(ingestion.items),
            )
        self._outgoing.append(frame(message))
        if len(self._outgoing) == 1:
            # One pipe write per turn of the loop carries every request of that turn.
            self._loop.call_soon(self._flush)

    async def stop(self) -> None:
        """Commit every request queued so far, then end the process."""
        if self._transport is None:
            return
        self._stopping = True
        self._flush()
        if self._requests is not None:
            # The end of its input tells the process to commit what it has, answer and exit.
            self._requests.close()
        await self._answered
        await self._exited
        self._transport.close()

    def _flush(self) -> None:
        if not self._outgoing:
            return
        data = b"".join(self._outgoing)
        self._outgoing.clear()
        requests = self._requests
        if requests is None or requests.is_closing():
            return  # the process is gone; its end fails the calls waiting
        requests.write(data)

    def _answer(self, message: tuple[Any, ...]) -> None:
        kind = message[0]
        if kind == COMMITTED:
            _, records, calls, outcomes, prepared, seconds = message
            self._transactions_committed += 1
            self._health.committed(wrote=bool(records))
            # Listeners first, as the writer thread does: a subscriber has the new versions
            # queued before an acknowledgement can make anyone look for them.
            self._publish(records_from_wire(records), seconds)
            for call, wire, when in zip(calls, outcomes, prepared, strict=True):
                request = self._waiting.pop(call)
                if request.future.done():
                    continue
                if isinstance(request, WriteRequest):
                    request.future.set_result(outcomes_from_wire(wire))
                elif isinstance(request, PrepareRequest):
                    [outcome] = outcomes_from_wire(wire)
                    request.future.set_result(PreparedWrite(outcome, tuple(when)))
        elif kind == REFUSED:
            _, call, refusal, violations, when, foreign_centre = message
            request = self._waiting.pop(call)
            if isinstance(request, PrepareRequest) and not request.future.done():
                request.future.set_result(
                    PreparationRefused(
                        refusal,
                        tuple((field, why) for field, why in violations),
                        tuple(when),
                        foreign_centre=foreign_centre,
                    )
                )
        elif kind == INGESTED:
            _, call, outcome, records, seconds = message
            self._transactions_committed += 1
            ingested = ingest_outcome_from_wire(outcome)
            self._health.committed(wrote=ingestion_wrote(ingested))
            self._publish(records_from_wire(records), seconds)
            request = self._waiting.pop(call)
            if isinstance(request, IngestRequest) and not request.future.done():
                request.future.set_result(ingested)
        elif kind == FAILED:
            _, calls, reason = message
            self._health.failed(reason, len(calls))
            for call in calls:
                _fail(
                    self._waiting.pop(call),
                    f"the store transaction failed and was rolled back ({reason}); "
                    "nothing of it was stored",
                )
        elif kind == LOST:
            # The process stops reading and ends; what it had not answered fails with this.
            self._end(str(message[1]))
        elif kind == READY and not self._ready.done():
            self._serving = True
            self._ready.set_result(None)
        elif kind == OPEN_FAILED and not self._ready.done():
            self._ready.set_exception(StoreError(str(message[1])))
        else:
            raise ValueError(f"unexpected answer {kind!r}")

    def _end(self, reason: str) -> None:
        """No answer will come any more: fail every call still waiting, and every later one."""
        if self._ended is not None:
            return
        self._ended = reason
        was_serving = self._serving
        if not self._ready.done():
            self._ready.set_exception(
                StoreError(f"store {self._path}: the writer process ended while starting")
            )
        waiting, self._waiting = self._waiting, {}
        for request in waiting.values():
            _fail(request, reason)
        if was_serving and not self._stopping:
            self._health.lose(reason)  # the one ERROR line, and health turns NOT_SERVING
        elif waiting:
            logger.error("%s with %d request(s) unanswered", reason, len(waiting))

    def _abandon(self) -> None:
        transport = self._transport
        if transport is not None and transport.get_returncode() is None:
            transport.kill()

    async def _kill(self) -> None:
        transport = self._transport
        if transport is None:
            return
        self._abandon()
        await self._exited
        transport.close()


class _Answers(asyncio.SubprocessProtocol):
    """Reads the process's answers as they arrive, on the event loop."""

    def __init__(self, writer: ProcessWriter) -> None:
        self._writer = writer
        self._buffer = bytearray()

    def pipe_data_received(self, fd: int, data: bytes | str) -> None:
        if fd != 1 or self._writer._ended is not None:
            return
        self._buffer += data if isinstance(data, bytes) else data.encode()
        try:
            for message in take_messages(self._buffer):
                self._writer._answer(message)
        except (ValueError, TypeError, KeyError, EOFError) as error:
            # A bug on one side or the other: nothing it says can be trusted any more.
            self._writer._end(
                f"the store writer process sent a broken answer ({type(error).__name__})"
            )
            self._writer._abandon()

    def pipe_connection_lost(self, fd: int, exc: Exception | None) -> None:
        # The end of its output, after every answer it wrote has been read (its exit may be
        # reported before that: only this closes the books).
        if fd == 1:
            self._writer._end("the store writer process ended")
            _settle(self._writer._answered)

    def process_exited(self) -> None:
        _settle(self._writer._exited)


def _settle(future: asyncio.Future[None]) -> None:
    if not future.done():
        future.set_result(None)


def _fail(request: _Request, reason: str) -> None:
    if not request.future.done():
        request.future.set_exception(StoreError(reason))


def _signing_arguments(source: SigningKeySource | None) -> tuple[str, ...]:
    """The writer process's optional ``CENTRE KEY_ID PRIVATE_KEY`` arguments."""
    if source is None:
        return ()
    return (source.centre, source.key_id, str(source.private_key))
