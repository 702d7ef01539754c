"""The MRZ check digit: Doc 9303 Part 3 §4.9 (modulus 10, weights 7, 3, 1 repeating).

Each character has a value (digits their own value, ``A``-``Z`` 10-35, the filler ``<`` zero);
the check digit is the sum of value times weight, modulo 10. Worked examples of Part 3 §4.9:
``520727`` gives 3, ``AB2134<<<`` gives 5.
"""

from __future__ import annotations

import re

__all__ = ["INVALID_CHARACTER", "MRZ_CHARACTERS", "check_digit", "is_mrz_text"]

MRZ_CHARACTERS = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ<"
"""The characters an MRZ may hold (Part 3 §4.3), in value order; the filler is last."""

# One table lookup per byte in C instead of a Python loop per character: bytes.translate maps
# each character to its value, and summing every third value (slices, also in C) applies the
# weights 7, 3 and 1.
_VALUES = bytes.maketrans(MRZ_CHARACTERS.encode("ascii"), bytes([*range(36), 0]))
_MRZ_TEXT = re.compile(r"[0-9A-Z<]*")

INVALID_CHARACTER = re.compile(r"[^0-9A-Z<]")
"""Matches any character an MRZ may not hold."""


def is_mrz_text(text: str) -> bool:
    """True when ``text`` holds only MRZ characters."""
    return _MRZ_TEXT.fullmatch(text) is not None


def check_digit(data: str) -> int:
    """The check digit of ``data``, which must hold only MRZ characters (see ``is_mrz_text``)."""
    values = data.encode("ascii").translate(_VALUES)
    return (7 * sum(values[0::3]) + 3 * sum(values[1::3]) + sum(values[2::3])) % 10
