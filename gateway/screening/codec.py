"""List entries to compact bytes and back, so that millions of them fit in one buffer.

Fields are separated by ASCII control characters (RS between fields, US between items, GS
between an item's parts); extraction removes control characters from every text, so they cannot
occur inside one.
"""

from __future__ import annotations

from gateway.screening.model import BirthDate, DocumentKey, ListEntry, NameRole, PersonName

__all__ = ["decode_entry", "encode_entry"]

_RS, _US, _GS = "\x1e", "\x1f", "\x1d"


def encode_entry(entry: ListEntry) -> bytes:
    """The entry as UTF-8 bytes (record ids and versions of subject documents are not kept)."""
    names = _US.join(
        _GS.join((str(int(n.role)), n.family, n.given, n.latin_family, n.latin_given))
        for n in entry.names
    )
    dates = _US.join(f"{d.year}-{d.month}-{d.day}" for d in entry.birth_dates)
    documents = _US.join(
        _GS.join((d.number, d.issuing_state, str(d.document_type), str(d.status)))
        for d in entry.documents
    )
    fields = (
        entry.record_id,
        str(entry.version),
        entry.centre,
        _US.join(entry.lists),
        entry.kind,
        names,
        dates,
        str(entry.sex),
        _US.join(entry.nationalities),
        documents,
        "1" if entry.document_centric else "",
    )
    return _RS.join(fields).encode("utf-8")


def decode_entry(data: bytes) -> ListEntry:
    """The entry :func:`encode_entry` wrote."""
    (
        record_id,
        version,
        centre,
        lists,
        kind,
        names,
        dates,
        sex,
        nationalities,
        documents,
        centric,
    ) = data.decode("utf-8").split(_RS)
    return ListEntry(
        record_id=record_id,
        version=int(version),
        centre=centre,
        lists=tuple(lists.split(_US)) if lists else (),
        kind=kind,
        names=tuple(_name(item) for item in names.split(_US)) if names else (),
        birth_dates=tuple(_date(item) for item in dates.split(_US)) if dates else (),
        sex=int(sex),
        nationalities=tuple(nationalities.split(_US)) if nationalities else (),
        documents=tuple(_document(item) for item in documents.split(_US)) if documents else (),
        document_centric=bool(centric),
    )


def _name(item: str) -> PersonName:
    role, family, given, latin_family, latin_given = item.split(_GS)
    return PersonName(NameRole(int(role)), family, given, latin_family, latin_given)


def _date(item: str) -> BirthDate:
    year, month, day = item.split("-")
    return BirthDate(int(year), int(month), int(day))


def _document(item: str) -> DocumentKey:
    number, state, document_type, status = item.split(_GS)
    return DocumentKey(number, state, int(document_type), int(status))
