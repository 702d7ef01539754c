"""The score bound never leaves out a candidate that would have reached the review threshold.

A seeded corpus of names with every kind of variation the matcher scores (typos, umlauts both
ways, particles, glued words, swapped order, initials, very short names, other scripts, aliases,
partial and several birth dates, nationalities, sexes) is screened twice: with the bound at the
list's review threshold, and with no bound at all. The matches must be the same.
"""

from __future__ import annotations

import random
from dataclasses import replace

import pytest

from gateway.screening import (
    DEFAULT_LISTS,
    BirthDate,
    DocumentKey,
    ListEntry,
    Match,
    NameRole,
    PersonName,
    Screener,
    ScreeningIndex,
    Subject,
)

_SYLLABLES = [
    "AN",
    "BER",
    "CHU",
    "DA",
    "EL",
    "FO",
    "GUE",
    "HA",
    "IV",
    "JO",
    "KAR",
    "LI",
    "MUE",
    "NG",
    "OU",
    "PE",
    "QU",
    "RA",
    "SCH",
    "TA",
    "UE",
    "VAN",
    "WI",
    "XI",
    "YA",
    "ZH",
]
_PARTICLES = ["VAN", "DEN", "DE", "AL", "BIN", "EL"]
_SCRIPTS = ["Щукин", "Евгений", "المصري", "محمود", "Müller", "Jürgen", "Øst", "Ærø"]
_COUNTRIES = ["FRA", "DEU", "EGY", "RUS", "VNM", "NLD"]


def _word(rng: random.Random) -> str:
    return "".join(rng.choice(_SYLLABLES) for _ in range(rng.choice((1, 1, 2, 2, 3))))


def _typo(rng: random.Random, word: str) -> str:
    if len(word) < 2:
        return word + "A"
    at = rng.randrange(len(word))
    match rng.randrange(4):
        case 0:
            return word[:at] + word[at + 1 :]
        case 1:
            return word[:at] + rng.choice("AEIKLMNRSTU") + word[at:]
        case 2:
            return word[:at] + rng.choice("AEIKLMNRSTU") + word[at + 1 :]
        case _:
            return word[: at - 1] + word[at] + word[at - 1] + word[at + 1 :] if at else word


def _name(rng: random.Random) -> tuple[str, str]:
    family = [_word(rng) for _ in range(rng.choice((1, 1, 1, 2)))]
    if rng.random() < 0.2:
        family.insert(0, rng.choice(_PARTICLES))
    if rng.random() < 0.1:
        family = [rng.choice(_SCRIPTS)]
    given = [_word(rng) for _ in range(rng.choice((0, 1, 1, 2)))]
    if rng.random() < 0.1:
        given = [rng.choice(_SCRIPTS)]
    return " ".join(family), " ".join(given)


def _variant(rng: random.Random, family: str, given: str) -> tuple[str, str]:
    """The same name as another record might write it."""
    match rng.randrange(9):
        case 0:
            return given, family
        case 1:
            return _typo(rng, family), given
        case 2:
            return family, _typo(rng, _typo(rng, given)) if given else given
        case 3:
            return family.replace(" ", ""), given
        case 4:
            return family.replace("UE", "U").replace("Ü", "UE"), given
        case 5:
            return family, given[:1]
        case 6:
            return family + given, ""
        case 7:
            return family, ""
        case _:
            return family, given


def _date(rng: random.Random) -> BirthDate:
    year = rng.randint(1950, 1960)
    match rng.randrange(4):
        case 0:
            return BirthDate(year)
        case 1:
            return BirthDate(year, rng.randint(1, 12))
        case _:
            return BirthDate(year, rng.randint(1, 12), rng.randint(1, 28))


def _entries(rng: random.Random, count: int) -> list[ListEntry]:
    entries = []
    for number in range(count):
        family, given = _name(rng)
        names = [PersonName(NameRole.PRIMARY, family, given)]
        if rng.random() < 0.2:
            names.append(PersonName(NameRole.ALIAS, *_name(rng)))
        if rng.random() < 0.1:
            names[0] = PersonName(NameRole.PRIMARY, family, given, *_variant(rng, family, given))
        entries.append(
            ListEntry(
                record_id=f"N:{number}",
                version=1,
                centre="INTERPOL-CCC-LYON",
                lists=("notices",),
                kind="notice",
                names=tuple(n for n in names if not n.is_empty),
                birth_dates=tuple({_date(rng) for _ in range(rng.choice((0, 1, 1, 1, 2)))}),
                sex=rng.choice((0, 1, 2, 2, 3)),
                nationalities=tuple(rng.sample(_COUNTRIES, rng.choice((0, 1, 1, 2)))),
                documents=(DocumentKey(f"P{number:07d}", "FRA"),) if rng.random() < 0.1 else (),
            )
        )
    return entries


def _subjects(rng: random.Random, entries: list[ListEntry], count: int) -> list[Subject]:
    subjects = []
    for number in range(count):
        model = rng.choice(entries)
        if model.names and rng.random() < 0.8:
            family, given = _variant(rng, model.names[0].family, model.names[0].given)
        else:
            family, given = _name(rng)
        dates = model.birth_dates if rng.random() < 0.5 else (_date(rng),)
        if dates and rng.random() < 0.2:
            first = dates[0]
            dates = (BirthDate(first.year + rng.choice((-1, 1)), first.month, first.day),)
        subjects.append(
            Subject(
                identity_key=f"S:{number}",
                record_id=f"PAX:{number}",
                version=1,
                kind="person",
                names=(PersonName(NameRole.PRIMARY, family, given),),
                birth_dates=dates if rng.random() < 0.9 else (),
                sex=rng.choice((0, 1, 2, model.sex, model.sex)),
                nationalities=model.nationalities if rng.random() < 0.5 else ("NLD",),
            )
        )
    return subjects


def _matches(screener: Screener, subjects: list[Subject], review: float) -> list[list[Match]]:
    return [[m for m in ms if m.score >= review] for ms in screener.screen_many(subjects)]


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("review", [0.05, 0.4])
def test_the_bound_leaves_out_no_reportable_match(seed: int, review: float) -> None:
    rng = random.Random(seed)
    entries = _entries(rng, 600)
    subjects = _subjects(rng, entries, 600)
    index = ScreeningIndex.build(entries)
    bounded = Screener(index, [replace(s, review_threshold=review) for s in DEFAULT_LISTS])
    unbounded = Screener(index, [replace(s, review_threshold=1e-9) for s in DEFAULT_LISTS])
    assert _matches(bounded, subjects, review) == _matches(unbounded, subjects, review)
    # The comparison means something only if the bound did leave candidates out.
    assert sum(map(len, index.candidates(subjects, review_threshold=review))) < sum(
        map(len, index.candidates(subjects))
    )


def test_the_bound_holds_for_entries_added_after_the_build() -> None:
    rng = random.Random(7)
    entries = _entries(rng, 400)
    subjects = _subjects(rng, entries, 400)
    index = ScreeningIndex.build(entries[:200], merge_threshold=10**9)
    for entry in entries[200:]:
        index.upsert(entry.record_id, [entry])
    bounded = Screener(index)
    unbounded = Screener(index, [replace(s, review_threshold=1e-9) for s in DEFAULT_LISTS])
    review = DEFAULT_LISTS[0].review_threshold
    assert _matches(bounded, subjects, review) == _matches(unbounded, subjects, review)


@pytest.mark.parametrize(
    ("entry_name", "subject_name"),
    [
        (("NGUYEN", "THI HUE"), ("NGUYEN", "LAN HU")),  # umlaut E, a word too short for a skeleton
        (("LI", "WANG WEI"), ("LI", "WANGWEI")),  # two words of the entry written as one
        (("LI", "WANGWEI"), ("LI", "WANG WEI")),  # and the other way round
        (("VAN DEN BERG", "PIETER"), ("VANDENBERG", "PIETER")),
    ],
)
def test_words_matching_without_a_shared_code_are_bounded_as_matches(
    entry_name: tuple[str, str], subject_name: tuple[str, str]
) -> None:
    # A candidate (same birth date) whose sex and nationality differ: a score near the middle.
    entry = ListEntry(
        "N:1",
        1,
        "INTERPOL-CCC-LYON",
        ("notices",),
        "notice",
        names=(PersonName(NameRole.PRIMARY, *entry_name),),
        birth_dates=(BirthDate(1970, 5, 1),),
        sex=1,
        nationalities=("VNM",),
    )
    subject = Subject(
        "S:1",
        "PAX:1",
        1,
        "person",
        names=(PersonName(NameRole.PRIMARY, *subject_name),),
        birth_dates=(BirthDate(1970, 5, 1),),
        sex=2,
        nationalities=("FRA",),
    )
    index = ScreeningIndex.build([entry])
    unbounded = Screener(index, [replace(s, review_threshold=1e-9) for s in DEFAULT_LISTS])
    (match,) = unbounded.screen(subject)
    review = round(match.score - 0.01, 2)
    bounded = Screener(index, [replace(s, review_threshold=review) for s in DEFAULT_LISTS])
    assert bounded.screen(subject) == [match]
