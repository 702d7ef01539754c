"""Red team of issue 15: screening must not use a record past its ``expires_at``.

The gate serves no content past a record's expiry even before the retention keeper's sweep has
written its EXPIRED tombstone (at a receiver, that tombstone comes from the origin whenever the
origin sweeps, or later if it is down). Screening read its entries from the store directly:
``Screen`` answered an expired notice in full in ``entries`` and automatic screening stored a
hit repeating it. The clock is the gateway's injected one; nothing sleeps for time to pass.
"""

from __future__ import annotations

import pytest
from grpc import aio

from gateway.server import Gateway
from liaison.v1 import exchange_pb2, record_pb2, screening_pb2
from tests.conftest import TEST_CENTRE
from tests.gateway.services.test_lifecycle import Clock, submit
from tests.gateway.services.test_screening_service import red_notice, settled, traveller
from tests.support.factories import store_replica
from tests.support.rpc import ExchangeStub, ScreeningStub

LYON = "INTERPOL-CCC-LYON"


@pytest.fixture
async def clock(gateway: Gateway) -> Clock:
    """The gateway's lifecycle clock, starting now; the tests move it."""
    moved = Clock(gateway.clock())
    gateway.clock = moved
    return moved


def _expiring(record: record_pb2.Record, expires_at_us: int) -> record_pb2.Record:
    record.provenance.originating_centre = LYON
    seconds, micros = divmod(expires_at_us, 1_000_000)
    record.expires_at.seconds, record.expires_at.nanos = seconds, micros * 1000
    record.review_due.CopyFrom(record.expires_at)
    return record


async def test_screen_neither_matches_nor_answers_an_expired_entry_before_any_sweep(
    gateway: Gateway, channel: aio.Channel, exchange: ExchangeStub, clock: Clock
) -> None:
    # Lyon's notice, received here with Lyon's expiry in an hour; our own notice in five years.
    notice = red_notice(f"{LYON}:notice:9", "PETROV", "ALEXEI", (1971, 5, 4))
    await store_replica(gateway, _expiring(notice, clock.now_us + 3_600_000_000))
    await submit(exchange, red_notice(f"{TEST_CENTRE}:notice:9", "PETROV", "ALEXEI", (1971, 5, 4)))
    await settled(gateway)
    screening = ScreeningStub(channel)
    request = screening_pb2.ScreenRequest(subjects=[traveller("", "PETROV", "ALEKSEI")])
    before = await screening.Screen(request)
    assert {e.record_id for e in before.entries} == {f"{LYON}:notice:9", f"{TEST_CENTRE}:notice:9"}

    clock.advance("2h")  # Lyon's notice expired; Lyon's tombstone has not come yet
    after = await screening.Screen(request)
    assert [e.record_id for e in after.entries] == [f"{TEST_CENTRE}:notice:9"]
    assert {h.entry_record_id for h in after.hits} == {f"{TEST_CENTRE}:notice:9"}
    clock.advance("6y")  # ours too, and the keeper has not swept
    final = await screening.Screen(request)
    assert (list(final.entries), list(final.hits)) == ([], [])


async def test_automatic_screening_stores_no_hit_on_an_expired_entry(
    gateway: Gateway, exchange: ExchangeStub, clock: Clock
) -> None:
    notice = red_notice(f"{LYON}:notice:8", "IVANOV", "SERGEI", (1971, 5, 4))
    await store_replica(gateway, _expiring(notice, clock.now_us + 3_600_000_000))
    await settled(gateway)
    clock.advance("2h")
    await submit(exchange, traveller(f"{TEST_CENTRE}:pax:8", "IVANOFF", "SERGEY"))
    await settled(gateway)
    stored = await gateway.store.read_since(0, 100)
    assert [s.record_id for s in stored if s.kind == "screening_hit"] == []
    assert (
        await exchange.Get(exchange_pb2.GetRequest(record_id=f"{LYON}:notice:8"))
    ).record.HasField("withdrawal")


async def test_a_hit_is_not_served_past_its_entrys_expiry(
    gateway: Gateway, channel: aio.Channel, exchange: ExchangeStub, clock: Clock
) -> None:
    # A hit repeats its entry's data (the explanation names the listed person). Once Lyon's
    # notice expires, the i2c's own hit on it must not keep serving that data until Lyon's
    # tombstone arrives (which may be never, if Lyon is down).
    notice = red_notice(f"{LYON}:notice:7", "IVANOV", "SERGEI", (1971, 5, 4))
    await store_replica(gateway, _expiring(notice, clock.now_us + 3_600_000_000))
    await settled(gateway)
    await submit(exchange, traveller(f"{TEST_CENTRE}:pax:7", "IVANOFF", "SERGEY"))
    await settled(gateway)
    screening = ScreeningStub(channel)
    [hit] = (await screening.ListHits(screening_pb2.ListHitsRequest())).hits
    assert hit.screening_hit.entry_record_id == f"{LYON}:notice:7"
    clock.advance("2h")
    assert list((await screening.ListHits(screening_pb2.ListHitsRequest())).hits) == []
    got = await exchange.Get(exchange_pb2.GetRequest(record_id=hit.record_id))
    assert got.record.withdrawal.reason == record_pb2.WITHDRAWAL_REASON_EXPIRED
