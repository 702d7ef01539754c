"""The adapter's identity, public surface and registration."""

from __future__ import annotations

import adapters.ansi_nist
from adapters import get_adapter
from adapters.ansi_nist import AnsiNistAdapter
from tests.adapters.ansi_nist.build import transaction


def test_public_surface() -> None:
    assert adapters.ansi_nist.__all__ == ["AnsiNistAdapter"]


def test_identity() -> None:
    info = AnsiNistAdapter.info()
    assert (info.name, info.version) == ("ansi-nist", "1.1.0")
    assert info.can_decode
    assert info.can_encode
    assert "an2" in info.file_extensions
    assert "1-2011" in AnsiNistAdapter.source_format


def test_found_by_name_in_the_registry() -> None:
    assert isinstance(get_adapter("ansi-nist"), AnsiNistAdapter)


def test_provenance_names_the_adapter() -> None:
    payload = transaction((18, "DOE,JOHN"))
    (record,) = AnsiNistAdapter().decode(payload, source_reference="x.an2").records
    provenance = record.provenance
    assert (provenance.adapter_name, provenance.adapter_version) == ("ansi-nist", "1.1.0")
    assert provenance.source_format == AnsiNistAdapter.source_format
    assert len(provenance.payload_sha256) == 32
