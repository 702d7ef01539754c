"""Deterministic, realistic records for the benchmarks, and a fast encoder for them.

Record ``n`` of a run is a Person when ``n`` is even and the TravelDocument held by that person
when ``n`` is odd (linked to record ``n - 1`` with LINK_TYPE_HOLDER). Contents are drawn from
small national name tables with a generator seeded by ``n % TEMPLATE_COUNT``, so the same ``n``
always gives the same content; the record ids carry a per-run tag and ``n``, so every record of a
run has its own id and the gateway stores it as a new record rather than recognising a duplicate.

The contents look like what the adapters produce: accented and non-Latin names with their ICAO
transliterations, partial birth dates, ICAO-only country codes ("D" for Germany), a TD3 machine
readable zone with correct check digits, handling codes and provenance.

Building a record through the protobuf API costs tens of microseconds of Python; the load
generator shares two cores with the server it measures, so :class:`RecordEncoder` pre-serializes
``TEMPLATE_COUNT`` templates once and then only splices the per-record ids into the bytes.
"""

# Cyrillic and Greek names are intended, not look-alike letters.
# ruff: noqa: RUF001

from __future__ import annotations

import hashlib
import os
import random
import time
import unicodedata
from dataclasses import dataclass

from liaison.v1 import common_pb2, exchange_pb2, person_pb2, record_pb2, travel_document_pb2

__all__ = [
    "TEMPLATE_COUNT",
    "RecordEncoder",
    "build_record",
    "mrz_check_digit",
    "new_run_tag",
    "record_id",
]

TEMPLATE_COUNT = 2048
"""Distinct contents; even, so that ``n`` and ``n % TEMPLATE_COUNT`` have the same kind."""

_ID_DIGITS = 9
"""Fixed width of ``n`` in record ids, so that an id's length depends only on its kind."""


@dataclass(frozen=True, slots=True)
class _Nation:
    """What the generator needs to make a plausible person of one nationality."""

    iso: str
    """ISO 3166-1 alpha-3 code."""
    city: str
    unlocode: str
    language: str
    """ISO 639-2/B language code."""
    authority: str
    """Issuing authority printed on passports."""
    families: tuple[tuple[str, str], ...]
    """(native, Latin transliteration) pairs; the transliteration is empty for Latin names."""
    female: tuple[tuple[str, str], ...]
    male: tuple[tuple[str, str], ...]
    icao: str = ""
    """ICAO 9303 code when it differs from ``iso`` (Germany is "D"), else empty."""
    script: str = ""
    """ISO 15924 script of the native names; empty for Latin."""


def _latin(*names: str) -> tuple[tuple[str, str], ...]:
    """Latin-script names, whose transliteration is the ICAO form computed later."""
    return tuple((name, "") for name in names)


_NATIONS: tuple[_Nation, ...] = (
    _Nation(
        iso="FRA",
        city="Lyon",
        unlocode="FRLYS",
        language="FRE",
        authority="PREFECTURE DU RHONE",
        families=_latin("Martin", "Lefèvre", "Dubois", "Giraud", "Benoît", "Roux"),
        female=_latin("Élodie", "Camille", "Anne-Sophie", "Inès"),
        male=_latin("Jean-Luc", "Théo", "François", "Mathis"),
    ),
    _Nation(
        iso="DEU",
        icao="D",
        city="Frankfurt am Main",
        unlocode="DEFRA",
        language="GER",
        authority="STADT FRANKFURT AM MAIN",
        families=_latin("Müller", "Schäfer", "Weiß", "Groß", "Schmidt", "Köhler"),
        female=_latin("Jürgen", "Anna-Lena", "Sophie", "Käthe"),
        male=_latin("Jürgen", "Lukas", "Maximilian", "Björn"),
    ),
    _Nation(
        iso="ESP",
        city="Madrid",
        unlocode="ESMAD",
        language="SPA",
        authority="DIRECCION GENERAL DE LA POLICIA",
        families=_latin("García López", "Fernández", "Martínez Ruiz", "Núñez"),
        female=_latin("María José", "Lucía", "Carmen"),
        male=_latin("José Antonio", "Íñigo", "Javier"),
    ),
    _Nation(
        iso="POL",
        city="Warszawa",
        unlocode="PLWAW",
        language="POL",
        authority="WOJEWODA MAZOWIECKI",
        families=_latin("Nowak", "Wiśniewska", "Kowalski", "Wójcik", "Zieliński"),
        female=_latin("Małgorzata", "Agnieszka", "Zofia"),
        male=_latin("Łukasz", "Paweł", "Krzysztof"),
    ),
    _Nation(
        iso="NLD",
        city="Rotterdam",
        unlocode="NLRTM",
        language="DUT",
        authority="BURGEMEESTER VAN ROTTERDAM",
        families=_latin("de Vries", "van den Berg", "Jansen", "Bakker"),
        female=_latin("Sanne", "Fenna", "Anouk"),
        male=_latin("Daan", "Sem", "Joris"),
    ),
    _Nation(
        iso="UKR",
        city="Odesa",
        unlocode="UAODS",
        language="UKR",
        authority="4810",
        script="Cyrl",
        families=(
            ("Шевченко", "SHEVCHENKO"),
            ("Коваленко", "KOVALENKO"),
            ("Бондаренко", "BONDARENKO"),
        ),
        female=(("Олена", "OLENA"), ("Ірина", "IRYNA"), ("Наталія", "NATALIIA")),
        male=(("Тарас", "TARAS"), ("Андрій", "ANDRII"), ("Олексій", "OLEKSII")),
    ),
    _Nation(
        iso="GRC",
        city="Piraeus",
        unlocode="GRPIR",
        language="GRE",
        authority="HELLENIC POLICE",
        script="Grek",
        families=(
            ("Παπαδόπουλος", "PAPADOPOULOS"),
            ("Γεωργίου", "GEORGIOU"),
            ("Νικολάου", "NIKOLAOU"),
        ),
        female=(("Μαρία", "MARIA"), ("Ελένη", "ELENI")),
        male=(("Γιώργος", "GIORGOS"), ("Δημήτρης", "DIMITRIS")),
    ),
    _Nation(
        iso="NGA",
        city="Lagos",
        unlocode="NGLOS",
        language="ENG",
        authority="NIGERIA IMMIGRATION SERVICE",
        families=_latin("Okafor", "Adeyemi", "Eze", "Balogun"),
        female=_latin("Chiamaka", "Ngozi", "Folake"),
        male=_latin("Chukwuemeka", "Olumide", "Tunde"),
    ),
    _Nation(
        iso="BRA",
        city="São Paulo",
        unlocode="BRSAO",
        language="POR",
        authority="POLICIA FEDERAL",
        families=_latin("Silva", "Santos", "Oliveira", "Conceição"),
        female=_latin("Ana Júlia", "Letícia", "Beatriz"),
        male=_latin("João Pedro", "Thiago", "Luís"),
    ),
    _Nation(
        iso="IRL",
        city="Dublin",
        unlocode="IEDUB",
        language="ENG",
        authority="DEPARTMENT OF FOREIGN AFFAIRS",
        families=_latin("O'Brien", "Murphy", "Ní Bhriain", "Kelly"),
        female=_latin("Siobhán", "Aoife", "Niamh"),
        male=_latin("Seán", "Cian", "Oisín"),
    ),
)

BENCH_CENTRE = "WCO-I2C"
"""The centre the benchmarked gateway runs as: a centre publishes only its own records."""
_RELEASABLE = ("INTERPOL-CCC-LYON", "WCO-I2C", "EUROPOL-EC3")
_CARRIERS = ("AF", "LH", "IB", "LO", "KL", "PS", "A3", "W3", "LA", "EI")
_EYES = ("BRO", "BLU", "GRE", "HAZ")
_HAIR = ("BLA", "BRO", "BLN", "RED", "GRY")
_OCCUPATIONS = ("ENGINEER", "STUDENT", "DRIVER", "TRADER", "NURSE", "SEAFARER", "UNKNOWN")

# The letters ICAO 9303 Part 3 (section 6) transliterates to more than one letter; the rest lose
# their diacritics through NFKD decomposition.
_ICAO_SPECIAL = str.maketrans(
    {"Ä": "AE", "Ö": "OE", "Ü": "UE", "ß": "SS", "Æ": "AE", "Ø": "OE", "Å": "AA", "Ł": "L"}
)


def new_run_tag() -> str:
    """A tag that makes this run's record ids differ from every other run's."""
    return f"{time.strftime('%Y%m%dT%H%M%S', time.gmtime())}-{os.getpid()}"


def record_id(run_tag: str, n: int) -> str:
    """The id of record ``n``: fixed length per kind, valid for the contract's id pattern, in the
    benchmarked centre's namespace (a centre publishes ids of its own namespace only)."""
    kind = "person" if n % 2 == 0 else "document"
    return f"{BENCH_CENTRE}:{run_tag}:{kind}:{n:0{_ID_DIGITS}d}"


def icao_name(text: str) -> str:
    """``text`` upper-cased and transliterated to the MRZ alphabet (A-Z and space)."""
    decomposed = unicodedata.normalize("NFKD", text.upper().translate(_ICAO_SPECIAL))
    letters = [c for c in decomposed if not unicodedata.combining(c)]
    # Apostrophes are dropped and hyphens become separators, as printed in the MRZ.
    return "".join(" " if c == "-" else c for c in letters if c.isascii() and c != "'")


def mrz_check_digit(field: str) -> str:
    """ICAO 9303 check digit: weights 7, 3, 1 over digits, letters A=10..Z=35 and ``<`` = 0."""
    total = 0
    for position, char in enumerate(field):
        if char.isdigit():
            value = int(char)
        elif "A" <= char <= "Z":
            value = ord(char) - ord("A") + 10
        else:
            value = 0
        total += value * (7, 3, 1)[position % 3]
    return str(total % 10)


def _mrz_field(text: str, width: int) -> str:
    return text.replace(" ", "<")[:width].ljust(width, "<")


def _yymmdd(date: common_pb2.PartialDate) -> str:
    return f"{date.year % 100:02d}{date.month:02d}{date.day:02d}"


def _td3(
    issuing: str,
    family: str,
    given: str,
    number: str,
    nationality: str,
    birth: common_pb2.PartialDate,
    sex: str,
    expiry: common_pb2.PartialDate,
    personal: str,
) -> list[str]:
    """The two 44-character lines of a passport data page MRZ, check digits included."""
    name = _mrz_field(f"{family}  {given}", 39)
    line1 = f"P<{_mrz_field(issuing, 3)}{name}"
    doc = _mrz_field(number, 9) + mrz_check_digit(_mrz_field(number, 9))
    born = _yymmdd(birth) + mrz_check_digit(_yymmdd(birth))
    expires = _yymmdd(expiry) + mrz_check_digit(_yymmdd(expiry))
    optional = _mrz_field(personal, 14)
    optional += mrz_check_digit(optional) if personal else "<"
    composite = mrz_check_digit(doc + born + expires + optional)
    line2 = f"{doc}{_mrz_field(nationality, 3)}{born}{sex}{expires}{optional}{composite}"
    return [line1, line2]


def _country(nation: _Nation) -> common_pb2.CountryCode:
    if nation.icao:
        return common_pb2.CountryCode(
            code=nation.icao,
            system=common_pb2.COUNTRY_CODE_SYSTEM_ICAO9303,
            raw=_mrz_field(nation.icao, 3),
        )
    return common_pb2.CountryCode(
        code=nation.iso, system=common_pb2.COUNTRY_CODE_SYSTEM_ISO3166_ALPHA3
    )


@dataclass(frozen=True, slots=True)
class _Subject:
    """One person and their passport; the Person and TravelDocument records both describe it."""

    nation: _Nation
    family: tuple[str, str]
    given: tuple[str, str]
    sex: common_pb2.Sex.ValueType
    birth: tuple[int, int, int]
    birth_precision: int
    """3 for a full date, 2 for year and month, 1 for the year only (as INTERPOL notices give)."""
    alias: tuple[str, str] | None
    document_number: str
    personal_number: str
    issued: tuple[int, int, int]
    physical: bool
    occupation: str
    seed: int


def _subject(seed: int) -> _Subject:
    rng = random.Random(seed)
    nation = rng.choice(_NATIONS)
    female = rng.random() < 0.5
    family = rng.choice(nation.families)
    others = [name for name in nation.families if name != family]
    alias = rng.choice(others) if rng.random() < 0.2 else None
    letters = "".join(rng.choice("CFGHJKLMNPRTVWXYZ") for _ in range(2))
    return _Subject(
        nation=nation,
        family=family,
        given=rng.choice(nation.female if female else nation.male),
        sex=common_pb2.SEX_FEMALE if female else common_pb2.SEX_MALE,
        # Day 28 at most keeps every date valid without a calendar.
        birth=(rng.randint(1950, 2005), rng.randint(1, 12), rng.randint(1, 28)),
        birth_precision=rng.choices((3, 2, 1), weights=(85, 10, 5))[0],
        alias=alias,
        document_number=f"{letters}{rng.randint(0, 9_999_999):07d}",
        personal_number=f"{rng.randint(10**9, 10**11 - 1)}" if rng.random() < 0.3 else "",
        issued=(rng.randint(2016, 2025), rng.randint(1, 12), rng.randint(1, 28)),
        physical=rng.random() < 0.5,
        occupation=rng.choice(_OCCUPATIONS),
        seed=seed,
    )


def _name(
    kind: common_pb2.NameType.ValueType,
    family: tuple[str, str],
    given: tuple[str, str],
    script: str,
) -> common_pb2.Name:
    if not script:
        return common_pb2.Name(type=kind, family=family[0], given=given[0])
    return common_pb2.Name(
        type=kind,
        family=family[0],
        given=given[0],
        script=script,
        transliteration=common_pb2.Transliteration(
            family=family[1], given=given[1], scheme="ICAO-9303"
        ),
    )


def _mrz_family_given(subject: _Subject) -> tuple[str, str]:
    """Holder's names as on the data page: the transliteration, or the Latin name in MRZ form."""
    family = subject.family[1] or icao_name(subject.family[0])
    given = subject.given[1] or icao_name(subject.given[0])
    return family, given


def _person(subject: _Subject) -> person_pb2.Person:
    nation, rng = subject.nation, random.Random(subject.seed ^ 0x5EED)
    year, month, day = subject.birth
    names = [_name(common_pb2.NAME_TYPE_PRIMARY, subject.family, subject.given, nation.script)]
    if subject.alias is not None:
        names.append(_name(common_pb2.NAME_TYPE_ALIAS, subject.alias, subject.given, nation.script))
    person = person_pb2.Person(
        names=names,
        birth_date=common_pb2.PartialDate(
            year=year,
            month=month if subject.birth_precision >= 2 else 0,
            day=day if subject.birth_precision >= 3 else 0,
        ),
        birth_place=common_pb2.Place(
            name=nation.city, country=_country(nation), unlocode=nation.unlocode
        ),
        sex=subject.sex,
        nationalities=[_country(nation)],
        residence_country=_country(rng.choice(_NATIONS)),
        languages=[nation.language] + (["ENG"] if nation.language != "ENG" else []),
        occupation=subject.occupation,
    )
    if subject.physical:
        person.physical_description.CopyFrom(
            person_pb2.PhysicalDescription(
                height_m=round(rng.uniform(1.55, 1.95), 2),
                weight_kg=float(rng.randint(50, 110)),
                eye_colours=[rng.choice(_EYES)],
                hair_colours=[rng.choice(_HAIR)],
                distinguishing_marks="SCAR LEFT FOREARM" if rng.random() < 0.3 else "",
            )
        )
    if subject.personal_number:
        person.identifiers.append(
            common_pb2.Identifier(
                scheme="PERSONAL_NUMBER", value=subject.personal_number, issuer=_country(nation)
            )
        )
    return person


def _travel_document(subject: _Subject) -> travel_document_pb2.TravelDocument:
    nation = subject.nation
    family, given = _mrz_family_given(subject)
    code = nation.icao or nation.iso
    birth = common_pb2.PartialDate(
        year=subject.birth[0], month=subject.birth[1], day=subject.birth[2]
    )
    issued = common_pb2.PartialDate(
        year=subject.issued[0], month=subject.issued[1], day=subject.issued[2]
    )
    expiry = common_pb2.PartialDate(year=issued.year + 10, month=issued.month, day=issued.day)
    sex = "F" if subject.sex == common_pb2.SEX_FEMALE else "M"
    return travel_document_pb2.TravelDocument(
        document_type=travel_document_pb2.DOCUMENT_TYPE_PASSPORT,
        document_code="P<",
        document_number=subject.document_number,
        issuing_state=_country(nation),
        holder_name=common_pb2.Name(type=common_pb2.NAME_TYPE_PRIMARY, family=family, given=given),
        holder_nationality=_country(nation),
        holder_birth_date=birth,
        holder_sex=subject.sex,
        expiry_date=expiry,
        issue_date=issued,
        issue_place=common_pb2.Place(name=nation.city.upper(), country=_country(nation)),
        issuing_authority=nation.authority,
        personal_number=subject.personal_number,
        mrz=travel_document_pb2.MachineReadableZone(
            format=travel_document_pb2.MRZ_FORMAT_TD3,
            lines=_td3(
                code,
                family,
                given,
                subject.document_number,
                code,
                birth,
                sex,
                expiry,
                subject.personal_number,
            ),
            optional_data=[subject.personal_number],
            check_digits_valid=True,
        ),
    )


def _envelope(template: int) -> record_pb2.Record:
    """Provenance and handling of template ``template`` (no id, link or body)."""
    rng = random.Random(template * 7919 + 1)
    is_document = template % 2 == 1
    carrier = rng.choice(_CARRIERS)
    flight = f"{carrier}{rng.randint(100, 9999)}"
    day = f"2026{rng.randint(1, 12):02d}{rng.randint(1, 28):02d}"
    code = rng.choices(
        (
            record_pb2.HANDLING_CODE_H0,
            record_pb2.HANDLING_CODE_H1,
            record_pb2.HANDLING_CODE_H2,
            record_pb2.HANDLING_CODE_H3,
        ),
        weights=(60, 20, 15, 5),
    )[0]
    record = record_pb2.Record(
        provenance=record_pb2.Provenance(
            originating_centre=BENCH_CENTRE,
            adapter_name="icao-mrz" if is_document else "paxlst",
            adapter_version="1.4.2",
            source_format="ICAO 9303 TD3" if is_document else "UN/EDIFACT PAXLST D05B",
            source_reference=f"{flight}-{day}:{rng.randint(1, 300)}",
            payload_sha256=hashlib.sha256(f"bench-payload-{template}".encode()).digest(),
        ),
        handling=record_pb2.Handling(
            code=code,
            source_reliability=rng.choice(
                (record_pb2.SOURCE_RELIABILITY_A, record_pb2.SOURCE_RELIABILITY_B)
            ),
            information_accuracy=rng.choice(
                (record_pb2.INFORMATION_ACCURACY_1, record_pb2.INFORMATION_ACCURACY_2)
            ),
            releasable_to=list(rng.sample(_RELEASABLE, rng.randint(0, 2))),
            purpose="Border control: advance passenger information risk assessment",
            restrictions="Not to be used in asylum procedures"
            if code == record_pb2.HANDLING_CODE_H3
            else "",
        ),
    )
    record.provenance.received_at.FromSeconds(1_795_000_000 + template * 61)
    return record


def build_record(run_tag: str, n: int) -> record_pb2.Record:
    """Record ``n`` of run ``run_tag``, built through the protobuf API (the reference form)."""
    template = n % TEMPLATE_COUNT
    subject = _subject(template // 2)
    record = _envelope(template)
    record.record_id = record_id(run_tag, n)
    if n % 2 == 0:
        record.person.CopyFrom(_person(subject))
    else:
        record.links.append(
            record_pb2.Link(
                type=record_pb2.LINK_TYPE_HOLDER, target_record_id=record_id(run_tag, n - 1)
            )
        )
        record.travel_document.CopyFrom(_travel_document(subject))
    return record


def _varint(value: int) -> bytes:
    out = bytearray()
    while value > 0x7F:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def _length_delimited(field_number: int, payload: bytes) -> bytes:
    """A protobuf field of wire type 2 (string, bytes or message)."""
    return _varint(field_number << 3 | 2) + _varint(len(payload)) + payload


class RecordEncoder:
    """Serialized records of one run, fast enough to keep the load generator off the CPU.

    A serialized message is the concatenation of its serialized fields, and a message parsed from
    several concatenated pieces is their merge. Record fields are written in field-number order
    (id 1, provenance 3, handling 4, links 5, body 10+), so each record is spliced from its id,
    the template's envelope, its link and the template's body, all but the first and third
    serialized once per template. :meth:`check` compares the splice with :func:`build_record`.
    """

    def __init__(self, run_tag: str) -> None:
        """Serialize the ``TEMPLATE_COUNT`` templates of run ``run_tag`` (about a second)."""
        self.run_tag = run_tag
        self._envelopes: list[bytes] = []
        self._bodies: list[bytes] = []
        for template in range(TEMPLATE_COUNT):
            record = build_record(run_tag, template)
            envelope = record_pb2.Record(provenance=record.provenance, handling=record.handling)
            self._envelopes.append(envelope.SerializeToString())
            body = record_pb2.Record()
            if template % 2 == 0:
                body.person.CopyFrom(record.person)
            else:
                body.travel_document.CopyFrom(record.travel_document)
            self._bodies.append(body.SerializeToString())

    def record_id(self, n: int) -> str:
        """The id of record ``n`` of this run."""
        return record_id(self.run_tag, n)

    def record(self, n: int) -> bytes:
        """Record ``n`` serialized as a ``liaison.v1.Record``."""
        template = n % TEMPLATE_COUNT
        parts = [_length_delimited(1, self.record_id(n).encode()), self._envelopes[template]]
        if n % 2 == 1:
            link = record_pb2.Link(
                type=record_pb2.LINK_TYPE_HOLDER, target_record_id=self.record_id(n - 1)
            )
            parts.append(_length_delimited(5, link.SerializeToString()))
        parts.append(self._bodies[template])
        return b"".join(parts)

    def entry(self, n: int) -> bytes:
        """Record ``n`` as field 1 of a message.

        That is a whole serialized ``SubmitRequest`` (``record = 1``) and also one element of a
        ``SubmitStreamRequest`` (``repeated Record records = 1``): concatenating entries makes
        a serialized batch with no further encoding.
        """
        return _length_delimited(1, self.record(n))

    def batch(self, first: int, count: int) -> bytes:
        """Records ``first`` to ``first + count - 1`` as a serialized ``SubmitStreamRequest``."""
        return b"".join(self.entry(n) for n in range(first, first + count))

    def check(self, samples: int = 64) -> None:
        """Raise ``AssertionError`` unless spliced records parse equal to the reference ones."""
        for n in range(TEMPLATE_COUNT - samples // 2, TEMPLATE_COUNT + samples // 2):
            spliced = exchange_pb2.SubmitRequest.FromString(self.entry(n))
            expected = exchange_pb2.SubmitRequest(record=build_record(self.run_tag, n))
            if spliced != expected:
                raise AssertionError(f"record {n}: spliced encoding differs from build_record")
        batch = exchange_pb2.SubmitStreamRequest.FromString(self.batch(10, 3))
        if [r.record_id for r in batch.records] != [self.record_id(n) for n in (10, 11, 12)]:
            raise AssertionError("a concatenated batch does not parse as SubmitStreamRequest")
