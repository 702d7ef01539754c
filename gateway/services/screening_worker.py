"""Where the screening desk's index lives: a worker process (the default) or a worker thread.

Both run one :class:`~gateway.screening.keeper.IndexKeeper` and have the same asynchronous
interface (:class:`IndexWorker`), so the desk does not know which it has:

* :class:`ProcessIndexWorker` starts ``python -m gateway.screening.worker_process`` and speaks
  :mod:`gateway.screening.wire` with it, on the event loop, without a thread of its own: the
  requests of one turn of the loop leave in one pipe write, and the answers, which come in
  order, are read by a subprocess protocol. When the process ends unexpectedly every call
  waiting for it, and every later one, fails with :class:`ScreeningWorkerError`, and the
  ``on_end`` callback tells the desk (which raises it in its supervised task: the supervisor
  logs it, marks the health board and restarts the task, which starts a new worker and rebuilds
  the index from the store).
* :class:`ThreadIndexWorker` runs the keeper on one thread of the gateway (``[screening] worker
  = "thread"``): no process to start, for tests that do not test the process.
"""

from __future__ import annotations

import asyncio
import logging
import pickle
import sys
from collections.abc import Callable, Collection, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Literal, ParamSpec, Protocol, TypeVar

from gateway.errors import UnavailableError
from gateway.screening import Match, Subject, SuppressedPair
from gateway.screening.keeper import IndexKeeper, RecordRow, ScreenedBatch
from gateway.screening.lists import ListDefinition
from gateway.screening.wire import (
    APPLY,
    BUILD,
    DONE,
    FAILED,
    INIT,
    LOAD,
    READY,
    SCREEN,
    SUPPRESS,
    frame,
    take_messages,
)

__all__ = [
    "IndexWorker",
    "ProcessIndexWorker",
    "ScreeningWorkerError",
    "ThreadIndexWorker",
    "index_worker",
]

_log = logging.getLogger(__name__)
_P = ParamSpec("_P")
_T = TypeVar("_T")

STOP_SECONDS = 10.0
"""How long a stopping worker process may take to finish what it was sent before it is killed."""


class ScreeningWorkerError(UnavailableError):
    """The screening worker process ended (or has not rebuilt its index yet): retry."""


class IndexWorker(Protocol):
    """An index keeper somewhere, called from the event loop (calls are served in order)."""

    @property
    def ended(self) -> str | None:
        """Why the worker can no longer serve (``None`` while it can)."""

    @property
    def pid(self) -> int | None:
        """The worker process's id (``None`` for a thread, or before the start)."""

    async def start(self) -> None:
        """Start the worker (raises :class:`ScreeningWorkerError` when it cannot)."""

    async def load(self, rows: Sequence[RecordRow]) -> None:
        """:meth:`IndexKeeper.load` (may return before the keeper has loaded them)."""

    async def build(self) -> tuple[int, int]:
        """:meth:`IndexKeeper.build`, after every load sent before."""

    async def apply(
        self,
        rows: Sequence[RecordRow],
        upserts: Sequence[int],
        groups: Sequence[Sequence[int]],
        screened_at: tuple[int, int],
    ) -> ScreenedBatch:
        """:meth:`IndexKeeper.apply`."""

    async def screen(
        self, subjects: Sequence[Subject], lists: Collection[str] | None
    ) -> list[list[Match]]:
        """:meth:`IndexKeeper.screen`."""

    async def suppress(
        self, added: Collection[SuppressedPair], removed: Collection[SuppressedPair]
    ) -> None:
        """:meth:`IndexKeeper.suppress`."""

    async def stop(self) -> None:
        """Finish what was sent, then release the thread or end the process."""


def index_worker(
    kind: Literal["process", "thread"],
    lists: Sequence[ListDefinition],
    on_end: Callable[[], None] = lambda: None,
) -> IndexWorker:
    """A worker of ``kind`` for ``lists``; ``on_end`` hears of a process that ended unasked."""
    if kind == "process":
        return ProcessIndexWorker(lists, on_end)
    return ThreadIndexWorker(lists)


class ThreadIndexWorker:
    """The keeper on one worker thread of the gateway."""

    def __init__(self, lists: Sequence[ListDefinition]) -> None:
        self._keeper = IndexKeeper(lists)
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="liaison-screening")

    @property
    def ended(self) -> str | None:
        return None

    @property
    def pid(self) -> int | None:
        return None

    async def start(self) -> None:
        return None

    async def load(self, rows: Sequence[RecordRow]) -> None:
        await self._run(self._keeper.load, rows)

    async def build(self) -> tuple[int, int]:
        return await self._run(self._keeper.build)

    async def apply(
        self,
        rows: Sequence[RecordRow],
        upserts: Sequence[int],
        groups: Sequence[Sequence[int]],
        screened_at: tuple[int, int],
    ) -> ScreenedBatch:
        return await self._run(self._keeper.apply, rows, upserts, groups, screened_at)

    async def screen(
        self, subjects: Sequence[Subject], lists: Collection[str] | None
    ) -> list[list[Match]]:
        return await self._run(self._keeper.screen, subjects, lists)

    async def suppress(
        self, added: Collection[SuppressedPair], removed: Collection[SuppressedPair]
    ) -> None:
        await self._run(self._keeper.suppress, added, removed)

    async def stop(self) -> None:
        await asyncio.to_thread(self._thread.shutdown, wait=True, cancel_futures=True)

    async def _run(self, function: Callable[_P, _T], *args: _P.args, **kwargs: _P.kwargs) -> _T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(self._thread, lambda: function(*args, **kwargs))


class ProcessIndexWorker:
    """The keeper in a worker process of its own; see the module."""

    def __init__(self, lists: Sequence[ListDefinition], on_end: Callable[[], None]) -> None:
        self._lists = tuple(lists)
        self._on_end = on_end
        self._transport: asyncio.SubprocessTransport | None = None
        self._requests: asyncio.WriteTransport | None = None
        self._ready: asyncio.Future[None] | None = None
        self._exited: asyncio.Future[None] | None = None
        self._waiting: dict[int, asyncio.Future[Any]] = {}
        self._loads: list[asyncio.Future[Any]] = []
        self._next_call = 0
        self._outgoing: list[bytes] = []
        self._ended: str | None = None
        self._stopping = False

    @property
    def ended(self) -> str | None:
        return self._ended

    @property
    def pid(self) -> int | None:
        return None if self._transport is None else self._transport.get_pid()

    async def start(self) -> None:
        loop = asyncio.get_running_loop()
        self._ready = loop.create_future()
        self._exited = loop.create_future()
        try:
            transport, _ = await loop.subprocess_exec(
                lambda: _Answers(self),
                sys.executable,
                "-m",
                "gateway.screening.worker_process",
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                stderr=None,
            )
        except OSError as error:
            raise ScreeningWorkerError(
                f"cannot start the screening worker process: {error}"
            ) from error
        self._transport = transport
        requests = transport.get_pipe_transport(0)
        assert isinstance(requests, asyncio.WriteTransport)  # stdin=PIPE was asked for
        self._requests = requests
        self._send((INIT, pickle.dumps(self._lists, pickle.HIGHEST_PROTOCOL)))
        try:
            await self._ready
        except BaseException:
            await self._kill()
            raise

    async def load(self, rows: Sequence[RecordRow]) -> None:
        # Not awaited: the desk reads the next batch from the store while this one is parsed.
        self._loads.append(self._call(LOAD, list(rows)))

    async def build(self) -> tuple[int, int]:
        loads, self._loads = self._loads, []
        for loaded in loads:
            await loaded
        entries, records = await self._call(BUILD)
        return int(entries), int(records)

    async def apply(
        self,
        rows: Sequence[RecordRow],
        upserts: Sequence[int],
        groups: Sequence[Sequence[int]],
        screened_at: tuple[int, int],
    ) -> ScreenedBatch:
        hits, skipped, records = await self._call(
            APPLY, list(rows), list(upserts), [list(g) for g in groups], screened_at
        )
        return list(hits), list(skipped), int(records)

    async def screen(
        self, subjects: Sequence[Subject], lists: Collection[str] | None
    ) -> list[list[Match]]:
        wanted = None if lists is None else list(lists)
        data = pickle.dumps((list(subjects), wanted), pickle.HIGHEST_PROTOCOL)
        found: list[list[Match]] = pickle.loads(await self._call(SCREEN, data))  # noqa: S301
        return found

    async def suppress(
        self, added: Collection[SuppressedPair], removed: Collection[SuppressedPair]
    ) -> None:
        await self._call(SUPPRESS, list(added), list(removed))

    async def stop(self) -> None:
        if self._transport is None:
            return
        self._stopping = True
        self._flush()
        if self._requests is not None:
            # The end of its input tells the process to answer what it has and exit.
            self._requests.close()
        assert self._exited is not None
        try:
            async with asyncio.timeout(STOP_SECONDS):
                await asyncio.shield(self._exited)
        except TimeoutError:
            _log.warning("the screening worker process did not stop in time; killing it")
            await self._kill()
        self._end("the screening worker process was stopped")
        self._transport.close()

    # -- the pipe ----------------------------------------------------------------------------

    def _call(self, kind: str, *args: Any) -> asyncio.Future[Any]:
        future: asyncio.Future[Any] = asyncio.get_running_loop().create_future()
        if self._ended is not None:
            future.set_exception(ScreeningWorkerError(self._ended))
            return future
        call = self._next_call = self._next_call + 1
        self._waiting[call] = future
        self._send((kind, call, *args))
        return future

    def _send(self, message: tuple[Any, ...]) -> None:
        self._outgoing.append(frame(message))
        if len(self._outgoing) == 1:
            # One pipe write per turn of the loop carries every request of that turn.
            asyncio.get_running_loop().call_soon(self._flush)

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
        if kind == READY:
            if self._ready is not None and not self._ready.done():
                self._ready.set_result(None)
            return
        future = self._waiting.pop(message[1])
        if future.done():
            return
        if kind == DONE:
            future.set_result(message[2])
        elif kind == FAILED:
            # A defect, not a lost worker: the caller fails (the desk's task is restarted).
            future.set_exception(
                RuntimeError(f"the screening worker failed: {message[2]}: {message[3]}")
            )
        else:
            raise ValueError(f"unexpected answer {kind!r}")

    def _end(self, reason: str) -> None:
        """No answer will come any more: fail every call still waiting, and every later one."""
        if self._ended is not None:
            return
        self._ended = reason
        if self._ready is not None and not self._ready.done():
            self._ready.set_exception(ScreeningWorkerError(f"{reason} while starting"))
        waiting, self._waiting = self._waiting, {}
        for future in waiting.values():
            if not future.done():
                future.set_exception(ScreeningWorkerError(reason))
        for future in self._loads:
            # Retrieved here: a failed load nobody awaits must not be logged as never retrieved.
            if future.done() and not future.cancelled():
                future.exception()
        if not self._stopping:
            _log.error("%s; screening restarts with a new worker", reason)
            self._on_end()

    def _abandon(self) -> None:
        transport = self._transport
        if transport is not None and transport.get_returncode() is None:
            transport.kill()

    async def _kill(self) -> None:
        self._abandon()
        if self._exited is not None:
            await self._exited
        if self._transport is not None:
            self._transport.close()


class _Answers(asyncio.SubprocessProtocol):
    """Reads the process's answers as they arrive, on the event loop."""

    def __init__(self, worker: ProcessIndexWorker) -> None:
        self._worker = worker
        self._buffer = bytearray()

    def pipe_data_received(self, fd: int, data: bytes | str) -> None:
        if fd != 1 or self._worker._ended is not None:
            return
        self._buffer += data if isinstance(data, bytes) else data.encode()
        try:
            for message in take_messages(self._buffer):
                self._worker._answer(message)
        except (ValueError, TypeError, KeyError, EOFError) as error:
            # A bug on one side or the other: nothing it says can be trusted any more.
            self._worker._end(
                f"the screening worker process sent a broken answer ({type(error).__name__})"
            )
            self._worker._abandon()

    def pipe_connection_lost(self, fd: int, exc: Exception | None) -> None:
        # The end of its output, after every answer it wrote has been read.
        if fd == 1:
            self._worker._end("the screening worker process ended")

    def process_exited(self) -> None:
        exited = self._worker._exited
        if exited is not None and not exited.done():
            exited.set_result(None)
