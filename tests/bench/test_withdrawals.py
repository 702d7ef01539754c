"""The withdrawals scenario of ``python -m bench``: its run document and its report lines, with a
verdict per goal of issue 15 (the scenario itself runs end to end in
tests/e2e/test_withdrawal_at_scale.py)."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

import pytest

import bench.withdrawals
from bench.withdrawals import (
    LagFigures,
    PropagationFigures,
    run_as_scenario,
    summarize_withdrawals,
)


def _figures(lags: list[float], reconnect_s: float) -> PropagationFigures:
    return PropagationFigures(
        records=8,
        in_flight=4,
        online_s=1.0,
        applied_lag=LagFigures.of(lags),
        acknowledged_lag=LagFigures.of([lag + 0.1 for lag in lags]),
        after_reconnect_s=reconnect_s,
        receiver_sigkill_s=3.0,
        sender_sigkill_s=4.0,
        checked_records=8,
    )


def _scenario(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, figures: PropagationFigures
) -> dict[str, object]:
    directories: list[Path] = []

    def fake_run(records: int, directory: Path) -> PropagationFigures:
        directories.append(directory)
        return figures

    monkeypatch.setattr(bench.withdrawals, "run", fake_run)
    document = run_as_scenario(8, tmp_path)
    assert [d.parent for d in directories] == [tmp_path]  # a directory of its own
    return document


def test_every_lag_within_five_seconds_and_a_quick_reconnect_pass(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    document = _scenario(monkeypatch, tmp_path, _figures([0.1, 0.2, 4.9], 12.0))
    assert document["errors"] == {}
    assert document["applied_lag"] == asdict(LagFigures.of([0.1, 0.2, 4.9]))
    online, phases = summarize_withdrawals([document])
    assert "100.0% within 5 s (goal 100 %) PASS" in online
    assert "after reconnecting 12.0 s (goal 60 s) PASS" in phases


def test_one_late_withdrawal_or_a_slow_reconnect_is_a_miss(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    document = _scenario(monkeypatch, tmp_path, _figures([0.1, 0.2, 5.1], 60.5))
    online, phases = summarize_withdrawals([document])
    assert "66.7% within 5 s (goal 100 %) MISS" in online
    assert "after reconnecting 60.5 s (goal 60 s) MISS" in phases


def test_a_phase_that_fails_its_check_is_the_runs_error_not_the_benchmarks_end(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    def failing_run(records: int, directory: Path) -> PropagationFigures:
        raise AssertionError("INTERPOL-CCC-LYON:wanted:00003 resurrected")

    monkeypatch.setattr(bench.withdrawals, "run", failing_run)
    document = run_as_scenario(8, tmp_path)
    assert document["errors"] == {"PHASE_FAILED": 1}
    [line] = summarize_withdrawals([document])
    assert line.startswith("withdrawals: FAILED")
    assert "resurrected" in line
    assert summarize_withdrawals([{"scenario": "submit", "errors": {}}]) == []
