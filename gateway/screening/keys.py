"""Blocking keys: 64-bit integers that bring a subject and its candidate entries together.

Three kinds of key, in the top four bits:

- **name**: a name unit's code (a token's consonant skeleton, or its spelling key when the
  skeleton is shorter than two classes) hashed to 44 bits, then the birth year in the low 16 bits
  (0 when unknown). One code's keys for every year are therefore adjacent in a sorted array, so a
  birth-year window is one range, and "any year" is one range too.
- **date**: a full or partial birth date, for entries without a usable name (INTERPOL's "-").
- **document**: a document number with OCR-confusable characters folded; numbers of up to ten
  characters are packed exactly (base 36), longer ones hashed. Exact and OCR-confused numbers
  share a key and are told apart when scored.

A name gives two kinds of unit (:func:`name_units`). **Selecting** units are its significant
words, a word without its glued Arabic article, and its family words glued together: a candidate
is an entry that shares them with the subject (see :mod:`gateway.screening.index`). **Explaining**
units select nothing; they record the other ways two words can be equally good matches without
sharing a word code (two or three adjacent words written as one, "VAN DEN BERG" ~ "VANDENBERG";
an umlaut written with and without E in a word too short to have a skeleton), so that the score
bound (:mod:`gateway.screening.bound`) knows which words cannot match.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping

from gateway.screening.documents import ocr_folded
from gateway.screening.memo import memoized
from gateway.screening.model import BirthDate, DocumentKey
from gateway.screening.names import (
    NameForm,
    consonant_skeleton,
    contracted,
    folded_spelling,
)

__all__ = [
    "DATE",
    "DOCUMENT",
    "MANY_WORDS",
    "NAME",
    "ONE_WORD",
    "Selecting",
    "code_prefix",
    "date_key",
    "document_key",
    "name_units",
    "text_code",
]

NAME = 1
DATE = 2
DOCUMENT = 3
_KIND_SHIFT = 60
_CODE_SHIFT = 16
_CODE_MASK = (1 << 44) - 1
_HASH_MASK = (1 << 59) - 1
_HASHED = 1 << 59
"""Set in document keys that are hashed (numbers longer than :data:`_PACKED_LENGTH`)."""
_PACKED_LENGTH = 10
"""Numbers up to this long are packed exactly: ``int("1" + number, 36)`` < 36**11 < 2**57."""


@memoized(maxsize=131_072)
def _hash(text: str) -> int:
    return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "big")


def text_code(text: str) -> str:
    """The code of a word given as text (a glued word, a contracted word); not memoised, as
    glued words are mostly seen once."""
    key = folded_spelling(text)
    bones = consonant_skeleton(key)
    return bones if len(bones) >= 2 else "~" + key


_word_code = memoized(maxsize=65_536)(text_code)
""":func:`text_code` of words that recur (a word without its glued article)."""


MANY_WORDS = 1
"""In :data:`Selecting`: the code comes from a form with several significant words."""
ONE_WORD = 2
"""In :data:`Selecting`: the code comes from a form with at most one significant word."""
Selecting = dict[str, int]
"""The selecting codes of a name in order, each with the kinds of form it comes from
(:data:`MANY_WORDS`, :data:`ONE_WORD` or both)."""


def name_units(
    forms: Iterable[NameForm], bit_of: Mapping[str, int]
) -> tuple[Selecting, dict[str, int]]:
    """The units of every form (see the module doc): the selecting codes in order with the
    kinds of form they come from, and every code (selecting or explaining) with the bits
    (``bit_of`` each word text; 0 when absent) of the words it stands for."""
    selecting: Selecting = {}
    words: dict[str, int] = {}
    glued: dict[str, str] = {}
    for form in forms:
        tokens = form.tokens
        kind = ONE_WORD if len(form.significant) <= 1 else MANY_WORDS
        for token in form.significant:
            bit = bit_of.get(token.text, 0)
            code = token.code
            selecting[code] = selecting.get(code, 0) | kind
            words[code] = words.get(code, 0) | bit
            if token.alternative:
                code = _word_code(token.alternative)
                selecting[code] = selecting.get(code, 0) | kind
                words[code] = words.get(code, 0) | bit
            if len(token.skeleton) < 2:
                short = contracted(token.text)
                if short != token.text:
                    code = text_code(short)
                    words[code] = words.get(code, 0) | bit
        texts = [token.text for token in tokens]
        family = [token.text for token in tokens if token.family]
        together: list[str] | None = None
        if len(family) >= 2:
            together = family
        elif not form.has_family and 2 <= len(tokens) <= 3:
            together = texts
        if together is not None:
            code = _glued(glued, "".join(together))
            selecting[code] = selecting.get(code, 0) | kind
            words[code] = words.get(code, 0) | _bits(together, bit_of)
        for length in (2, 3):
            for start in range(len(texts) - length + 1):
                window = texts[start : start + length]
                code = _glued(glued, "".join(window))
                words[code] = words.get(code, 0) | _bits(window, bit_of)
    return selecting, words


def _glued(codes: dict[str, str], text: str) -> str:
    code = codes.get(text)
    if code is None:
        code = codes[text] = text_code(text)
    return code


def _bits(texts: Iterable[str], bit_of: Mapping[str, int]) -> int:
    bits = 0
    for text in texts:
        bits |= bit_of.get(text, 0)
    return bits


def code_prefix(code: str) -> int:
    """The key of ``code`` with year 0: add a year for its key for that year."""
    return (NAME << _KIND_SHIFT) | ((_hash(code) & _CODE_MASK) << _CODE_SHIFT)


def date_key(year: int, month: int, day: int) -> int:
    """The key of a birth date known to the given precision (zero: unknown)."""
    return (DATE << _KIND_SHIFT) | ((year * 10_000 + month * 100 + day) << _CODE_SHIFT)


def birth_date_key(date: BirthDate) -> int:
    """The key of a birth date at its own precision."""
    return date_key(date.year, date.month, date.day)


def document_key(document: DocumentKey) -> int:
    """The key of a document number (OCR-confusable characters folded)."""
    return number_key(document.number)


def number_key(number: str) -> int:
    """The key of a normalised document number (upper-case letters and digits)."""
    folded = ocr_folded(number)
    if len(folded) <= _PACKED_LENGTH and folded.isalnum() and folded.isascii():
        return (DOCUMENT << _KIND_SHIFT) | int("1" + folded, 36)
    digest = hashlib.blake2b(folded.encode(), digest_size=8).digest()
    return (DOCUMENT << _KIND_SHIFT) | _HASHED | (int.from_bytes(digest, "big") & _HASH_MASK)
