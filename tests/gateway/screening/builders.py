"""Small builders of list entries, subjects and records for the screening tests (synthetic)."""

from __future__ import annotations

from gateway.screening import (
    BirthDate,
    DocumentKey,
    ListEntry,
    NameRole,
    PersonName,
    Screener,
    ScreeningIndex,
    Subject,
)


def notice(
    record_id: str,
    family: str,
    given: str,
    birth: tuple[int, int, int] = (1975, 3, 12),
    *,
    nationality: str = "FRA",
    sex: int = 2,
    aliases: tuple[tuple[str, str], ...] = (),
    version: int = 1,
    latin: tuple[str, str] = ("", ""),
) -> ListEntry:
    """A notice entry with one primary name (and aliases)."""
    names = [PersonName(NameRole.PRIMARY, family, given, *latin)]
    names += [PersonName(NameRole.ALIAS, f, g) for f, g in aliases]
    return ListEntry(
        record_id=record_id,
        version=version,
        centre="INTERPOL-CCC-LYON",
        lists=("notices",),
        kind="notice",
        names=tuple(n for n in names if not n.is_empty),
        birth_dates=(BirthDate(*birth),),
        sex=sex,
        nationalities=(nationality,),
    )


def stolen(
    record_id: str, number: str, state: str, family: str = "HOLDER", given: str = "LAWFUL"
) -> ListEntry:
    """An sltd entry: a stolen passport with its lawful holder's data."""
    return ListEntry(
        record_id=record_id,
        version=1,
        centre="INTERPOL-IGCI-SINGAPORE",
        lists=("sltd",),
        kind="travel_document",
        names=(PersonName(NameRole.PRIMARY, family, given),),
        birth_dates=(BirthDate(1960, 1, 1),),
        sex=1,
        nationalities=(state,),
        documents=(DocumentKey(number, state, 1, 2),),
        document_centric=True,
    )


def traveller(
    family: str,
    given: str,
    birth: tuple[int, int, int] = (1975, 3, 12),
    *,
    nationality: str = "FRA",
    sex: int = 2,
    passport: tuple[str, str] = ("", ""),
) -> Subject:
    """A traveller as a manifest gives one: name, birth date, sex, nationality, passport."""
    documents: tuple[DocumentKey, ...] = ()
    if passport[0]:
        documents = (DocumentKey(passport[0], passport[1], 1, 0, "PAXDOC:1", 1),)
    return Subject(
        identity_key=f"{family}|{given}|{birth}",
        record_id="PAX:1",
        version=1,
        kind="person",
        names=(PersonName(NameRole.PRIMARY, family, given),),
        birth_dates=(BirthDate(*birth),),
        sex=sex,
        nationalities=(nationality,),
        documents=documents,
    )


def screener(*entries: ListEntry) -> Screener:
    """A screener over an index of ``entries`` with the default lists."""
    return Screener(ScreeningIndex.build(entries))
