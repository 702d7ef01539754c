"""Medians, ratios and verdicts over the interleaved rounds; the table and the JSON document.

Every figure is reported as the median over rounds for the baseline (echo) and for the target
(the gateway), and as the ratio target/baseline. On a shared two-core machine the absolute
figures move with whatever else runs; both servers see nearly the same conditions within a
round, so the ratio is the figure to compare between runs and against the goals.
"""

from __future__ import annotations

import math
import os
import platform
import statistics
import sys
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from importlib import metadata
from typing import Any

__all__ = [
    "FLAT_GROWTH_FRACTION",
    "FLAT_MIN_STREAM_RECORDS",
    "SCREENED_GOAL",
    "SIGNING_GOAL",
    "STREAM_GOAL",
    "SUBMIT_GOAL",
    "Row",
    "format_table",
    "machine_info",
    "summarize",
]

SUBMIT_GOAL = 0.60
SCREENED_GOAL = 0.50
"""Submit calls/s with automatic screening on (index seeded), as a fraction of the echo's."""
SIGNING_GOAL = 0.90
"""Submit calls/s of a gateway signing every version, as a fraction of the same unsigned."""
"""Gateway Submit calls/s must be at least this fraction of the echo baseline's."""
STREAM_GOAL = 0.50
"""Gateway SubmitStream records/s must be at least this fraction of the echo baseline's."""
FLAT_MIN_STREAM_RECORDS = 50_000
"""Flatness is judged only on streams this long; shorter ones end before the caches are full."""
FLAT_GROWTH_FRACTION = 0.10
"""RSS is flat when its peak (VmHWM) grows after the first stream by no more than the echo
baseline's peak does, plus this fraction of the peak after the first stream."""

Run = dict[str, Any]
"""One measurement as recorded in the JSON: round, scenario, role, server and the figures."""


@dataclass(frozen=True, slots=True)
class Row:
    """One line of the report."""

    scenario: str
    metric: str
    baseline: float
    """Median over rounds, baseline server."""
    target: float
    """Median over rounds, measured server."""
    ratio: float
    """``target / baseline`` of the medians."""
    round_ratios: list[float]
    """``target / baseline`` of each round, to show how much the rounds agree."""
    goal: str = ""
    verdict: str = ""
    """PASS, MISS, or INVALID when a run had errors (its throughput means nothing)."""


def _ratio(target: float, baseline: float) -> float:
    return target / baseline if baseline and not math.isnan(baseline) else math.nan


def _by_role(runs: Sequence[Run], scenario: str) -> tuple[list[Run], list[Run]]:
    """Baseline and target runs of ``scenario``, each in round order."""
    chosen = sorted((r for r in runs if r["scenario"] == scenario), key=lambda r: r["round"])
    baseline = [r for r in chosen if r["role"] == "baseline"]
    target = [r for r in chosen if r["role"] == "target"]
    return baseline, target


def _row(
    scenario: str,
    metric: str,
    value: Callable[[Run], float],
    baseline: list[Run],
    target: list[Run],
    *,
    goal: str = "",
    passes: Callable[[float], bool] | None = None,
    baseline_value: Callable[[Run], float] | None = None,
) -> Row:
    """One figure of both servers; ``baseline_value`` reads the baseline's when it differs."""
    of_baseline = value if baseline_value is None else baseline_value
    b = [of_baseline(r) for r in baseline]
    t = [value(r) for r in target]
    ratio = _ratio(statistics.median(t), statistics.median(b))
    verdict = ""
    if passes is not None:
        invalid = any(r["errors"] for r in baseline + target)
        verdict = "INVALID" if invalid else ("PASS" if passes(ratio) else "MISS")
    # Rounds pair up only when both servers completed them.
    rounds = {r["round"]: of_baseline(r) for r in baseline}
    round_ratios = [_ratio(value(r), rounds[r["round"]]) for r in target if r["round"] in rounds]
    return Row(
        scenario=scenario,
        metric=metric,
        baseline=statistics.median(b),
        target=statistics.median(t),
        ratio=ratio,
        round_ratios=round_ratios,
        goal=goal,
        verdict=verdict,
    )


def _checkpoint(index: int) -> Callable[[Run], float]:
    """The RSS after stream ``index`` of a memory run (a function, to bind ``index`` now)."""
    return lambda run: float(run["checkpoints_mib"][index])


def _field(name: str) -> Callable[[Run], float]:
    return lambda run: float(run[name])


_SUBMIT_DETAILS = (
    ("p50 latency ms", "p50_ms"),
    ("p99 latency ms", "p99_ms"),
    ("server CPU us/call", "server_cpu_us_per_call"),
    ("client CPU share", "client_cpu_share"),
)
_STREAM_DETAILS = (
    ("server CPU us/record", "server_cpu_us_per_record"),
    ("client CPU share", "client_cpu_share"),
)
_STREAM_SINGLE_DETAILS = (
    ("server CPU us/record", "server_cpu_us_per_record", "single_server_cpu_us_per_record"),
    ("client CPU share", "client_cpu_share", "single_client_cpu_share"),
)
_MEMORY_DETAILS = (
    ("peak growth after 1st MiB", "growth_after_first_mib"),
    ("peak growth bytes/record", "growth_bytes_per_record"),
    ("records/s", "records_per_s"),
)


def _flatness(baseline: list[Run], target: list[Run]) -> Row:
    """Peak growth after the first stream beyond the baseline's, against the flatness goal.

    Any grpc.aio server's peak RSS climbs by 10-20 MiB over the streams after the first (Python's
    allocator fragments; the echo baseline does it too), so the target is judged on the growth
    it adds to the baseline's in the same round: flat when the median of that excess is at most
    ``FLAT_GROWTH_FRACTION`` of the target's peak after the first stream.
    """
    echo = {r["round"]: r["growth_after_first_mib"] for r in baseline}
    excess = [r["growth_after_first_mib"] - echo[r["round"]] for r in target if r["round"] in echo]
    first_peak = statistics.median(r["peaks_mib"][0] for r in target)
    median_excess = statistics.median(excess) if excess else math.nan
    invalid = any(r["errors"] for r in baseline + target)
    flat = median_excess <= FLAT_GROWTH_FRACTION * first_peak
    if min(r["stream_records"] for r in target) < FLAT_MIN_STREAM_RECORDS:
        # Short streams (--quick) end while the store's caches are still filling: no verdict.
        verdict = "n/a (short streams)"
    else:
        verdict = "INVALID" if invalid else ("PASS" if flat else "MISS")
    return Row(
        scenario="memory",
        metric="growth beyond echo MiB",
        baseline=math.nan,
        target=median_excess,
        ratio=math.nan,
        round_ratios=[],
        goal=f"flat: <= {FLAT_GROWTH_FRACTION * first_peak:.1f}",
        verdict=verdict,
    )


def _at_least(goal: float) -> Callable[[float], bool]:
    def passes(ratio: float) -> bool:
        return ratio >= goal

    return passes


def _goal_row(
    scenario: str,
    metric: str,
    field: str,
    goal: float,
    baseline: list[Run],
    target: list[Run],
    baseline_field: str | None = None,
) -> Row:
    return _row(
        scenario,
        metric,
        _field(field),
        baseline,
        target,
        goal=f">= {goal:.2f}",
        passes=_at_least(goal),
        baseline_value=None if baseline_field is None else _field(baseline_field),
    )


def _stream_rows(baseline: list[Run], target: list[Run]) -> list[Row]:
    """The goal against the issue's baseline (an echo fed one record per message), then the
    like-for-like comparison (both servers fed the same batched messages)."""
    rows: list[Row] = []
    batch = target[0]["batch_size"]
    if all(r.get("single_records") for r in baseline):
        rows.append(
            _goal_row(
                "stream",
                "records/s vs echo 1/msg",
                "records_per_s",
                STREAM_GOAL,
                baseline,
                target,
                baseline_field="single_records_per_s",
            )
        )
        rows += [
            _row(
                "stream",
                f"{m} vs 1/msg",
                _field(f),
                baseline,
                target,
                baseline_value=_field(single),
            )
            for m, f, single in _STREAM_SINGLE_DETAILS
        ]
    rows.append(
        _row("stream", f"records/s vs echo {batch}/msg", _field("records_per_s"), baseline, target)
    )
    rows += [
        _row("stream", f"{m} vs {batch}/msg", _field(f), baseline, target)
        for m, f in _STREAM_DETAILS
    ]
    return rows


def summarize(runs: Sequence[Run]) -> list[Row]:
    """The report's rows for every scenario that has runs of both servers."""
    rows: list[Row] = []
    baseline, target = _by_role(runs, "submit")
    if baseline and target:
        rows.append(_goal_row("submit", "calls/s", "calls_per_s", SUBMIT_GOAL, baseline, target))
        rows += [_row("submit", m, _field(f), baseline, target) for m, f in _SUBMIT_DETAILS]
    baseline, target = _by_role(runs, "screened")
    if baseline and target:
        goal = _goal_row("screened", "calls/s", "calls_per_s", SCREENED_GOAL, baseline, target)
        rows.append(goal)
        rows += [_row("screened", m, _field(f), baseline, target) for m, f in _SUBMIT_DETAILS]
    baseline, target = _by_role(runs, "stream")
    if baseline and target:
        rows += _stream_rows(baseline, target)
    baseline, target = _by_role(runs, "signing")
    if baseline and target:
        rows.append(_goal_row("signing", "calls/s", "calls_per_s", SIGNING_GOAL, baseline, target))
        rows += [_row("signing", m, _field(f), baseline, target) for m, f in _SUBMIT_DETAILS]
    baseline, target = _by_role(runs, "memory")
    if baseline and target:
        rows.append(_row("memory", "RSS start MiB", _field("start_mib"), baseline, target))
        checkpoints = min(len(r["checkpoints_mib"]) for r in baseline + target)
        per_stream = target[0]["stream_records"]
        rows += [
            _row(
                "memory",
                f"RSS after {(i + 1) * per_stream:,} MiB",
                _checkpoint(i),
                baseline,
                target,
            )
            for i in range(checkpoints)
        ]
        rows.append(_row("memory", "RSS max MiB", _field("max_mib"), baseline, target))
        rows += [_row("memory", m, _field(f), baseline, target) for m, f in _MEMORY_DETAILS]
        rows.insert(-1, _flatness(baseline, target))
    return rows


def _number(value: float) -> str:
    if math.isnan(value):
        return "-"
    if abs(value) >= 1000:
        return f"{value:,.0f}"
    if abs(value) >= 100:
        return f"{value:.0f}"
    return f"{value:.2f}" if abs(value) < 10 else f"{value:.1f}"


def format_table(rows: Sequence[Row], baseline_name: str, target_name: str) -> str:
    """The rows as an aligned plain-text table."""
    header = [
        "scenario",
        "metric",
        baseline_name,
        target_name,
        "ratio",
        "goal",
        "result",
        "per-round ratios",
    ]
    lines = [header]
    previous = ""
    for row in rows:
        lines.append(
            [
                row.scenario if row.scenario != previous else "",
                row.metric,
                _number(row.baseline),
                _number(row.target),
                "-" if math.isnan(row.ratio) else f"{row.ratio:.2f}",
                row.goal,
                row.verdict,
                " ".join("-" if math.isnan(r) else f"{r:.2f}" for r in row.round_ratios),
            ]
        )
        previous = row.scenario
    widths = [max(len(line[i]) for line in lines) for i in range(len(header))]
    right = {2, 3, 4}
    text = []
    for line in lines:
        cells = [
            cell.rjust(widths[i]) if i in right else cell.ljust(widths[i])
            for i, cell in enumerate(line)
        ]
        text.append("  ".join(cells).rstrip())
    text.insert(1, "-" * len(text[0]))
    return "\n".join(text)


def _cpu_model() -> str:
    try:
        with open("/proc/cpuinfo", encoding="utf-8") as cpuinfo:
            for line in cpuinfo:
                if line.startswith("model name"):
                    return line.partition(":")[2].strip()
    except OSError:
        pass
    return platform.processor() or "unknown"


def _version(distribution: str) -> str:
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return "not installed"


def machine_info() -> dict[str, Any]:
    """What the figures were measured on."""
    from google.protobuf.internal import api_implementation

    return {
        "nproc": len(os.sched_getaffinity(0)),
        "cpu_count": os.cpu_count(),
        "cpu_model": _cpu_model(),
        "kernel": platform.release(),
        "python": sys.version.split()[0],
        "grpcio": _version("grpcio"),
        "protobuf": f"{_version('protobuf')} ({api_implementation.Type()})",
    }
