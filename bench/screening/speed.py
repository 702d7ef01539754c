"""Speed and memory at scale: a 300-traveller manifest against 1,000,000 notice names and
10,000,000 listed documents, and the index rebuilt from 1,000,000 serialized records."""

from __future__ import annotations

import gc
import random
import statistics
import time
from collections.abc import Iterator
from dataclasses import dataclass

from bench.screening.cultures import CULTURES
from bench.screening.evaluation import _ascii
from gateway.screening import (
    DEFAULT_LISTS,
    BirthDate,
    DocumentKey,
    ListEntry,
    NameRole,
    PersonName,
    Screener,
    ScreeningIndex,
    Subject,
    entries_from_record,
)
from liaison.v1 import record_pb2

__all__ = ["Speed", "measure_rebuild", "measure_speed"]

_LATIN = [c for c in CULTURES if c.script == "Latn"]


@dataclass(frozen=True, slots=True)
class Speed:
    notices: int
    documents: int
    build_s: float
    index_bytes: int
    rss_delta_bytes: int
    bytes_per_entry: float
    manifests: int
    p50_ms: float
    p95_ms: float
    travellers_per_s: float
    hits_per_manifest: float


def _rss() -> int:
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    return 0


def _name(rng: random.Random) -> tuple[str, str, int]:
    culture = rng.choice(_LATIN)
    sex = rng.choice((1, 2))
    given = rng.choice(culture.female if sex == 1 else culture.male)
    # Invented surnames as well, so that a million names are not a few thousand repeated.
    family = rng.choice(culture.families)
    if rng.random() < 0.7:
        family = _ascii(family).upper() + rng.choice(
            ("", "SKI", "EN", "SON", "ER", "AN", "OV", "IC")
        )
        family = family[: rng.randint(min(3, len(family)), len(family))] + _syllable(rng)
    return _ascii(family).upper(), _ascii(given).upper(), sex


def _syllable(rng: random.Random) -> str:
    return (
        rng.choice("BCDFGKLMNPRSTVZ") + rng.choice("AEIOU") + rng.choice(("", "N", "R", "S", "L"))
    )


def _notices(count: int, seed: int) -> Iterator[ListEntry]:
    rng = random.Random(seed)
    for number in range(count):
        family, given, sex = _name(rng)
        year = rng.randint(1940, 2005)
        precision = rng.random()
        birth = BirthDate(year, rng.randint(1, 12), rng.randint(1, 28))
        if precision < 0.1:
            birth = BirthDate(year)
        elif precision < 0.15:
            birth = BirthDate(year, birth.month)
        yield ListEntry(
            record_id=f"NOTICE:{number:08d}",
            version=1,
            centre="INTERPOL-CCC-LYON",
            lists=("notices",),
            kind="notice",
            names=(PersonName(NameRole.PRIMARY, family, given),),
            birth_dates=(birth,),
            sex=sex,
            nationalities=(rng.choice(_LATIN).nationality,),
        )


def _document_number(rng: random.Random) -> str:
    return rng.choice("ABCDEFGHJKLMNPRTUVWXY") + f"{rng.randrange(100_000_000):08d}"


def _documents(count: int, seed: int) -> Iterator[ListEntry]:
    rng = random.Random(seed)
    for number in range(count):
        family, given, sex = _name(rng)
        state = rng.choice(_LATIN).nationality
        yield ListEntry(
            record_id=f"SLTD:{number:08d}",
            version=1,
            centre="INTERPOL-IGCI-SINGAPORE",
            lists=("sltd",),
            kind="travel_document",
            names=(PersonName(NameRole.PRIMARY, family, given),),
            birth_dates=(
                BirthDate(rng.randint(1940, 2005), rng.randint(1, 12), rng.randint(1, 28)),
            ),
            sex=sex,
            nationalities=(state,),
            documents=(DocumentKey(_document_number(rng), state, 1, 2),),
            document_centric=True,
        )


def _manifest(rng: random.Random, size: int, number: int) -> list[Subject]:
    subjects = []
    for position in range(size):
        family, given, sex = _name(rng)
        state = rng.choice(_LATIN).nationality
        birth = BirthDate(rng.randint(1940, 2005), rng.randint(1, 12), rng.randint(1, 28))
        subjects.append(
            Subject(
                identity_key=f"{number}-{position}",
                record_id=f"PAX:{number}:{position}",
                version=1,
                kind="person",
                names=(PersonName(NameRole.PRIMARY, family, given),),
                birth_dates=(birth,),
                sex=sex,
                nationalities=(state,),
                documents=(
                    DocumentKey(_document_number(rng), state, 1, 0, f"DOC:{number}:{position}", 1),
                ),
            )
        )
    return subjects


def measure_speed(
    notices: int = 1_000_000, documents: int = 10_000_000, manifests: int = 30, size: int = 300
) -> Speed:
    """Build the index from generated entries, then screen ``manifests`` manifests."""
    gc.collect()
    before = _rss()
    started = time.perf_counter()

    def everything() -> Iterator[ListEntry]:
        yield from _notices(notices, 11)
        yield from _documents(documents, 12)

    index = ScreeningIndex.build(everything())
    build_s = time.perf_counter() - started
    gc.collect()
    rss_delta = _rss() - before
    screener = Screener(index, DEFAULT_LISTS)
    rng = random.Random(13)
    # Half of the manifests' travellers are names and documents that are listed (as on a bad day).
    timings = []
    hits = 0
    for number in range(manifests + 2):
        subjects = _manifest(rng, size, number)
        started = time.perf_counter()
        results = screener.screen_many(subjects)
        elapsed = time.perf_counter() - started
        if number >= 2:  # two warm-up manifests
            timings.append(elapsed)
            hits += sum(len(r) for r in results)
    timings.sort()
    p50 = statistics.median(timings)
    p95 = timings[min(len(timings) - 1, round(0.95 * (len(timings) - 1)))]
    entries = len(index)
    return Speed(
        notices=notices,
        documents=documents,
        build_s=build_s,
        index_bytes=index.memory_bytes(),
        rss_delta_bytes=rss_delta,
        bytes_per_entry=rss_delta / entries,
        manifests=manifests,
        p50_ms=p50 * 1000,
        p95_ms=p95 * 1000,
        travellers_per_s=size / p50,
        hits_per_manifest=hits / manifests,
    )


def measure_rebuild(records: int = 1_000_000) -> tuple[float, float, int]:
    """Seconds to serialize ``records`` notice and sltd Records (not timed), then parse them,
    take their entries and build the index (timed); returns (seconds, records/s, entries)."""
    rng = random.Random(21)
    payloads: list[bytes] = []
    for number in range(records):
        record = record_pb2.Record(record_id=f"R:{number:08d}", version=1)
        record.provenance.originating_centre = "INTERPOL-CCC-LYON"
        family, given, sex = _name(rng)
        if number % 2:
            document = record.travel_document
            document.document_number = _document_number(rng)
            document.issuing_state.code = "FRA"
            document.status = 2  # type: ignore[assignment]
            document.holder_name.family, document.holder_name.given = family, given
            document.holder_birth_date.year = rng.randint(1940, 2005)
        else:
            subject = record.notice.subject
            subject.names.add(type=1, family=family, given=given)
            subject.birth_date.year = rng.randint(1940, 2005)
            subject.birth_date.month = rng.randint(1, 12)
            subject.sex = sex  # type: ignore[assignment]
            subject.nationalities.add(code="FRA")
        payloads.append(record.SerializeToString())
    started = time.perf_counter()

    def entries() -> Iterator[ListEntry]:
        for payload in payloads:
            record = record_pb2.Record.FromString(payload)
            yield from entries_from_record(record, record.version, DEFAULT_LISTS)

    index = ScreeningIndex.build(entries())
    elapsed = time.perf_counter() - started
    return elapsed, records / elapsed, len(index)
