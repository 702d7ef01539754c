"""Quality on the evaluation set: recall per category and false HITs, for Liaison and for
OpenSanctions' nomenklatura logic-v1 on the same set, in the same run."""

from __future__ import annotations

import time
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, replace
from typing import Any

from bench.screening.evaluation import CATEGORIES, DECOYS, EvaluationSet
from gateway.screening import (
    DEFAULT_LISTS,
    ListDefinition,
    Screener,
    ScreeningIndex,
    entries_from_record,
    subjects_from_records,
)
from liaison.v1 import record_pb2

__all__ = ["Quality", "liaison_scores", "liaison_screened", "nomenklatura_scores", "quality"]

Pair = tuple[str, str]
"""(traveller person record id, entry record id)."""


@dataclass(frozen=True, slots=True)
class Quality:
    """Recall and false hits of one matcher at given thresholds."""

    recall: float
    recall_by_category: dict[str, float]
    false_hits: int
    false_hits_per_100: float
    reviews_on_decoys: dict[str, float]
    """Share of each decoy kind's travellers with a REVIEW (not a HIT) on their decoy entry."""
    hits_on_decoys: dict[str, float]


def _all_lists() -> list[ListDefinition]:
    # Everything above a very low threshold, so that one run serves every threshold.
    return [replace(spec, hit_threshold=1.0, review_threshold=1e-6) for spec in DEFAULT_LISTS]


def liaison_scores(data: EvaluationSet) -> tuple[dict[Pair, tuple[str, float]], float]:
    """(pair -> (list, best score)) over every candidate Liaison scores, and seconds spent."""
    lists = _all_lists()
    entries = [
        e for record in data.entries for e in entries_from_record(record, record.version, lists)
    ]
    index = ScreeningIndex.build(entries)
    screener = Screener(index, lists)
    records = [record for traveller in data.travellers for record in traveller]
    started = time.perf_counter()
    subjects = subjects_from_records(records)
    scores: dict[Pair, tuple[str, float]] = {}
    for subject, matches in zip(subjects, screener.screen_many(subjects), strict=True):
        for match in matches:
            pair = (subject.record_id, match.entry.record_id)
            if pair not in scores or scores[pair][1] < match.score:
                scores[pair] = (match.entry.list, match.score)
    return scores, time.perf_counter() - started


def liaison_screened(data: EvaluationSet) -> dict[Pair, tuple[str, float]]:
    """(pair -> (list, best score)) of the matches the default lists report (the score bound
    leaving out what cannot reach their review thresholds)."""
    entries = [
        e
        for record in data.entries
        for e in entries_from_record(record, record.version, DEFAULT_LISTS)
    ]
    screener = Screener(ScreeningIndex.build(entries), DEFAULT_LISTS)
    subjects = subjects_from_records(
        record for traveller in data.travellers for record in traveller
    )
    scores: dict[Pair, tuple[str, float]] = {}
    for subject, matches in zip(subjects, screener.screen_many(subjects), strict=True):
        for match in matches:
            pair = (subject.record_id, match.entry.record_id)
            if pair not in scores or scores[pair][1] < match.score:
                scores[pair] = (match.entry.list, match.score)
    return scores


def quality(
    data: EvaluationSet,
    scores: dict[Pair, tuple[str, float]],
    thresholds: dict[str, tuple[float, float]],
) -> Quality:
    """Recall (HIT or REVIEW) and false HITs at ``thresholds`` (list -> (hit, review))."""
    found: dict[str, list[bool]] = defaultdict(list)
    for person, entry in sorted(data.truth):
        name, score = scores.get((person, entry), ("", 0.0))
        review = thresholds.get(name, (1.0, 1.0))[1] if name else 1.0
        found[data.category[person]].append(bool(name) and score >= review)
    false_hits = 0
    decoy_entries: dict[str, list[tuple[bool, bool]]] = defaultdict(list)
    for (person, entry), (name, score) in scores.items():
        hit, review = thresholds[name]
        if (person, entry) not in data.truth and score >= hit:
            false_hits += 1
        category = data.category[person]
        if category in DECOYS:
            decoy_entries[category].append((score >= hit, review <= score < hit))
    everything = [flag for flags in found.values() for flag in flags]
    travellers = len(data.travellers)
    per_decoy = sum(1 for c in data.category.values() if c == DECOYS[0])
    return Quality(
        recall=sum(everything) / len(everything),
        recall_by_category={c: sum(found[c]) / len(found[c]) for c in CATEGORIES if found[c]},
        false_hits=false_hits,
        false_hits_per_100=100.0 * false_hits / travellers,
        reviews_on_decoys={d: sum(r for _, r in decoy_entries[d]) / per_decoy for d in DECOYS},
        hits_on_decoys={d: sum(h for h, _ in decoy_entries[d]) / per_decoy for d in DECOYS},
    )


def nomenklatura_scores(data: EvaluationSet) -> tuple[dict[Pair, tuple[str, float]], float]:
    """logic-v1 scores of every true pair and every pair sharing a name word, a birth date or a
    document number (generous blocking: recall is the matcher's own), and seconds spent.

    Raises ImportError when nomenklatura is not installed (``pip install -e '.[bench]'``).
    """
    from followthemoney import model  # type: ignore[import-not-found, unused-ignore]
    from nomenklatura.matching import (  # type: ignore[import-not-found, unused-ignore]
        LogicV1,
        ScoringConfig,
    )

    config = ScoringConfig.defaults()
    entities = {}
    blocks: dict[str, set[str]] = defaultdict(set)
    list_of: dict[str, str] = {}
    for record in data.entries:
        entity = _ftm_entity(model, record)
        if entity is None:
            continue
        entities[record.record_id] = entity
        list_of[record.record_id] = "sltd" if record.HasField("travel_document") else "notices"
        for key in _block_keys(entity):
            blocks[key].add(record.record_id)
    started = time.perf_counter()
    scores: dict[Pair, tuple[str, float]] = {}
    truth_by_person: dict[str, set[str]] = defaultdict(set)
    for person, entry in data.truth:
        truth_by_person[person].add(entry)
    for person_record, document_record in data.travellers:
        query = _ftm_traveller(model, person_record, document_record)
        candidates = set(truth_by_person[person_record.record_id])
        for key in _block_keys(query):
            candidates |= blocks.get(key, set())
        for entry_id in sorted(candidates):
            result = LogicV1.compare(query, entities[entry_id], config)  # type: ignore[type-var, unused-ignore]
            scores[(person_record.record_id, entry_id)] = (list_of[entry_id], float(result.score))
    return scores, time.perf_counter() - started


def _block_keys(entity: Any) -> Iterable[str]:
    from anyascii import anyascii

    for name in entity.get("name"):
        for word in anyascii(name).lower().replace("-", " ").split():
            if len(word) > 2:
                yield "w:" + word
    for date in entity.get("birthDate"):
        yield "d:" + date
    for number in entity.get("passportNumber"):
        yield "p:" + number


def _date(date: Any) -> str:
    year, month, day = date.year, date.month, date.day
    if not year:
        return ""
    if not month:
        return f"{year:04d}"
    if not day:
        return f"{year:04d}-{month:02d}"
    return f"{year:04d}-{month:02d}-{day:02d}"


_GENDER = {1: "female", 2: "male"}


def _ftm_entity(model: Any, record: record_pb2.Record) -> Any:
    """A notice or sltd document as a FollowTheMoney Person (the document as passportNumber)."""
    entity = model.make_entity("Person")
    entity.id = record.record_id
    if record.HasField("notice"):
        subject = record.notice.subject
        for name in subject.names:
            for family, given in (
                (name.family, name.given),
                (name.transliteration.family, name.transliteration.given),
            ):
                full = " ".join(p for p in (given, family) if p and p != "-")
                if full:
                    entity.add("name" if name.type != 2 else "alias", full)
        if _date(subject.birth_date):
            entity.add("birthDate", _date(subject.birth_date))
        for nationality in subject.nationalities:
            entity.add("nationality", nationality.code.lower()[:2] and _iso2(nationality.code))
        if subject.sex in _GENDER:
            entity.add("gender", _GENDER[subject.sex])
        for identifier in subject.identifiers:
            entity.add("passportNumber", identifier.value)
        return entity
    document = record.travel_document
    holder = document.holder_name
    entity.add("name", f"{holder.given} {holder.family}".strip())
    if _date(document.holder_birth_date):
        entity.add("birthDate", _date(document.holder_birth_date))
    entity.add("nationality", _iso2(document.holder_nationality.code))
    if document.holder_sex in _GENDER:
        entity.add("gender", _GENDER[document.holder_sex])
    entity.add("passportNumber", document.document_number)
    entity.add("country", _iso2(document.issuing_state.code))
    return entity


def _ftm_traveller(model: Any, person: record_pb2.Record, document: record_pb2.Record) -> Any:
    entity = model.make_entity("Person")
    entity.id = person.record_id
    for name in person.person.names:
        entity.add("name", f"{name.given} {name.family}".strip())
    entity.add("birthDate", _date(person.person.birth_date))
    for nationality in person.person.nationalities:
        entity.add("nationality", _iso2(nationality.code))
    if person.person.sex in _GENDER:
        entity.add("gender", _GENDER[person.person.sex])
    entity.add("passportNumber", document.travel_document.document_number)
    entity.add("country", _iso2(document.travel_document.issuing_state.code))
    return entity


def _iso2(code: str) -> str:
    from liaison.codes import ISO_ALPHA2_TO_ALPHA3

    for alpha2, alpha3 in ISO_ALPHA2_TO_ALPHA3.items():
        if alpha3 == code:
            return alpha2.lower()
    return ""
