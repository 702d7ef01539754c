"""Character encodings: Field 1.015 Character encoding / DCS and ANSI/NIST-ITL 1-2011 Table 4.

The default for traditional encoding is 7-bit ASCII; Type-1 is always 7-bit ASCII. DCS lists the
alternate encodings a transaction uses, one subfield per encoding with the items character
encoding index (CSI), name (CSN) and version (CSV). Table 4 assigns the indexes:

====  ==========  ==============================================
CSI   Name        Meaning
====  ==========  ==============================================
000   ASCII       7-bit, the default
001   ASCII       8-bit Latin (ISO/IEC 8859-1)
002   UTF-16      16-bit
003   UTF-8       8-bit Unicode
004   UTF-32      32-bit
====  ==========  ==============================================

5-127 are reserved, 128-999 user-defined. UTF-16 and UTF-32 cannot be read between byte
separators (their code units contain bytes 0x1C..0x1F), nor can an unknown user-defined set, so
this adapter reads 000, 001 and 003 and reports the others.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

__all__ = [
    "ASCII_7BIT",
    "LATIN_8BIT",
    "UTF_8",
    "UTF_8_DECLARATION",
    "TextCodec",
    "character_set_indexes",
    "encoding_for_text",
    "unreadable_indexes",
]

ASCII_7BIT = 0
LATIN_8BIT = 1
UTF_16 = 2
UTF_8 = 3
UTF_32 = 4
_READABLE = frozenset({ASCII_7BIT, LATIN_8BIT, UTF_8})

UTF_8_DECLARATION = ("003", "UTF-8")
"""The DCS subfield the encoder adds when a transaction needs UTF-8 and declares none."""


def character_set_indexes(character_sets: Iterable[Sequence[str]]) -> list[int | None]:
    """The CSI of each DCS subfield (None where the first item is not a number)."""
    indexes: list[int | None] = []
    for items in character_sets:
        first = items[0] if items else ""
        readable = first.isascii() and first.isdigit() and len(first) <= 3
        indexes.append(int(first) if readable else None)
    return indexes


@dataclass(frozen=True, slots=True)
class TextCodec:
    """How the text of Type-2 fields is decoded, as DCS declares it."""

    encodings: tuple[str, ...] = ()
    """Python codecs tried in order for text that is not 7-bit ASCII (empty: ASCII only)."""

    @classmethod
    def from_indexes(cls, indexes: Iterable[int | None]) -> TextCodec:
        declared = set(indexes)
        # UTF-8 first: a Latin-1 reading of UTF-8 bytes never fails but is wrong, the reverse
        # fails loudly, so trying UTF-8 first is the only order that can tell them apart.
        encodings = tuple(
            name for index, name in ((UTF_8, "utf-8"), (LATIN_8BIT, "latin-1")) if index in declared
        )
        return cls(encodings)

    def decode(self, raw: bytes) -> str | None:
        """The text of ``raw``; None when no declared encoding can read it."""
        if raw.isascii():
            return raw.decode("ascii")
        for encoding in self.encodings:
            try:
                return raw.decode(encoding)
            except UnicodeDecodeError:
                continue
        return None


def unreadable_indexes(indexes: Iterable[int | None]) -> list[int | None]:
    """DCS entries this adapter cannot read (UTF-16, UTF-32, reserved, user-defined, malformed)."""
    return [index for index in indexes if index not in _READABLE]


def encoding_for_text(indexes: Sequence[int | None], texts: Iterable[str]) -> tuple[str, bool]:
    """The codec to write ``texts`` with, and whether DCS must gain a UTF-8 entry.

    ASCII text needs nothing. Otherwise a declared UTF-8 is used; a declared 8-bit Latin is used
    when it can hold every text; else UTF-8 is declared and used.
    """
    non_ascii = [text for text in texts if not text.isascii()]
    if not non_ascii:
        return "ascii", False
    if UTF_8 in indexes:
        return "utf-8", False
    if LATIN_8BIT in indexes and all(_fits_latin_1(text) for text in non_ascii):
        return "latin-1", False
    return "utf-8", True


def _fits_latin_1(text: str) -> bool:
    return max(map(ord, text)) <= 0xFF
