"""The adapter's identity, registration and public surface."""

from __future__ import annotations

import adapters.paxlst
from adapters.paxlst import PaxlstAdapter
from adapters.registry import AdapterRegistry


def test_identity() -> None:
    assert PaxlstAdapter.name == "paxlst"
    assert PaxlstAdapter.can_encode()
    info = PaxlstAdapter.info()
    assert (info.name, info.can_decode, info.can_encode) == ("paxlst", True, True)
    assert "edi" in PaxlstAdapter.file_extensions
    assert PaxlstAdapter.media_types == ("application/EDIFACT",)


def test_registered_by_entry_point() -> None:
    registry = AdapterRegistry.from_entry_points()
    assert isinstance(registry.get("paxlst"), PaxlstAdapter)


def test_public_surface() -> None:
    assert adapters.paxlst.__all__ == ["PaxlstAdapter"]
