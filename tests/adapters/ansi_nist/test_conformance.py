"""The conformance kit on the built-in ``AnsiNistAdapter``: ANSI/NIST-ITL 1-2011 transactions."""

from __future__ import annotations

from pathlib import Path

from adapters.ansi_nist import AnsiNistAdapter
from adapters.testing import adapter_test_class

TestAnsiNistAdapterConformance = adapter_test_class(
    AnsiNistAdapter, samples=Path(__file__).parent / "samples"
)
