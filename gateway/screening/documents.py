"""Travel documents compared: exact keys first, then OCR-style confusions, explained.

A document is identified by its number, issuing state and type (INTERPOL SLTD's key). Numbers
are compared without fillers, spaces or punctuation. A number read by OCR, or typed from a
scan, may confuse O/0/Q/D, I/1/L, B/8, S/5, Z/2 and G/6; two numbers equal once each of these
groups is folded to one character are an OCR match, weaker than an exact one, and the detail
says which positions differ. Numbers are not unique across issuing states, so the same number
from another state counts for little.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from gateway.screening.model import DocumentKey

__all__ = ["DocumentComparison", "compare_documents", "normalize_number", "ocr_folded"]

_NOT_DOCUMENT_CHARACTER = re.compile(r"[^0-9A-Z]+")
_OCR_FOLD = str.maketrans("OQDILBSZG", "000118526")
"""Each group of characters OCR confuses, folded to its digit."""
_OCR_FOLD_ASCII = bytes.maketrans(b"OQDILBSZG", b"000118526")
"""The same table for ASCII numbers (the usual case, several times faster)."""

WEIGHTS = {
    # (outcome, document-centric entry): an sltd entry is the document itself; on a notice a
    # document is one more piece of identity evidence.
    ("exact", True): 10.5,
    ("exact", False): 6.0,
    ("number", True): 6.5,
    ("number", False): 4.0,
    ("ocr", True): 5.5,
    ("ocr", False): 3.0,
    ("other_state", True): 1.0,
    ("other_state", False): 0.5,
    ("type_contradiction", True): -2.0,
    ("type_contradiction", False): -1.0,
}
"""Log-odds weight of each outcome (see docs/screening.md)."""


def normalize_number(number: str) -> str:
    """Document number without fillers, spaces or punctuation, in capitals."""
    upper = number.upper()
    if upper.isalnum() and upper.isascii():
        return upper
    return _NOT_DOCUMENT_CHARACTER.sub("", upper)


def ocr_folded(number: str) -> str:
    """The normalised number with OCR-confusable characters folded ("O8S" → "085")."""
    if number.isascii():
        return number.encode("ascii").translate(_OCR_FOLD_ASCII).decode("ascii")
    return number.translate(_OCR_FOLD)


@dataclass(frozen=True, slots=True)
class DocumentComparison:
    """How a subject's document compares with an entry's."""

    outcome: str
    """"exact", "number", "ocr" or "other_state"."""
    weight: float
    detail: str
    subject_document: DocumentKey
    """The subject's document that matched (its record names the hit's subject)."""
    type_contradiction: bool = False


def compare_documents(
    subject: Iterable[DocumentKey], entry: Iterable[DocumentKey], *, document_centric: bool
) -> DocumentComparison | None:
    """The strongest agreement between a subject's and an entry's documents; None if none."""
    best: DocumentComparison | None = None
    entry_documents = [document for document in entry if document.number]
    for mine in subject:
        if not mine.number:
            continue
        folded = ocr_folded(mine.number)
        for theirs in entry_documents:
            if mine.number == theirs.number:
                comparison = _same_number(mine, theirs, document_centric)
            elif len(mine.number) == len(theirs.number) and folded == ocr_folded(theirs.number):
                comparison = _ocr(mine, theirs, document_centric)
            else:
                continue
            if best is None or comparison.weight > best.weight:
                best = comparison
    return best


def _states(mine: DocumentKey, theirs: DocumentKey) -> str:
    """ "same", "unknown" or "other"."""
    if not mine.issuing_state or not theirs.issuing_state:
        return "unknown"
    return "same" if mine.issuing_state == theirs.issuing_state else "other"


def _type_contradiction(mine: DocumentKey, theirs: DocumentKey) -> bool:
    return bool(mine.document_type and theirs.document_type) and (
        mine.document_type != theirs.document_type
    )


def _same_number(mine: DocumentKey, theirs: DocumentKey, centric: bool) -> DocumentComparison:
    states = _states(mine, theirs)
    described = f"{mine.number} ({mine.issuing_state or '?'}) ~ {theirs.number} "
    described += f"({theirs.issuing_state or '?'})"
    if states == "same":
        outcome, detail = "exact", f"{described}: same number and issuing state"
    elif states == "unknown":
        outcome, detail = "number", f"{described}: same number, issuing state unknown"
    else:
        outcome, detail = "other_state", f"{described}: same number, another issuing state"
    return _comparison(outcome, detail, mine, theirs, centric)


def _ocr(mine: DocumentKey, theirs: DocumentKey, centric: bool) -> DocumentComparison:
    positions = [
        f"{index + 1} ({a}/{b})"
        for index, (a, b) in enumerate(zip(mine.number, theirs.number, strict=True))
        if a != b
    ]
    states = _states(mine, theirs)
    described = f"{mine.number} ~ {theirs.number}: OCR confusion at position "
    described += ", ".join(positions)
    if states == "other":
        return _comparison(
            "other_state", described + ", another issuing state", mine, theirs, centric
        )
    return _comparison("ocr", described, mine, theirs, centric)


def _comparison(
    outcome: str, detail: str, mine: DocumentKey, theirs: DocumentKey, centric: bool
) -> DocumentComparison:
    contradiction = _type_contradiction(mine, theirs)
    weight = WEIGHTS[(outcome, centric)]
    if contradiction:
        weight += WEIGHTS[("type_contradiction", centric)]
        detail += "; another document type"
    return DocumentComparison(outcome, weight, detail, mine, contradiction)
