"""The conformance kit on the built-in ``AnsiNistAdapter``: ANSI/NIST-ITL 1-2011 transactions."""

from __future__ import annotations

from pathlib import Path

from adapters.ansi_nist import AnsiNistAdapter
from adapters.testing import adapter_test_class
from tests.adapters.ansi_nist.hostile import HOSTILE_PAYLOADS
from tests.adapters.hostile_sizes import COST_PAYLOAD_BYTES, HUGE_PAYLOAD_BYTES

TestAnsiNistAdapterConformance = adapter_test_class(
    AnsiNistAdapter,
    samples=Path(__file__).parent / "samples",
    hostile_payloads=HOSTILE_PAYLOADS,
    huge_payload_bytes=HUGE_PAYLOAD_BYTES,
    cost_payload_bytes=COST_PAYLOAD_BYTES,
)
