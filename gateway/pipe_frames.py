"""Length-prefixed frames between the gateway and a child process it started (the store's
writer, decision 0013; the screening worker, decision 0018).

A frame is a 4-byte little-endian length followed by a ``marshal``-encoded tuple of plain values:
``marshal`` is the cheapest serializer of tuples, strings, bytes and ints in CPython, and both
ends are the same interpreter (the child is started from ``sys.executable``). What the tuples
mean is each pipe's own protocol (``gateway.store.wire``, ``gateway.screening.wire``).
"""

from __future__ import annotations

import marshal
import struct
from typing import Any

__all__ = ["frame", "take_messages"]

_LENGTH = struct.Struct("<I")


def frame(message: tuple[Any, ...]) -> bytes:
    """``message`` as one length-prefixed frame."""
    body = marshal.dumps(message)
    return _LENGTH.pack(len(body)) + body


def take_messages(buffer: bytearray) -> list[tuple[Any, ...]]:
    """Remove every whole message from the front of ``buffer`` and return them, in order; an
    incomplete one stays for the bytes still to come."""
    messages = []
    start = 0
    while len(buffer) - start >= _LENGTH.size:
        (size,) = _LENGTH.unpack_from(buffer, start)
        end = start + _LENGTH.size + size
        if end > len(buffer):
            break
        # Only ever the other end of a private pipe to a process this gateway started.
        messages.append(marshal.loads(buffer[start + _LENGTH.size : end]))  # noqa: S302
        start = end
    del buffer[:start]
    return messages
