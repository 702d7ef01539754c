"""Liaison's conformance kit on this adapter: the one line every adapter package writes."""

from __future__ import annotations

from pathlib import Path

from cites_strategies import trade_records
from liaison_cites_csv import CitesCsvAdapter

from adapters.testing import adapter_test_class

TestCitesCsvAdapter = adapter_test_class(
    CitesCsvAdapter, samples=Path(__file__).parent / "samples", records=trade_records()
)
