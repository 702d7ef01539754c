"""The conformance kit on the built-in ``IcaoMrzAdapter``: ICAO Doc 9303 machine readable zones."""

from __future__ import annotations

from pathlib import Path

from adapters.icao_mrz import IcaoMrzAdapter
from adapters.testing import adapter_test_class
from tests.adapters.hostile_sizes import COST_PAYLOAD_BYTES, HUGE_PAYLOAD_BYTES
from tests.adapters.icao_mrz.hostile import HOSTILE_PAYLOADS
from tests.adapters.icao_mrz.support import adapter

# Two-digit years resolve against a reference date: the tests' fixed one (support.TODAY), so that
# the golden files do not change with the calendar.
TestIcaoMrzAdapterConformance = adapter_test_class(
    IcaoMrzAdapter,
    samples=Path(__file__).parent / "samples",
    hostile_payloads=HOSTILE_PAYLOADS,
    huge_payload_bytes=HUGE_PAYLOAD_BYTES,
    cost_payload_bytes=COST_PAYLOAD_BYTES,
    make_adapter=adapter,
)
