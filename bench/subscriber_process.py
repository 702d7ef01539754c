"""The subscribers scenario's Subscribe streams, in a process of their own.

Run by :func:`bench.subscribers.open_subscribers` as ``python -m bench.subscriber_process
--address HOST:PORT --variant VARIANT --count N``; it talks over its standard streams, one line
each way:

* it prints ``ready`` once every stream has received its caught-up marker (or ``failed
  REASON`` and exits);
* ``collect STORED SECONDS`` on its input: for reading streams, it waits (at most ``SECONDS``)
  until every stream has received ``STORED`` records, then prints one JSON line of what each
  stream received (:func:`tally`);
* ``stop`` or the end of its input: it cancels the streams and exits.

Why a process of its own: real subscribers run on other machines. Read from the load
generator's event loop, 200 streams took most of its CPU (its share rose from 0.38 to 0.78 with
readers), so the bench measured its own starved load generator rather than the gateway. Here
they have an event loop (and gRPC runtime) of their own; the two still share the machine's cores
with the gateway, as the baseline's load generator does.

Why responses are not parsed: a consumer reading 200 streams should cost what a real one would,
not the bench's bookkeeping (parsing every record of every batch took a third of this process's
CPU). A response is received as bytes and only its shape is read: the caught-up marker by its
field tag, a batch (``record_events``) by walking its elements' tags and lengths, parsing the
first and the last only, for their sequences. What is reported is counted from what was
received: the number of versions and, per stream, how many responses went backwards (a version
received twice or out of order).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import sys
from dataclasses import dataclass, field
from typing import Any

import grpc

from liaison.v1 import exchange_pb2, record_pb2

__all__ = ["EVENTS_PER_RESPONSE", "StreamTally", "count_events", "request_for", "tally"]

_SERVICE = exchange_pb2.DESCRIPTOR.services_by_name["RecordExchange"].full_name
_SUBSCRIBE = f"/{_SERVICE}/Subscribe"
EVENTS_PER_RESPONSE = 100
"""Versions per Subscribe response the streams ask for, as the project's clients do."""
_CHANNELS = 4
"""A few channels, as several consumers would use: one HTTP/2 connection carrying 200 streams
would measure one connection's flow control rather than the gateway."""
_READY_S = 60.0

# SubscribeResponse's oneof, by the first byte of the response (field number << 3 | wire type 2).
_RECORD_EVENT = (1 << 3) | 2
_CAUGHT_UP = (2 << 3) | 2
_RECORD_EVENTS = (3 << 3) | 2
_EVENT = (1 << 3) | 2
"""``RecordEvents.events``: field 1, length-delimited."""


@dataclass(slots=True)
class StreamTally:
    """What one stream received."""

    events: int = 0
    """Record versions received."""
    last_sequence: int = 0
    """The sequence of the last version received."""
    backwards: int = 0
    """Responses whose first version was not after the previous response's last: a version
    received twice or out of order (must stay 0)."""
    caught_up: bool = False


@dataclass(slots=True)
class _State:
    streams: list[StreamTally]
    failures: list[str] = field(default_factory=list)
    progress: asyncio.Event = field(default_factory=asyncio.Event)


def request_for(variant: str) -> bytes:
    """The serialized ``SubscribeRequest`` of ``variant`` (batches of up to
    :data:`EVENTS_PER_RESPONSE`; ``nothing-matching`` filters on a kind nobody submits)."""
    kinds = [record_pb2.RECORD_KIND_VEHICLE] if variant == "nothing-matching" else []
    return exchange_pb2.SubscribeRequest(
        kinds=kinds, max_events_per_response=EVENTS_PER_RESPONSE
    ).SerializeToString()


def count_events(raw: bytes, stream: StreamTally) -> None:
    """Account for one serialized ``SubscribeResponse`` in ``stream``.

    A batch is walked element by element (each ``RecordEvents.events`` element is a tag, a
    length and a ``RecordEvent``) without parsing the records; only the first and last elements
    are parsed, for their sequences.

    Raises:
        ValueError: ``raw`` is none of the three responses, or a batch is truncated.
    """
    if not raw:
        raise ValueError("an empty Subscribe response")
    tag = raw[0]
    if tag == _CAUGHT_UP:
        stream.caught_up = True
        return
    if tag == _RECORD_EVENTS:
        count, first_at, last_at = _elements(raw)
        if not count:
            return
        first = _sequence(raw[first_at[0] : first_at[1]])
        last = _sequence(raw[last_at[0] : last_at[1]])
    elif tag == _RECORD_EVENT:
        first = last = exchange_pb2.SubscribeResponse.FromString(raw).record_event.metadata.sequence
        count = 1
    else:
        raise ValueError(f"a Subscribe response starting with byte {tag}")
    if first <= stream.last_sequence:
        stream.backwards += 1
    stream.events += count
    stream.last_sequence = last


def _varint(data: bytes, at: int) -> tuple[int, int]:
    """The varint at ``data[at]`` and the offset after it."""
    value = shift = 0
    while True:
        byte = data[at]
        at += 1
        value |= (byte & 0x7F) << shift
        if byte < 0x80:
            return value, at
        shift += 7


def _elements(raw: bytes) -> tuple[int, tuple[int, int], tuple[int, int]]:
    """The number of ``RecordEvent`` elements in a ``record_events`` response, and the spans
    of the first and the last."""
    size, at = _varint(raw, 1)
    end = at + size
    if end != len(raw):
        raise ValueError("a batch whose length is not its size")
    count = 0
    first = last = (0, 0)
    while at < end:
        if raw[at] != _EVENT:
            raise ValueError(f"a batch element starting with byte {raw[at]}")
        length, start = _varint(raw, at + 1)
        at = start + length
        last = (start, at)
        if not count:
            first = last
        count += 1
    if at != end:
        raise ValueError("a truncated batch")
    return count, first, last


def _sequence(event: bytes) -> int:
    return exchange_pb2.RecordEvent.FromString(event).metadata.sequence


def tally(state: _State) -> dict[str, Any]:
    """What the streams received, as the JSON line printed for ``collect``."""
    return {
        "events": [stream.events for stream in state.streams],
        "backwards": sum(stream.backwards for stream in state.streams),
        "failures": state.failures,
    }


async def _consume(call: Any, variant: str, stream: StreamTally, state: _State) -> None:
    try:
        async for raw in call:
            count_events(raw, stream)
            state.progress.set()
            if variant == "idle-matching" and stream.caught_up:
                # Connected, matching everything, reading nothing more.
                await asyncio.Event().wait()
    except grpc.aio.AioRpcError as error:
        if error.code() != grpc.StatusCode.CANCELLED:
            state.failures.append(f"{error.code().name}: {error.details()}")
    except ValueError as error:
        state.failures.append(f"malformed response: {error}")
    state.progress.set()


async def _wait_for(state: _State, stored: int, seconds: float) -> None:
    """Until every stream received ``stored`` versions, at most ``seconds``."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while min(stream.events for stream in state.streams) < stored:
        state.progress.clear()
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout_at(deadline):
                await state.progress.wait()
        if loop.time() >= deadline:
            return


async def _caught_up(state: _State, tasks: list[asyncio.Task[None]]) -> bool:
    async with asyncio.timeout(_READY_S):
        while not all(stream.caught_up for stream in state.streams):
            if state.failures or all(task.done() for task in tasks):
                return False
            state.progress.clear()
            await state.progress.wait()
    return True


async def _run(address: str, variant: str, count: int) -> int:
    state = _State([StreamTally() for _ in range(count)])
    channels = [grpc.aio.insecure_channel(address) for _ in range(_CHANNELS)]
    calls: list[Any] = []
    tasks: list[asyncio.Task[None]] = []
    loop = asyncio.get_running_loop()
    reader = asyncio.StreamReader()
    await loop.connect_read_pipe(lambda: asyncio.StreamReaderProtocol(reader), sys.stdin)
    try:
        request = request_for(variant)
        for index in range(count):
            subscribe = channels[index % _CHANNELS].unary_stream(
                _SUBSCRIBE, request_serializer=None, response_deserializer=None
            )
            call = subscribe(request)
            calls.append(call)
            tasks.append(asyncio.create_task(_consume(call, variant, state.streams[index], state)))
        try:
            ready = await _caught_up(state, tasks)
        except TimeoutError:
            ready = False
        if not ready:
            print("failed " + ("; ".join(state.failures[:3]) or "not caught up"), flush=True)
            return 1
        print("ready", flush=True)
        while line := (await reader.readline()).decode().split():
            if line[0] != "collect":
                break
            stored, seconds = int(line[1]), float(line[2])
            if variant == "reading-matching" and stored:
                await _wait_for(state, stored, seconds)
            print(json.dumps(tally(state)), flush=True)
        return 0
    finally:
        for call in calls:
            call.cancel()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for channel in channels:
            await channel.close(None)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--address", required=True)
    parser.add_argument("--variant", required=True)
    parser.add_argument("--count", type=int, required=True)
    args = parser.parse_args(argv)
    return asyncio.run(_run(args.address, args.variant, args.count))


if __name__ == "__main__":
    sys.exit(main())
