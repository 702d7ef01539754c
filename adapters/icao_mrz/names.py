"""The name field of an MRZ: reading it into family and given names, and writing one.

Doc 9303 Part 3 (convention for writing the name of the holder in the MRZ, §4.6): the primary
identifier (family name), two fillers, then the secondary identifier (given names); components
of either are separated by one filler; spaces and hyphens become fillers and other punctuation
(apostrophes) is left out; unused positions are fillers. A name with one part only is written as
the primary identifier. A name too long for the field is truncated, and a field filled to its
last position may be such a truncated name.

Characters outside A-Z are transliterated per Part 3 §6 ("Transliterations recommended for use
by States"): the Latin letters with their own rule (Ä→AE, Å→AA, Æ→AE, Ö→OE, Ø→OE, Ü→UE, ß→SS,
Þ→TH, Œ→OE, Ĳ→IJ, Đ/Ð→D, Ł→L, Ħ→H, Ŧ→T, Ŋ→N) and every other diacritic dropped (É→E, Ç→C, Ñ→N).
Other scripts are not transliterated here: a record carries its Latin rendering in
``Name.transliteration`` for that.
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass

__all__ = ["NameText", "mrz_name_field", "split_name_field", "to_mrz_name"]

# Applied after upper-casing (which already turns ß into SS).
_SPECIAL_LATIN = str.maketrans(
    {
        "Ä": "AE",
        "Å": "AA",
        "Æ": "AE",
        "Ö": "OE",
        "Ø": "OE",
        "Ü": "UE",
        "ẞ": "SS",
        "Þ": "TH",
        "Œ": "OE",
        "Ĳ": "IJ",
        "Đ": "D",
        "Ð": "D",
        "Ł": "L",
        "Ħ": "H",
        "Ŧ": "T",
        "Ŋ": "N",
    }
)
_PLAIN = re.compile(r"[A-Z <]*")
_FILLERS = re.compile(r"<+")


@dataclass(frozen=True, slots=True)
class NameText:
    """A name component converted to MRZ characters, with what had to be left out."""

    text: str
    """Components joined by single fillers, no leading or trailing filler."""
    dropped: bool = False
    """Digits, controls or other non-letters were left out (apostrophes are omitted silently)."""
    untransliterable: bool = False
    """Letters of a script this module does not transliterate were found (and left out)."""


def split_name_field(field: str) -> tuple[str, str]:
    """The family and given names of an MRZ name field, fillers as single spaces.

    ``ERIKSSON<<ANNA<MARIA<<<<`` gives ``("ERIKSSON", "ANNA MARIA")``; a field without a double
    filler is all primary identifier; a field starting with ``<<`` has no primary identifier.
    """
    primary, _, secondary = field.rstrip("<").partition("<<")
    return _FILLERS.sub(" ", primary).strip(), _FILLERS.sub(" ", secondary).strip()


def to_mrz_name(text: str) -> NameText:
    """Convert a name component to MRZ characters (transliterated, separators as fillers)."""
    upper = text.upper()
    if _PLAIN.fullmatch(upper):
        return NameText(_join(upper.replace(" ", "<")))
    dropped = untransliterable = False
    out: list[str] = []
    decomposed = unicodedata.normalize("NFKD", upper.translate(_SPECIAL_LATIN))
    for char in decomposed:
        if "A" <= char <= "Z" or char == "<":
            out.append(char)
            continue
        category = unicodedata.category(char)
        if category == "Mn":  # a combining diacritic, left by the decomposition: dropped
            continue
        if category in ("Zs", "Pd") or char in "\t\n":
            out.append("<")
        elif category[0] == "L":
            untransliterable = True
        elif category[0] in "PS":
            continue  # apostrophes and other punctuation are omitted (Part 3 §4.6)
        else:
            dropped = True
    return NameText(_join("".join(out)), dropped, untransliterable)


def _join(text: str) -> str:
    """Collapse runs of fillers to one and trim them at both ends."""
    return _FILLERS.sub("<", text).strip("<")


def mrz_name_field(primary: str, secondary: str, width: int) -> tuple[str, bool]:
    """The name field of ``width`` characters for the converted identifiers; True if truncated.

    Too long a name is cut at the field width and any fillers the cut leaves at its end are
    dropped, so the secondary identifier is shortened first and the primary only when it alone
    is too long (Part 3 §4.6 truncation, its simplest form).
    """
    full = f"{primary}<<{secondary}" if secondary else primary
    if len(full) <= width:
        return full.ljust(width, "<"), False
    return full[:width].rstrip("<").ljust(width, "<"), True
