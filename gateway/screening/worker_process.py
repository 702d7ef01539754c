"""The screening worker process: the index keeper, outside the gateway's interpreter.

Run as ``python -m gateway.screening.worker_process`` by
:class:`gateway.services.screening_worker.ProcessIndexWorker`, which talks to it over its
standard input and output in the frames of :mod:`gateway.screening.wire`. One thread does
everything: it reads requests as they arrive, hands each to its
:class:`~gateway.screening.keeper.IndexKeeper` in order, and answers it.

Why a process (``docs/decisions/0018-screening-worker-process.md``): on a thread, the index's
Python (parsing the committed records, candidate lookups, scoring) shares the interpreter lock
with the event loop, which then waits for the lock after every poll.

The process ends when its input ends (the gateway closed it, or died), so it never outlives the
gateway. It ignores SIGINT and SIGTERM, which a terminal or a service manager sends to the whole
process group: the gateway decides when screening stops.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import signal
import sys
from typing import Any

from gateway.screening.keeper import IndexKeeper
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

__all__ = ["main"]

_READ_SIZE = 1 << 20


def _handle(keeper: IndexKeeper, request: tuple[Any, ...]) -> Any:
    kind = request[0]
    if kind == LOAD:
        return keeper.load(request[2])
    if kind == BUILD:
        return keeper.build()
    if kind == APPLY:
        _, _, rows, upserts, groups, screened_at = request
        return keeper.apply(rows, upserts, groups, tuple(screened_at))
    if kind == SCREEN:
        # Only ever from the gateway that started this process, over its private pipe.
        subjects, lists = pickle.loads(request[2])  # noqa: S301
        return pickle.dumps(keeper.screen(subjects, lists), pickle.HIGHEST_PROTOCOL)
    if kind == SUPPRESS:
        return keeper.suppress(request[2], request[3])
    raise ValueError(f"unknown request {kind!r}")


def _send(answers: int, message: tuple[Any, ...]) -> None:
    data = memoryview(frame(message))
    while data:
        data = data[os.write(answers, data) :]


def _serve(requests: int, answers: int) -> None:
    buffer = bytearray()
    keeper: IndexKeeper | None = None
    while True:
        data = os.read(requests, _READ_SIZE)
        if not data:
            return  # the gateway closed its end, or died
        buffer += data
        for request in take_messages(buffer):
            if request[0] == INIT:
                keeper = IndexKeeper(pickle.loads(request[1]))  # noqa: S301 (see _handle)
                _send(answers, (READY, os.getpid()))
                continue
            if keeper is None:
                raise ValueError("a request before INIT")
            call = request[1]
            try:
                result = _handle(keeper, request)
            except Exception as error:  # answered: the gateway decides what it means
                _send(answers, (FAILED, call, type(error).__name__, str(error)))
                continue
            _send(answers, (DONE, call, result))


def main() -> int:
    """Entry point (no arguments: everything arrives over standard input)."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    # Frames go to a copy of stdout; stdout itself then points at stderr, so that a stray print
    # (a library's warning) cannot corrupt the stream of frames.
    answers = os.dup(1)
    os.dup2(2, 1)
    with contextlib.suppress(BrokenPipeError):  # the gateway is gone: nobody to answer
        _serve(0, answers)
    return 0


if __name__ == "__main__":
    sys.exit(main())
