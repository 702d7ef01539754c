"""National MRZ variants: the filler-included check digit of long TD1 numbers (BEL, PRT).

Doc 9303 Part 5 §4.2.2 computes a long number's check digit over positions 6-14 and the
continuation; Belgian and Portuguese cards include the filler at position 15. The digits here are
recomputed with an independent implementation of Part 3 §4.9 (``support.reference_check_digit``).
"""

from __future__ import annotations

import pytest

from adapters import Severity
from adapters.base import DecodeResult
from adapters.icao_mrz import IcaoMrzAdapter
from adapters.icao_mrz.variants import LONG_NUMBER_FILLER, LONG_NUMBER_FILLER_STATES
from tests.adapters.icao_mrz.support import SAMPLES, TODAY, adapter, reference_check_digit


def _td1(state: str, number: str, digit: int, *, code: str = "I<") -> bytes:
    """A TD1 whose long ``number`` is followed by ``digit``; every other check digit is right."""
    line1 = f"{code}{state}{number[:9]}<{number[9:]}{digit}".ljust(30, "<")
    line2 = f"740812{reference_check_digit('740812')}F"
    line2 = (line2 + f"300101{reference_check_digit('300101')}{state}").ljust(29, "<")
    composite = line1[5:30] + line2[0:7] + line2[8:15] + line2[18:29]
    line2 += str(reference_check_digit(composite))
    return "\n".join([line1, line2, "SPECIMEN<<SPECIMEN".ljust(30, "<")]).encode("ascii") + b"\n"


def _standard(number: str) -> int:
    return reference_check_digit(number)


def _national(number: str) -> int:
    return reference_check_digit(number[:9] + "<" + number[9:])


# Numbers whose two computations differ (checked below), in the issuers' formats.
BELGIAN = "593123456711"
PORTUGUESE = "154328715ZZ7"
OTHER = "D23145890745"


def _codes(result: DecodeResult) -> list[tuple[Severity, str]]:
    return [(d.severity, d.code) for d in result.diagnostics if d.code != "MRZ_COUNTRY_CODE"]


@pytest.mark.parametrize("number", [BELGIAN, PORTUGUESE, OTHER])
def test_the_vectors_tell_the_two_computations_apart(number: str) -> None:
    assert _standard(number) != _national(number)


@pytest.mark.parametrize(("state", "number"), [("BEL", BELGIAN), ("PRT", PORTUGUESE)])
def test_a_listed_state_decodes_with_a_warning_naming_the_variant(state: str, number: str) -> None:
    result = adapter().decode(_td1(state, number, _national(number)))
    (warning,) = result.diagnostics
    assert (warning.severity, warning.code) == (Severity.WARNING, "MRZ_NATIONAL_VARIANT")
    assert LONG_NUMBER_FILLER in warning.message
    assert state in warning.message
    assert (warning.location.line, warning.location.column) == (1, 19)
    assert set(warning.record_ids) == {record.record_id for record in result.records}
    document = result.records[0].travel_document
    assert document.document_number == number
    assert document.mrz.check_digits_valid
    assert result.clean == result.records


@pytest.mark.parametrize(("state", "number"), [("BEL", BELGIAN), ("PRT", PORTUGUESE)])
def test_strict_decoding_refuses_the_variant(state: str, number: str) -> None:
    payload = _td1(state, number, _national(number))
    for strict in (
        adapter().configured(strict=True),
        IcaoMrzAdapter(today=TODAY, strict=True),
    ):
        result = strict.decode(payload)
        assert _codes(result) == [(Severity.ERROR, "MRZ_CHECK_DIGIT")]
        assert "strict" in result.diagnostics[0].message
        assert not result.records[0].travel_document.mrz.check_digits_valid
        assert result.clean == ()


@pytest.mark.parametrize(("state", "number"), [("BEL", BELGIAN), ("PRT", PORTUGUESE)])
def test_the_standard_digit_is_accepted_silently_in_both_modes(state: str, number: str) -> None:
    payload = _td1(state, number, _standard(number))
    assert adapter().decode(payload).diagnostics == ()
    assert adapter().configured(strict=True).decode(payload).diagnostics == ()


def test_a_state_not_in_the_table_gets_an_error_naming_the_variant() -> None:
    result = adapter().decode(_td1("FRA", OTHER, _national(OTHER)))
    assert _codes(result) == [(Severity.ERROR, "MRZ_CHECK_DIGIT")]
    assert "not known" in result.diagnostics[0].message
    assert result.clean == ()


@pytest.mark.parametrize(("state", "number"), [("BEL", BELGIAN), ("PRT", PORTUGUESE)])
def test_a_digit_that_fits_neither_computation_stays_an_error(state: str, number: str) -> None:
    wrong = next(d for d in range(10) if d not in (_standard(number), _national(number)))
    result = adapter().decode(_td1(state, number, wrong))
    assert _codes(result) == [(Severity.ERROR, "MRZ_CHECK_DIGIT")]
    assert "does not match" in result.diagnostics[0].message


def test_the_variant_is_for_td1_only() -> None:
    """TD2 long numbers keep the standard rule, even for a listed state."""
    number = BELGIAN
    line1 = "IDBELSPECIMEN<<SPECIMEN".ljust(36, "<")
    line2 = f"{number[:9]}<BEL740812{reference_check_digit('740812')}F"
    line2 += f"300101{reference_check_digit('300101')}{number[9:]}{_national(number)}"
    line2 = line2.ljust(35, "<")
    line2 += str(reference_check_digit(line2[0:10] + line2[13:20] + line2[21:35]))
    result = adapter().decode(f"{line1}\n{line2}\n".encode("ascii"))
    assert (Severity.ERROR, "MRZ_CHECK_DIGIT") in _codes(result)


def test_every_listed_state_cites_its_source() -> None:
    assert {"BEL", "PRT"} <= set(LONG_NUMBER_FILLER_STATES)
    for state, variant in LONG_NUMBER_FILLER_STATES.items():
        assert variant.state == state
        assert variant.source.strip()
        assert variant.documents.strip()


def test_the_golden_sample_of_both_cards_is_refused_when_strict() -> None:
    payload = (SAMPLES / "national_variant_bel_prt.mrz").read_bytes()
    lenient = adapter().decode(payload)
    strict = adapter().configured(strict=True).decode(payload)
    assert [d.code for d in lenient.diagnostics] == ["MRZ_NATIONAL_VARIANT"] * 2
    assert [(d.code, d.location) for d in strict.diagnostics] == [
        ("MRZ_CHECK_DIGIT", d.location) for d in lenient.diagnostics
    ]
