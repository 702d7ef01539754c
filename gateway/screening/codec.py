"""List entries to compact bytes and back, so that millions of them fit in one buffer.

What many entries share (originating centre, lists, kind, whether the entry is a document) is a
*profile*, stored once in the codec and referred to by number: ten million stolen documents from
one centre repeat "INTERPOL-IGCI-SINGAPORE", "sltd" and "travel_document" in no byte of theirs.

Fields are separated by ASCII control characters (RS between fields, US between items, GS
between an item's parts); extraction removes control characters from every text, so they cannot
occur inside one.
"""

from __future__ import annotations

from gateway.screening.model import BirthDate, DocumentKey, ListEntry, NameRole, PersonName

__all__ = ["EntryCodec"]

_RS, _US, _GS = "\x1e", "\x1f", "\x1d"
_Profile = tuple[str, tuple[str, ...], str, bool]
_ROLES = {int(role): role for role in NameRole}


class EntryCodec:
    """Encodes entries to bytes and back; shared fields are numbered profiles."""

    def __init__(self) -> None:
        """A codec with no profiles yet."""
        self._profiles: list[_Profile] = []
        self._numbers: dict[_Profile, int] = {}

    def encode(self, entry: ListEntry) -> bytes:
        """The entry as UTF-8 bytes (subject-only document fields are not kept)."""
        profile = (entry.centre, entry.lists, entry.kind, entry.document_centric)
        number = self._numbers.get(profile)
        if number is None:
            number = self._numbers[profile] = len(self._profiles)
            self._profiles.append(profile)
        # Lists, not generators, for join: measurably faster at ten million entries.
        names = _US.join(
            [
                f"{n.role:d}{_GS}{n.family}{_GS}{n.given}{_GS}{n.latin_family}{_GS}{n.latin_given}"
                for n in entry.names
            ]
        )
        dates = _US.join([f"{d.year}-{d.month}-{d.day}" for d in entry.birth_dates])
        documents = _US.join(
            [
                f"{d.number}{_GS}{d.issuing_state}{_GS}{d.document_type}{_GS}{d.status}"
                for d in entry.documents
            ]
        )
        return (
            f"{entry.record_id}{_RS}{entry.version}{_RS}{number}{_RS}{names}{_RS}{dates}{_RS}"
            f"{entry.sex}{_RS}{_US.join(entry.nationalities)}{_RS}{documents}"
        ).encode()

    def decode(self, data: bytes | bytearray) -> ListEntry:
        """The entry :meth:`encode` wrote."""
        record_id, version, number, names, dates, sex, nationalities, documents = data.decode(
            "utf-8"
        ).split(_RS)
        centre, lists, kind, document_centric = self._profiles[int(number)]
        return ListEntry(
            record_id=record_id,
            version=int(version),
            centre=centre,
            lists=lists,
            kind=kind,
            names=tuple(_name(item) for item in names.split(_US)) if names else (),
            birth_dates=tuple(_date(item) for item in dates.split(_US)) if dates else (),
            sex=int(sex),
            nationalities=tuple(nationalities.split(_US)) if nationalities else (),
            documents=tuple(_document(item) for item in documents.split(_US)) if documents else (),
            document_centric=document_centric,
        )

    @property
    def nbytes(self) -> int:
        """Bytes held by the profiles (an estimate: a few hundred per profile)."""
        return 300 * len(self._profiles)


def _name(item: str) -> PersonName:
    role, family, given, latin_family, latin_given = item.split(_GS)
    return PersonName(_ROLES[int(role)], family, given, latin_family, latin_given)


def _date(item: str) -> BirthDate:
    year, month, day = item.split("-")
    return BirthDate(int(year), int(month), int(day))


def _document(item: str) -> DocumentKey:
    number, state, document_type, status = item.split(_GS)
    return DocumentKey(number, state, int(document_type), int(status))
