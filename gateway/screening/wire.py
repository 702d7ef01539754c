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

from gateway.pipe_frames import frame, take_messages

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
