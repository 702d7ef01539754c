"""Red team vectors written from ANSI/NIST-ITL 1-2011 Update 2015, Section 8.1: Type-1 fields
whose fixed form other parsers check and this adapter took without a word."""

from __future__ import annotations

import pytest

from adapters.diagnostics import Severity
from tests.adapters.ansi_nist.test_header import decode_header, header_of, only


@pytest.mark.parametrize("field", [11, 12])
@pytest.mark.parametrize("bad", ["abc", "19.7", "1969", "19,69", "+9.69"])
def test_a_resolution_not_in_its_fixed_form_is_a_warning_and_kept(field: int, bad: str) -> None:
    """WRONG: 1.011 NSR / 1.012 NTR "abc" decoded with no diagnostic. Sections 8.1.11 and
    8.1.12 give their form: two digits, a decimal point, two digits, in pixels per millimetre
    ("00.00" when the transaction holds no image). RIGHT: a warning (the value is readable
    text, as a malformed 1.005 DAT is), the value kept verbatim, the transaction decoded."""
    result = decode_header(replace={field: bad})
    warning = only(result, "NIST_RESOLUTION_INVALID")
    assert warning.severity is Severity.WARNING
    assert f"1.{field:03d}" in warning.message
    header = header_of(result)
    assert bad in (header.native_scanning_resolution, header.nominal_transmitting_resolution)


@pytest.mark.parametrize("good", ["00.00", "19.69", "39.37"])
def test_resolutions_in_their_fixed_form_pass(good: str) -> None:
    result = decode_header(replace={11: good, 12: good})
    assert not [d for d in result.diagnostics if d.code == "NIST_RESOLUTION_INVALID"]
