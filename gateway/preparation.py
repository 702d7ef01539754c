"""Preparing SubmitStream messages off the event loop: parse, validate, hash, serialize, index.

A stream message is handed over as the bytes gRPC received. :func:`prepare_message` turns it into
one entry per record: a compact tuple of what the store writes, or the serialized per-record
error. It runs in a worker process (:class:`MessagePreparer`), so that the Python work per record
(about 60 µs) overlaps with the event loop and the store's writer thread instead of sharing their
GIL; tuples of strings, bytes and ints cross the process boundary several times faster than
dataclasses. Small messages are prepared on the event loop itself, where a round trip to the
worker would cost more than the work.

See ``docs/decisions/0009-stream-preparation-in-worker-processes.md``.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import logging
import multiprocessing
import multiprocessing.connection
import os
import signal
import threading
from concurrent.futures.process import BrokenProcessPool

from google.protobuf.message import DecodeError

from gateway.errors import InvalidArgumentError, UnavailableError, record_error
from gateway.store.base import DocumentKey, IndexKeys, NameKey, WriteItem
from liaison.rules.intake import prepare_record
from liaison.v1 import exchange_pb2

__all__ = [
    "INLINE_MESSAGE_BYTES",
    "ItemRow",
    "MessagePreparer",
    "PreparationFailedError",
    "PreparedEntry",
    "prepare_message",
    "write_item",
]

_log = logging.getLogger(__name__)

INLINE_MESSAGE_BYTES = 16 * 1024
"""Messages smaller than this (about 30 records) are prepared on the event loop: handing one to
the worker and back costs a few hundred microseconds, more than preparing a few records."""

ItemRow = tuple[
    str,
    bytes,
    bytes,
    int,
    str,
    str,
    tuple[tuple[str, str], ...],
    tuple[tuple[str, int, int, int], ...],
    int,
    tuple[str, ...],
]
"""A prepared record: id, content hash, blob, expected version, kind, originating centre,
document keys (number, issuing state), name keys (family, birth year, month, day), handling
code and releasable-to centres."""

PreparedEntry = bytes | ItemRow
"""One record of a message: its :data:`ItemRow`, or its serialized ``RecordError`` (bytes)."""

_MALFORMED = "the request is not a valid liaison.v1.SubmitStreamRequest message"


class PreparationFailedError(UnavailableError):
    """The worker process preparing the stream's records ended; nothing after it was stored."""


def prepare_message(data: bytes, centre_id: str) -> list[PreparedEntry]:
    """Parse one ``SubmitStreamRequest`` and prepare each of its records, in order.

    Raises:
        InvalidArgumentError: ``data`` is not a ``SubmitStreamRequest`` message.
    """
    try:
        message = exchange_pb2.SubmitStreamRequest.FromString(data)
    except DecodeError:
        raise InvalidArgumentError(_MALFORMED) from None
    entries: list[PreparedEntry] = []
    for record in message.records:
        try:
            item = prepare_record(record, centre_id)
        except InvalidArgumentError as error:
            entries.append(record_error(error).SerializeToString())
            continue
        keys = item.keys
        entries.append(
            (
                item.record_id,
                item.content_sha256,
                item.blob,
                item.expected_version,
                keys.kind,
                keys.originating_centre,
                tuple([(key.number, key.issuing_state) for key in keys.documents]),
                tuple(
                    [
                        (key.family, key.birth_year, key.birth_month, key.birth_day)
                        for key in keys.names
                    ]
                ),
                keys.handling_code,
                keys.releasable_to,
            )
        )
    return entries


def write_item(row: ItemRow) -> WriteItem:
    """The store's :class:`WriteItem` for a prepared record."""
    record_id, sha, blob, expected_version, kind, centre, documents, names, code, releasable = row
    keys = IndexKeys(
        kind,
        centre,
        tuple([DocumentKey(number, state) for number, state in documents]),
        tuple([NameKey(family, year, month, day) for family, year, month, day in names]),
        code,
        releasable,
    )
    return WriteItem(record_id, sha, blob, keys, expected_version)


class MessagePreparer:
    """Prepares stream messages in a pool of worker processes, started on first use.

    A worker that dies (killed, out of memory) fails the messages it held with
    :class:`PreparationFailedError`; the next message starts a fresh pool.
    """

    def __init__(
        self, centre_id: str, workers: int, *, inline_below_bytes: int = INLINE_MESSAGE_BYTES
    ) -> None:
        """Configure the preparer; no process starts before a large message arrives.

        Args:
            centre_id: Stamped into records submitted without an originating centre.
            workers: Worker processes; 0 prepares every message on the event loop.
            inline_below_bytes: Messages smaller than this are prepared on the event loop.

        Raises:
            ValueError: ``workers`` or ``inline_below_bytes`` is negative.
        """
        if workers < 0:
            raise ValueError(f"workers must not be negative, got {workers}")
        if inline_below_bytes < 0:
            raise ValueError(f"inline_below_bytes must not be negative, got {inline_below_bytes}")
        self._centre_id = centre_id
        self._workers = workers
        self._inline_below_bytes = inline_below_bytes
        self._pool: concurrent.futures.ProcessPoolExecutor | None = None
        self._closed = False

    def prepare(self, data: bytes) -> asyncio.Future[list[PreparedEntry]]:
        """Prepare one message; the future fails with :class:`InvalidArgumentError` when the bytes
        are not a message, or :class:`PreparationFailedError` when the worker ended.

        Must be called on the event loop.
        """
        loop = asyncio.get_running_loop()
        if self._workers and not self._closed and len(data) >= self._inline_below_bytes:
            try:
                submitted = self._running_pool().submit(prepare_message, data, self._centre_id)
            except BrokenProcessPool:
                # Broken between two messages: nothing was lost, a fresh pool takes this one.
                broken, self._pool = self._pool, None
                if broken is not None:
                    broken.shutdown(wait=False)
                submitted = self._running_pool().submit(prepare_message, data, self._centre_id)
            return asyncio.wrap_future(self._relayed(submitted), loop=loop)
        future: asyncio.Future[list[PreparedEntry]] = loop.create_future()
        try:
            future.set_result(prepare_message(data, self._centre_id))
        except InvalidArgumentError as error:
            future.set_exception(error)
        return future

    def worker_pids(self) -> list[int]:
        """Process ids of the running workers (none before the first large message)."""
        pool = self._pool
        if pool is None:
            return []
        # The executor keeps its processes in a private mapping; it is the only source.
        processes = getattr(pool, "_processes", None) or {}
        return sorted(int(pid) for pid in processes)

    async def close(self) -> None:
        """Stop the workers and wait for them to exit. Idempotent."""
        self._closed = True
        pool, self._pool = self._pool, None
        if pool is not None:
            # In a thread: shutdown joins the worker processes and must not block the loop.
            await asyncio.to_thread(pool.shutdown, wait=True, cancel_futures=True)

    def _running_pool(self) -> concurrent.futures.ProcessPoolExecutor:
        if self._pool is None:
            # spawn, never fork: the gateway process runs gRPC's and the store's threads.
            self._pool = concurrent.futures.ProcessPoolExecutor(
                max_workers=self._workers,
                mp_context=multiprocessing.get_context("spawn"),
                initializer=_worker_started,
            )
        return self._pool

    def _relayed(
        self, submitted: concurrent.futures.Future[list[PreparedEntry]]
    ) -> concurrent.futures.Future[list[PreparedEntry]]:
        """``submitted`` with a dead worker reported as :class:`PreparationFailedError`."""
        pool = self._pool
        result: concurrent.futures.Future[list[PreparedEntry]] = concurrent.futures.Future()

        def relay(done: concurrent.futures.Future[list[PreparedEntry]]) -> None:
            # On the executor's management thread.
            if done.cancelled():
                result.cancel()
                return
            if not result.set_running_or_notify_cancel():
                return  # the stream gave up on this message (cancelled or refused)
            error = done.exception()
            if error is None:
                result.set_result(done.result())
                return
            if isinstance(error, BrokenProcessPool):
                if self._pool is pool:
                    self._pool = None  # the next message starts a fresh pool
                _log.error("a stream preparation worker ended unexpectedly")
                error = PreparationFailedError(
                    "the worker process preparing the records ended; the records before this "
                    "message were processed, retry the rest"
                )
            result.set_exception(error)

        submitted.add_done_callback(relay)
        return result


def _worker_started() -> None:
    """In each worker: leave signals to the gateway, and end with it.

    Ctrl-C or a service manager's SIGTERM reaches the whole process group; the gateway then stops
    its pool in order, so the worker ignores them. A worker is never left behind by a gateway that
    was killed: the executor's pipes stay open in the worker itself, so a thread watches the
    parent's sentinel instead.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    parent = multiprocessing.parent_process()
    if parent is None:
        return
    sentinel = parent.sentinel

    def exit_with_parent() -> None:
        multiprocessing.connection.wait([sentinel])
        os._exit(0)

    threading.Thread(target=exit_with_parent, name="liaison-parent-watch", daemon=True).start()
