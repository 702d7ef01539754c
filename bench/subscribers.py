"""The ``subscribers`` scenario: what open Subscribe streams cost Submit, on both backends.

The load is the ``submit`` scenario's (unary Submit, 64 calls in flight) against fresh gateways
of one round, back to back, first on SQLite, then on PostgreSQL (one replica on a fresh schema,
as in the ``postgresql`` scenario, :mod:`bench.postgresql`): the baseline has no subscriber,
each variant has :data:`SUBSCRIBERS` Subscribe streams open while Submit is measured:

* ``idle-matching``: every stream's filters match every submitted record, and its client reads
  the caught-up marker and then nothing more (a consumer that is connected but not reading; the
  gateway must neither block on it nor hold what it has not read).
* ``nothing-matching``: the streams read, but filter on a kind nobody submits.
* ``reading-matching``: every stream reads every record. Each record then leaves the gateway
  once per subscriber. After the measurement the streams are given a few seconds to catch up,
  and what they received is reported as a share of what was stored.

The goal (issues 12 and 16), for each variant on each backend: Submit at least
:data:`SUBSCRIBERS_GOAL` of the same backend's baseline.

The streams run in a process of their own (:mod:`bench.subscriber_process`), not on the load
generator's event loop: real subscribers are other machines' consumers, and 200 streams read by
the load generator's process took most of its CPU (its share rose from 0.38 without subscribers
to 0.78 with readers), so the bench measured its own starved load generator as much as the
gateway. That process counts what it receives without building Python objects for every field
(see its docstring); the share delivered is counted from what it really received, and a stream
that receives a version twice or out of order is reported. Its CPU share during the measurement
(warm-up included) is reported too (``subscriber CPU share``): it competes with the gateway for
the same cores.

All servers run with ``[limits] max_streams_per_caller`` raised above :data:`SUBSCRIBERS` (the
loopback client shares one stream count), the baseline too, so that only the streams differ.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import statistics
import sys
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.report import Row

__all__ = [
    "SUBSCRIBERS",
    "SUBSCRIBERS_GOAL",
    "SUBSCRIBER_BACKENDS",
    "SUBSCRIBER_VARIANTS",
    "SubscriberProcess",
    "Subscribers",
    "open_subscribers",
    "subscribers_limits",
    "summarize_subscribers",
    "write_subscribers_config",
]

SUBSCRIBERS = 200
"""Subscribe streams open in each variant."""

SUBSCRIBERS_GOAL = 0.50
"""Submit calls/s with subscribers (each variant), as a fraction of the same without."""

SUBSCRIBER_VARIANTS = ("idle-matching", "nothing-matching", "reading-matching")
"""Variants measured against the gateway without subscribers, in this order each round."""

SUBSCRIBER_BACKENDS = ("sqlite", "postgresql")
"""The stores measured, in this order each round."""

REPO_ROOT = Path(__file__).resolve().parent.parent
_CATCH_UP_S = 10.0
"""How long reading subscribers get, after Submit stops, to receive what was stored."""
_READY_S = 90.0
"""How long the subscriber process gets to open its streams and see them caught up."""


def write_subscribers_config(workdir: Path, centre: str) -> Path:
    """A centre file for ``centre`` allowing more than :data:`SUBSCRIBERS` streams per caller
    (automatic screening off, as in the submit scenario: this one measures the fan-out)."""
    path = workdir / "centre.toml"
    path.write_text(
        f'[centre]\nid = "{centre}"\n\n{subscribers_limits()}'
        "\n[screening]\nscreen_on_commit = []\n",
        encoding="utf-8",
    )
    return path


def subscribers_limits() -> str:
    """The ``[limits]`` table every server of the scenario runs with (the baseline too)."""
    return f"[limits]\nmax_streams_per_caller = {SUBSCRIBERS + 56}\n"


@dataclass(slots=True)
class Subscribers:
    """What the streams received, as counted by the subscriber process."""

    variant: str
    events: list[int]
    """Records received, per stream."""
    backwards: int
    """Responses that went backwards (a version twice or out of order): must be 0."""
    failures: list[str]
    """Streams that ended with an error (other than the cancellation at the end)."""

    def received(self) -> int:
        return sum(self.events)

    def delivered_share(self, stored: int) -> float:
        """For reading subscribers: the share of ``stored`` versions times the streams that
        was received (NaN for the other variants, which do not read everything)."""
        if self.variant != "reading-matching" or not stored or not self.events:
            return float("nan")
        return self.received() / (stored * len(self.events))


@dataclass(slots=True)
class SubscriberProcess:
    """The subscriber process (:mod:`bench.subscriber_process`) of one variant, streams open."""

    variant: str
    process: asyncio.subprocess.Process

    @property
    def pid(self) -> int:
        return self.process.pid

    async def collect(self, stored: int) -> Subscribers:
        """What the streams received; reading streams first get up to :data:`_CATCH_UP_S` to
        receive all ``stored`` versions."""
        assert self.process.stdin is not None
        assert self.process.stdout is not None
        self.process.stdin.write(f"collect {stored} {_CATCH_UP_S}\n".encode())
        await self.process.stdin.drain()
        async with asyncio.timeout(_CATCH_UP_S + 30):
            line = await self.process.stdout.readline()
        if not line:
            raise RuntimeError(f"the subscriber process ended (exit {self.process.returncode})")
        tally = json.loads(line)
        return Subscribers(self.variant, tally["events"], tally["backwards"], tally["failures"])


@contextlib.asynccontextmanager
async def open_subscribers(
    address: str, variant: str, count: int = SUBSCRIBERS
) -> AsyncIterator[SubscriberProcess]:
    """``count`` Subscribe streams of ``variant`` in a process of their own, each caught up
    before this yields; the process is stopped afterwards."""
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bench.subscriber_process",
        "--address",
        address,
        "--variant",
        variant,
        "--count",
        str(count),
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        cwd=REPO_ROOT,
    )
    assert process.stdin is not None
    assert process.stdout is not None
    try:
        async with asyncio.timeout(_READY_S):
            line = (await process.stdout.readline()).decode().strip()
        if line != "ready":
            raise RuntimeError(f"the subscribers did not catch up: {line or 'process ended'}")
        yield SubscriberProcess(variant, process)
    finally:
        if process.returncode is None:
            with contextlib.suppress(ConnectionError):
                process.stdin.write(b"stop\n")
                await process.stdin.drain()
            try:
                async with asyncio.timeout(10):
                    await process.wait()
            except TimeoutError:
                process.kill()
                await process.wait()


def summarize_subscribers(runs: Sequence[dict[str, Any]]) -> list[Row]:
    """Rows of the subscribers scenario: each variant's Submit against no subscribers, per
    backend (runs without a backend are SQLite's, as before PostgreSQL was measured)."""
    chosen = [r for r in runs if r["scenario"] == "subscribers"]
    rows: list[Row] = []
    for backend in SUBSCRIBER_BACKENDS:
        mine = [r for r in chosen if r.get("backend", "sqlite") == backend]
        rows += _backend_rows(backend, mine)
    return rows


def _backend_rows(backend: str, chosen: Sequence[dict[str, Any]]) -> list[Row]:
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
        scenario = f"subscribers {backend} {SUBSCRIBERS} {name}"
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
                    scenario=scenario,
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
        shares = [r["subscriber_cpu_share"] for r in measured if "subscriber_cpu_share" in r]
        if shares:
            rows.append(_single(scenario, "subscriber CPU share", statistics.median(shares)))
        if name == "reading-matching":
            delivered = statistics.median(r["delivered_share"] for r in measured)
            rows.append(_single(scenario, f"delivered within {_CATCH_UP_S:.0f} s", delivered))
    return rows


def _single(scenario: str, metric: str, value: float) -> Row:
    return Row(
        scenario=scenario,
        metric=metric,
        baseline=float("nan"),
        target=value,
        ratio=float("nan"),
        round_ratios=[],
    )
