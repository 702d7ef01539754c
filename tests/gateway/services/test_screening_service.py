"""The Screening service end to end: automatic screening on commit, Screen, Decide, ListHits,
need-to-know on hits, suppression of confirmed no-matches, and the index following the store."""

from __future__ import annotations

import asyncio

import grpc
import pytest
from grpc import aio

from gateway.server import Gateway
from liaison.v1 import (
    common_pb2,
    exchange_pb2,
    notice_pb2,
    record_pb2,
    screening_hit_pb2,
    screening_pb2,
    travel_document_pb2,
)
from tests.conftest import TEST_CENTRE
from tests.support.factories import person, store_replica, travel_document
from tests.support.rpc import ExchangeStub, ScreeningStub, violations_of

HIT = screening_hit_pb2.SCREENING_BAND_HIT
NO_MATCH = screening_hit_pb2.SCREENING_DECISION_KIND_NO_MATCH


def red_notice(
    record_id: str, family: str, given: str, birth: tuple[int, int, int], **handling: object
) -> record_pb2.Record:
    record = record_pb2.Record(record_id=record_id)
    record.notice.notice_type = notice_pb2.NOTICE_TYPE_RED
    subject = record.notice.subject
    subject.names.add(type=common_pb2.NAME_TYPE_PRIMARY, family=family, given=given)
    subject.birth_date.year, subject.birth_date.month, subject.birth_date.day = birth
    subject.sex = common_pb2.SEX_MALE
    subject.nationalities.add(code="RUS", system=common_pb2.COUNTRY_CODE_SYSTEM_ISO3166_ALPHA3)
    if "code" in handling:
        record.handling.code = handling["code"]  # type: ignore[assignment]
    if "releasable_to" in handling:
        record.handling.releasable_to.extend(handling["releasable_to"])  # type: ignore[arg-type]
    return record


def traveller(record_id: str, family: str, given: str) -> record_pb2.Record:
    record = person(record_id, family, given, (1971, 5, 4))
    record.person.sex = common_pb2.SEX_MALE
    del record.person.nationalities[:]
    record.person.nationalities.add(
        code="RUS", system=common_pb2.COUNTRY_CODE_SYSTEM_ISO3166_ALPHA3
    )
    return record


def stolen_passport(record_id: str, number: str) -> record_pb2.Record:
    record = travel_document(record_id, number=number, issuing_state="FRA")
    record.travel_document.status = travel_document_pb2.DOCUMENT_STATUS_STOLEN
    return record


@pytest.fixture
async def screening(channel: aio.Channel) -> ScreeningStub:
    return ScreeningStub(channel)


async def submit(exchange: ExchangeStub, *records: record_pb2.Record) -> None:
    for record in records:
        await exchange.Submit(exchange_pb2.SubmitRequest(record=record))


async def settled(gateway: Gateway) -> None:
    """Wait until the desk has applied every commit (the screening task runs after commits)."""
    last = await gateway.store.last_sequence()
    for _ in range(400):
        if gateway.screening.applied_through >= last:
            return
        await asyncio.sleep(0.01)
    raise AssertionError(f"screening stuck at {gateway.screening.applied_through} of {last}")


async def hits_of(screening: ScreeningStub) -> list[record_pb2.Record]:
    response = await screening.ListHits(screening_pb2.ListHitsRequest())
    return list(response.hits)


async def test_a_committed_traveller_is_screened_and_the_hit_stored_with_its_explanation(
    gateway: Gateway, exchange: ExchangeStub, screening: ScreeningStub
) -> None:
    await submit(exchange, red_notice(f"{TEST_CENTRE}:notice:1", "IVANOV", "SERGEI", (1971, 5, 4)))
    await settled(gateway)
    await submit(exchange, traveller(f"{TEST_CENTRE}:pax:1", "IVANOFF", "SERGEY"))
    await settled(gateway)
    (hit_record,) = await hits_of(screening)
    hit = hit_record.screening_hit
    assert hit.subject_record_id == f"{TEST_CENTRE}:pax:1"
    assert hit.entry_record_id == f"{TEST_CENTRE}:notice:1"
    assert hit.list == "notices"
    assert hit.band in (HIT, screening_hit_pb2.SCREENING_BAND_REVIEW)
    assert {line.feature for line in hit.explanation} >= {"name", "birth_date"}
    assert hit_record.provenance.originating_centre == TEST_CENTRE
    # Screening the same version again stores nothing new.
    await gateway.screening.apply([await gateway.store.get(f"{TEST_CENTRE}:pax:1")])  # type: ignore[list-item]
    assert len(await hits_of(screening)) == 1


async def test_an_entry_committed_is_screened_against_at_once_and_a_new_version_replaces_it(
    gateway: Gateway, exchange: ExchangeStub, screening: ScreeningStub
) -> None:
    subject = traveller("", "PETROV", "ALEKSEI")
    request = screening_pb2.ScreenRequest(subjects=[subject])
    assert not (await screening.Screen(request)).hits
    await submit(exchange, red_notice(f"{TEST_CENTRE}:notice:2", "PETROV", "ALEXEI", (1971, 5, 4)))
    await settled(gateway)
    response = await screening.Screen(request)
    assert [h.entry_record_id for h in response.hits] == [f"{TEST_CENTRE}:notice:2"]
    assert [e.record_id for e in response.entries] == [f"{TEST_CENTRE}:notice:2"]
    assert response.subjects[0].record_id == "subject-1", "a subject without an id gets one"
    corrected = red_notice(f"{TEST_CENTRE}:notice:2", "SMIRNOV", "OLEG", (1950, 1, 1))
    corrected.version = 1  # the version it corrects
    await exchange.Submit(exchange_pb2.SubmitRequest(record=corrected))
    await settled(gateway)
    assert not (await screening.Screen(request)).hits, "the old version left the index"


async def test_a_stolen_passport_is_an_sltd_entry_and_never_a_hit_on_itself(
    gateway: Gateway, exchange: ExchangeStub, screening: ScreeningStub
) -> None:
    await submit(exchange, stolen_passport(f"{TEST_CENTRE}:sltd:1", "X1234567"))
    await settled(gateway)
    assert not await hits_of(screening)
    carried = travel_document("", number="X1234567", issuing_state="FRA", family="NOVAK")
    response = await screening.Screen(screening_pb2.ScreenRequest(subjects=[carried]))
    assert [(h.list, h.entry_record_id) for h in response.hits] == [
        ("sltd", f"{TEST_CENTRE}:sltd:1")
    ]
    assert any(line.feature == "document" for line in response.hits[0].explanation)


async def test_a_hit_on_an_entry_the_caller_may_not_see_names_only_list_and_centre(
    gateway: Gateway, screening: ScreeningStub
) -> None:
    # Releasable only to another centre: this caller (the local centre reading as a peer would)
    # may not see it; a replica stored by federation is the realistic way such an entry arrives.
    hidden = red_notice(
        "INTERPOL-CCC-LYON:notice:9",
        "KOVALENKO",
        "DMYTRO",
        (1971, 5, 4),
        releasable_to=["INTERPOL-CCC-LYON"],
    )
    hidden.provenance.originating_centre = "INTERPOL-CCC-LYON"
    await store_replica(gateway, hidden)
    await settled(gateway)
    response = await screening.Screen(
        screening_pb2.ScreenRequest(subjects=[traveller("", "KOVALENKO", "DMYTRO")])
    )
    (hit,) = response.hits
    assert (hit.list, hit.entry_centre) == ("notices", "INTERPOL-CCC-LYON")
    assert (hit.entry_record_id, len(hit.explanation), hit.score) == ("", 0, 0)
    assert not response.entries


async def test_h3_entries_yield_nothing(
    gateway: Gateway, exchange: ExchangeStub, screening: ScreeningStub
) -> None:
    notice = red_notice(
        f"{TEST_CENTRE}:notice:h3", "ORLOV", "PAVEL", (1971, 5, 4), code=record_pb2.HANDLING_CODE_H3
    )
    notice.handling.restrictions = "not for screening"
    await submit(exchange, notice)
    await settled(gateway)
    response = await screening.Screen(
        screening_pb2.ScreenRequest(subjects=[traveller("", "ORLOV", "PAVEL")])
    )
    assert not response.hits


async def test_a_no_match_decision_suppresses_the_pair_until_the_entry_changes(
    gateway: Gateway, exchange: ExchangeStub, screening: ScreeningStub
) -> None:
    notice_id = f"{TEST_CENTRE}:notice:3"
    await submit(exchange, red_notice(notice_id, "SOKOLOV", "IGOR", (1971, 5, 4)))
    await settled(gateway)
    await submit(exchange, traveller(f"{TEST_CENTRE}:pax:3", "SOKOLOV", "IGOR"))
    await settled(gateway)
    (hit,) = await hits_of(screening)
    decided = await screening.Decide(
        screening_pb2.DecideRequest(
            hit_record_id=hit.record_id, decision=NO_MATCH, note="other man", expected_version=1
        )
    )
    assert decided.ack.version == 2
    assert decided.hit.screening_hit.decision.kind == NO_MATCH
    assert decided.hit.screening_hit.decision.analyst == "local"
    await settled(gateway)
    same = traveller("", "SOKOLOV", "IGOR")
    assert not (await screening.Screen(screening_pb2.ScreenRequest(subjects=[same]))).hits
    undecided = await screening.ListHits(
        screening_pb2.ListHitsRequest(
            decisions=[screening_hit_pb2.SCREENING_DECISION_KIND_UNSPECIFIED]
        )
    )
    assert not undecided.hits
    # A new version of the entry re-opens the pair.
    changed = red_notice(notice_id, "SOKOLOV", "IGOR", (1971, 5, 4))
    changed.notice.summary = "updated"
    changed.version = 1
    await exchange.Submit(exchange_pb2.SubmitRequest(record=changed))
    await settled(gateway)
    assert (await screening.Screen(screening_pb2.ScreenRequest(subjects=[same]))).hits
    # A stale decision is refused.
    with pytest.raises(aio.AioRpcError) as refused:
        await screening.Decide(
            screening_pb2.DecideRequest(
                hit_record_id=hit.record_id, decision=NO_MATCH, expected_version=1
            )
        )
    assert refused.value.code() == grpc.StatusCode.ABORTED


async def test_suppression_survives_a_restart(tmp_path: object, gateway_config: object) -> None:
    from gateway.config import CentreConfig

    assert isinstance(gateway_config, CentreConfig)
    first = Gateway(gateway_config)
    await first.start()
    try:
        async with aio.insecure_channel(first.address) as channel:
            exchange = ExchangeStub(channel)
            screening = ScreeningStub(channel)
            await submit(
                exchange, red_notice(f"{TEST_CENTRE}:notice:4", "ZAITSEV", "ILYA", (1971, 5, 4))
            )
            await settled(first)
            await submit(exchange, traveller(f"{TEST_CENTRE}:pax:4", "ZAITSEV", "ILYA"))
            await settled(first)
            (hit,) = await hits_of(screening)
            await screening.Decide(
                screening_pb2.DecideRequest(hit_record_id=hit.record_id, decision=NO_MATCH)
            )
    finally:
        await first.stop(grace=0)
    second = Gateway(gateway_config)
    await second.start()
    try:
        assert second.screening.indexed_records == 1, "the index is rebuilt from the store"
        async with aio.insecure_channel(second.address) as channel:
            screening = ScreeningStub(channel)
            response = await screening.Screen(
                screening_pb2.ScreenRequest(subjects=[traveller("", "ZAITSEV", "ILYA")])
            )
            assert not response.hits
    finally:
        await second.stop(grace=0)


async def test_a_manifest_is_screened_traveller_by_traveller_from_a_legacy_payload(
    gateway: Gateway, exchange: ExchangeStub, screening: ScreeningStub
) -> None:
    await submit(exchange, red_notice(f"{TEST_CENTRE}:notice:5", "MUELLER", "HANS", (1971, 5, 4)))
    await settled(gateway)
    mrz = (
        b"P<DEUMUELLER<<HANS<<<<<<<<<<<<<<<<<<<<<<<<<<\n"
        b"C01X00T478DEU7105041M2801016<<<<<<<<<<<<<<<0\n"
    )
    response = await screening.Screen(screening_pb2.ScreenRequest(adapter="icao-mrz", payload=mrz))
    assert response.subjects, [d.message for d in response.diagnostics]
    assert [h.entry_record_id for h in response.hits] == [f"{TEST_CENTRE}:notice:5"]


@pytest.mark.parametrize(
    ("request_", "field"),
    [
        (screening_pb2.ScreenRequest(), "subjects"),
        (screening_pb2.ScreenRequest(lists=["NOT A LIST"]), "lists[0]"),
        (screening_pb2.ScreenRequest(subjects=[person("x")], lists=["unknown-list"]), "lists"),
        (
            screening_pb2.ScreenRequest(subjects=[record_pb2.Record(record_id="v")]),
            "subjects[0]",
        ),
        (
            screening_pb2.ScreenRequest(subjects=[person("x")], adapter="icao-mrz", payload=b"P"),
            "payload",
        ),
    ],
)
async def test_bad_screen_requests_name_the_field(
    screening: ScreeningStub,
    request_: screening_pb2.ScreenRequest,
    field: str,
) -> None:
    with pytest.raises(aio.AioRpcError) as refused:
        await screening.Screen(request_)
    assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert field in violations_of(refused.value)


async def test_bad_decisions_and_cursors_are_refused(
    screening: ScreeningStub,
) -> None:
    with pytest.raises(aio.AioRpcError) as refused:
        await screening.Decide(screening_pb2.DecideRequest(hit_record_id="", decision=7))  # type: ignore[arg-type]
    assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert set(violations_of(refused.value)) == {"hit_record_id", "decision"}
    with pytest.raises(aio.AioRpcError) as missing:
        await screening.Decide(
            screening_pb2.DecideRequest(hit_record_id="TEST-CENTRE:hit:none", decision=NO_MATCH)
        )
    assert missing.value.code() == grpc.StatusCode.NOT_FOUND
    with pytest.raises(aio.AioRpcError) as cursor:
        await screening.ListHits(screening_pb2.ListHitsRequest(cursor="h1.١٢.x"))
    assert cursor.value.code() == grpc.StatusCode.INVALID_ARGUMENT


async def test_list_hits_pages_with_a_cursor(
    gateway: Gateway, exchange: ExchangeStub, screening: ScreeningStub
) -> None:
    await submit(exchange, red_notice(f"{TEST_CENTRE}:notice:6", "LEBEDEV", "ANTON", (1971, 5, 4)))
    await settled(gateway)
    for n in range(3):
        await submit(exchange, traveller(f"{TEST_CENTRE}:pax:6{n}", "LEBEDEV", "ANTON"))
    await settled(gateway)
    seen: list[str] = []
    cursor = ""
    while True:
        page = await screening.ListHits(screening_pb2.ListHitsRequest(page_size=2, cursor=cursor))
        seen.extend(h.screening_hit.subject_record_id for h in page.hits)
        cursor = page.next_cursor
        if not page.has_more:
            break
    assert seen == [f"{TEST_CENTRE}:pax:6{n}" for n in range(3)]


async def test_withdrawing_an_entry_withdraws_the_hits_that_repeat_its_data(
    gateway: Gateway, exchange: ExchangeStub, screening: ScreeningStub
) -> None:
    notice_id = f"{TEST_CENTRE}:notice:w"
    await submit(exchange, red_notice(notice_id, "ORLOV", "PAVEL", (1971, 5, 4)))
    await settled(gateway)
    await submit(exchange, traveller(f"{TEST_CENTRE}:pax:w", "ORLOV", "PAVEL"))
    await settled(gateway)
    (hit,) = await hits_of(screening)
    await exchange.Withdraw(
        exchange_pb2.WithdrawRequest(
            record_id=notice_id, reason=record_pb2.WITHDRAWAL_REASON_CANCELLED
        )
    )
    await settled(gateway)
    assert await hits_of(screening) == [], "the hit is no longer listed"
    stored = await gateway.store.get(hit.record_id)
    assert stored is not None
    tombstone = stored.to_message()
    assert tombstone.WhichOneof("body") == "withdrawal"
    assert tombstone.withdrawal.reason == record_pb2.WITHDRAWAL_REASON_CANCELLED
    assert notice_id in tombstone.withdrawal.note
    same = traveller("", "ORLOV", "PAVEL")
    assert not (await screening.Screen(screening_pb2.ScreenRequest(subjects=[same]))).hits
