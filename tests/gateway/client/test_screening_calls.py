"""``screen``, ``decide`` and ``hits`` of both clients against a real gateway: the requests they
build, the pages they follow, and how refusals come back as errors.

Blocking-client scenarios run in a worker thread: the gateway serves on this test's event loop.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import grpc
import pytest

from gateway.client import (
    AsyncLiaisonClient,
    ClientError,
    InvalidRecordError,
    LiaisonClient,
    RecordNotFoundError,
    VersionConflictError,
)
from gateway.server import Gateway
from liaison.v1 import record_pb2, screening_hit_pb2
from tests.conftest import TEST_CENTRE
from tests.support.factories import store_replica, travel_document
from tests.support.screening_records import red_notice, screened, stolen_passport, traveller

HIT = screening_hit_pb2.SCREENING_BAND_HIT
REVIEW = screening_hit_pb2.SCREENING_BAND_REVIEW
MATCH = screening_hit_pb2.SCREENING_DECISION_KIND_MATCH
NO_MATCH = screening_hit_pb2.SCREENING_DECISION_KIND_NO_MATCH
UNDECIDED = screening_hit_pb2.SCREENING_DECISION_KIND_UNSPECIFIED
NOTICE = f"{TEST_CENTRE}:notice:1"

MRZ = b"P<RUSIVANOV<<SERGEI".ljust(44, b"<") + b"\nC01X00T478RUS7105041M2801016<<<<<<<<<<<<<<<0\n"


async def with_hits(gateway: Gateway, travellers: int) -> None:
    """A red notice, then ``travellers`` committed travellers who each hit it."""
    async with AsyncLiaisonClient(gateway.address) as client:
        await client.submit(red_notice(NOTICE))
        await screened(gateway)
        for n in range(travellers):
            await client.submit(traveller(f"{TEST_CENTRE}:pax:{n}"))
        await screened(gateway)


async def test_async_screen_records_returns_explained_hits_and_visible_entries(
    gateway: Gateway,
) -> None:
    await with_hits(gateway, 0)
    async with AsyncLiaisonClient(gateway.address) as client:
        response = await client.screen([traveller(""), travel_document("", family="NOVAK")])
        assert [s.record_id for s in response.subjects] == ["subject-1", "subject-2"]
        (hit,) = response.hits
        assert (hit.subject_record_id, hit.entry_record_id, hit.list) == (
            "subject-1",
            NOTICE,
            "notices",
        )
        assert hit.band in (HIT, REVIEW)
        assert {line.feature for line in hit.explanation} >= {"name", "birth_date"}
        assert [entry.record_id for entry in response.entries] == [NOTICE]
        # Only the lists asked for.
        assert not (await client.screen([traveller("")], lists=["sltd"])).hits


async def test_async_screen_a_legacy_payload(gateway: Gateway) -> None:
    await with_hits(gateway, 0)
    async with AsyncLiaisonClient(gateway.address) as client:
        response = await client.screen(adapter="icao-mrz", payload=MRZ)
    assert response.subjects, [d.message for d in response.diagnostics]
    assert [h.entry_record_id for h in response.hits] == [NOTICE]


async def test_async_screen_refusals_carry_the_field_violations(gateway: Gateway) -> None:
    async with AsyncLiaisonClient(gateway.address) as client:
        with pytest.raises(InvalidRecordError) as nothing:
            await client.screen()
        assert dict(nothing.value.field_violations).keys() == {"subjects"}
        with pytest.raises(InvalidRecordError) as unknown:
            await client.screen([traveller("")], lists=["no-such-list"])
        assert "no-such-list" in dict(unknown.value.field_violations)["lists"]
        with pytest.raises(InvalidRecordError) as both:
            await client.screen([traveller("")], adapter="icao-mrz", payload=MRZ)
        assert "payload" in dict(both.value.field_violations)


async def test_async_hits_follows_every_page_and_filters(gateway: Gateway) -> None:
    await with_hits(gateway, 3)
    async with AsyncLiaisonClient(gateway.address) as client:
        every = [hit async for hit in client.hits(page_size=1)]
        assert sorted(h.screening_hit.subject_record_id for h in every) == [
            f"{TEST_CENTRE}:pax:{n}" for n in range(3)
        ]
        assert all(h.WhichOneof("body") == "screening_hit" for h in every)
        band = every[0].screening_hit.band
        assert len([h async for h in client.hits(bands=[band], lists=["notices"])]) == 3
        assert [h async for h in client.hits(lists=["sltd"])] == []
        future = datetime.now(UTC) + timedelta(days=1)
        assert [h async for h in client.hits(screened_after=future)] == []
        assert len([h async for h in client.hits(screened_before=future)]) == 3
        with pytest.raises(ValueError, match="timezone-aware"):
            [h async for h in client.hits(screened_after=datetime(2026, 1, 1))]
        with pytest.raises(InvalidRecordError) as bad:
            [h async for h in client.hits(lists=["NOT A LIST"])]
        assert "lists[0]" in dict(bad.value.field_violations)


async def test_async_decide_records_the_decision_and_refuses_a_stale_one(
    gateway: Gateway,
) -> None:
    await with_hits(gateway, 1)
    async with AsyncLiaisonClient(gateway.address) as client:
        (hit,) = [h async for h in client.hits(decisions=[UNDECIDED])]
        decided = await client.decide(hit.record_id, MATCH, "same man", expected_version=1)
        assert (decided.ack.record_id, decided.ack.version) == (hit.record_id, 2)
        decision = decided.hit.screening_hit.decision
        assert (decision.kind, decision.note) == (MATCH, "same man")
        assert [h async for h in client.hits(decisions=[UNDECIDED])] == []
        assert [h.record_id async for h in client.hits(decisions=[MATCH])] == [hit.record_id]
        with pytest.raises(VersionConflictError) as stale:
            await client.decide(hit.record_id, NO_MATCH, expected_version=1)
        assert stale.value.code is grpc.StatusCode.ABORTED
        with pytest.raises(RecordNotFoundError):
            await client.decide(f"{TEST_CENTRE}:hit:none", MATCH)
        with pytest.raises(InvalidRecordError) as invalid:
            await client.decide("", UNDECIDED)
        assert dict(invalid.value.field_violations).keys() == {"hit_record_id", "decision"}


async def test_a_hit_screened_elsewhere_is_refused_without_claiming_a_version_conflict(
    gateway: Gateway,
) -> None:
    other = "INTERPOL-CCC-LYON"
    hit = record_pb2.Record(record_id=f"{other}:hit:1")
    hit.provenance.originating_centre = other
    hit.screening_hit.subject_record_id = f"{other}:pax:1"
    hit.screening_hit.subject_version = 1
    hit.screening_hit.entry_record_id = f"{other}:notice:1"
    hit.screening_hit.entry_version = 1
    hit.screening_hit.list = "notices"
    hit.screening_hit.band = HIT
    hit.screening_hit.entry_centre = other
    hit.screening_hit.screened_at.FromDatetime(datetime.now(UTC))
    await store_replica(gateway, hit)
    async with AsyncLiaisonClient(gateway.address) as client:
        with pytest.raises(ClientError) as refused:
            await client.decide(hit.record_id, MATCH)
    assert refused.value.code is grpc.StatusCode.FAILED_PRECONDITION
    assert not isinstance(refused.value, VersionConflictError)
    assert other in refused.value.message


async def test_the_blocking_client_screens_lists_and_decides(gateway: Gateway) -> None:
    await with_hits(gateway, 2)
    async with AsyncLiaisonClient(gateway.address) as setup:
        await setup.submit(stolen_passport(f"{TEST_CENTRE}:sltd:1"))
    await screened(gateway)

    def scenario() -> None:
        with LiaisonClient(gateway.address) as client:
            carried = travel_document("", number="X1234567", issuing_state="FRA", family="NOVAK")
            response = client.screen([carried], lists=["sltd"])
            assert [(h.list, h.entry_record_id) for h in response.hits] == [
                ("sltd", f"{TEST_CENTRE}:sltd:1")
            ]
            found = list(client.hits(page_size=1, lists=["notices"]))
            assert len(found) == 2
            decided = client.decide(found[0].record_id, NO_MATCH, note="other man")
            assert decided.hit.screening_hit.decision.kind == NO_MATCH
            assert len(list(client.hits(decisions=[NO_MATCH]))) == 1
            with pytest.raises(InvalidRecordError):
                client.screen([record_pb2.Record(record_id="x")])

    await asyncio.to_thread(scenario)
