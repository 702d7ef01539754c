"""The ``adapters`` scenario: records per second per adapter, against the tokenizer underneath.

In each round, for each built-in adapter's workload (``bench.adapter_inputs``), three timings
are taken back to back on the same payloads: the raw baseline (tokenizer, line split,
``json.loads``, LEN walk), ``decode``, and ``encode`` of the decoded records. Each timing repeats
until it has run for at least ``MIN_TIMING_S``, so that a small input is timed over many calls.

The figure to read is the ratio of the adapter's decode time to the baseline's on the same input
(per record, so per-record figures compare across adapters): the issue's aim, a meaning layer that
costs no more than the tokenizing underneath it, is a ratio of at most 2 (decode, which includes
the tokenizing, at most twice the time of the baseline alone).
"""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable, Sequence
from typing import Any

from bench.adapter_inputs import Workload, build_workloads
from bench.report import Row

__all__ = [
    "MEANING_GOAL",
    "MIN_TIMING_S",
    "AdapterBench",
    "describe_run",
    "summarize_adapters",
]

MEANING_GOAL = 2.0
"""Decode time at most this multiple of the baseline's: meaning layer <= tokenizing."""

MIN_TIMING_S = 0.3

Run = dict[str, Any]


def _seconds_per_call(action: Callable[[], object], minimum_s: float) -> float:
    """Mean wall time of ``action`` over at least ``minimum_s`` (and at least one call)."""
    calls = 0
    started = time.perf_counter()
    while True:
        action()
        calls += 1
        elapsed = time.perf_counter() - started
        if elapsed >= minimum_s:
            return elapsed / calls


class AdapterBench:
    """The workloads, built once, and their measurement round by round."""

    def __init__(self) -> None:
        # The same inputs with --quick: the issue fixes them. --quick only runs fewer rounds.
        self._workloads: list[Workload] | None = None

    @property
    def workloads(self) -> list[Workload]:
        if self._workloads is None:
            self._workloads = build_workloads(
                mrzs=10_000, travellers=500, notices=160, transactions=1_000
            )
        return self._workloads

    def measure_round(self, round_number: int) -> list[Run]:
        """One run per workload: baseline, decode and encode timings, seconds per pass."""
        return [self._measure(workload, round_number) for workload in self.workloads]

    @staticmethod
    def _measure(workload: Workload, round_number: int) -> Run:
        adapter, payloads = workload.adapter, workload.payloads

        def baseline() -> None:
            for payload in payloads:
                workload.baseline(payload)

        def decode() -> None:
            for payload in payloads:
                adapter.decode(payload)

        def encode() -> None:
            for batch in workload.batches:
                adapter.encode(batch)

        baseline_s = _seconds_per_call(baseline, MIN_TIMING_S)
        decode_s = _seconds_per_call(decode, MIN_TIMING_S)
        encode_s = _seconds_per_call(encode, MIN_TIMING_S)
        records = workload.records
        return {
            "round": round_number,
            "scenario": "adapters",
            "adapter": adapter.name,
            "input": workload.label,
            "baseline_name": workload.baseline_name,
            "payloads": len(payloads),
            "payload_bytes": workload.payload_bytes,
            "records": records,
            "baseline_s": baseline_s,
            "decode_s": decode_s,
            "encode_s": encode_s,
            "baseline_records_per_s": records / baseline_s,
            "decode_records_per_s": records / decode_s,
            "encode_records_per_s": records / encode_s,
            "decode_mb_per_s": workload.payload_bytes / decode_s / 1e6,
            "errors": 0,
        }


def describe_run(run: Run) -> str:
    """One progress line."""
    return (
        f"{run['adapter']:<16} {run['input']:<20} decode {run['decode_records_per_s']:>9,.0f} "
        f"records/s, encode {run['encode_records_per_s']:>9,.0f} records/s, "
        f"{run['baseline_name']} {run['baseline_records_per_s']:>11,.0f} records/s"
    )


def _median(runs: Sequence[Run], field: str) -> float:
    return statistics.median(float(run[field]) for run in runs)


def _shown(label: str, metric: str, value: float) -> Row:
    """A row with the adapter's figure only (no baseline, no goal)."""
    nan = float("nan")
    return Row(
        scenario=label, metric=metric, baseline=nan, target=value, ratio=nan, round_ratios=[]
    )


def summarize_adapters(runs: Sequence[Run]) -> list[Row]:
    """Per adapter: decode time per record against its baseline's (judged), and its rates."""
    rows: list[Row] = []
    chosen = [run for run in runs if run["scenario"] == "adapters"]
    for adapter in dict.fromkeys(run["adapter"] for run in chosen):
        mine = sorted((r for r in chosen if r["adapter"] == adapter), key=lambda r: r["round"])
        first = mine[0]
        label = f"{adapter}: {first['input']}, {first['records']:,} records"
        baseline_us = 1e6 / _median(mine, "baseline_records_per_s")
        decode_us = 1e6 / _median(mine, "decode_records_per_s")
        ratio = decode_us / baseline_us
        rows.append(
            Row(
                scenario=label,
                metric=f"decode us/record (vs {first['baseline_name']})",
                baseline=baseline_us,
                target=decode_us,
                ratio=ratio,
                round_ratios=[r["decode_s"] / r["baseline_s"] for r in mine],
                goal=f"<= {MEANING_GOAL:.2f}",
                verdict="PASS" if ratio <= MEANING_GOAL else "MISS",
            )
        )
        rows.append(_shown(label, "decode records/s", _median(mine, "decode_records_per_s")))
        rows.append(_shown(label, "encode records/s", _median(mine, "encode_records_per_s")))
        rows.append(_shown(label, "decode MB/s", _median(mine, "decode_mb_per_s")))
    return rows
