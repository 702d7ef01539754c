"""The bodies of streamed answers: NDJSON, Server-Sent Events and Connect streaming envelopes.

A streamed call runs in one task, from its first message to its status: the interceptors set
context variables (the caller, the guard's denial batch, the current span) whose tokens must be
reset in the task that set them, so nothing here hands the stream to another task. A watcher
cancels that task when the client goes away, which ends the call as a gRPC cancellation does
(audited ``cancelled``).

An error never ends a stream as a silent success: before the first message the answer is the
error's HTTP status with the Connect error body; after it, the last line (NDJSON), the last
event (SSE, ``event: error``) or the end-of-stream envelope (Connect) carries the status;
gRPC-Web always answers 200 and ends with its trailers frame.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Any

import grpc
from google.protobuf.message import Message
from starlette.types import Receive, Scope, Send

from gateway.http.codec import END_STREAM, envelope, to_json, to_json_text
from gateway.http.context import HttpContext
from gateway.http.errors import HTTP_STATUS, error_body, status_details, status_of
from gateway.http.grpcweb import data_frame, encoded, trailers_frame
from gateway.http.resume import Resumable

__all__ = [
    "KEEPALIVE",
    "StreamedAnswer",
    "connect_stream",
    "error_answer",
    "grpc_web",
    "ndjson",
    "single",
    "sse",
]

_log = logging.getLogger(__name__)

Chunks = AsyncIterator[bytes]
Body = Callable[[Message | None, AsyncIterator[Message], HttpContext, BaseException | None], Chunks]
"""Writes an answer from its first message (if any), the rest, the context, and the error that
ended the call before its first message (if any)."""


def error_answer(context: HttpContext, error: BaseException | None) -> tuple[int, bytes]:
    """The HTTP status and Connect error body of a call that ended before any message."""
    code, message = status_of(context, error)
    body = error_body(code, message, context)
    return HTTP_STATUS.get(code, 500), to_json_text(body).encode()


class StreamedAnswer:
    """An ASGI response that runs a streamed call in its own task (see the module docs)."""

    def __init__(
        self,
        messages: AsyncIterator[Message],
        context: HttpContext,
        media_type: str,
        body: Body,
        *,
        errors_before_first: bool = True,
        keepalive_seconds: float | None = None,
    ) -> None:
        """Args:
        messages: The call's responses (it ends with the status in ``context``).
        context: The call's context.
        media_type: The content type of a successful answer.
        body: Writes the answer from the first message, the rest and the context.
        errors_before_first: Answer an error before the first message with its HTTP status
            (NDJSON, SSE); Connect streaming answers 200 and an end-of-stream error instead.
        keepalive_seconds: Once the answer has started, write :data:`KEEPALIVE` whenever
            nothing was written for this long (Server-Sent Events: a comment line, which
            ``EventSource`` ignores), so that proxies and load balancers do not close an idle
            Subscribe; ``None``: never.
        """
        self._messages = messages
        self._context = context
        self._media_type = media_type
        self._body = body
        self._errors_before_first = errors_before_first
        self._keepalive = keepalive_seconds

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        task = asyncio.current_task()
        assert task is not None
        gone = asyncio.Event()

        async def watch() -> None:
            while (await receive())["type"] != "http.disconnect":
                pass
            gone.set()
            task.cancel()

        watcher = asyncio.ensure_future(watch())
        try:
            await self._answer(send)
        except asyncio.CancelledError:
            if not gone.is_set():
                raise
            task.uncancel()  # the client left: nothing more to send
        finally:
            watcher.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await watcher

    async def _answer(self, send: Send) -> None:
        first: Message | None = None
        error: BaseException | None = None
        try:
            first = await anext(self._messages, None)
        except Exception as raised:
            _log.exception("an HTTP stream failed before its first message")
            error = raised
        if first is None and self._errors_before_first:
            code, _ = status_of(self._context, error)
            if code is not grpc.StatusCode.OK:
                status, body = error_answer(self._context, error)
                await _start(send, status, "application/json")
                await send({"type": "http.response.body", "body": body})
                return
        await _start(send, 200, self._media_type)
        writer = _Writer(send)
        # The keep-alive writes from a task of its own, but only through the writer's lock:
        # the call itself stays in this task (see the module docs).
        beat = (
            asyncio.ensure_future(writer.keep_alive(self._keepalive))
            if self._keepalive is not None
            else None
        )
        try:
            async for chunk in self._body(first, self._messages, self._context, error):
                await writer.write(chunk)
        finally:
            if beat is not None:
                beat.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await beat
        await send({"type": "http.response.body", "body": b""})


KEEPALIVE = b": keep-alive\n\n"
"""A Server-Sent Events comment: keeps an idle connection open; clients ignore it."""


class _Writer:
    """Writes body chunks one at a time, and a keep-alive when nothing was written lately."""

    def __init__(self, send: Send) -> None:
        self._send = send
        self._lock = asyncio.Lock()
        self._written = asyncio.get_running_loop().time()

    async def write(self, chunk: bytes) -> None:
        async with self._lock:
            await self._send({"type": "http.response.body", "body": chunk, "more_body": True})
            self._written = asyncio.get_running_loop().time()

    async def keep_alive(self, interval: float) -> None:
        loop = asyncio.get_running_loop()
        while True:
            await asyncio.sleep(max(self._written + interval - loop.time(), 0.0))
            if loop.time() - self._written >= interval:
                await self.write(KEEPALIVE)


async def _start(send: Send, status: int, media_type: str) -> None:
    headers = [(b"content-type", media_type.encode()), (b"cache-control", b"no-store")]
    if media_type == "text/event-stream":
        headers.append((b"x-accel-buffering", b"no"))  # proxies must not hold events back
    await send({"type": "http.response.start", "status": status, "headers": headers})


async def _each(
    first: Message | None, rest: AsyncIterator[Message], early: BaseException | None
) -> AsyncIterator[tuple[Message | None, BaseException | None]]:
    """The messages, then ``(None, error)`` once: the error that ended them, if any."""
    if early is not None:
        yield None, early
        return
    if first is not None:
        yield first, None
    try:
        async for message in rest:
            yield message, None
    except Exception as error:
        _log.exception("an HTTP stream failed")
        yield None, error
        return
    yield None, None


def _final(context: HttpContext, error: BaseException | None) -> dict[str, Any]:
    code, message = status_of(context, error)
    return error_body(code, message, context)


async def ndjson(
    first: Message | None,
    rest: AsyncIterator[Message],
    context: HttpContext,
    early: BaseException | None,
) -> Chunks:
    """``{"result": ...}`` per message, then ``{"status": {...}}`` (``code`` ``ok`` or the
    Connect error)."""
    async for message, error in _each(first, rest, early):
        if message is not None:
            yield (to_json_text({"result": to_json(message)}) + "\n").encode()
        else:
            yield (to_json_text({"status": _final(context, error)}) + "\n").encode()


def sse(resumable: Resumable | None) -> Body:
    """Server-Sent Events: ``event:`` the response's oneof case (or ``message``), ``id:`` the
    cursor to resume after, ``data:`` the JSON; then ``event: end`` (``{"code": "ok"}``) or
    ``event: error`` (the Connect error)."""

    async def body(
        first: Message | None,
        rest: AsyncIterator[Message],
        context: HttpContext,
        early: BaseException | None,
    ) -> Chunks:
        async for message, error in _each(first, rest, early):
            if message is None:
                final = _final(context, error)
                kind = "end" if final["code"] == "ok" else "error"
                yield f"event: {kind}\ndata: {to_json_text(final)}\n\n".encode()
                continue
            lines = [f"event: {_case(message)}"]
            cursor = resumable.event_id(message) if resumable is not None else ""
            if cursor:
                lines.append(f"id: {cursor}")
            lines.append(f"data: {to_json_text(to_json(message))}")
            yield ("\n".join(lines) + "\n\n").encode()

    return body


def _case(message: Message) -> str:
    oneofs = message.DESCRIPTOR.oneofs
    if len(oneofs) == 1:
        return message.WhichOneof(oneofs[0].name) or "message"
    return "message"


def connect_stream(binary: bool) -> Body:
    """The Connect streaming protocol: one envelope per message, then the end-of-stream
    envelope (``{}`` or ``{"error": {...}}``)."""

    async def body(
        first: Message | None,
        rest: AsyncIterator[Message],
        context: HttpContext,
        early: BaseException | None,
    ) -> Chunks:
        async for message, error in _each(first, rest, early):
            if message is not None:
                data = (
                    message.SerializeToString()
                    if binary
                    else to_json_text(to_json(message)).encode()
                )
                yield envelope(data)
                continue
            final = _final(context, error)
            end = {} if final["code"] == "ok" else {"error": final}
            yield envelope(to_json_text(end).encode(), END_STREAM)

    return body


def grpc_web(text: bool) -> Body:
    """gRPC-Web: a frame per message, then the trailers frame with the status (always in the
    body, also for an error before any message); each frame in base64 in text mode."""

    async def body(
        first: Message | None,
        rest: AsyncIterator[Message],
        context: HttpContext,
        early: BaseException | None,
    ) -> Chunks:
        async for message, error in _each(first, rest, early):
            if message is not None:
                yield encoded(data_frame(message.SerializeToString()), text)
                continue
            code, detail = status_of(context, error)
            rich = status_details(context) if code is not grpc.StatusCode.OK else None
            yield encoded(trailers_frame(code.value[0], detail, rich), text)

    return body


async def single(message: Awaitable[Message | None]) -> AsyncIterator[Message]:
    """A one-message stream of a client-streaming call's answer (Connect streaming)."""
    answer = await message
    if answer is not None:
        yield answer
