"""The kit's one line, on an adapter that conforms: every standard test passes."""

from __future__ import annotations

from pathlib import Path

from adapters.testing import adapter_test_class
from tests.adapters.testing.toy import ToyAdapter, toy_records

TestToyAdapter = adapter_test_class(
    ToyAdapter, samples=Path(__file__).parent / "samples", records=toy_records()
)
