"""The kit's one line, on an adapter that conforms: every standard test passes.

The toy is not a distribution of its own, so its ``liaison.adapters`` entry point is put in place
the way an installed plugin's would be found (``examples/cites-csv`` is the same suite on a
package installed for real, in ``make examples-test``).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from adapters.testing import adapter_test_class
from tests.adapters.testing.toy import (
    TOY_ENTRY_POINT,
    ToyAdapter,
    install_entry_points,
    toy_records,
)


@pytest.fixture(autouse=True)
def _toy_installed(monkeypatch: pytest.MonkeyPatch) -> None:
    install_entry_points(monkeypatch, ("toy-seizures", TOY_ENTRY_POINT))


TestToyAdapter = adapter_test_class(
    ToyAdapter, samples=Path(__file__).parent / "samples", records=toy_records()
)
