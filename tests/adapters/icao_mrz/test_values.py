"""Country codes (Doc 9303 Part 3 §5), document codes (Parts 4-7) and sex (Part 3)."""

from __future__ import annotations

import pytest

from adapters.icao_mrz.values import (
    LETTER_BY_SEX,
    SEX_BY_LETTER,
    country_field,
    default_document_code,
    document_type,
    read_country,
)
from liaison.v1 import common_pb2, travel_document_pb2

ISO = common_pb2.COUNTRY_CODE_SYSTEM_ISO3166_ALPHA3
ICAO = common_pb2.COUNTRY_CODE_SYSTEM_ICAO9303
UNMAPPED = common_pb2.COUNTRY_CODE_SYSTEM_UNMAPPED


@pytest.mark.parametrize(
    ("field", "expected", "known"),
    [
        ("FRA", common_pb2.CountryCode(code="FRA", system=ISO), True),
        # Germany is D in Doc 9303; the MRZ field holds D<<, kept as the raw value.
        ("D<<", common_pb2.CountryCode(code="D", system=ICAO, raw="D<<"), True),
        ("XXA", common_pb2.CountryCode(code="XXA", system=ICAO), True),  # stateless
        ("XXB", common_pb2.CountryCode(code="XXB", system=ICAO), True),  # refugee (1951)
        ("XXC", common_pb2.CountryCode(code="XXC", system=ICAO), True),  # other refugee
        ("XXX", common_pb2.CountryCode(code="XXX", system=ICAO), True),  # unspecified
        ("XPO", common_pb2.CountryCode(code="XPO", system=ICAO), True),  # INTERPOL
        ("UNO", common_pb2.CountryCode(code="UNO", system=ICAO), True),
        ("UNA", common_pb2.CountryCode(code="UNA", system=ICAO), True),
        ("UNK", common_pb2.CountryCode(code="UNK", system=ICAO), True),
        ("XOM", common_pb2.CountryCode(code="XOM", system=ICAO), True),
        ("XCC", common_pb2.CountryCode(code="XCC", system=ICAO), True),
        ("EUE", common_pb2.CountryCode(code="EUE", system=ICAO), True),
        # ICAO's fictitious Utopia is in no list: kept raw, UNMAPPED.
        ("UTO", common_pb2.CountryCode(system=UNMAPPED, raw="UTO"), False),
        ("AB<", common_pb2.CountryCode(system=UNMAPPED, raw="AB<"), False),
        ("<<<", common_pb2.CountryCode(), True),  # empty, not unknown
    ],
)
def test_read_country(field: str, expected: common_pb2.CountryCode, known: bool) -> None:
    country = common_pb2.CountryCode()
    assert read_country(field, country) is known
    assert country == expected


@pytest.mark.parametrize(
    ("country", "field"),
    [
        (common_pb2.CountryCode(code="FRA", system=ISO), "FRA"),
        (common_pb2.CountryCode(code="D", system=ICAO, raw="D<<"), "D<<"),
        (common_pb2.CountryCode(code="D", system=ICAO), "D<<"),
        (common_pb2.CountryCode(system=UNMAPPED, raw="UTO"), "UTO"),
        (common_pb2.CountryCode(system=UNMAPPED, raw="914"), None),  # not MRZ letters
        (common_pb2.CountryCode(system=UNMAPPED, raw="ABCD"), None),
        (common_pb2.CountryCode(), None),
    ],
)
def test_country_field(country: common_pb2.CountryCode, field: str | None) -> None:
    assert country_field(country) == field


@pytest.mark.parametrize(
    ("code", "kind"),
    [
        ("P<", travel_document_pb2.DOCUMENT_TYPE_PASSPORT),
        ("PP", travel_document_pb2.DOCUMENT_TYPE_PASSPORT),
        ("PD", travel_document_pb2.DOCUMENT_TYPE_PASSPORT),
        ("V<", travel_document_pb2.DOCUMENT_TYPE_VISA),
        ("I<", travel_document_pb2.DOCUMENT_TYPE_IDENTITY_CARD),
        ("ID", travel_document_pb2.DOCUMENT_TYPE_IDENTITY_CARD),
        ("IP", travel_document_pb2.DOCUMENT_TYPE_IDENTITY_CARD),
        ("A<", travel_document_pb2.DOCUMENT_TYPE_IDENTITY_CARD),
        ("C<", travel_document_pb2.DOCUMENT_TYPE_IDENTITY_CARD),
        ("AC", travel_document_pb2.DOCUMENT_TYPE_CREW_MEMBER_CERTIFICATE),
        ("XA", travel_document_pb2.DOCUMENT_TYPE_OTHER),
        ("<<", travel_document_pb2.DOCUMENT_TYPE_OTHER),
    ],
)
def test_document_type_from_the_document_code(
    code: str, kind: travel_document_pb2.DocumentType.ValueType
) -> None:
    assert document_type(code) == kind


def test_default_document_codes_read_back_as_their_type() -> None:
    for kind in travel_document_pb2.DocumentType.values():
        code = default_document_code(kind)
        if code is not None:
            assert document_type(code) == kind


def test_sex_letters_map_both_ways() -> None:
    """Part 3: F, M, X (unspecified) and < (not stated)."""
    assert SEX_BY_LETTER == {
        "F": common_pb2.SEX_FEMALE,
        "M": common_pb2.SEX_MALE,
        "X": common_pb2.SEX_X,
        "<": common_pb2.SEX_UNSPECIFIED,
    }
    assert {LETTER_BY_SEX[value] for value in SEX_BY_LETTER.values()} == set(SEX_BY_LETTER)
