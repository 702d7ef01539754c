"""The MRZ check digit, Doc 9303 Part 3 §4.9 (modulus 10, weights 7-3-1)."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from adapters.icao_mrz.checkdigit import MRZ_CHARACTERS, check_digit, is_mrz_text
from tests.adapters.icao_mrz.support import reference_check_digit
from tests.support.contract_strategies import reproducible_settings


@pytest.mark.parametrize(
    ("data", "digit"),
    [
        # Part 3 Appendix A, the worked examples of the check digit calculation.
        ("520727", 3),
        ("AB2134<<<", 5),
        ("HA672242<658022549601086<<<<<<<<<<<<<<0", 8),
        # The fields of the Part 4 TD3 specimen and their printed check digits.
        ("L898902C3", 6),
        ("740812", 2),
        ("120415", 9),
        ("ZE184226B<<<<<", 1),
        ("L898902C36" + "7408122" + "1204159ZE184226B<<<<<1", 0),
        # Part 11 Appendix D.2: the twelve-character TD1 document number.
        ("D23145890734", 9),
        # Fillers only count zero.
        ("<<<<<<<<<<<<<<", 0),
        ("", 0),
    ],
)
def test_check_digit_of_specification_examples(data: str, digit: int) -> None:
    assert check_digit(data) == digit


@reproducible_settings(max_examples=200)
@given(st.text(alphabet=MRZ_CHARACTERS, max_size=60))
def test_check_digit_equals_the_plain_definition(data: str) -> None:
    """The table-driven computation equals Part 3 §4.9 written out character by character."""
    assert check_digit(data) == reference_check_digit(data)


@pytest.mark.parametrize(
    ("text", "valid"),
    [("P<UTO0123", True), ("", True), ("p<UTO", False), ("A B", False), ("Ä", False)],
)
def test_is_mrz_text_accepts_only_the_mrz_character_set(text: str, valid: bool) -> None:
    """Part 3: an MRZ holds A-Z, 0-9 and the filler < only."""
    assert is_mrz_text(text) is valid
