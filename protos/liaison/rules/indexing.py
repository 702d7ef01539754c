"""Search keys: what of a record is indexed, and how names and numbers are normalised.

The same normalisation is applied to stored records and to search criteria, so that "Müller",
"MULLER" and "müller" find each other, and "AB 123<456" finds "AB123456". Transliterated names
are indexed beside the original script, so a Latin query finds a Cyrillic record's holder.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from liaison.v1 import common_pb2, record_pb2

__all__ = [
    "KIND_BY_BODY",
    "DocumentKey",
    "IndexKeys",
    "NameKey",
    "body_of_kind",
    "index_keys",
    "normalize_document_number",
    "normalize_name",
]

KIND_BY_BODY: dict[str, int] = {
    field.name: record_pb2.RecordKind.Value(f"RECORD_KIND_{field.name.upper()}")
    for field in record_pb2.Record.DESCRIPTOR.oneofs_by_name["body"].fields
}
"""Body field name -> ``RecordKind`` value; the store keeps the body name as the kind."""

_BODY_BY_KIND = {kind: body for body, kind in KIND_BY_BODY.items()}


@dataclass(frozen=True, slots=True)
class DocumentKey:
    """A travel document's searchable identity."""

    number: str
    """Document number, normalised by :func:`normalize_document_number`."""
    issuing_state: str
    """Issuing state code as stored (``CountryCode.code``), empty when unknown."""


@dataclass(frozen=True, slots=True)
class NameKey:
    """A family name with the birth date it goes with, as searched."""

    family: str
    """Family name normalised by :func:`normalize_name`."""
    birth_year: int
    """Birth year, 0 when unknown."""
    birth_month: int
    """Birth month, 0 when unknown."""
    birth_day: int
    """Birth day, 0 when unknown."""


@dataclass(frozen=True, slots=True)
class IndexKeys:
    """The search columns of one record version."""

    kind: str
    """Record kind: the name of the body field (``"person"``, ``"travel_document"``, ...)."""
    originating_centre: str
    """Centre id from the record's provenance."""
    documents: tuple[DocumentKey, ...] = ()
    """Document keys (travel documents)."""
    names: tuple[NameKey, ...] = ()
    """Family-name keys (persons, document holders, notice subjects)."""
    handling_code: int = 0
    """``Handling.code`` (a ``HandlingCode`` number): need-to-know and routing read it from
    the store without parsing the record."""
    releasable_to: tuple[str, ...] = ()
    """``Handling.releasable_to``, in record order."""


_NOT_ALPHANUMERIC = re.compile(r"[\W_]+")  # any script's letters and digits are kept
_NOT_DOCUMENT_CHARACTER = re.compile(r"[^0-9A-Z]+")


def body_of_kind(kind: int) -> str:
    """The body field name for a ``RecordKind`` value. Raises ``KeyError`` for unknown kinds."""
    return _BODY_BY_KIND[kind]


@functools.lru_cache(maxsize=65536)
def normalize_name(name: str) -> str:
    """Case-, accent- and punctuation-insensitive form of a name ("Müller-Lüdenscheidt" ->
    "muller ludenscheidt").

    Cached: family names repeat heavily across a centre's records, and this runs for every name of
    every stored record.
    """
    if name.isascii():
        return _NOT_ALPHANUMERIC.sub(" ", name.lower()).strip()
    decomposed = unicodedata.normalize("NFKD", name)
    stripped = "".join(char for char in decomposed if not unicodedata.combining(char))
    return _NOT_ALPHANUMERIC.sub(" ", stripped.casefold()).strip()


def normalize_document_number(number: str) -> str:
    """Document number without fillers, spaces or punctuation, in capitals."""
    return _NOT_DOCUMENT_CHARACTER.sub("", number.upper())


def index_keys(record: record_pb2.Record) -> IndexKeys:
    """The search keys of ``record``; ``record`` must have a body and an originating centre."""
    body = record.WhichOneof("body")
    assert body is not None, "validated records always have a body"
    documents: tuple[DocumentKey, ...] = ()
    names: Iterable[NameKey] = ()
    if body == "person":
        person = record.person
        names = _name_keys(person.names, [person.birth_date, *person.alternative_birth_dates])
    elif body == "travel_document":
        document = record.travel_document
        number = normalize_document_number(document.document_number)
        if number:
            state = document.issuing_state
            documents = (DocumentKey(number, state.code or state.raw.upper()),)
        names = _name_keys([document.holder_name], [document.holder_birth_date])
    elif body == "notice":
        subject = record.notice.subject
        names = _name_keys(subject.names, [subject.birth_date, *subject.alternative_birth_dates])
    return IndexKeys(
        kind=body,
        originating_centre=record.provenance.originating_centre,
        documents=documents,
        names=tuple(dict.fromkeys(names)),  # same key twice (name and transliteration) once
        handling_code=record.handling.code,
        releasable_to=tuple(record.handling.releasable_to),
    )


def _name_keys(
    names: Iterable[common_pb2.Name], dates: list[common_pb2.PartialDate]
) -> Iterator[NameKey]:
    known_dates = [date for date in dates if date.year] or [common_pb2.PartialDate()]
    for name in names:
        for family in (name.family, name.transliteration.family):
            normalized = normalize_name(family)
            if not normalized:
                continue
            for date in known_dates:
                yield NameKey(normalized, date.year, date.month, date.day)
