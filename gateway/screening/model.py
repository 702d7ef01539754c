"""The engine's values: list entries, subjects, evidence and matches.

Plain frozen dataclasses with no behaviour beyond conveniences: what a stored record contributes
to a list (:class:`ListEntry`), what is screened (:class:`Subject`), and what comes out
(:class:`Match` with its :class:`Evidence`, which maps one to one onto ``ScreeningEvidence``).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

__all__ = [
    "Band",
    "BirthDate",
    "DocumentKey",
    "EntryRef",
    "Evidence",
    "ListEntry",
    "Match",
    "NameRole",
    "PersonName",
    "Subject",
]


class NameRole(enum.IntEnum):
    """What a name is to its bearer (the contract's ``NameType``, same numbers)."""

    UNSPECIFIED = 0
    PRIMARY = 1
    ALIAS = 2
    BIRTH = 3
    FORMER = 4


class Band(enum.IntEnum):
    """Where a score falls by its list's thresholds (the contract's ``ScreeningBand`` numbers)."""

    BELOW = 0
    """Under the review threshold: not reported."""
    HIT = 1
    REVIEW = 2


@dataclass(frozen=True, slots=True)
class BirthDate:
    """A birth date known to the year, the month or the day (zero: unknown)."""

    year: int
    month: int = 0
    day: int = 0

    def __post_init__(self) -> None:
        # The index packs years into 16 bits and months and days into 9 (keys and postings).
        if not (0 <= self.year <= 9999 and 0 <= self.month <= 12 and 0 <= self.day <= 31):
            raise ValueError(
                f"birth date {self.year}-{self.month}-{self.day}: year must be 0 to 9999, "
                "month 0 to 12 and day 0 to 31 (0: unknown)"
            )

    def __str__(self) -> str:
        if not self.month:
            return f"{self.year:04d}"
        if not self.day:
            return f"{self.year:04d}-{self.month:02d}"
        return f"{self.year:04d}-{self.month:02d}-{self.day:02d}"


@dataclass(frozen=True, slots=True)
class PersonName:
    """One name of a person as the record gives it (original script; Latin when provided)."""

    role: NameRole
    family: str
    """Family name(s); empty when the source does not split the name."""
    given: str
    """Given and middle names, space separated; or the whole name when unsplit."""
    latin_family: str = ""
    """The source's own Latin transliteration of ``family`` (empty when none)."""
    latin_given: str = ""
    """The source's own Latin transliteration of ``given`` (empty when none)."""

    @property
    def is_empty(self) -> bool:
        """No part at all (INTERPOL's "-" or null names become empty names)."""
        return not (self.family or self.given or self.latin_family or self.latin_given)


@dataclass(frozen=True, slots=True)
class DocumentKey:
    """A travel document as the matcher sees it."""

    number: str
    """Normalised: upper-case letters and digits only."""
    issuing_state: str
    """ICAO 9303 / ISO 3166-1 alpha-3 code, or the source's raw value in capitals; may be empty."""
    document_type: int = 0
    """``DocumentType`` number; 0 when unknown."""
    status: int = 0
    """``DocumentStatus`` number; 0 when unknown."""
    record_id: str = ""
    """The TravelDocument record this key comes from (subjects only), empty otherwise."""
    version: int = 0
    """That record's version (subjects only)."""


@dataclass(frozen=True, slots=True)
class ListEntry:
    """What one stored record contributes to the screening lists.

    A notice contributes its subject (names and aliases, birth dates, sex, nationalities, the
    document numbers among its identifiers); a travel document on the ``sltd`` list contributes
    itself with its holder's data. ``document_centric`` entries are found by their documents
    only, and a holder who differs does not count against them (an impostor is the point).
    """

    record_id: str
    version: int
    centre: str
    """The originating centre: the one to contact."""
    lists: tuple[str, ...]
    """The lists the record is an entry of, in configuration order."""
    kind: str
    """The record's body ("notice", "travel_document", "person", ...)."""
    names: tuple[PersonName, ...] = ()
    birth_dates: tuple[BirthDate, ...] = ()
    sex: int = 0
    """``Sex`` number; 0 when unknown."""
    nationalities: tuple[str, ...] = ()
    documents: tuple[DocumentKey, ...] = ()
    document_centric: bool = False


@dataclass(frozen=True, slots=True)
class Subject:
    """One traveller, person or unlinked travel document to screen."""

    identity_key: str
    """Stable across re-screenings of the same person (see ``subject_identity_key``)."""
    record_id: str
    """The Person record, or the TravelDocument record when there is no person."""
    version: int
    kind: str
    """"person" or "travel_document"."""
    names: tuple[PersonName, ...] = ()
    birth_dates: tuple[BirthDate, ...] = ()
    sex: int = 0
    nationalities: tuple[str, ...] = ()
    documents: tuple[DocumentKey, ...] = ()
    manifest_record_id: str = ""
    """The manifest the subject travels on, when screened as part of one."""


@dataclass(frozen=True, slots=True)
class EntryRef:
    """Which list entry a match is on."""

    record_id: str
    version: int
    list: str
    centre: str


@dataclass(frozen=True, slots=True)
class Evidence:
    """One line of a match's explanation (``ScreeningEvidence``)."""

    feature: str
    """"name", "alias", "birth_date", "nationality", "sex" or "document"."""
    outcome: str
    """How the comparison came out (see docs/screening.md for every value)."""
    weight: float
    """Contribution to the score in log-odds: positive for a match, negative against."""
    detail: str
    """For an analyst; holds personal data of both sides."""


@dataclass(frozen=True, slots=True)
class Match:
    """A subject found to resemble a list entry."""

    entry: EntryRef
    score: float
    """In [0, 1]: the logistic of the evidence's weights and the list's prior."""
    band: Band
    evidence: tuple[Evidence, ...]
    """Strongest (largest absolute weight) first."""
    subject_record_id: str
    """The subject's record, or its document's when the entry is a document."""
    subject_version: int
