"""Request and response bodies: protobuf JSON (proto3 mapping) and binary, and Connect envelopes.

JSON is the canonical proto3 mapping (``json_format``): lowerCamelCase field names, enums by
name, 64-bit integers as strings, bytes as base64. Unknown fields are refused, as a typo must
not pass silently. Responses are written with the same mapping (the names the OpenAPI document
shows).
"""

from __future__ import annotations

import json
import struct
from collections.abc import Iterator
from typing import Any

from google.protobuf import json_format
from google.protobuf.message import DecodeError, Message

from gateway.errors import InvalidArgumentError
from gateway.http.calls import MalformedJson

__all__ = [
    "END_STREAM",
    "envelope",
    "envelopes",
    "from_json",
    "from_proto",
    "to_json",
    "to_json_text",
]

END_STREAM = 0b10
"""The Connect envelope flag of the end-of-stream message."""
_COMPRESSED = 0b01
_HEADER = struct.Struct(">BI")


def from_json(data: bytes, message_type: type[Message]) -> Message | MalformedJson:
    """The request message ``data`` (JSON) encodes, or what is wrong with it."""
    message = message_type()
    name = message.DESCRIPTOR.full_name
    if not data.strip():
        return message  # an empty body is the empty message, as Connect clients send it
    if not data.lstrip().startswith(b"{"):
        # json_format takes a top-level array as the empty message: "[]" must not pass as "{}"
        return MalformedJson(name, "a JSON object expected")
    try:
        json_format.Parse(data, message, ignore_unknown_fields=False)
    except json_format.ParseError as error:
        return MalformedJson(name, str(error))
    except (UnicodeDecodeError, RecursionError, ValueError, TypeError) as error:
        return MalformedJson(name, f"not JSON ({type(error).__name__})")
    return message


def from_proto(data: bytes, message_type: type[Message]) -> Message | MalformedJson:
    """The request message ``data`` (binary protobuf) encodes, or a refusal."""
    try:
        return message_type.FromString(data)
    except DecodeError:
        name = message_type.DESCRIPTOR.full_name
        return MalformedJson(name, "not a binary protobuf message")


def to_json(message: Message) -> dict[str, Any]:
    """``message`` in the proto3 JSON mapping."""
    return json_format.MessageToDict(message)


def to_json_text(value: Any) -> str:
    """One line of compact JSON."""
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False)


def envelope(data: bytes, flags: int = 0) -> bytes:
    """One Connect envelope."""
    return _HEADER.pack(flags, len(data)) + data


def envelopes(body: bytes) -> Iterator[bytes]:
    """The messages of a Connect streaming request body.

    Raises:
        InvalidArgumentError: the body is cut, or a message is compressed (not negotiated).
    """
    at = 0
    while at < len(body):
        if len(body) - at < _HEADER.size:
            raise InvalidArgumentError("the body ends inside an envelope header")
        flags, size = _HEADER.unpack_from(body, at)
        at += _HEADER.size
        if size > len(body) - at:
            raise InvalidArgumentError("the body ends inside an envelope")
        if flags & _COMPRESSED:
            raise InvalidArgumentError("compressed messages are not supported")
        if not flags & END_STREAM:
            yield body[at : at + size]
        at += size
