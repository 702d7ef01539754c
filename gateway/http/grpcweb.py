"""The gRPC-Web wire format (grpc/grpc ``doc/PROTOCOL-WEB.md``): frames, trailers, base64.

A gRPC-Web body is gRPC's: messages in 5-byte length-prefixed frames (a flags byte, a 4-byte
big-endian length). A response ends with a trailers frame (flags ``0x80``) holding an HTTP/1
header block: ``grpc-status``, ``grpc-message`` (percent-encoded as gRPC encodes it) and, for a
rich status, ``grpc-status-details-bin`` (base64 of ``google.rpc.Status``, unpadded).
``application/grpc-web-text`` is the same stream in base64: the request may arrive as several
padded base64 chunks, and each response frame is encoded (and padded) on its own, which the
spec allows and browsers' clients decode.

The trailers are always written in the body, also when no message came first ("trailers-only"):
a browser reads the body, and reads headers of another origin only when CORS exposes them.

Decoding refuses, with a status the caller can act on and never a 500: a cut prefix or frame,
a trailers frame from a client, or bad base64 (INVALID_ARGUMENT); a frame longer than the
message limit (RESOURCE_EXHAUSTED, before it is read); a compressed frame, as no
``grpc-encoding`` other than ``identity`` is agreed (UNIMPLEMENTED).
"""

from __future__ import annotations

import base64
import binascii
import re
import struct
from dataclasses import dataclass
from typing import Final

from gateway.errors import (
    InvalidArgumentError,
    LimitExceededError,
    UnimplementedError,
)

__all__ = [
    "GRPC_WEB_TYPES",
    "FrameDecoder",
    "WebMedia",
    "data_frame",
    "encoded",
    "grpc_timeout",
    "percent_encode",
    "trailers_frame",
    "web_media",
]

GRPC_WEB_TYPES: Final = (
    "application/grpc-web",
    "application/grpc-web+proto",
    "application/grpc-web-text",
    "application/grpc-web-text+proto",
)
"""The content types served (protobuf messages; ``+json`` is not offered)."""

_TRAILERS = 0x80
_COMPRESSED = 0x01
_HEADER = struct.Struct(">BI")
_TIMEOUT = re.compile(r"([0-9]{1,8})([HMSmun])")
_TIMEOUT_UNITS = {"H": 3600.0, "M": 60.0, "S": 1.0, "m": 1e-3, "u": 1e-6, "n": 1e-9}


@dataclass(frozen=True, slots=True)
class WebMedia:
    """A gRPC-Web call's content types: the request's, and the answer's."""

    content_type: str
    """The answer's type: the request's, or ``application/grpc-web-text`` when the client
    asked for a text answer with ``Accept``."""
    text: bool
    """``application/grpc-web-text``: the request body is base64."""
    answer_text: bool
    """The answer body is base64."""


def web_media(media: str, accept: str = "") -> WebMedia | None:
    """The gRPC-Web call ``media`` (the request's type, lower case, without parameters) names,
    else ``None``; ``accept`` (the ``Accept`` header) may ask for a text answer to a binary
    request, as the spec lets an XHR client do."""
    if media not in GRPC_WEB_TYPES:
        return None
    text = media.startswith("application/grpc-web-text")
    if not text and "application/grpc-web-text" in accept.lower():
        return WebMedia("application/grpc-web-text", text=False, answer_text=True)
    return WebMedia(media, text=text, answer_text=text)


def grpc_timeout(header: str | None) -> float | None:
    """Seconds of a ``grpc-timeout`` header (``100m``, ``5S``); ``None`` if absent or malformed
    (the call then runs without a deadline, as a Connect call without ``Connect-Timeout-Ms``)."""
    if header is None:
        return None
    found = _TIMEOUT.fullmatch(header.strip())
    if found is None:
        return None
    return int(found.group(1)) * _TIMEOUT_UNITS[found.group(2)]


class FrameDecoder:
    """Turns a request body, chunk by chunk, into its messages (the frames' payloads).

    Memory is bounded by the limit: a frame's length is checked as soon as its prefix is in,
    before its payload is buffered.
    """

    def __init__(self, *, max_message_bytes: int, text: bool) -> None:
        """Args:
        max_message_bytes: The largest message (``[limits] max_message_bytes``).
        text: The body is base64 (``application/grpc-web-text``).
        """
        self._limit = max_message_bytes
        self._text = text
        self._encoded = b""
        self._buffer = b""

    def feed(self, chunk: bytes) -> list[bytes]:
        """The messages complete once ``chunk`` is added.

        Raises:
            InvalidArgumentError: bad base64, or a trailers frame.
            LimitExceededError: a frame longer than the message limit.
            UnimplementedError: a compressed frame.
        """
        self._buffer += self._decoded(chunk) if self._text else chunk
        found: list[bytes] = []
        while len(self._buffer) >= _HEADER.size:
            flags, size = _HEADER.unpack_from(self._buffer)
            if flags & _TRAILERS:
                raise InvalidArgumentError("a gRPC-Web request carries no trailers frame")
            if flags & _COMPRESSED:
                raise UnimplementedError(
                    "compressed messages are not supported: send grpc-encoding identity"
                )
            if flags:
                raise InvalidArgumentError(f"unknown gRPC-Web frame flags 0x{flags:02x}")
            if size > self._limit:
                raise LimitExceededError(
                    f"the message is larger than the {self._limit} bytes allowed"
                )
            if len(self._buffer) < _HEADER.size + size:
                break
            found.append(self._buffer[_HEADER.size : _HEADER.size + size])
            self._buffer = self._buffer[_HEADER.size + size :]
        return found

    def finish(self) -> None:
        """Check that the body ended between frames.

        Raises:
            InvalidArgumentError: it ends inside a frame's prefix or payload, or inside a base64
                quantum.
        """
        if self._encoded.strip():
            raise InvalidArgumentError("the gRPC-Web text body ends inside a base64 quantum")
        if len(self._buffer) >= _HEADER.size:
            raise InvalidArgumentError("the gRPC-Web body ends inside a message")
        if self._buffer:
            raise InvalidArgumentError("the gRPC-Web body ends inside a frame's 5-byte prefix")

    def _decoded(self, chunk: bytes) -> bytes:
        """The bytes of the complete base64 quanta received so far; each padded quantum ends a
        chunk of the client's, and the next chunk starts after it."""
        text = self._encoded + b"".join(chunk.split())  # line breaks and spaces are not data
        usable = len(text) - len(text) % 4
        self._encoded = text[usable:]
        decoded: list[bytes] = []
        at = 0
        while at < usable:
            pad = text.find(b"=", at, usable)
            end = usable if pad < 0 else min((pad // 4 + 1) * 4, usable)
            try:
                decoded.append(binascii.a2b_base64(text[at:end], strict_mode=True))
            except binascii.Error as error:
                raise InvalidArgumentError(
                    "the gRPC-Web text body is not base64 (application/grpc-web-text)"
                ) from error
            at = end
        return b"".join(decoded)


def data_frame(payload: bytes) -> bytes:
    """A message frame."""
    return _HEADER.pack(0, len(payload)) + payload


def trailers_frame(code: int, message: str, details: bytes | None) -> bytes:
    """The trailers frame of a status: ``grpc-status``, ``grpc-message`` and, for a rich
    status, ``grpc-status-details-bin`` (``google.rpc.Status``, base64 without padding, as gRPC
    emits binary metadata; in text mode too, where the spec would skip that base64 - a raw
    binary value could hold CR LF and end the header block early, and clients decode it)."""
    lines = [f"grpc-status: {code}\r\n"]
    if message:
        lines.append(f"grpc-message: {percent_encode(message)}\r\n")
    if details:
        lines.append(
            f"grpc-status-details-bin: {base64.b64encode(details).decode().rstrip('=')}\r\n"
        )
    block = "".join(lines).encode("ascii")
    return _HEADER.pack(_TRAILERS, len(block)) + block


def percent_encode(message: str) -> str:
    """``grpc-message`` as gRPC writes it: UTF-8, with every byte outside printable ASCII, and
    ``%`` itself, as ``%XX``."""
    return "".join(
        chr(byte) if 0x20 <= byte <= 0x7E and byte != 0x25 else f"%{byte:02X}"
        for byte in message.encode("utf-8")
    )


def encoded(frame: bytes, text: bool) -> bytes:
    """``frame`` as the response body carries it: as is, or base64 (padded) in text mode."""
    return base64.b64encode(frame) if text else frame
