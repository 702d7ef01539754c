"""The MRZ name field: Doc 9303 Part 3 §4.6 (name in the MRZ) and §6 (transliteration)."""

from __future__ import annotations

import pytest

from adapters.icao_mrz.names import NameText, mrz_name_field, split_name_field, to_mrz_name


@pytest.mark.parametrize(
    ("field", "family", "given"),
    [
        ("ERIKSSON<<ANNA<MARIA<<<<<<<<<<", "ERIKSSON", "ANNA MARIA"),
        ("VAN<DER<STEEN<<MARIANNE<LOUISE", "VAN DER STEEN", "MARIANNE LOUISE"),
        ("ERIKSSON<<<<<<", "ERIKSSON", ""),  # only a primary identifier
        ("MONONYM", "MONONYM", ""),
        ("<<ANNA<<<<", "", "ANNA"),  # no primary identifier
        ("SMITH<<JOHN<<PAUL", "SMITH", "JOHN PAUL"),  # stray double filler inside the given names
        ("<<<<<<<<", "", ""),
    ],
)
def test_split_name_field(field: str, family: str, given: str) -> None:
    assert split_name_field(field) == (family, given)


@pytest.mark.parametrize(
    ("name", "mrz"),
    [
        ("Anna Maria", "ANNA<MARIA"),
        ("Müller", "MUELLER"),  # Part 3 §6: Ü -> UE
        ("Göß", "GOESS"),  # Ö -> OE, ß -> SS
        ("Hämäläinen", "HAEMAELAEINEN"),
        ("Ångström", "AANGSTROEM"),  # Å -> AA
        ("Ærø", "AEROE"),  # Æ -> AE, Ø -> OE
        ("Þór", "THOR"),  # Þ -> TH
        ("Łukasz Đokić", "LUKASZ<DOKIC"),  # Ł -> L, Đ -> D, other diacritics dropped
        ("José Ñúñez", "JOSE<NUNEZ"),
        ("O'Connor", "OCONNOR"),  # apostrophes are omitted
        ("Smith-Jones", "SMITH<JONES"),  # hyphens become fillers
        ("  de   la  Cruz ", "DE<LA<CRUZ"),
    ],
)
def test_to_mrz_name_transliterates_latin_names(name: str, mrz: str) -> None:
    assert to_mrz_name(name) == NameText(mrz)


def test_to_mrz_name_flags_what_it_cannot_carry() -> None:
    assert to_mrz_name("Louis 14") == NameText("LOUIS", dropped=True)
    assert to_mrz_name("Иван") == NameText("", untransliterable=True)


@pytest.mark.parametrize(
    ("primary", "secondary", "width", "field", "truncated"),
    [
        ("ERIKSSON", "ANNA<MARIA", 30, "ERIKSSON<<ANNA<MARIA<<<<<<<<<<", False),
        ("ERIKSSON", "", 10, "ERIKSSON<<", False),
        ("", "ANNA", 10, "<<ANNA<<<<", False),
        # Too long: the secondary identifier is cut first, at the field width.
        ("ERIKSSON", "ANNA<MARIA", 16, "ERIKSSON<<ANNA<M", True),
        # A cut that ends at a component boundary drops the filler it leaves.
        ("ERIKSSON", "ANNA<MARIA", 15, "ERIKSSON<<ANNA<", True),
        # A primary identifier longer than the field is cut itself.
        ("ABCDEFGHIJKL", "ANNA", 10, "ABCDEFGHIJ", True),
        ("ABCDEFGH", "ANNA", 9, "ABCDEFGH<", True),
    ],
)
def test_mrz_name_field_pads_and_truncates(
    primary: str, secondary: str, width: int, field: str, truncated: bool
) -> None:
    assert mrz_name_field(primary, secondary, width) == (field, truncated)
