"""The labelled evaluation set: a watchlist of notices and stolen/lost documents, and travellers
who are true matches (by category), decoys, or nobody in particular. Deterministic per seed.

Every traveller is a Person record with a passport TravelDocument (HOLDER link), as a PAXLST
manifest gives them. ``truth`` holds the (traveller person record id, entry record id) pairs
that are true matches; ``category`` names each traveller's category.
"""

from __future__ import annotations

import random
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field

from bench.screening.cultures import (
    ARABIC_SCHEMES,
    CULTURES,
    CYRILLIC_SCHEMES,
    Culture,
    romanise_arabic,
    romanise_cyrillic,
)
from liaison.v1 import common_pb2, record_pb2, travel_document_pb2

__all__ = ["CATEGORIES", "DECOYS", "EvaluationSet", "Person", "generate"]

CATEGORIES = (
    "exact",
    "transliteration_cyrillic",
    "transliteration_arabic",
    "diacritics",
    "order_swapped",
    "compound_shortened",
    "typo_1",
    "typo_2",
    "missing_given_name",
    "partial_birth_date",
    "day_month_swapped",
    "alias",
    "stolen_passport_impostor",
    "ocr_document_number",
    "nameless_notice_document",
)
DECOYS = ("common_name", "near_name", "document_other_state", "relative")
_OCR = {"O": "0", "0": "O", "I": "1", "1": "I", "B": "8", "8": "B", "S": "5", "5": "S"}
_CENTRES = ("INTERPOL-CCC-LYON", "INTERPOL-IGCI-SINGAPORE", "INTERPOL-RB-BUENOSAIRES")


@dataclass
class Person:
    """A generated person: names as the notice (or document) would write them."""

    culture: Culture
    family: str
    given: str
    sex: int
    birth: tuple[int, int, int]
    nationality: str
    family_latin: str = ""
    given_latin: str = ""
    script: str = ""


@dataclass
class EvaluationSet:
    """Records and labels."""

    entries: list[record_pb2.Record] = field(default_factory=list)
    travellers: list[list[record_pb2.Record]] = field(default_factory=list)
    """Each traveller's records: a Person then its passport."""
    category: dict[str, str] = field(default_factory=dict)
    """Traveller person record id -> category ("background" for nobody in particular)."""
    truth: set[tuple[str, str]] = field(default_factory=set)


class _Generator:
    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed)
        self.out = EvaluationSet()
        self.serial = 0

    # -- people ------------------------------------------------------------------------------
    def person(self, culture: Culture | None = None, sex: int | None = None) -> Person:
        rng = self.rng
        culture = culture or rng.choice(CULTURES)
        sex = sex or rng.choice((1, 2))
        given = rng.choice(culture.female if sex == 1 else culture.male)
        family = rng.choice(culture.families)
        if culture.compound_surnames:
            second = rng.choice(culture.families)
            if second != family:
                family = f"{family} {second}"
        birth = (rng.randint(1950, 2004), rng.randint(1, 12), rng.randint(1, 28))
        return Person(culture, family, given, sex, birth, culture.nationality)

    def latin(self, person: Person, scheme: str | None = None) -> tuple[str, str]:
        """The person's name as a Latin-script document of their country would write it."""
        culture = person.culture
        if culture.script == "Cyrl":
            scheme = scheme or "icao"
            return romanise_cyrillic(person.family, scheme), romanise_cyrillic(person.given, scheme)
        if culture.script == "Arab-sounds":
            scheme = scheme or "scholarly"
            rng = random.Random(f"{person.family}{person.given}{scheme}")
            return (
                romanise_arabic(person.family, scheme, rng),
                romanise_arabic(person.given, scheme, rng),
            )
        return person.family, person.given

    # -- records ------------------------------------------------------------------------------
    def next_id(self, prefix: str) -> str:
        self.serial += 1
        return f"{prefix}:{self.serial:06d}"

    def notice(
        self,
        person: Person,
        *,
        names: list[common_pb2.Name] | None = None,
        birth: tuple[int, int, int] | None = None,
        passport: tuple[str, str] | None = None,
    ) -> record_pb2.Record:
        record = record_pb2.Record(record_id=self.next_id("NOTICE"), version=1)
        record.provenance.originating_centre = self.rng.choice(_CENTRES)
        record.handling.code = record_pb2.HANDLING_CODE_H1
        notice = record.notice
        notice.notice_type = 1  # type: ignore[arg-type, assignment, unused-ignore]
        subject = notice.subject
        if names is None:
            names = [self.notice_name(person)]
        subject.names.extend(names)
        year, month, day = birth or person.birth
        subject.birth_date.year, subject.birth_date.month, subject.birth_date.day = year, month, day
        subject.sex = person.sex  # type: ignore[assignment]
        subject.nationalities.add(code=person.nationality)
        if passport:
            subject.identifiers.add(
                scheme="PASSPORT",
                value=passport[0],
                issuer=common_pb2.CountryCode(code=passport[1]),
            )
        self.out.entries.append(record)
        return record

    def notice_name(self, person: Person, role: int = 1) -> common_pb2.Name:
        """The notice's name: Cyrillic with its ICAO transliteration, else Latin."""
        if person.culture.script == "Cyrl":
            family, given = self.latin(person, "icao")
            return common_pb2.Name(
                type=role,  # type: ignore[arg-type]
                family=person.family.upper(),
                given=person.given.upper(),
                script="Cyrl",
                transliteration=common_pb2.Transliteration(family=family, given=given),
            )
        family, given = self.latin(person)
        return common_pb2.Name(type=role, family=family, given=given)  # type: ignore[arg-type]

    def sltd(self, person: Person, number: str, state: str, status: int = 2) -> record_pb2.Record:
        record = record_pb2.Record(record_id=self.next_id("SLTD"), version=1)
        record.provenance.originating_centre = self.rng.choice(_CENTRES)
        document = record.travel_document
        document.document_type = travel_document_pb2.DOCUMENT_TYPE_PASSPORT
        document.document_number = number
        document.issuing_state.code = state
        family, given = self.latin(person)
        document.holder_name.family, document.holder_name.given = _ascii(family), _ascii(given)
        date = document.holder_birth_date
        date.year, date.month, date.day = person.birth
        document.holder_sex = person.sex  # type: ignore[assignment]
        document.holder_nationality.code = person.nationality
        document.status = status  # type: ignore[assignment]
        self.out.entries.append(record)
        return record

    def passport_number(self) -> str:
        letters = "ABCDEFGHJKLMNPRTUVWXY"
        return self.rng.choice(letters) + "".join(self.rng.choice("0123456789") for _ in range(8))

    def traveller(
        self,
        category: str,
        family: str,
        given: str,
        person: Person,
        *,
        birth: tuple[int, int, int] | None = None,
        passport: tuple[str, str] | None = None,
        nationality: str | None = None,
        truth: list[record_pb2.Record] = (),  # type: ignore[assignment]
    ) -> str:
        person_id = self.next_id("PAX")
        record = record_pb2.Record(record_id=person_id, version=1)
        traveller = record.person
        # Carriers send what the passport's MRZ says: capitals, ICAO-transliterated.
        traveller.names.add(type=1, family=_mrz(family), given=_mrz(given))
        year, month, day = birth or person.birth
        traveller.birth_date.year, traveller.birth_date.month, traveller.birth_date.day = (
            year,
            month,
            day,
        )
        traveller.sex = person.sex  # type: ignore[assignment]
        traveller.nationalities.add(code=nationality or person.nationality)
        number, state = passport or (self.passport_number(), nationality or person.nationality)
        document = record_pb2.Record(record_id=self.next_id("PAXDOC"), version=1)
        document.links.add(type=record_pb2.LINK_TYPE_HOLDER, target_record_id=person_id)
        body = document.travel_document
        body.document_type = travel_document_pb2.DOCUMENT_TYPE_PASSPORT
        body.document_number = number
        body.issuing_state.code = state
        body.holder_name.family, body.holder_name.given = _mrz(family), _mrz(given)
        body.holder_birth_date.CopyFrom(traveller.birth_date)
        body.holder_sex = person.sex  # type: ignore[assignment]
        body.holder_nationality.code = nationality or person.nationality
        self.out.travellers.append([record, document])
        self.out.category[person_id] = category
        for entry in truth:
            self.out.truth.add((person_id, entry.record_id))
        return person_id


def _mrz(text: str) -> str:
    """Capitals, diacritics as ICAO writes them (Ä → AE ...), apostrophes dropped."""
    special = str.maketrans(
        {
            "Ä": "AE",
            "Ö": "OE",
            "Ü": "UE",
            "Å": "AA",
            "Ø": "OE",
            "ß": "SS",
            "Ł": "L",
            "Đ": "D",
            "Æ": "AE",
        }
    )
    upper = text.upper().translate(special)
    return _ascii(upper).replace("'", "")


def _fold(text: str) -> str:
    """Diacritics dropped without expansion (Ü → U)."""
    special = str.maketrans({"Ł": "L", "ł": "l", "Đ": "D", "đ": "d", "ß": "ss", "Ø": "O", "ø": "o"})
    return _ascii(text.translate(special)).upper()


def _ascii(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c) and ord(c) < 128)


def _typo(rng: random.Random, word: str) -> str:
    letters = list(word)
    positions = [i for i, c in enumerate(letters) if c.isalpha()]
    if len(positions) < 3:
        return word
    index = rng.choice(positions[1:])
    kind = rng.choice(("substitute", "delete", "insert", "transpose"))
    if kind == "substitute":
        letters[index] = rng.choice([c for c in "ABCDEFGHIKLMNOPRSTUVY" if c != letters[index]])
    elif kind == "delete":
        del letters[index]
    elif kind == "insert":
        letters.insert(index, rng.choice("AEILNORSTU"))
    elif index + 1 < len(letters) and letters[index + 1].isalpha():
        letters[index], letters[index + 1] = letters[index + 1], letters[index]
    else:
        letters[index] = rng.choice([c for c in "AEIOU" if c != letters[index]])
    return "".join(letters)


def generate(
    seed: int, *, per_category: int = 40, background: int = 1500, filler: int = 3000
) -> EvaluationSet:
    """The evaluation set for ``seed``.

    Args:
        seed: Different seeds give different sets (tune on one, report on another).
        per_category: Travellers per true-match category and per decoy kind.
        background: Travellers who match nothing by construction.
        filler: Notices and as many stolen documents about nobody on board.
    """
    g = _Generator(seed)
    rng = g.rng
    builders: dict[str, Callable[[], None]] = {}

    def exact() -> None:
        p = g.person()
        n = g.notice(p)
        family, given = g.latin(p)
        g.traveller("exact", family, given, p, truth=[n])

    def translit_cyrillic() -> None:
        p = g.person(rng.choice([c for c in CULTURES if c.script == "Cyrl"]))
        n = g.notice(p)
        family, given = g.latin(p, rng.choice([s for s in CYRILLIC_SCHEMES if s != "icao"]))
        g.traveller("transliteration_cyrillic", family, given, p, truth=[n])

    def translit_arabic() -> None:
        p = g.person(rng.choice([c for c in CULTURES if c.script == "Arab-sounds"]))
        notice_scheme, travel_scheme = rng.sample(sorted(ARABIC_SCHEMES), 2)
        family, given = g.latin(p, notice_scheme)
        n = g.notice(p, names=[common_pb2.Name(type=1, family=family, given=given)])  # type: ignore[arg-type, assignment, unused-ignore]
        family, given = g.latin(p, travel_scheme)
        g.traveller("transliteration_arabic", family, given, p, truth=[n])

    def diacritics() -> None:
        while True:
            p = g.person(rng.choice([c for c in CULTURES if c.script == "Latn"]))
            if not (p.family + p.given).isascii():
                break
        n = g.notice(p)
        # The notice writes the accents; the traveller's record folds them one way or the other.
        if rng.random() < 0.5:
            family, given = _fold(p.family), _fold(p.given)
        else:
            family, given = _mrz(p.family), _mrz(p.given)
        g.traveller("diacritics", family, given, p, truth=[n])

    def order_swapped() -> None:
        p = g.person()
        n = g.notice(p)
        family, given = g.latin(p)
        g.traveller("order_swapped", given, family, p, truth=[n])

    def compound() -> None:
        culture = rng.choice([c for c in CULTURES if c.compound_surnames])
        while True:
            p = g.person(culture)
            if " " in p.family:
                break
        n = g.notice(p)
        g.traveller("compound_shortened", p.family.split()[0], p.given, p, truth=[n])

    def typo(count: int) -> Callable[[], None]:
        def make() -> None:
            p = g.person()
            n = g.notice(p)
            family, given = (_mrz(x) for x in g.latin(p))
            for _ in range(count):
                if rng.random() < 0.5:
                    family = _typo(rng, family)
                else:
                    given = _typo(rng, given)
            g.traveller(f"typo_{count}", family, given, p, truth=[n])

        return make

    def missing_given() -> None:
        p = g.person()
        family, given = g.latin(p)
        name = g.notice_name(p)
        name.given = ""
        name.transliteration.given = ""
        n = g.notice(p, names=[name])
        g.traveller("missing_given_name", family, given, p, truth=[n])

    def partial_date() -> None:
        p = g.person()
        year, month, _ = p.birth
        n = g.notice(p, birth=(year, month if rng.random() < 0.5 else 0, 0))
        family, given = g.latin(p)
        g.traveller("partial_birth_date", family, given, p, truth=[n])

    def swapped_date() -> None:
        p = g.person()
        year, month, day = p.birth
        day = rng.choice([d for d in range(1, 13) if d != month])
        p.birth = (year, month, day)
        n = g.notice(p)
        family, given = g.latin(p)
        g.traveller("day_month_swapped", family, given, p, birth=(year, day, month), truth=[n])

    def alias() -> None:
        p = g.person()
        other = g.person(p.culture, p.sex)
        primary = g.notice_name(other)
        n = g.notice(p, names=[primary, g.notice_name(p, role=2)])
        family, given = g.latin(p)
        g.traveller("alias", family, given, p, truth=[n])

    def impostor() -> None:
        holder = g.person()
        number = g.passport_number()
        entry = g.sltd(holder, number, holder.nationality)
        p = g.person()
        family, given = g.latin(p)
        g.traveller(
            "stolen_passport_impostor",
            family,
            given,
            p,
            passport=(number, holder.nationality),
            truth=[entry],
        )

    def ocr() -> None:
        p = g.person()
        number = g.passport_number()
        while not any(c in _OCR for c in number[1:]):
            number = g.passport_number()
        entry = g.sltd(p, number, p.nationality, status=rng.choice((2, 3)))
        positions = [i for i, c in enumerate(number) if c in _OCR]
        i = rng.choice(positions)
        misread = number[:i] + _OCR[number[i]] + number[i + 1 :]
        family, given = g.latin(p)
        g.traveller(
            "ocr_document_number",
            family,
            given,
            p,
            passport=(misread, p.nationality),
            truth=[entry],
        )

    def nameless() -> None:
        p = g.person()
        number = g.passport_number()
        n = g.notice(
            p,
            names=[common_pb2.Name(type=1, family="-", given="-")],  # type: ignore[arg-type, assignment, unused-ignore]
            passport=(number, p.nationality),
        )
        family, given = g.latin(p)
        g.traveller(
            "nameless_notice_document",
            family,
            given,
            p,
            passport=(number, p.nationality),
            truth=[n],
        )

    def common_name() -> None:
        culture = rng.choice(CULTURES)
        p = g.person(culture)
        p.family, p.given = culture.families[0], (culture.male if p.sex == 2 else culture.female)[0]
        g.notice(p)
        other = g.person(culture, p.sex)
        other.nationality = rng.choice(
            [c.nationality for c in CULTURES if c.nationality != p.nationality]
        )
        family, given = g.latin(p)
        g.traveller("common_name", family, given, other, nationality=other.nationality)

    def near_name() -> None:
        p = g.person()
        g.notice(p)
        other = g.person(p.culture, p.sex)
        family, given = (_mrz(x) for x in g.latin(p))
        if rng.random() < 0.5:
            family = _typo(rng, family)
        else:
            given = _typo(rng, given)
        g.traveller("near_name", family, given, other)

    def other_state() -> None:
        holder = g.person()
        number = g.passport_number()
        g.sltd(holder, number, holder.nationality)
        p = g.person()
        while p.nationality == holder.nationality:
            p = g.person()
        family, given = g.latin(p)
        g.traveller("document_other_state", family, given, p, passport=(number, p.nationality))

    def relative() -> None:
        p = g.person()
        g.notice(p)
        kin = g.person(p.culture)
        kin.family = p.family
        kin.nationality = p.nationality
        gap = rng.choice((rng.randint(2, 8), rng.randint(20, 35)))
        kin.birth = (p.birth[0] + rng.choice((-gap, gap)), kin.birth[1], kin.birth[2])
        while kin.given == p.given:
            kin.given = rng.choice(kin.culture.female if kin.sex == 1 else kin.culture.male)
        family, given = g.latin(kin)
        g.traveller("relative", family, given, kin)

    builders = {
        "exact": exact,
        "transliteration_cyrillic": translit_cyrillic,
        "transliteration_arabic": translit_arabic,
        "diacritics": diacritics,
        "order_swapped": order_swapped,
        "compound_shortened": compound,
        "typo_1": typo(1),
        "typo_2": typo(2),
        "missing_given_name": missing_given,
        "partial_birth_date": partial_date,
        "day_month_swapped": swapped_date,
        "alias": alias,
        "stolen_passport_impostor": impostor,
        "ocr_document_number": ocr,
        "nameless_notice_document": nameless,
        "common_name": common_name,
        "near_name": near_name,
        "document_other_state": other_state,
        "relative": relative,
    }
    for name in (*CATEGORIES, *DECOYS):
        for _ in range(per_category):
            builders[name]()
    for _ in range(filler):
        g.notice(g.person())
        holder = g.person()
        g.sltd(holder, g.passport_number(), holder.nationality, status=rng.choice((2, 3, 4, 5)))
    for _ in range(background):
        p = g.person()
        family, given = g.latin(
            p, rng.choice(["icao", "bgn"]) if p.culture.script == "Cyrl" else None
        )
        g.traveller("background", family, given, p)
    return g.out
