"""Ending the calls still running when a stop's grace runs out: UNAVAILABLE, not CANCELLED.

grpc.aio's ``server.stop(grace)`` cancels what is still running when the grace ends, and the
client sees CANCELLED - a code clients do not retry by habit (the service config's retry policy
does not). The HTTP listener's stop drops such calls' connections. :class:`CallDrain`, the
innermost interceptor of both listeners, keeps every call in flight; :meth:`CallDrain.drain`,
which the gateway calls just before its grace ends, ends each of them with UNAVAILABLE ("the
gateway is stopping; retry"), which every client retries. This is safe: a call ended here was
not answered, and a Submit retried with the same record is answered with the original
acknowledgement if it was committed (writes queued in the store still commit before it closes).

A call is ended by cancelling its task; the call knows the drain did it, so the cancellation is
told apart from any other (a client that went away, the stop's own) and undone before the status
is sent. A server stream is cancelled only while it waits for its next response; one the drain
finds writing ends at its next. Innermost, every other interceptor (telemetry,
the audit of the record guard) sees the call end with UNAVAILABLE, as the client does.

Calls that arrive once a stop has begun are refused the same way, at once: gRPC's stop cancels
(CANCELLED) the calls its core has received but the server has not yet handed to a handler,
which under load were a few at every stop. :meth:`CallDrain.wind_down` therefore keeps the
listeners open, refusing, until no call is in flight and none has arrived for a moment (or the
grace is all but spent), and only then does the gateway close them. Health calls are answered,
not refused: during a stop they say NOT_SERVING, which is what a load balancer asks; a health
watcher's stream is not waited for, but ended with the rest.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import grpc

from gateway.wrapping import WrappedHandlers, same_kind

__all__ = ["DRAIN_SECONDS", "QUIET_SECONDS", "STOPPING_MESSAGE", "CallDrain"]

STOPPING_MESSAGE = (
    "the gateway is stopping: retry the call (a Submit retried with the same record is answered "
    "with its acknowledgement if it was stored)"
)
"""The details of the UNAVAILABLE status of a call ended by the drain."""

DRAIN_SECONDS = 0.25
"""Kept back from a stop's grace: the calls still running this long before it ends are ended
(UNAVAILABLE), and this is what their statuses get to go out before the listeners close."""

QUIET_SECONDS = 0.05
"""At a stop, the listeners close once no call is in flight and none has arrived for this long
(the calls gRPC's core holds for the server are then handed over, and refused)."""

_POLL_SECONDS = 0.01

_ANSWERED_WHILE_STOPPING = "/grpc.health.v1.Health/"
"""Methods answered during a stop instead of refused (a health check says NOT_SERVING)."""


class _Call:
    """One call in flight: its task, and whether the drain ended it."""

    __slots__ = ("answered", "cancelled", "ended", "task", "waiting")

    def __init__(self, task: asyncio.Task[Any] | None, ended: bool, answered: bool) -> None:
        self.task = task
        self.answered = answered
        """A health call: answered during a stop, not waited for."""
        self.ended = ended
        """The drain ended (or refused) it."""
        self.cancelled = False
        """The drain cancelled its task (undone with ``uncancel`` when the call ends)."""
        self.waiting = True
        """It waits in its handler (a stream: for its next response), where a cancellation
        ends it; a stream waiting for the client to take a response is ended at the next."""

    def drained(self) -> bool:
        """Whether the drain cancelled the call; a method, read anew after each wait."""
        return self.cancelled

    def end(self) -> None:
        """End the call where it waits now (a stream between responses: at its next one)."""
        if self.ended:
            return
        self.ended = True
        if self.waiting and self.task is not None:
            self.cancelled = True
            self.task.cancel()


class CallDrain(grpc.aio.ServerInterceptor):  # type: ignore[type-arg]
    """Keeps the calls in flight, and ends them with UNAVAILABLE when told to (:meth:`drain`)."""

    def __init__(self) -> None:
        self._calls: set[_Call] = set()
        self._refusing = False
        self._draining = False
        self._last_arrival = 0.0
        self._idle = asyncio.Event()
        self._idle.set()
        self._wrapped = WrappedHandlers()

    @property
    def in_flight(self) -> int:
        """How many calls are running now."""
        return len(self._calls)

    def refuse_new(self) -> None:
        """Refuse every call that arrives from now on with UNAVAILABLE (health calls excepted)."""
        self._refusing = True

    def drain(self) -> int:
        """End every call in flight with UNAVAILABLE, and refuse every later one the same way
        (health calls too); returns how many were running."""
        self._refusing = self._draining = True
        calls = list(self._calls)
        for call in calls:
            call.end()
        return len(calls)

    async def wind_down(self, deadline: float) -> int:
        """A stop's calls: refuse new ones, wait until none is in flight and none has arrived
        for :data:`QUIET_SECONDS`, at the latest until :data:`DRAIN_SECONDS` before
        ``deadline`` (``time.monotonic()``); then end those still running - and the health
        streams, which are not waited for (a health watcher would otherwise hold every stop for
        its whole grace) - and give them up to :data:`DRAIN_SECONDS` to end. Returns how many
        calls other than health calls were ended."""
        self.refuse_new()
        drain_at = deadline - DRAIN_SECONDS
        while time.monotonic() < drain_at:
            now = time.monotonic()
            if not self._waited_for() and now - self._last_arrival >= QUIET_SECONDS:
                break
            await asyncio.sleep(min(_POLL_SECONDS, max(drain_at - now, 0.0)))
        late = self._waited_for()
        if self.drain():
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(DRAIN_SECONDS):
                    await self._idle.wait()
        return late

    def _waited_for(self) -> int:
        return sum(1 for call in self._calls if not call.answered)

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[Any]],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> Any:
        handler = await continuation(handler_call_details)
        if handler is None:
            return None
        method: str = handler_call_details.method
        return self._wrapped.get(method, handler, lambda: self._drainable(handler, method))

    def _drainable(self, handler: Any, method: str) -> Any:
        answered = method.startswith(_ANSWERED_WHILE_STOPPING)
        return same_kind(handler, lambda inner: self._behaviour(inner, answered))

    def _behaviour(self, inner: Any, answered: bool) -> Any:
        if inspect.isasyncgenfunction(inner):
            return self._stream(inner, answered)
        return self._unary(inner, answered)

    def _unary(self, inner: Any, answered: bool) -> Any:
        # Also a streaming behaviour written as a coroutine (grpc_health's Watch writes with
        # context.write): it is ended the same way.
        async def behaviour(request: Any, context: Any) -> Any:
            call = self._enter(answered)
            try:
                if not call.ended:
                    return await inner(request, context)
            except asyncio.CancelledError:
                if not call.drained():
                    raise  # not the drain's: the client went away, or the stop's own
            finally:
                self._leave(call)
            await context.abort(grpc.StatusCode.UNAVAILABLE, STOPPING_MESSAGE)
            return None  # unreachable: abort raises

        return behaviour

    def _stream(self, inner: Any, answered: bool) -> Any:
        async def behaviour(request: Any, context: Any) -> AsyncIterator[Any]:
            call = self._enter(answered)
            responses = inner(request, context)
            try:
                while not call.ended:
                    call.waiting = True
                    try:
                        response = await anext(responses)
                    except StopAsyncIteration:
                        return
                    except asyncio.CancelledError:
                        if not call.drained():
                            raise
                        break
                    finally:
                        call.waiting = False
                    yield response
            finally:
                self._leave(call)
                await responses.aclose()
            await context.abort(grpc.StatusCode.UNAVAILABLE, STOPPING_MESSAGE)

        return behaviour

    def _enter(self, answered: bool) -> _Call:
        ended = self._draining or (self._refusing and not answered)
        call = _Call(asyncio.current_task(), ended, answered)
        self._last_arrival = time.monotonic()
        self._calls.add(call)
        self._idle.clear()
        return call

    def _leave(self, call: _Call) -> None:
        self._calls.discard(call)
        if call.cancelled and call.task is not None:
            # The drain's cancellation is handled here: undone, so the task ends as an abort.
            call.task.uncancel()
        if not self._calls:
            self._idle.set()
