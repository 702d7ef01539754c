"""The conformance kit on the built-in ``InterpolNoticeAdapter``: INTERPOL public notices JSON."""

from __future__ import annotations

from pathlib import Path

from adapters.interpol_notice import InterpolNoticeAdapter
from adapters.testing import adapter_test_class
from tests.adapters.hostile_sizes import COST_PAYLOAD_BYTES, HUGE_PAYLOAD_BYTES
from tests.adapters.interpol_notice.hostile import HOSTILE_PAYLOADS
from tests.adapters.interpol_notice.strategies import notice_records, result_page

TestInterpolNoticeAdapterConformance = adapter_test_class(
    InterpolNoticeAdapter,
    samples=Path(__file__).parent / "samples",
    hostile_payloads=HOSTILE_PAYLOADS,
    huge_payload_bytes=HUGE_PAYLOAD_BYTES,
    cost_payload_bytes=COST_PAYLOAD_BYTES,
    records=notice_records(),
    throughput_payload=result_page,
)
