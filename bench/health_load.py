"""The ``health`` scenario: Health/Check latency while hostile payloads are decoded.

Issue 12 measured Health/Check stalled for up to 17.5 s while a 2 MiB PAXLST payload of ``'``
(within the payload limit) was translated. Here one fresh gateway per round is probed with
Health/Check every :data:`PROBE_INTERVAL_S` seconds, one call at a time:

* ``idle``: nothing else runs (the baseline);
* ``paxlst 2 MiB of '``: meanwhile, two clients translate that payload back to back (the gateway
  decodes with two adapter threads);
* ``icao-mrz 2 MiB``: the same with 2 MiB of machine readable zones whose check digits all fail.

Reported: the probes' p50, p99 and worst latency, and how many hostile translations completed
(with their median time). The goal is the issue's: p99 under 100 ms while hostile payloads decode.
"""

from __future__ import annotations

import asyncio
import math
import statistics
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

import grpc
from grpc_health.v1 import health_pb2

from bench.report import Row
from liaison.v1 import translation_pb2

__all__ = [
    "HEALTH_GOAL_MS",
    "HEALTH_VARIANTS",
    "HealthMeasurement",
    "hostile_payload",
    "measure_health",
    "summarize_health",
]

HEALTH_GOAL_MS = 100.0
"""Health/Check p99 while hostile payloads decode (issue 12)."""

PROBE_INTERVAL_S = 0.02
"""Pause between two Health/Check probes."""

PAYLOAD_BYTES = 2 * 1024 * 1024
"""The gateway's default ``[limits] max_payload_bytes``: the largest payload it decodes."""

HEALTH_VARIANTS = ("idle", "paxlst 2 MiB of '", "icao-mrz 2 MiB")

_HEALTH_CHECK = "/grpc.health.v1.Health/Check"
_TRANSLATE = "/liaison.v1.Translation/Translate"
_TRANSLATORS = 2
_MRZ = (
    b"P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<\nL898902C<0UTO7408120F1204159ZE184226B<<<<<11\n"
)
"""A TD3 MRZ whose check digits do not match (the last is wrong): an error for every one."""


def hostile_payload(variant: str) -> tuple[str, bytes]:
    """(adapter, payload) of a hostile variant."""
    if variant.startswith("paxlst"):
        return "paxlst", b"'" * PAYLOAD_BYTES
    return "icao-mrz", (_MRZ * (PAYLOAD_BYTES // len(_MRZ)))[:PAYLOAD_BYTES]


@dataclass(frozen=True, slots=True)
class HealthMeasurement:
    """Health/Check latencies of one variant."""

    variant: str
    probes: int
    p50_ms: float
    p99_ms: float
    max_ms: float
    translations: int
    """Hostile translations completed while probing."""
    translation_median_s: float
    translation_codes: dict[str, int]
    """Status codes the translations ended with."""
    errors: dict[str, int]
    error_examples: dict[str, str]


async def measure_health(address: str, variant: str, seconds: float) -> HealthMeasurement:
    """Probe Health/Check for ``seconds`` while ``variant``'s payload is translated."""
    request = health_pb2.HealthCheckRequest().SerializeToString()
    latencies: list[float] = []
    durations: list[float] = []
    codes: dict[str, int] = {}
    errors: dict[str, int] = {}
    examples: dict[str, str] = {}
    stop = asyncio.Event()
    async with (
        grpc.aio.insecure_channel(address) as probe_channel,
        grpc.aio.insecure_channel(
            address, options=[("grpc.max_receive_message_length", 512 * 1024 * 1024)]
        ) as load_channel,
    ):
        check = probe_channel.unary_unary(_HEALTH_CHECK, None, None)
        await asyncio.wait_for(probe_channel.channel_ready(), 30)

        async def translate_forever(adapter: str, payload: bytes) -> None:
            call = load_channel.unary_unary(_TRANSLATE, None, None)
            message = translation_pb2.TranslateRequest(
                adapter=adapter, payload=payload
            ).SerializeToString()
            while not stop.is_set():
                began = time.perf_counter()
                try:
                    await call(message, timeout=120)
                    code = "OK"
                except grpc.aio.AioRpcError as error:
                    code = error.code().name
                durations.append(time.perf_counter() - began)
                codes[code] = codes.get(code, 0) + 1

        load: list[asyncio.Task[None]] = []
        if variant != "idle":
            adapter, payload = hostile_payload(variant)
            load = [
                asyncio.create_task(translate_forever(adapter, payload))
                for _ in range(_TRANSLATORS)
            ]
            await asyncio.sleep(0.5)  # the decodes are under way
        deadline = time.perf_counter() + seconds
        while time.perf_counter() < deadline:
            began = time.perf_counter()
            try:
                raw = await check(request, timeout=60)
            except grpc.aio.AioRpcError as error:
                errors[error.code().name] = errors.get(error.code().name, 0) + 1
                examples.setdefault(error.code().name, error.details() or "")
            else:
                latencies.append(time.perf_counter() - began)
                status = health_pb2.HealthCheckResponse.FromString(raw).status
                if status != health_pb2.HealthCheckResponse.SERVING:
                    errors["NOT_SERVING"] = errors.get("NOT_SERVING", 0) + 1
            await asyncio.sleep(PROBE_INTERVAL_S)
        stop.set()
        for task in load:
            task.cancel()
        await asyncio.gather(*load, return_exceptions=True)
    latencies.sort()
    return HealthMeasurement(
        variant=variant,
        probes=len(latencies),
        p50_ms=_percentile(latencies, 0.50) * 1000,
        p99_ms=_percentile(latencies, 0.99) * 1000,
        max_ms=(latencies[-1] if latencies else math.nan) * 1000,
        translations=len(durations),
        translation_median_s=statistics.median(durations) if durations else math.nan,
        translation_codes=codes,
        errors=errors,
        error_examples=examples,
    )


def _percentile(ordered: list[float], fraction: float) -> float:
    if not ordered:
        return math.nan
    return ordered[max(1, math.ceil(fraction * len(ordered))) - 1]


def as_run(measurement: HealthMeasurement, round_number: int) -> dict[str, Any]:
    """The JSON record of one measurement."""
    return {
        "round": round_number,
        "scenario": "health",
        "role": "baseline" if measurement.variant == "idle" else "target",
        **asdict(measurement),
    }


def summarize_health(runs: Sequence[dict[str, Any]]) -> list[Row]:
    """Rows of the health scenario: each hostile variant's probe latencies against idle."""
    chosen = [r for r in runs if r["scenario"] == "health"]
    idle = {r["round"]: r for r in chosen if r["variant"] == "idle"}
    rows: list[Row] = []
    for name in HEALTH_VARIANTS[1:]:
        measured = [r for r in chosen if r["variant"] == name and r["round"] in idle]
        if not measured:
            continue
        for metric, field in (
            ("Health/Check p50 ms", "p50_ms"),
            ("Health/Check p99 ms", "p99_ms"),
            ("Health/Check max ms", "max_ms"),
        ):
            base = statistics.median(idle[r["round"]][field] for r in measured)
            value = statistics.median(r[field] for r in measured)
            judged = field == "p99_ms"
            verdict = ""
            if judged:
                invalid = any(r["errors"] for r in measured)
                verdict = "INVALID" if invalid else ("PASS" if value < HEALTH_GOAL_MS else "MISS")
            rows.append(
                Row(
                    scenario=f"health under {name}",
                    metric=metric,
                    baseline=base,
                    target=value,
                    ratio=value / base if base else math.nan,
                    round_ratios=[],
                    goal=f"< {HEALTH_GOAL_MS:.0f} ms" if judged else "",
                    verdict=verdict,
                )
            )
        rows.append(
            Row(
                scenario=f"health under {name}",
                metric="translations, median s",
                baseline=math.nan,
                target=statistics.median(r["translation_median_s"] for r in measured),
                ratio=math.nan,
                round_ratios=[float(r["translations"]) for r in measured],
            )
        )
    return rows
