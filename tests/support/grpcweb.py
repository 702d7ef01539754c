"""A gRPC-Web client over httpx, written from the spec (grpc/grpc ``doc/PROTOCOL-WEB.md``), not
from the gateway's code: frames a request, reads the response's frames and its trailers, in
binary or in base64 (``application/grpc-web-text``)."""

from __future__ import annotations

import base64
import struct
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from urllib.parse import unquote

import httpx
from google.protobuf.message import Message
from google.rpc import status_pb2

BINARY = "application/grpc-web+proto"
TEXT = "application/grpc-web-text"


def frame(payload: bytes, flags: int = 0) -> bytes:
    """One gRPC-Web frame."""
    return struct.pack(">BI", flags, len(payload)) + payload


@dataclass
class WebAnswer:
    """A gRPC-Web response: its messages (serialized) and its trailers."""

    http_status: int
    content_type: str
    messages: list[bytes] = field(default_factory=list)
    trailers: dict[str, str] = field(default_factory=dict)
    frames_after_trailers: int = 0

    @property
    def code(self) -> int:
        """``grpc-status``."""
        return int(self.trailers["grpc-status"])

    @property
    def message(self) -> str:
        """``grpc-message``, percent-decoded."""
        return unquote(self.trailers.get("grpc-message", ""))

    def status(self) -> status_pb2.Status:
        """``grpc-status-details-bin``: the rich status (padded or not)."""
        value = self.trailers["grpc-status-details-bin"]
        return status_pb2.Status.FromString(base64.b64decode(value + "=" * (-len(value) % 4)))


def _decode_text(body: bytes) -> bytes:
    """A base64 response body, whose frames may each be padded."""
    decoded, at = [], 0
    while at < len(body):
        end = at + 4
        while end < len(body) and body[end - 1 : end] != b"=":
            end += 4
        decoded.append(base64.b64decode(body[at:end]))
        at = end
    return b"".join(decoded)


def parse(response_body: bytes, *, text: bool) -> tuple[list[bytes], dict[str, str], int]:
    """The messages, trailers and number of frames after the trailers of a response body."""
    body = _decode_text(response_body) if text else response_body
    messages: list[bytes] = []
    trailers: dict[str, str] = {}
    after = 0
    while body:
        flags, size = struct.unpack(">BI", body[:5])
        payload = body[5 : 5 + size]
        assert len(payload) == size, "the response ends inside a frame"
        body = body[5 + size :]
        if trailers:
            after += 1
        if flags & 0x80:
            for line in payload.decode("ascii").split("\r\n"):
                if line:
                    key, _, value = line.partition(":")
                    trailers[key.strip()] = value.strip()
        else:
            messages.append(payload)
    return messages, trailers, after


def body_of(message: Message | bytes, *, text: bool) -> bytes:
    """The request body of one message."""
    data = message if isinstance(message, bytes) else message.SerializeToString()
    framed = frame(data)
    return base64.b64encode(framed) if text else framed


async def call(
    client: httpx.AsyncClient,
    path: str,
    body: bytes,
    *,
    content_type: str = BINARY,
    headers: dict[str, str] | None = None,
) -> WebAnswer:
    """POST a gRPC-Web call with ``body`` as is (already framed, or deliberately not)."""
    response = await client.post(
        path,
        content=body,
        headers={"content-type": content_type, "x-grpc-web": "1", **(headers or {})},
    )
    text = content_type.startswith(TEXT)
    messages, trailers, after = (
        parse(response.content, text=text) if response.status_code == 200 else ([], {}, 0)
    )
    return WebAnswer(
        response.status_code, response.headers.get("content-type", ""), messages, trailers, after
    )


async def unary(
    client: httpx.AsyncClient, path: str, request: Message, *, text: bool = False
) -> WebAnswer:
    """A well-formed call with one request message."""
    return await call(
        client, path, body_of(request, text=text), content_type=TEXT if text else BINARY
    )


async def first_messages(
    client: httpx.AsyncClient, path: str, request: Message, count: int, *, text: bool = False
) -> list[bytes]:
    """The first ``count`` messages of a server stream that may not end (Subscribe)."""
    buffer, found = b"", []
    async with client.stream(
        "POST",
        path,
        content=body_of(request, text=text),
        headers={"content-type": TEXT if text else BINARY, "x-grpc-web": "1"},
    ) as response:
        assert response.status_code == 200
        chunks: AsyncIterator[bytes] = response.aiter_bytes()
        async for chunk in chunks:
            buffer += chunk
            data = _decode_text(buffer[: len(buffer) - len(buffer) % 4]) if text else buffer
            messages, trailers = _complete_frames(data)
            assert not trailers, f"the stream ended: {trailers}"
            if len(messages) >= count:
                found = messages[:count]
                break
    return found


def _complete_frames(data: bytes) -> tuple[list[bytes], bool]:
    messages: list[bytes] = []
    trailers = False
    while len(data) >= 5:
        flags, size = struct.unpack(">BI", data[:5])
        if len(data) < 5 + size:
            break
        if flags & 0x80:
            trailers = True
        else:
            messages.append(data[5 : 5 + size])
        data = data[5 + size :]
    return messages, trailers
