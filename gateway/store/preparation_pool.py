"""Preparing SubmitStream messages in a pool of worker processes (decision 0009).

:class:`MessagePreparer` runs :func:`gateway.store.preparation.prepare_message` in worker
processes, so that the Python work per record overlaps with the event loop and the store's writer
instead of sharing their GIL; a small message is prepared on the event loop itself, where a round
trip to a worker would cost more than the work.
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

from gateway.errors import InvalidArgumentError, UnavailableError
from gateway.store.preparation import PreparedEntry, prepare_message

__all__ = ["INLINE_MESSAGE_BYTES", "MessagePreparer", "PreparationFailedError"]

_log = logging.getLogger(__name__)

INLINE_MESSAGE_BYTES = 16 * 1024
"""Messages smaller than this (about 30 records) are prepared on the event loop: handing one to
the worker and back costs a few hundred microseconds, more than preparing a few records."""


class PreparationFailedError(UnavailableError):
    """The worker process preparing the stream's records ended; nothing after it was stored."""


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
