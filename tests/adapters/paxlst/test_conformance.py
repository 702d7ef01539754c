"""The conformance kit on the built-in ``PaxlstAdapter``: UN/EDIFACT PAXLST passenger lists."""

from __future__ import annotations

from pathlib import Path

from adapters.paxlst import PaxlstAdapter
from adapters.testing import adapter_test_class
from tests.adapters.hostile_sizes import COST_PAYLOAD_BYTES, HUGE_PAYLOAD_BYTES
from tests.adapters.paxlst.hostile import HOSTILE_PAYLOADS
from tests.adapters.paxlst.strategies import manifest_records, passenger_list_payload

TestPaxlstAdapterConformance = adapter_test_class(
    PaxlstAdapter,
    samples=Path(__file__).parent / "samples",
    hostile_payloads=HOSTILE_PAYLOADS,
    huge_payload_bytes=HUGE_PAYLOAD_BYTES,
    cost_payload_bytes=COST_PAYLOAD_BYTES,
    records=manifest_records(),
    throughput_payload=passenger_list_payload,
)
