"""What the gateway and its screening worker process say to each other over a pipe.

Frames are a 4-byte little-endian length followed by a ``marshal``-encoded tuple of plain values
(both ends are the same interpreter, as for the store's writer process, decision 0013). Records
cross as (record id, version, serialized record) rows, hits as serialized ``ScreeningHit``
bodies; only the Screen RPC's subjects and matches, dataclasses with nested tuples, are pickled.

Requests (gateway → worker), each with a call number answered in order:

- ``(INIT, pickle(lists))`` first: the list definitions (answered by ``READY``);
- ``(LOAD, call, rows)``: list records of a rebuild (sent without waiting for the answer);
- ``(BUILD, call)``: build the index of what was loaded → ``(entries, records)``;
- ``(APPLY, call, rows, upserts, groups, (seconds, nanos))``: one commit batch →
  ``(hits, skipped, records)`` (:meth:`~gateway.screening.keeper.IndexKeeper.apply`);
- ``(SCREEN, call, pickle((subjects, lists)))`` → ``pickle(matches)``;
- ``(SUPPRESS, call, added, removed)``: decided pairs.

Answers (worker → gateway): ``(READY, pid)`` once at the start, then ``(DONE, call, result)`` or
``(FAILED, call, error class, message)``.
"""

from __future__ import annotations

import marshal
import struct
from typing import Any

__all__ = [
    "APPLY",
    "BUILD",
    "DONE",
    "FAILED",
    "INIT",
    "LOAD",
    "READY",
    "SCREEN",
    "SUPPRESS",
    "frame",
    "take_messages",
]

INIT, LOAD, BUILD, APPLY, SCREEN, SUPPRESS = "init", "load", "build", "apply", "screen", "suppress"
READY, DONE, FAILED = "ready", "done", "failed"

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
