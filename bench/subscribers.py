"""The ``subscribers`` scenario: what open Subscribe streams cost Submit.

The load is the ``submit`` scenario's (unary Submit, 64 calls in flight) against fresh gateways
of one round, back to back: the baseline has no subscriber, each variant has
:data:`SUBSCRIBERS` Subscribe streams open while Submit is measured:

* ``idle-matching``: every stream's filters match every submitted record, and its client reads
  the caught-up marker and then nothing more (a consumer that is connected but not reading; the
  gateway must neither block on it nor hold what it has not read).
* ``nothing-matching``: the streams read, but filter on a kind nobody submits.
* ``reading-matching``: every stream reads every record. Each record then leaves the gateway
  once per subscriber, and on a two-core machine the bench client reading 200 streams competes
  with the gateway. After the measurement the streams are given a few seconds to catch up, and
  what they received is reported as a share of what was stored.

The goal (issues 12 and 16), for each variant: Submit at least :data:`SUBSCRIBERS_GOAL` of the
baseline's.

All servers run with ``[limits] max_streams_per_caller`` raised above :data:`SUBSCRIBERS` (the
loopback client shares one stream count), the baseline too, so that only the streams differ.
"""

from __future__ import annotations

import asyncio
import contextlib
import statistics
import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc

from bench.report import Row
from liaison.v1 import exchange_pb2, record_pb2

__all__ = [
    "SUBSCRIBERS",
    "SUBSCRIBERS_GOAL",
    "SUBSCRIBER_VARIANTS",
    "Subscribers",
    "open_subscribers",
    "summarize_subscribers",
    "write_subscribers_config",
]

SUBSCRIBERS = 200
"""Subscribe streams open in each variant."""

SUBSCRIBERS_GOAL = 0.50
"""Submit calls/s with subscribers (each variant), as a fraction of the same without."""

SUBSCRIBER_VARIANTS = ("idle-matching", "nothing-matching", "reading-matching")
"""Variants measured against the gateway without subscribers, in this order each round."""

_SERVICE = exchange_pb2.DESCRIPTOR.services_by_name["RecordExchange"].full_name
_SUBSCRIBE = f"/{_SERVICE}/Subscribe"
EVENTS_PER_RESPONSE = 100
"""Versions per Subscribe response the streams ask for, as the project's clients do."""
_CATCH_UP_S = 10.0
"""How long reading subscribers get, after Submit stops, to receive what was stored."""


def write_subscribers_config(workdir: Path, centre: str) -> Path:
    """A centre file for ``centre`` allowing more than :data:`SUBSCRIBERS` streams per caller
    (automatic screening off, as in the submit scenario: this one measures the fan-out)."""
    path = workdir / "centre.toml"
    path.write_text(
        f'[centre]\nid = "{centre}"\n\n[limits]\nmax_streams_per_caller = {SUBSCRIBERS + 56}\n'
        "\n[screening]\nscreen_on_commit = []\n",
        encoding="utf-8",
    )
    return path


@dataclass(slots=True)
class Subscribers:
    """Open Subscribe streams and what they received."""

    variant: str
    events: list[int]
    """Records received, per stream."""
    failures: list[str]
    """Streams that ended with an error (other than the cancellation at the end)."""
    progress: asyncio.Event
    """Set whenever a stream receives a record."""

    def received(self) -> int:
        return sum(self.events)


def _request(variant: str) -> bytes:
    kinds = [record_pb2.RECORD_KIND_VEHICLE] if variant == "nothing-matching" else []
    # As the project's clients subscribe: batches of up to EVENTS_PER_RESPONSE versions.
    return exchange_pb2.SubscribeRequest(
        kinds=kinds, max_events_per_response=EVENTS_PER_RESPONSE
    ).SerializeToString()


@contextlib.asynccontextmanager
async def open_subscribers(
    address: str, variant: str, count: int = SUBSCRIBERS
) -> AsyncIterator[Subscribers]:
    """``count`` Subscribe streams of ``variant``, each caught up before this yields."""
    state = Subscribers(variant, [0] * count, [], asyncio.Event())
    # A few channels, as several consumers would use: one HTTP/2 connection carrying 200
    # streams would measure one connection's flow control rather than the gateway.
    channels = [grpc.aio.insecure_channel(address) for _ in range(4)]
    calls: list[Any] = []
    tasks: list[asyncio.Task[None]] = []
    try:
        ready: list[asyncio.Future[None]] = []
        request = _request(variant)
        for index in range(count):
            channel = channels[index % len(channels)]
            subscribe = channel.unary_stream(
                _SUBSCRIBE, request_serializer=None, response_deserializer=None
            )
            call = subscribe(request)
            calls.append(call)
            caught_up: asyncio.Future[None] = asyncio.get_running_loop().create_future()
            ready.append(caught_up)
            tasks.append(asyncio.create_task(_consume(call, variant, index, state, caught_up)))
        await asyncio.wait_for(asyncio.gather(*ready), 60)
        yield state
    finally:
        for call in calls:
            call.cancel()
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        for channel in channels:
            await channel.close(None)


async def _consume(
    call: Any, variant: str, index: int, state: Subscribers, caught_up: asyncio.Future[None]
) -> None:
    try:
        async for raw in call:
            response = exchange_pb2.SubscribeResponse.FromString(raw)
            if response.HasField("caught_up"):
                if not caught_up.done():
                    caught_up.set_result(None)
                if variant == "idle-matching":
                    # Connected, matching everything, reading nothing more.
                    await asyncio.Event().wait()
                continue
            if response.HasField("record_events"):
                state.events[index] += len(response.record_events.events)
            else:
                state.events[index] += 1
            state.progress.set()
    except grpc.aio.AioRpcError as error:
        if error.code() != grpc.StatusCode.CANCELLED:
            state.failures.append(f"{error.code().name}: {error.details()}")
        if not caught_up.done():
            caught_up.set_exception(error)


async def wait_for_delivery(state: Subscribers, stored: int) -> float:
    """For reading subscribers: wait until every stream received ``stored`` records (at most
    :data:`_CATCH_UP_S`); the share of ``stored * streams`` received."""
    if state.variant != "reading-matching" or not stored:
        return float("nan")
    deadline = time.monotonic() + _CATCH_UP_S
    while min(state.events) < stored:
        state.progress.clear()
        try:
            await asyncio.wait_for(state.progress.wait(), deadline - time.monotonic())
        except TimeoutError:
            break
    return state.received() / (stored * len(state.events))


def summarize_subscribers(runs: Sequence[dict[str, Any]]) -> list[Row]:
    """Rows of the subscribers scenario: each variant's Submit against no subscribers."""
    chosen = [r for r in runs if r["scenario"] == "subscribers"]
    base = {r["round"]: r for r in chosen if r["variant"] == "none"}
    rows: list[Row] = []
    metrics = (
        ("calls/s", "calls_per_s"),
        ("p99 latency ms", "p99_ms"),
        ("server CPU us/call", "server_cpu_us_per_call"),
        ("client CPU share", "client_cpu_share"),
    )
    for name in SUBSCRIBER_VARIANTS:
        measured = [r for r in chosen if r["variant"] == name and r["round"] in base]
        if not measured:
            continue
        for metric, field in metrics:
            baseline = statistics.median(base[r["round"]][field] for r in measured)
            value = statistics.median(r[field] for r in measured)
            ratio = value / baseline if baseline else float("nan")
            judged = field == "calls_per_s"
            verdict = ""
            if judged:
                invalid = any(r["errors"] or base[r["round"]]["errors"] for r in measured)
                verdict = (
                    "INVALID" if invalid else ("PASS" if ratio >= SUBSCRIBERS_GOAL else "MISS")
                )
            rows.append(
                Row(
                    scenario=f"subscribers {SUBSCRIBERS} {name}",
                    metric=metric,
                    baseline=baseline,
                    target=value,
                    ratio=ratio,
                    round_ratios=[
                        r[field] / base[r["round"]][field]
                        for r in measured
                        if base[r["round"]][field]
                    ],
                    goal=f">= {SUBSCRIBERS_GOAL:.2f}" if judged else "",
                    verdict=verdict,
                )
            )
        if name == "reading-matching":
            rows.append(
                Row(
                    scenario=f"subscribers {SUBSCRIBERS} {name}",
                    metric=f"delivered within {_CATCH_UP_S:.0f} s",
                    baseline=float("nan"),
                    target=statistics.median(r["delivered_share"] for r in measured),
                    ratio=float("nan"),
                    round_ratios=[],
                )
            )
    return rows
