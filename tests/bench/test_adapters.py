"""The adapter benchmark's inputs and summary (``python -m bench --only adapters``)."""

from __future__ import annotations

import math

import pytest

from adapters import get_adapter
from bench.adapter_inputs import build_workloads, walk_nist_records
from bench.adapters import MEANING_GOAL, AdapterBench, summarize_adapters


def test_workloads_are_valid_for_their_adapters() -> None:
    workloads = build_workloads(mrzs=3, travellers=2, notices=2, transactions=2)
    assert [(w.adapter.name, w.label, w.records) for w in workloads] == [
        ("paxlst", "2 travellers", 5),  # the manifest, and a person and a document each
        ("icao-mrz", "3 MRZs", 6),  # a document and its holder each
        ("interpol-notice", "2-notice page", 2),
        ("ansi-nist", "2 transactions", 2),
    ]
    for workload in workloads:
        for payload in workload.payloads:
            assert not workload.adapter.decode(payload).has_errors
            workload.baseline(payload)


def test_inputs_are_deterministic() -> None:
    first = build_workloads(mrzs=2, travellers=2, notices=2, transactions=1)
    again = build_workloads(mrzs=2, travellers=2, notices=2, transactions=1)
    assert [w.payloads for w in first] == [w.payloads for w in again]


def test_len_walk_splits_a_transaction_into_its_records() -> None:
    (workload,) = build_workloads(mrzs=1, travellers=1, notices=1, transactions=1)[3:]
    (payload,) = workload.payloads
    records = walk_nist_records(payload)
    assert [record[:6] for record in records] == [b"1.001:", b"2.001:"]
    assert b"".join(records) == payload
    assert get_adapter("ansi-nist").decode(payload).records


def _run(adapter: str, round_number: int, baseline_s: float, decode_s: float) -> dict[str, object]:
    return {
        "round": round_number,
        "scenario": "adapters",
        "adapter": adapter,
        "input": "10 items",
        "baseline_name": "tokenizer",
        "records": 10,
        "baseline_s": baseline_s,
        "decode_s": decode_s,
        "baseline_records_per_s": 10 / baseline_s,
        "decode_records_per_s": 10 / decode_s,
        "encode_records_per_s": 5.0,
        "decode_mb_per_s": 1.0,
    }


def test_summary_judges_decode_time_against_the_baseline() -> None:
    runs = [
        _run("fast", 1, 1.0, 1.5),
        _run("fast", 2, 1.0, 2.5),
        _run("fast", 3, 1.0, 1.9),
        _run("slow", 1, 1.0, 30.0),
        {"scenario": "submit", "round": 1},
    ]
    rows = summarize_adapters(runs)
    judged = [row for row in rows if row.goal]
    assert [(row.scenario, row.verdict) for row in judged] == [
        ("fast: 10 items, 10 records", "PASS"),
        ("slow: 10 items, 10 records", "MISS"),
    ]
    fast = judged[0]
    assert fast.ratio == pytest.approx(1.9)
    assert fast.target == pytest.approx(1e6 / (10 / 1.9))
    assert fast.round_ratios == pytest.approx([1.5, 2.5, 1.9])
    assert fast.goal == f"<= {MEANING_GOAL:.2f}"
    shown = [row for row in rows if row.scenario.startswith("fast") and not row.goal]
    assert [row.metric for row in shown] == ["decode records/s", "encode records/s", "decode MB/s"]
    assert all(math.isnan(row.ratio) for row in shown)


def test_a_round_times_baseline_decode_and_encode(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr("bench.adapters.MIN_TIMING_S", 0.001)
    bench = AdapterBench()
    monkeypatch.setattr(
        "bench.adapters.build_workloads",
        lambda **_: build_workloads(mrzs=2, travellers=1, notices=1, transactions=1),
    )
    runs = bench.measure_round(7)
    assert bench.workloads is bench.workloads  # built once
    assert [(run["round"], run["adapter"], run["records"]) for run in runs] == [
        (7, "paxlst", 3),
        (7, "icao-mrz", 4),
        (7, "interpol-notice", 1),
        (7, "ansi-nist", 1),
    ]
    for run in runs:
        assert run["decode_records_per_s"] == pytest.approx(run["records"] / run["decode_s"])
        assert min(run["baseline_s"], run["decode_s"], run["encode_s"]) > 0
