"""Withdrawal propagation across four centres (issue 15's goal) with a few hundred records:
online, after a receiver reconnects, and under SIGKILL of a receiver and of the sender during
propagation - every receiver applies every withdrawal exactly once, and none is resurrected.
The scenario is ``bench.withdrawals`` (``python -m bench.withdrawals --records 10000`` runs the
issue's size and reports the times); here the bounds are generous: correctness, not speed."""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.withdrawals import run

pytestmark = [pytest.mark.slow, pytest.mark.timeout(400)]


def test_withdrawals_reach_four_centres_exactly_once_through_outages_and_kills(
    tmp_path: Path,
) -> None:
    figures = run(200, tmp_path, within=120.0)
    # Each phase finished (run() polls until every receiver acknowledged every tombstone and
    # raises otherwise); every sampled record was read back as its one tombstone everywhere.
    assert figures.records == 200
    assert figures.checked_records == 200
