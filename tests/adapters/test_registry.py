"""The adapter registry: entry points, clear errors for unknown names, broken plugins isolated."""

from __future__ import annotations

from importlib.metadata import EntryPoint
from typing import Any

import pytest

from adapters import Adapter, AdapterRegistry, DecodeResult, UnknownAdapterError, registry


class Alpha(Adapter):
    name = "alpha"
    version = "1.0.0"
    source_format = "alpha"

    def decode(self, payload: bytes, *, source_reference: str = "") -> DecodeResult:
        return self.builder(payload, source_reference).result()


class Beta(Alpha):
    name = "beta"


class Exploding(Alpha):
    name = "exploding"

    def __init__(self) -> None:
        raise RuntimeError("no")


def _entry_point(name: str, value: str) -> EntryPoint:
    return EntryPoint(name=name, value=value, group=registry.ENTRY_POINT_GROUP)


def test_unknown_name_lists_the_known_ones() -> None:
    adapters = AdapterRegistry([Beta(), Alpha()])
    with pytest.raises(UnknownAdapterError) as caught:
        adapters.get("gamma")
    assert str(caught.value) == "unknown adapter 'gamma'; known adapters: alpha, beta"
    assert caught.value.known == ("alpha", "beta")
    assert str(UnknownAdapterError("x", [])) == "unknown adapter 'x'; known adapters: none"


def test_lookup_iteration_and_membership() -> None:
    adapters = AdapterRegistry([Beta(), Alpha()])
    assert isinstance(adapters.get("alpha"), Alpha)
    assert [a.name for a in adapters] == ["alpha", "beta"]
    assert adapters.names() == ("alpha", "beta")
    assert "beta" in adapters
    assert "gamma" not in adapters
    assert len(adapters) == 2


def test_a_second_adapter_under_a_taken_name_is_refused() -> None:
    adapters = AdapterRegistry([Alpha()])
    with pytest.raises(ValueError, match="already registered"):
        adapters.register(Alpha())


def test_broken_plugins_are_reported_and_left_out(monkeypatch: pytest.MonkeyPatch) -> None:
    module = __name__
    points = [
        _entry_point("alpha", f"{module}:Alpha"),
        _entry_point("missing", f"{module}:DoesNotExist"),
        _entry_point("not-an-adapter", f"{module}:_entry_point"),
        _entry_point("wrong-name", f"{module}:Beta"),
        _entry_point("exploding", f"{module}:Exploding"),
        _entry_point("no-module", "liaison_no_such_module:Adapter"),
    ]

    def fake_entry_points(*, group: str) -> list[EntryPoint]:
        assert group == registry.ENTRY_POINT_GROUP
        return points

    monkeypatch.setattr(registry, "entry_points", fake_entry_points)
    adapters = AdapterRegistry.from_entry_points()
    assert adapters.names() == ("alpha",)
    reasons: dict[str, Any] = {p.entry_point.split(" = ")[0]: p.reason for p in adapters.problems}
    assert set(reasons) == {"missing", "not-an-adapter", "wrong-name", "exploding", "no-module"}
    assert reasons["missing"].startswith("import failed")
    assert reasons["no-module"].startswith("import failed")
    assert reasons["not-an-adapter"] == "not a subclass of adapters.Adapter"
    assert reasons["wrong-name"] == "entry point name differs from Beta.name"
    assert reasons["exploding"].startswith("construction failed")


def test_the_built_ins_register_through_the_entry_point_group() -> None:
    from importlib.metadata import entry_points

    names = {e.name for e in entry_points(group=registry.ENTRY_POINT_GROUP)}
    assert {"icao-mrz", "paxlst", "interpol-notice", "ansi-nist"} <= names
