# Cyrillic letters and Arabic script are intended, in the docstring too.
# ruff: noqa: RUF001, RUF002
"""Names in any script to upper-case ASCII, with German-style diacritics both ways.

Latin letters follow ICAO Doc 9303 Part 3, section 6 ("Transliterations recommended for use by
States"), table A: the letters with a rule of their own (Ä→AE, Å→AA, Æ→AE, Ö→OE, Ø→OE, Ü→UE,
ß→SS, Þ→TH, Œ→OE, Ĳ→IJ, Đ/Ð→D, Ł→L, Ħ→H, Ŧ→T, Ŋ→N) and every other diacritic dropped. Because
travellers' documents, carriers and notices do not all follow it, every name is also rendered
*folded* (Ä→A, Ö→O, Ü→U, Å→A, Ø→O): "MÜLLER" gives both "MUELLER" and "MULLER".

Cyrillic follows table B of the same section (Ж→ZH, Х→KH, Ц→TS, Ч→CH, Ш→SH, Щ→SHCH, Ю→IU,
Я→IA, Й→I, Ы→Y, Ь omitted, Ъ→IE, Є→IE, Ї→I, Ґ→G, ...). Section 6's Arabic table is built for a
reversible machine readable zone (letters with no Latin equivalent written with an X prefix), a
spelling no visual zone, carrier or notice uses; Arabic and every other script (Greek, Hebrew,
Georgian, Armenian, CJK, ...) are romanised with ``anyascii`` instead. Arabic script omits short
vowels, so its romanisation is consonantal ("محمد" → "MHMD"); the matcher compares such tokens
by their consonant skeleton (see :mod:`gateway.screening.names`).

The same table exists for the machine readable zone in ``adapters/icao_mrz/names.py`` (Latin
letters only, one direction); this module cannot import an adapter.
"""

from __future__ import annotations

import re
import unicodedata

from anyascii import anyascii

from gateway.screening.memo import memoized

__all__ = ["LatinForms", "latin_forms"]

_ICAO_LATIN = {
    "Ä": "AE",
    "Å": "AA",
    "Æ": "AE",
    "Ö": "OE",
    "Ø": "OE",
    "Ü": "UE",
    "ẞ": "SS",
    "ß": "SS",
    "Þ": "TH",
    "Œ": "OE",
    "Ĳ": "IJ",
    "Đ": "D",
    "Ð": "D",
    "Ł": "L",
    "Ħ": "H",
    "Ŧ": "T",
    "Ŋ": "N",
    "Ə": "A",
}
_FOLDED_LATIN = {**_ICAO_LATIN, "Ä": "A", "Å": "A", "Ö": "O", "Ø": "O", "Ü": "U"}
"""The other direction: umlauted vowels without their E (Å, Ø without their second letter)."""

_EXPANDING = frozenset("ÄÅÖØÜ")
"""Letters whose ICAO and folded forms differ: a name containing one has two Latin forms."""

_ICAO_CYRILLIC = {
    "А": "A",
    "Б": "B",
    "В": "V",
    "Г": "G",
    "Ґ": "G",
    "Ѓ": "G",
    "Д": "D",
    "Ђ": "D",
    "Е": "E",
    "Ё": "E",
    "Є": "IE",
    "Ж": "ZH",
    "З": "Z",
    "Ѕ": "DZ",
    "И": "I",
    "І": "I",
    "Ї": "I",
    "Й": "I",
    "Ј": "J",
    "К": "K",
    "Л": "L",
    "Љ": "LJ",
    "М": "M",
    "Н": "N",
    "Њ": "NJ",
    "О": "O",
    "П": "P",
    "Р": "R",
    "С": "S",
    "Т": "T",
    "Ќ": "K",
    "Ћ": "C",
    "У": "U",
    "Ў": "U",
    "Ф": "F",
    "Х": "KH",
    "Ц": "TS",
    "Ч": "CH",
    "Џ": "DZ",
    "Ш": "SH",
    "Щ": "SHCH",
    "Ъ": "IE",
    "Ы": "Y",
    "Ь": "",
    "Э": "E",
    "Ю": "IU",
    "Я": "IA",
}
_CYRILLIC_TABLE = str.maketrans(_ICAO_CYRILLIC)
_ICAO_TABLE = str.maketrans(_ICAO_LATIN)
_FOLDED_TABLE = str.maketrans(_FOLDED_LATIN)
_NOT_NAME = re.compile(r"[^A-Z0-9]+")
_APOSTROPHES = re.compile(r"['’`ʼʻ‘´]")


LatinForms = tuple[tuple[str, ...], bool]
"""The upper-case ASCII renderings of one text (ICAO form first, no duplicates, none empty), and
whether a script other than Latin was romanised (so that a comparison can call a resemblance a
transliteration rather than a spelling difference). Plain tuples: memoised by the thousand, they
cost the garbage collector nothing."""


@memoized(maxsize=131_072)
def latin_forms(text: str) -> LatinForms:
    """Upper-case ASCII forms of a name: ICAO 9303 first, then the folded form if it differs.

    Letters and digits are kept; every other character separates words, except apostrophes,
    which are dropped ("O'Brien" → "OBRIEN", Doc 9303 Part 3 section 4.6). Cached: names repeat.
    """
    if text.isascii() and text.isalnum():
        # The usual word: nothing to strip, drop or romanise.
        return (text.upper(),), False
    upper = _APOSTROPHES.sub("", text).upper()
    if upper.isascii():
        return _forms((_clean(upper),), transliterated=False)
    transliterated = False
    if any("\u0400" <= char <= "\u04ff" for char in upper):
        upper = upper.translate(_CYRILLIC_TABLE)
        transliterated = True
    icao, romanised = _to_ascii(upper.translate(_ICAO_TABLE))
    if any("\u0600" <= char <= "\u06ff" for char in upper):
        # Waw is mostly a long vowel in names (OULD, ABU, MAHMOUD); the consonantal
        # romanisation writes it W.
        icao = icao.replace("W", "U")
    folded = (
        _to_ascii(upper.translate(_FOLDED_TABLE))[0] if _EXPANDING.intersection(upper) else icao
    )
    return _forms((icao, folded), transliterated=transliterated or romanised)


def _forms(forms: tuple[str, ...], *, transliterated: bool) -> LatinForms:
    return tuple(dict.fromkeys(form for form in forms if form)), transliterated


def _to_ascii(text: str) -> tuple[str, bool]:
    """Drop diacritics (NFKD), then romanise what is still not ASCII with anyascii.

    Returns the text and whether anyascii had to romanise another script.
    """
    decomposed = unicodedata.normalize("NFKD", text)
    stripped = "".join(char for char in decomposed if not unicodedata.combining(char))
    if stripped.isascii():
        return _clean(stripped), False
    # anyascii writes ayn and hamza as apostrophes; they are dropped like any apostrophe.
    return _clean(_APOSTROPHES.sub("", anyascii(stripped)).upper()), True


def _clean(text: str) -> str:
    return _NOT_NAME.sub(" ", text).strip()
