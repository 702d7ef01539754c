"""Red team vectors written from ICAO Doc 9303 (8th edition): the specimen MRZs of Part 4
(TD3), Part 5 (TD1) and Part 6 (TD2) changed one element at a time."""

from __future__ import annotations

import pytest

from adapters.registry import get_adapter

TD3_NAME = "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<"
TD3_DATA = "L898902C36UTO7408122F1204159ZE184226B<<<<<10"  # Part 4, Appendix A specimen


def _check_digit(text: str) -> str:
    weights = (7, 3, 1)
    total = 0
    for position, character in enumerate(text):
        if character.isdigit():
            value = int(character)
        elif character.isalpha():
            value = ord(character) - ord("A") + 10
        else:
            value = 0
        total += value * weights[position % 3]
    return str(total % 10)


def _codes(text: str) -> dict[str, str]:
    result = get_adapter("icao-mrz").decode(text.encode())
    return {d.code: d.severity.name for d in result.diagnostics}


def test_a_digit_in_the_name_is_not_taken_silently() -> None:
    """WRONG: "ERIKSS0N" (a zero for the O, as OCR misreads it) decoded with no diagnostic,
    although Doc 9303 Part 4 §4.6 allows only A-Z and fillers in the name and no check digit
    covers it. RIGHT: a warning naming the name field."""
    codes = _codes(TD3_NAME.replace("ERIKSSON", "ERIKSS0N") + "\n" + TD3_DATA + "\n")
    assert codes.get("MRZ_NAME_DIGIT") == "WARNING"
    assert "MRZ_NAME_DIGIT" not in _codes(TD3_NAME + "\n" + TD3_DATA + "\n")


@pytest.mark.parametrize("filler_check", ["<", "0"])
def test_an_unused_personal_number_takes_a_filler_or_zero_check_digit(filler_check: str) -> None:
    """HELD: Part 4 §4.2.2 note: an all-filler optional data element has check digit < or 0."""
    document, birth, expiry, personal = "L898902C3", "740812", "120415", "<" * 14
    head = document + _check_digit(document)
    composite = (
        head + birth + _check_digit(birth) + expiry + _check_digit(expiry) + personal + filler_check
    )
    line = (
        f"{head}UTO{birth}{_check_digit(birth)}F{expiry}{_check_digit(expiry)}"
        f"{personal}{filler_check}{_check_digit(composite)}"
    )
    assert not [
        code for code, severity in _codes(f"{TD3_NAME}\n{line}\n").items() if severity == "ERROR"
    ]


def test_a_td2_long_document_number_is_read_whole() -> None:
    """HELD: Part 6 §4.2.4: more than nine characters continue in the optional data, followed
    by the check digit of the whole number, with < in the principal check digit position."""
    number, birth, expiry = "D23145890734", "740812", "120415"
    optional = (number[9:] + _check_digit(number) + "<").ljust(7, "<")
    head = number[:9] + "<"
    composite = head + birth + _check_digit(birth) + expiry + _check_digit(expiry) + optional
    line = (
        f"{head}UTO{birth}{_check_digit(birth)}F{expiry}{_check_digit(expiry)}{optional}"
        f"{_check_digit(composite)}"
    )
    result = get_adapter("icao-mrz").decode(
        f"I<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<\n{line}\n".encode()
    )
    assert [d.code for d in result.diagnostics if d.severity.name == "ERROR"] == []
    (document,) = [r for r in result.records if r.WhichOneof("body") == "travel_document"]
    assert document.travel_document.document_number == number
