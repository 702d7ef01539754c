"""A subject against one list entry: the evidence, the score and the band.

The score is a logistic of summed log-odds weights: ``score = 1 / (1 + exp(-(PRIOR + sum)))``.
Every weight is one explanation line. Names (or aliases), birth dates, nationality and sex are
compared for every entry; documents when both sides have some. An entry that is a document
(``document_centric``, the ``sltd`` list) is matched on the document: when its number and issuing
state agree, what the holder's data say against the match does not count (the person presenting
a stolen passport is rarely its lawful holder), and is still shown, with weight 0.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from gateway.screening.dates import compare_birth_dates
from gateway.screening.documents import compare_documents
from gateway.screening.model import Evidence, ListEntry, NameRole, PersonName, Subject
from gateway.screening.name_match import compare_names, forms_of
from gateway.screening.names import NameForm

__all__ = ["PRIOR", "Scored", "ScoringInput", "score_entry"]

PRIOR = -5.0
"""Log-odds of a match before any evidence."""
NATIONALITY_WEIGHTS = {"match": 0.7, "contradiction": -1.2}
SEX_WEIGHTS = {"match": 0.3, "contradiction": -2.5}
NAMELESS_WEIGHT = 1.5
"""An entry without a name (INTERPOL "-"): the missing feature is not held against it."""


@dataclass(frozen=True, slots=True)
class ScoringInput:
    """A subject or an entry prepared once for many comparisons (its names' Latin forms)."""

    forms: tuple[tuple[PersonName, NameForm], ...]

    @classmethod
    def of(cls, names: tuple[PersonName, ...]) -> ScoringInput:
        """Prepare names (empty names left out)."""
        return cls(forms_of(name for name in names if not name.is_empty))


@dataclass(frozen=True, slots=True)
class Scored:
    """The outcome of :func:`score_entry`."""

    score: float
    evidence: tuple[Evidence, ...]
    subject_document_record_id: str
    """The subject's document that matched a document-centric entry; empty otherwise."""
    subject_document_version: int


def score_entry(
    subject: Subject,
    subject_input: ScoringInput,
    entry: ListEntry,
    entry_input: ScoringInput,
) -> Scored:
    """Compare a subject with an entry (see the module doc for how the score is built)."""
    evidence: list[Evidence] = []
    document = None
    if subject.documents and entry.documents:
        document = compare_documents(
            subject.documents, entry.documents, document_centric=entry.document_centric
        )
        if document is not None:
            evidence.append(
                Evidence("document", document.outcome, document.weight, document.detail)
            )
    if entry.document_centric and document is None:
        return Scored(0.0, (), "", 0)
    holder: list[Evidence] = []
    names = compare_names(subject_input.forms, entry_input.forms)
    if names is not None:
        holder.extend(names.evidence)
    elif not entry_input.forms and not entry.document_centric:
        holder.append(
            Evidence(
                "name", "absent", NAMELESS_WEIGHT, "the entry gives no name; compared on the rest"
            )
        )
    dates = compare_birth_dates(subject.birth_dates, entry.birth_dates)
    if dates is not None:
        holder.append(Evidence("birth_date", dates.outcome, dates.weight, dates.detail))
    nationality = _nationality(subject.nationalities, entry.nationalities)
    if nationality is not None:
        holder.append(nationality)
    sex = _sex(subject.sex, entry.sex)
    if sex is not None:
        holder.append(sex)
    if entry.document_centric and document is not None and document.outcome in ("exact", "number"):
        holder = [_informational(line) if line.weight < 0 else line for line in holder]
    evidence.extend(holder)
    score = _logistic(PRIOR + sum(line.weight for line in evidence))
    evidence.sort(key=lambda line: (-abs(line.weight), line.feature, line.outcome, line.detail))
    record_id, version = "", 0
    if document is not None and entry.document_centric:
        record_id = document.subject_document.record_id
        version = document.subject_document.version
    return Scored(round(score, 4), tuple(evidence), record_id, version)


def _logistic(total: float) -> float:
    # Written so that exp never overflows: a name of thousands of tokens, each missing on the
    # entry, sums to thousands below zero, and exp(-total) raised OverflowError - which failed
    # the whole commit batch in the worker, again at every retry, so that one traveller
    # submitted with such a name stopped automatic screening for every commit after it.
    if total >= 0:
        return 1.0 / (1.0 + math.exp(-total))
    odds = math.exp(total)
    return odds / (1.0 + odds)


def _informational(line: Evidence) -> Evidence:
    return Evidence(
        line.feature,
        line.outcome,
        0.0,
        line.detail + " (not held against a listed document: it may be used by an impostor)",
    )


def _nationality(mine: tuple[str, ...], theirs: tuple[str, ...]) -> Evidence | None:
    if not mine or not theirs:
        return None
    common = sorted(set(mine) & set(theirs))
    if common:
        return Evidence(
            "nationality", "match", NATIONALITY_WEIGHTS["match"], f"both {', '.join(common)}"
        )
    detail = f"{', '.join(mine)} ~ {', '.join(theirs)}: none in common"
    return Evidence("nationality", "contradiction", NATIONALITY_WEIGHTS["contradiction"], detail)


_SEX_NAMES = {1: "F", 2: "M", 3: "X"}


def _sex(mine: int, theirs: int) -> Evidence | None:
    # X (unspecified) neither agrees nor disagrees with anything.
    if mine not in (1, 2) or theirs not in (1, 2):
        return None
    if mine == theirs:
        return Evidence("sex", "match", SEX_WEIGHTS["match"], f"both {_SEX_NAMES[mine]}")
    detail = f"{_SEX_NAMES[mine]} ~ {_SEX_NAMES[theirs]}"
    return Evidence("sex", "contradiction", SEX_WEIGHTS["contradiction"], detail)


def primary_names(names: tuple[PersonName, ...]) -> tuple[PersonName, ...]:
    """The names that identify (every role but aliases), for keys that must be stable."""
    return tuple(name for name in names if name.role != NameRole.ALIAS)
