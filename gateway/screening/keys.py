"""Blocking keys: 64-bit integers that bring a subject and its candidate entries together.

Three kinds of key, in the top four bits:

- **name**: a name token's code (its consonant skeleton, or its spelling key when the skeleton
  is shorter than two classes) hashed to 44 bits, then the birth year in the low 16 bits (0 when
  unknown). One code's keys for every year are therefore adjacent in a sorted array, so a
  birth-year window is one range, and "any year" is one range too.
- **date**: a full or partial birth date, for entries without a usable name (INTERPOL's "-").
- **document**: a document number with OCR-confusable characters folded, hashed to 60 bits;
  exact and OCR-confused numbers share it and are told apart when scored.

Every name posting also carries the month and day of the birth date it was made for, and
whether the entry's name has a single significant word, so that candidates can be filtered
before they are decoded (see :mod:`gateway.screening.index`).
"""

from __future__ import annotations

import functools
import hashlib
from collections.abc import Iterable, Iterator

from gateway.screening.documents import ocr_folded
from gateway.screening.model import BirthDate, DocumentKey
from gateway.screening.names import NameForm, Token, skeleton, spelling_key

__all__ = [
    "DATE",
    "DOCUMENT",
    "NAME",
    "SINGLE_TOKEN",
    "code_prefix",
    "date_key",
    "document_key",
    "month_day",
    "name_codes",
]

NAME = 1
DATE = 2
DOCUMENT = 3
_KIND_SHIFT = 60
_CODE_SHIFT = 16
_CODE_MASK = (1 << 44) - 1
_HASH_MASK = (1 << 60) - 1
SINGLE_TOKEN = 1 << 9
"""Flag in a posting's month/day field: the entry's name has one significant word."""


@functools.lru_cache(maxsize=524_288)
def _hash(text: str) -> int:
    return int.from_bytes(hashlib.blake2b(text.encode(), digest_size=8).digest(), "big")


def token_code(token: Token) -> str:
    """The code a token is blocked on."""
    return token.skeleton if len(token.skeleton) >= 2 else "~" + token.spelling


def name_codes(forms: Iterable[NameForm]) -> Iterator[tuple[str, bool]]:
    """(code, single-word name) for every significant token, glued-article alternative and
    glued family name (two or more family words written as one) of the forms."""
    for form in forms:
        significant = form.significant
        single = len(significant) <= 1
        for token in significant:
            yield token_code(token), single
            if token.alternative:
                yield token_code(_bare(token.alternative)), single
        family = [token.text for token in form.tokens if token.family]
        if len(family) >= 2:
            yield _glued_code("".join(family)), single
        elif not form.has_family and 2 <= len(form.tokens) <= 3:
            yield _glued_code("".join(token.text for token in form.tokens)), single


@functools.lru_cache(maxsize=65_536)
def _glued_code(text: str) -> str:
    return token_code(_bare(text))


def _bare(text: str) -> Token:
    return Token(text, False, False, spelling_key(text), skeleton(text), text)


def code_prefix(code: str) -> int:
    """The key of ``code`` with year 0: add a year for its key for that year."""
    return (NAME << _KIND_SHIFT) | ((_hash(code) & _CODE_MASK) << _CODE_SHIFT)


def month_day(date: BirthDate | None, single: bool) -> int:
    """The posting's month/day field (month * 32 + day, plus :data:`SINGLE_TOKEN`)."""
    value = (date.month * 32 + date.day) if date is not None else 0
    return value | (SINGLE_TOKEN if single else 0)


def date_key(year: int, month: int, day: int) -> int:
    """The key of a birth date known to the given precision (zero: unknown)."""
    return (DATE << _KIND_SHIFT) | ((year * 10_000 + month * 100 + day) << _CODE_SHIFT)


def document_key(document: DocumentKey) -> int:
    """The key of a document number (OCR-confusable characters folded)."""
    return (DOCUMENT << _KIND_SHIFT) | (_hash("#" + ocr_folded(document.number)) & _HASH_MASK)
