"""The conformance kit on the built-in ``PaxlstAdapter``: UN/EDIFACT PAXLST passenger lists."""

from __future__ import annotations

from pathlib import Path

from adapters.paxlst import PaxlstAdapter
from adapters.testing import adapter_test_class
from tests.adapters.paxlst.strategies import manifest_records, passenger_list_payload

TestPaxlstAdapterConformance = adapter_test_class(
    PaxlstAdapter,
    samples=Path(__file__).parent / "samples",
    records=manifest_records(),
    throughput_payload=passenger_list_payload,
)
