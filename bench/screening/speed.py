"""Speed and memory at full size: 300-traveller manifests against 1,000,000 notice names and
10,000,000 listed documents, and the index rebuilt from 1,000,000 serialized records.

The index is built from generated entries streamed into :meth:`ScreeningIndex.build` (the time
spent generating them is measured apart and left out of the build time). Manifests are mostly
travellers nobody listed, plus a few who are: one in a hundred carries a listed notice's name,
birth date, sex and nationality, one in a hundred a listed stolen passport. Each manifest is
timed from subjects in to explained matches out; full garbage collections during the timed
screenings are counted and timed through ``gc.callbacks``.
"""

from __future__ import annotations

import argparse
import gc
import json
import statistics
import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from bench.screening.population import Population
from gateway.screening import (
    DEFAULT_LISTS,
    Band,
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
from liaison.v1 import record_pb2, travel_document_pb2

__all__ = ["Rebuild", "Speed", "list_records", "main", "measure_rebuild", "measure_speed"]

_NOTICE_CENTRE = "INTERPOL-CCC-LYON"
_SLTD_CENTRE = "INTERPOL-IGCI-SINGAPORE"
_LISTED_SHARE = 0.01
"""Travellers per manifest who are a listed notice's subject, and again who carry a listed
passport."""
_SAMPLED = 1000
"""Notices, and documents, kept aside to plant listed travellers in manifests (few: every
object the benchmark keeps is one more for the garbage collector to walk)."""


@dataclass(frozen=True, slots=True)
class Speed:
    """Figures of one full-size run."""

    notices: int
    documents: int
    generate_s: float
    """Generating the entries (not part of the build)."""
    build_s: float
    """Encoding, postings, facts and the sort: the index's own work."""
    index_bytes: int
    """By the index's own accounting of its buffers and arrays."""
    index_bytes_per_entry: float
    rss_delta_bytes: int
    """Resident memory after the build minus before it (memos and allocator slack included)."""
    rss_bytes_per_entry: float
    peak_rss_bytes: int
    """The process's peak resident memory so far (the build's sort included)."""
    manifests: int
    size: int
    p50_ms: float
    p95_ms: float
    max_ms: float
    travellers_per_s: float
    """Travellers per second at the p50 manifest time."""
    candidates_per_manifest: float
    """Median entries scored per manifest (after blocking and the score bound)."""
    hits_per_manifest: float
    """Mean matches (HIT or REVIEW) per manifest."""
    planted_found: float
    """Share of planted listed travellers found (HIT) on the right entry."""
    full_collections: int
    """Full (generation 2) garbage collections during the timed screenings."""
    longest_collection_ms: float
    manifest_ms: list[float] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Rebuild:
    """Rebuilding the index from serialized records."""

    records: int
    entries: int
    seconds: float
    records_per_s: float


def _rss(field_name: str = "VmRSS") -> int:
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith(field_name + ":"):
                return int(line.split()[1]) * 1024
    return 0


@dataclass
class _Sample:
    """Listed entries kept aside to plant in manifests."""

    notices: list[ListEntry] = field(default_factory=list)
    documents: list[ListEntry] = field(default_factory=list)


class _Timer:
    """Time spent in a generator between resumptions (its own work, not its consumer's)."""

    def __init__(self) -> None:
        self.seconds = 0.0

    def wrap(self, entries: Iterator[ListEntry]) -> Iterator[ListEntry]:
        while True:
            started = time.perf_counter()
            try:
                entry = next(entries)
            except StopIteration:
                self.seconds += time.perf_counter() - started
                return
            self.seconds += time.perf_counter() - started
            yield entry


def _notices(count: int, seed: int, sample: _Sample) -> Iterator[ListEntry]:
    every = max(1, count // _SAMPLED)
    number = 0
    dates: dict[tuple[int, int, int], BirthDate] = {}
    for people in Population(seed).blocks(count, partial_dates=True):
        for family, given, sex, nationality, year, month, day in zip(
            people.family,
            people.given,
            people.sex,
            people.nationality,
            people.year,
            people.month,
            people.day,
            strict=True,
        ):
            birth = dates.get((year, month, day))
            if birth is None:
                birth = dates[(year, month, day)] = BirthDate(year, month, day)
            entry = ListEntry(
                record_id=f"INTERPOL:notice:2026-{number:07d}",
                version=1,
                centre=_NOTICE_CENTRE,
                lists=("notices",),
                kind="notice",
                names=(PersonName(NameRole.PRIMARY, family, given),),
                birth_dates=(birth,),
                sex=sex,
                nationalities=(nationality,),
            )
            if number % every == 0:
                sample.notices.append(entry)
            number += 1
            yield entry


def _documents(count: int, seed: int, sample: _Sample) -> Iterator[ListEntry]:
    population = Population(seed)
    # Holders' names and dates are stored but never searched (an sltd entry is found by its
    # number): a pool of holders keeps generation to the document itself.
    holders = next(population.blocks(50_000, partial_dates=False))
    names = [
        PersonName(NameRole.PRIMARY, f, g)
        for f, g in zip(holders.family, holders.given, strict=True)
    ]
    births = [
        BirthDate(y, m, d) for y, m, d in zip(holders.year, holders.month, holders.day, strict=True)
    ]
    every = max(1, count // _SAMPLED)
    number = 0
    draw = np.random.default_rng(seed)
    for states, numbers, sexes in population.documents(count):
        holder = draw.integers(0, len(names), len(states)).tolist()
        for at, state, document, sex in zip(holder, states, numbers, sexes, strict=True):
            entry = ListEntry(
                record_id=f"INTERPOL:sltd:{state}-{number:08d}",
                version=1,
                centre=_SLTD_CENTRE,
                lists=("sltd",),
                kind="travel_document",
                names=(names[at],),
                birth_dates=(births[at],),
                sex=sex,
                nationalities=(state,),
                documents=(DocumentKey(document, state, 1, 2),),
                document_centric=True,
            )
            if number % every == 0:
                sample.documents.append(entry)
            number += 1
            yield entry


def _manifests(count: int, size: int, seed: int, sample: _Sample) -> Iterator[list[Subject]]:
    population = Population(seed)
    draw = np.random.default_rng(seed)
    planted = max(1, round(size * _LISTED_SHARE))
    for number in range(count):
        people = next(population.blocks(size, partial_dates=False))
        subjects = []
        for position in range(size):
            birth = BirthDate(people.year[position], people.month[position], people.day[position])
            state = people.nationality[position]
            subjects.append(
                Subject(
                    identity_key=f"{number}-{position}",
                    record_id=f"PAX:{number}:{position}",
                    version=1,
                    kind="person",
                    names=(
                        PersonName(
                            NameRole.PRIMARY, people.family[position], people.given[position]
                        ),
                    ),
                    birth_dates=(birth,),
                    sex=people.sex[position],
                    nationalities=(state,),
                    documents=(
                        DocumentKey(
                            people.document[position], state, 1, 0, f"DOC:{number}:{position}", 1
                        ),
                    ),
                )
            )
        slots = draw.choice(size, planted * 2, replace=False).tolist()
        for order, slot in enumerate(slots):
            notice = order < planted
            listed = int(draw.integers(len(sample.notices if notice else sample.documents)))
            subjects[slot] = _planted(subjects[slot], sample, listed, notice)
        yield subjects


def _planted(subject: Subject, sample: _Sample, at: int, notice: bool) -> Subject:
    """The traveller turned into a listed notice's subject, or given a listed passport."""
    if notice:
        entry = sample.notices[at]
        return Subject(
            identity_key=subject.identity_key,
            record_id=subject.record_id,
            version=1,
            kind="person",
            names=entry.names,
            birth_dates=entry.birth_dates,
            sex=entry.sex,
            nationalities=entry.nationalities,
            documents=subject.documents,
            manifest_record_id="LISTED:" + entry.record_id,
        )
    document = sample.documents[at].documents[0]
    return Subject(
        identity_key=subject.identity_key,
        record_id=subject.record_id,
        version=1,
        kind="person",
        names=subject.names,
        birth_dates=subject.birth_dates,
        sex=subject.sex,
        nationalities=subject.nationalities,
        documents=(DocumentKey(document.number, document.issuing_state, 1, 0, "DOC:stolen", 1),),
        manifest_record_id="LISTED:" + sample.documents[at].record_id,
    )


def measure_speed(
    notices: int = 1_000_000, documents: int = 10_000_000, manifests: int = 100, size: int = 300
) -> Speed:
    """Build the index from generated entries, then screen ``manifests`` manifests of ``size``."""
    gc.collect()
    before = _rss()
    sample = _Sample()
    generation = _Timer()

    def everything() -> Iterator[ListEntry]:
        yield from _notices(notices, 11, sample)
        yield from _documents(documents, 12, sample)

    started = time.perf_counter()
    index = ScreeningIndex.build(generation.wrap(everything()))
    total_s = time.perf_counter() - started
    gc.collect()
    rss_delta = _rss() - before
    peak = _rss("VmHWM")
    screener = Screener(index, DEFAULT_LISTS)
    review = min(spec.review_threshold for spec in DEFAULT_LISTS)
    pauses: list[float] = []
    opened: list[float] = []
    timing = [False]

    def watch(phase: str, info: dict[str, Any]) -> None:
        if info["generation"] != 2 or not timing[0]:
            return
        if phase == "start":
            opened.append(time.perf_counter())
        elif opened:
            pauses.append(time.perf_counter() - opened.pop())

    timings: list[float] = []
    candidates: list[int] = []
    hits = planted = found = 0
    warm_up = 3
    gc.callbacks.append(watch)
    for number, subjects in enumerate(_manifests(manifests + warm_up, size, 13, sample)):
        timing[0] = number >= warm_up
        started = time.perf_counter()
        results = screener.screen_many(subjects)
        elapsed = time.perf_counter() - started
        timing[0] = False
        if number < warm_up:
            continue
        timings.append(elapsed)
        hits += sum(len(matches) for matches in results)
        candidates.append(sum(map(len, index.candidates(subjects, review_threshold=review))))
        for subject, matches in zip(subjects, results, strict=True):
            if subject.manifest_record_id.startswith("LISTED:"):
                planted += 1
                listed = subject.manifest_record_id.removeprefix("LISTED:")
                found += any(m.entry.record_id == listed and m.band is Band.HIT for m in matches)
    gc.callbacks.remove(watch)
    ordered = sorted(timings)
    p50 = statistics.median(ordered)
    entries = len(index)
    return Speed(
        notices=notices,
        documents=documents,
        generate_s=generation.seconds,
        build_s=total_s - generation.seconds,
        index_bytes=index.memory_bytes(),
        index_bytes_per_entry=index.memory_bytes() / entries,
        rss_delta_bytes=rss_delta,
        rss_bytes_per_entry=rss_delta / entries,
        peak_rss_bytes=peak,
        manifests=manifests,
        size=size,
        p50_ms=p50 * 1000,
        p95_ms=ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))] * 1000,
        max_ms=ordered[-1] * 1000,
        travellers_per_s=size / p50,
        candidates_per_manifest=statistics.median(candidates),
        hits_per_manifest=hits / manifests,
        planted_found=found / planted if planted else 1.0,
        full_collections=len(pauses),
        longest_collection_ms=max(pauses, default=0.0) * 1000,
        manifest_ms=[round(t * 1000, 1) for t in timings],
    )


def list_records(count: int) -> list[bytes]:
    """Half notices, half stolen passports, serialized as the store holds them."""
    payloads: list[bytes] = []
    number = 0
    for people in Population(21).blocks(count, partial_dates=True):
        for family, given, sex, nationality, year, month, day, document in zip(
            people.family,
            people.given,
            people.sex,
            people.nationality,
            people.year,
            people.month,
            people.day,
            people.document,
            strict=True,
        ):
            record = record_pb2.Record(record_id=f"INTERPOL:record:{number:08d}", version=1)
            if number % 2:
                record.provenance.originating_centre = _SLTD_CENTRE
                travel = record.travel_document
                travel.document_number = document
                travel.issuing_state.code = nationality
                travel.status = travel_document_pb2.DOCUMENT_STATUS_STOLEN
                travel.holder_name.family, travel.holder_name.given = family, given
                travel.holder_birth_date.year = year
            else:
                record.provenance.originating_centre = _NOTICE_CENTRE
                subject = record.notice.subject
                subject.names.add(type=1, family=family, given=given)
                subject.birth_date.year, subject.birth_date.month = year, month
                subject.birth_date.day = day
                subject.sex = sex
                subject.nationalities.add(code=nationality)
            payloads.append(record.SerializeToString())
            number += 1
    return payloads


def measure_rebuild(records: int = 1_000_000) -> Rebuild:
    """Serialize ``records`` notice and sltd Records (not timed), then parse them, take their
    entries and build the index (timed)."""
    payloads = list_records(records)
    gc.collect()
    started = time.perf_counter()

    def entries() -> Iterator[ListEntry]:
        for payload in payloads:
            record = record_pb2.Record.FromString(payload)
            yield from entries_from_record(record, record.version, DEFAULT_LISTS)

    index = ScreeningIndex.build(entries())
    elapsed = time.perf_counter() - started
    return Rebuild(
        records=records, entries=len(index), seconds=elapsed, records_per_s=records / elapsed
    )


def main(arguments: list[str] | None = None) -> None:
    """``python -m bench.screening.speed``: measure in a process of its own (so that no other
    benchmark's objects weigh on its memory figures or its garbage collections) and write the
    figures as JSON."""
    parser = argparse.ArgumentParser(prog="python -m bench.screening.speed")
    parser.add_argument("--notices", type=int, default=1_000_000)
    parser.add_argument("--documents", type=int, default=10_000_000)
    parser.add_argument("--manifests", type=int, default=100)
    parser.add_argument("--records", type=int, default=1_000_000, help="to rebuild from")
    parser.add_argument("--output", type=Path, required=True)
    args = parser.parse_args(arguments)
    speed = measure_speed(args.notices, args.documents, args.manifests)
    rebuild = measure_rebuild(args.records)
    report = {"speed": asdict(speed), "rebuild": asdict(rebuild)}
    args.output.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
