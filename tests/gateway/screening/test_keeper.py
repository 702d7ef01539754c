"""The index keeper: plain rows in, serialized hits out (what the worker process runs)."""

from __future__ import annotations

import pickle
from datetime import UTC, datetime

import pytest

from gateway.screening import DEFAULT_LISTS, subjects_from_records
from gateway.screening.keeper import IndexKeeper, RecordRow
from gateway.screening.settings import ScreeningSettings, ScreeningSettingsError, parse_screening
from liaison.v1 import record_pb2, screening_hit_pb2
from tests.support.screening_records import red_notice, stolen_passport, traveller

SCREENED_AT = (1_800_000_000, 123_456_000)


def row(record: record_pb2.Record, version: int = 1) -> RecordRow:
    return (record.record_id, version, record.SerializeToString())


def built(*records: record_pb2.Record) -> IndexKeeper:
    keeper = IndexKeeper(DEFAULT_LISTS)
    keeper.load([row(r) for r in records])
    keeper.build()
    return keeper


def test_a_rebuild_keeps_the_latest_row_of_each_record_and_leaves_withdrawn_ones_out() -> None:
    keeper = IndexKeeper(DEFAULT_LISTS)
    keeper.load([row(red_notice("C:n1")), row(red_notice("C:n2")), row(stolen_passport("C:d1"))])
    keeper.load([("C:n2", 2, None), row(traveller("C:pax"))])  # withdrawn; no entry
    assert keeper.build() == (2, 2)
    assert keeper.indexed_records == 2


def test_a_batch_indexes_its_entries_before_it_screens_its_subjects() -> None:
    keeper = built()
    rows = [row(red_notice("C:n1")), row(traveller("C:pax:1"))]
    hits, skipped, indexed = keeper.apply(rows, [0], [[1]], SCREENED_AT)
    assert (skipped, indexed) == ([], 1)
    [(subject, subject_version, entry, entry_version, list_, who, which, body)] = hits
    assert (subject, subject_version, entry, entry_version, list_) == (
        "C:pax:1",
        1,
        "C:n1",
        1,
        "notices",
    )
    assert (who, which) == ("C:pax:1", 1)
    hit = screening_hit_pb2.ScreeningHit.FromString(body)
    assert hit.subject_key, "the suppression key travels with the hit"
    assert hit.screened_at.ToDatetime(UTC) == datetime(2027, 1, 15, 8, 0, 0, 123456, UTC)
    assert hit.explanation


def test_a_new_version_replaces_the_entry_and_a_withdrawal_removes_it() -> None:
    keeper = built(red_notice("C:n1"))
    subjects = subjects_from_records([traveller("")])
    assert [m.entry.version for m in keeper.screen(subjects)[0]] == [1]
    keeper.upsert([row(red_notice("C:n1"), 2)])
    assert [m.entry.version for m in keeper.screen(subjects)[0]] == [2]
    keeper.upsert([("C:n1", 3, None)])
    assert keeper.screen(subjects) == [[]]
    assert keeper.indexed_records == 0


def test_a_suppressed_pair_is_left_out_until_its_decision_changes() -> None:
    keeper = built(red_notice("C:n1"))
    subjects = subjects_from_records([traveller("")])
    pair = (subjects[0].identity_key, "C:n1", 1)
    keeper.suppress([pair], [])
    assert keeper.screen(subjects) == [[]]
    assert keeper.suppressed() == {pair}
    keeper.suppress([], [list(pair)])  # as it arrives over the pipe: a list
    assert len(keeper.screen(subjects)[0]) == 1


def test_a_stolen_passport_is_never_a_hit_on_itself() -> None:
    passport = stolen_passport("C:d1")
    keeper = built()
    hits, _, indexed = keeper.apply([row(passport)], [0], [[0]], SCREENED_AT)
    assert (hits, indexed) == ([], 1)


def test_a_manifest_without_stored_travellers_is_skipped_with_why() -> None:
    manifest = record_pb2.Record(record_id="C:m1")
    manifest.passenger_manifest.travellers.add(person_record_id="C:nobody")
    hits, skipped, _ = built(red_notice("C:n1")).apply([row(manifest)], [], [[0]], SCREENED_AT)
    assert hits == []
    [(record_id, message)] = skipped
    assert record_id == "C:m1"
    assert "C:nobody" in message


def test_matches_survive_the_pipe() -> None:
    keeper = built(red_notice("C:n1"))
    found = keeper.screen(subjects_from_records([traveller("")]))
    assert pickle.loads(pickle.dumps(found)) == found


def test_the_worker_is_a_process_unless_configured_otherwise() -> None:
    assert ScreeningSettings().worker == "process"
    assert parse_screening({}).worker == "process"
    assert parse_screening({"worker": "thread"}).worker == "thread"
    with pytest.raises(ScreeningSettingsError, match="worker"):
        parse_screening({"worker": "fork"})
