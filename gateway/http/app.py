"""The HTTP face of the gateway: the Connect protocol, NDJSON and Server-Sent Events, OpenAPI.

Routes (``docs/http.md`` has curl examples):

* ``POST /<package.Service>/<Method>`` - every RPC served over HTTP:

  - unary methods: Connect unary, ``application/json`` or ``application/proto``;
  - server streams (Search, Subscribe): Connect streaming (``application/connect+json`` or
    ``+proto``), or NDJSON for a plain ``application/json`` request;
  - client streams (SubmitStream): Connect streaming, or an NDJSON body
    (``application/x-ndjson``, one request message per line) answered with JSON;
  - gRPC-Web (``application/grpc-web+proto``, ``application/grpc-web-text``) for unary methods
    and server streams (:mod:`~gateway.http.grpcweb`); browsers cannot stream a request, so a
    client stream over gRPC-Web is refused UNIMPLEMENTED, after the policy has seen the call;

* ``GET /<package.Service>/<Method>?message=<JSON>`` - a server stream as Server-Sent Events,
  resumed with ``Last-Event-ID`` (what a browser's ``EventSource`` sends);
* ``GET /openapi.json`` - the OpenAPI 3.1 document (``docs/openapi.json``).

Every call goes through :class:`~gateway.http.calls.Calls`, which runs the gRPC server's
interceptors: the policy is the gRPC server's, in the same order, with the same audit.
"""

from __future__ import annotations

import json
import logging
from collections.abc import AsyncIterator
from importlib import resources

from google.protobuf.message import Message
from starlette.applications import Starlette
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from gateway.errors import (
    GatewayError,
    InvalidArgumentError,
    LimitExceededError,
    UnimplementedError,
)
from gateway.http.calls import Calls, MalformedJson, Method, RefusedBody
from gateway.http.codec import envelopes, from_json, from_proto, to_json
from gateway.http.context import HttpContext
from gateway.http.errors import HTTP_STATUS, error_body, status_of
from gateway.http.grpcweb import FrameDecoder, WebMedia, grpc_timeout, web_media
from gateway.http.responses import (
    StreamedAnswer,
    connect_stream,
    grpc_web,
    ndjson,
    single,
    sse,
)
from gateway.http.resume import RESUMABLE
from gateway.telemetry.protocols import (
    CONNECT,
    GRPC_WEB,
    GRPC_WEB_TEXT,
    NDJSON,
    SSE,
    WireProtocol,
)

__all__ = ["HttpApi"]

_log = logging.getLogger(__name__)

_JSON = "application/json"
_PROTO = "application/proto"
_CONNECT_JSON = "application/connect+json"
_CONNECT_PROTO = "application/connect+proto"
_NDJSON = "application/x-ndjson"
_SSE = "text/event-stream"
_MAX_TIMEOUT_MS = 10**10
_METADATA_SKIPPED = frozenset(
    {"content-type", "content-length", "host", "connection", "accept", "user-agent"}
)


class HttpApi:
    """Builds the ASGI application over the gateway's calls."""

    def __init__(
        self, calls: Calls, *, max_message_bytes: int, sse_keepalive_seconds: float = 15.0
    ) -> None:
        """Args:
        calls: Resolves and invokes calls through the gateway's interceptors.
        sse_keepalive_seconds: How long a Server-Sent Events stream may stay silent before a
            keep-alive comment is written (``[http] sse_keepalive_seconds``).
        max_message_bytes: The largest request message, as for gRPC (``[limits]``); a JSON
            body may be up to four times as large (its encoding is wordier).
        """
        self._calls = calls
        self._sse_keepalive = sse_keepalive_seconds
        self._max_message = max_message_bytes
        self._max_body = 4 * max_message_bytes
        self._openapi = resources.files("gateway.http").joinpath("openapi.json").read_bytes()

    def app(self) -> Starlette:
        """The ASGI application."""
        return Starlette(
            routes=[
                Route("/openapi.json", self._openapi_document, methods=["GET"]),
                Route("/{service}/{method}", self._post, methods=["POST"]),
                Route("/{service}/{method}", self._get, methods=["GET"]),
            ]
        )

    async def _openapi_document(self, request: Request) -> Response:
        return Response(self._openapi, media_type=_JSON)

    # -- POST ------------------------------------------------------------------------------

    async def _post(self, request: Request) -> Response | StreamedAnswer:
        path = f"/{request.path_params['service']}/{request.path_params['method']}"
        media = request.headers.get("content-type", "").partition(";")[0].strip().lower()
        method = self._calls.method(path)
        web = web_media(media, request.headers.get("accept", ""))
        if web is not None:
            return await self._grpc_web(request, path, method, web)
        streamed_json = media == _NDJSON or (
            method is not None and method.server_streaming and media in (_JSON, "")
        )
        context = _context(request, NDJSON if streamed_json else CONNECT)
        if method is None:
            # Unknown (or not served over HTTP): the interceptors refuse and audit it.
            await self._calls.unary(path, None, context)
            return _error(context, None)
        if method.client_streaming:
            if media in (_CONNECT_JSON, _CONNECT_PROTO):
                requests = self._enveloped(request, method, media == _CONNECT_PROTO)
                answer = single(self._calls.unary(path, requests, context))
                return StreamedAnswer(
                    answer,
                    context,
                    media,
                    connect_stream(media == _CONNECT_PROTO),
                    errors_before_first=False,
                )
            if media == _NDJSON:
                response = await self._calls.unary(path, self._lines(request, method), context)
                return _unary_answer(response, context, binary=False)
            return _unsupported(media, (_CONNECT_JSON, _CONNECT_PROTO, _NDJSON))
        try:
            body = await _body(request, self._max_body)
        except LimitExceededError:
            return _too_large(self._max_body)
        except ClientDisconnect:
            return Response(status_code=499)
        if method.server_streaming:
            if media in (_CONNECT_JSON, _CONNECT_PROTO):
                binary = media == _CONNECT_PROTO
                try:
                    [data] = list(envelopes(body)) or [b""]
                except InvalidArgumentError as error:
                    parsed: Message | MalformedJson = MalformedJson(
                        method.request_type.DESCRIPTOR.full_name, f"one envelope expected: {error}"
                    )
                else:
                    parsed = self._parse(data, method, binary)
                return StreamedAnswer(
                    self._calls.stream(path, parsed, context),
                    context,
                    media,
                    connect_stream(binary),
                    errors_before_first=False,
                )
            if media in (_JSON, ""):
                parsed = self._parse(body, method, binary=False)
                return StreamedAnswer(
                    self._calls.stream(path, parsed, context), context, _NDJSON, ndjson
                )
            return _unsupported(media, (_JSON, _CONNECT_JSON, _CONNECT_PROTO))
        if media not in (_JSON, _PROTO):
            return _unsupported(media, (_JSON, _PROTO))
        binary = media == _PROTO
        response = await self._calls.unary(path, self._parse(body, method, binary), context)
        return _unary_answer(response, context, binary=binary)

    # -- POST: gRPC-Web -------------------------------------------------------------------

    async def _grpc_web(
        self, request: Request, path: str, method: Method | None, web: WebMedia
    ) -> Response | StreamedAnswer:
        """A gRPC-Web call: always 200, the status in the trailers frame. Whatever is wrong
        with the body travels to the innermost interceptor as a :class:`RefusedBody`, so the
        caller's identity, grants and the audit see the call first, as for any other."""
        context = _context(request, GRPC_WEB_TEXT if web.text else GRPC_WEB)
        answer: AsyncIterator[Message]
        if method is None:
            # Unknown (or not served over HTTP): the interceptors refuse and audit it.
            answer = single(self._calls.unary(path, None, context))
        elif not method.over_grpc_web:
            refusal = RefusedBody(
                method.request_type.DESCRIPTOR.full_name,
                UnimplementedError(
                    f"{path} streams its requests, which gRPC-Web cannot carry from a browser: "
                    "use Connect streaming or NDJSON"
                ),
            )
            answer = single(self._calls.unary(path, _one(refusal), context))
        else:
            try:
                parsed = await self._framed(request, method, web)
            except ClientDisconnect:
                return Response(status_code=499)
            if method.server_streaming:
                answer = self._calls.stream(path, parsed, context)
            else:
                answer = single(self._calls.unary(path, parsed, context))
        return StreamedAnswer(
            answer, context, web.content_type, grpc_web(web.answer_text), errors_before_first=False
        )

    async def _framed(
        self, request: Request, method: Method, web: WebMedia
    ) -> Message | MalformedJson | RefusedBody:
        """The one request message of a gRPC-Web body (unary or server-streaming), read frame
        by frame: a refusal as soon as the body is wrong, without reading the rest."""
        name = method.request_type.DESCRIPTOR.full_name
        decoder = FrameDecoder(max_message_bytes=self._max_message, text=web.text)
        messages: list[bytes] = []
        try:
            encoding = request.headers.get("grpc-encoding", "identity").strip().lower()
            if encoding != "identity":
                raise UnimplementedError(
                    f"grpc-encoding {encoding[:32]!r} is not supported: send identity"
                )
            async for chunk in request.stream():
                messages.extend(decoder.feed(chunk))
                if len(messages) > 1:
                    raise InvalidArgumentError(f"{method.path} takes one request message")
            decoder.finish()
            if not messages:
                raise InvalidArgumentError(f"{method.path} takes one request message; none came")
        except (GatewayError, InvalidArgumentError) as refusal:
            return RefusedBody(name, refusal)
        return self._parse(messages[0], method, binary=True)

    # -- GET: Server-Sent Events -------------------------------------------------------------

    async def _get(self, request: Request) -> Response | StreamedAnswer:
        path = f"/{request.path_params['service']}/{request.path_params['method']}"
        method = self._calls.method(path)
        context = _context(request, SSE)
        if method is None:
            await self._calls.unary(path, None, context)
            return _error(context, None)
        if not method.server_streaming or method.client_streaming:
            return JSONResponse(
                {"code": "unimplemented", "message": f"{path} is called with POST"},
                status_code=405,
                headers={"allow": "POST"},
            )
        parsed = self._parse(request.query_params.get("message", "").encode(), method, False)
        resumable = RESUMABLE.get(path)
        last = request.headers.get("last-event-id")
        if (
            last
            and isinstance(parsed, Message)
            and (resumable is None or not resumable.resume(parsed, last))
        ):
            parsed = MalformedJson(
                method.request_type.DESCRIPTOR.full_name, "Last-Event-ID is not a cursor"
            )
        return StreamedAnswer(
            self._calls.stream(path, parsed, context),
            context,
            _SSE,
            sse(resumable),
            keepalive_seconds=self._sse_keepalive,
        )

    # -- bodies ----------------------------------------------------------------------------

    def _parse(self, data: bytes, method: Method, binary: bool) -> Message | MalformedJson:
        parsed = (
            from_proto(data, method.request_type)
            if binary
            else from_json(data, method.request_type)
        )
        if isinstance(parsed, Message) and parsed.ByteSize() > self._max_message:
            return MalformedJson(
                method.request_type.DESCRIPTOR.full_name,
                f"the message is larger than the {self._max_message} bytes allowed",
            )
        return parsed

    async def _enveloped(
        self, request: Request, method: Method, binary: bool
    ) -> AsyncIterator[Message | MalformedJson]:
        """The messages of a Connect streaming body, parsed as they arrive."""
        buffer = b""
        async for chunk in request.stream():
            buffer += chunk
            complete, buffer = _split_envelopes(buffer, self._max_message)
            if complete is None:
                yield MalformedJson(
                    method.request_type.DESCRIPTOR.full_name, "envelope too large or compressed"
                )
                return
            for data in complete:
                yield self._parse(data, method, binary)
        if buffer:
            yield MalformedJson(
                method.request_type.DESCRIPTOR.full_name, "the body ends inside an envelope"
            )

    async def _lines(
        self, request: Request, method: Method
    ) -> AsyncIterator[Message | MalformedJson]:
        """The messages of an NDJSON body, parsed line by line as they arrive."""
        buffer = b""
        async for chunk in request.stream():
            buffer += chunk
            *lines, buffer = buffer.split(b"\n")
            if len(buffer) > self._max_body:
                yield MalformedJson(method.request_type.DESCRIPTOR.full_name, "a line is too long")
                return
            for line in lines:
                if line.strip():
                    yield self._parse(line, method, False)
        if buffer.strip():
            yield self._parse(buffer, method, False)


def _split_envelopes(buffer: bytes, limit: int) -> tuple[list[bytes] | None, bytes]:
    """The complete envelopes' messages at the start of ``buffer``, and what is left; ``None``
    for a message over ``limit`` or compressed."""
    found: list[bytes] = []
    while len(buffer) >= 5:
        flags, size = buffer[0], int.from_bytes(buffer[1:5], "big")
        if size > limit or flags & 0b01:
            return None, b""
        if len(buffer) < 5 + size:
            break
        if not flags & 0b10:
            found.append(buffer[5 : 5 + size])
        buffer = buffer[5 + size :]
    return found, buffer


async def _one(request: RefusedBody) -> AsyncIterator[RefusedBody]:
    yield request


def _context(request: Request, protocol: WireProtocol) -> HttpContext:
    tls = request.scope.get("extensions", {}).get("tls")
    certificate: bytes | None = None
    if tls is not None:
        chain = tls.get("client_cert_chain") or []
        certificate = chain[0].encode() if chain else None
    client = request.client
    if client is None:
        peer = "unknown"
    elif ":" in client.host:
        peer = f"ipv6:[{client.host}]:{client.port}"
    else:
        peer = f"ipv4:{client.host}:{client.port}"
    timeout = None
    header = request.headers.get("connect-timeout-ms")
    if protocol in (GRPC_WEB, GRPC_WEB_TEXT):
        given = grpc_timeout(request.headers.get("grpc-timeout"))
        timeout = None if given is None else min(given, _MAX_TIMEOUT_MS / 1000)
    elif header is not None and header.isascii() and header.isdigit() and len(header) <= 10:
        timeout = min(int(header), _MAX_TIMEOUT_MS) / 1000
    metadata = [(k, v) for k, v in request.headers.items() if k not in _METADATA_SKIPPED]
    return HttpContext(
        peer=peer,
        tls=tls is not None,
        certificate=certificate,
        metadata=metadata,
        timeout_seconds=timeout,
        protocol=protocol,
    )


async def _body(request: Request, limit: int) -> bytes:
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise LimitExceededError(f"the body is larger than the {limit} bytes allowed")
        chunks.append(chunk)
    return b"".join(chunks)


def _unary_answer(response: Message | None, context: HttpContext, *, binary: bool) -> Response:
    if response is None:
        return _error(context, None)
    if binary:
        return Response(response.SerializeToString(), media_type=_PROTO)
    return Response(json.dumps(to_json(response)).encode(), media_type=_JSON)


def _error(context: HttpContext, error: BaseException | None) -> Response:
    code, message = status_of(context, error)
    return JSONResponse(error_body(code, message, context), status_code=HTTP_STATUS.get(code, 500))


def _unsupported(media: str, accepted: tuple[str, ...]) -> Response:
    return JSONResponse(
        {
            "code": "unimplemented",
            "message": f"content type {media[:64]!r} is not served here; use {', '.join(accepted)}",
        },
        status_code=415,
        headers={"accept-post": ", ".join(accepted)},
    )


def _too_large(limit: int) -> Response:
    return JSONResponse(
        {
            "code": "resource_exhausted",
            "message": f"the body is larger than the {limit} bytes allowed",
        },
        status_code=429,
    )
