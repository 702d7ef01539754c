"""The record lifecycle at one gateway (issue 15): withdrawal, retention dates, expiry on an
injected clock, extension, review reminders - and that a withdrawn or expired record's content
is served by nothing (Get, old versions, Search, Subscribe, Export, screening)."""

from __future__ import annotations

import asyncio
from dataclasses import replace
from pathlib import Path

import grpc
import pytest
from google.protobuf.duration_pb2 import Duration
from google.protobuf.timestamp_pb2 import Timestamp
from grpc import aio

from gateway.config import CentreConfig
from gateway.lifecycle.settings import parse_lifecycle
from gateway.screening.records import subjects_from_records
from gateway.server import Gateway
from gateway.services.screening_desk import ScreeningDesk
from gateway.supervision import Supervised
from liaison.rules.lifecycle import parse_period
from liaison.v1 import exchange_pb2, record_pb2, screening_pb2, translation_pb2
from tests.conftest import TEST_CENTRE, make_config
from tests.gateway.services.test_screening_service import red_notice, settled, traveller
from tests.support.factories import person, store_replica
from tests.support.rpc import ExchangeStub, ScreeningStub, TranslationStub, violations_of

CANCELLED = record_pb2.WITHDRAWAL_REASON_CANCELLED
EXPIRED = record_pb2.WITHDRAWAL_REASON_EXPIRED
FIVE_YEARS = parse_period("5y")
LYON = "INTERPOL-CCC-LYON"


class Clock:
    """A clock the test moves (microseconds since the epoch)."""

    def __init__(self, now_us: int) -> None:
        self.now_us = now_us

    def __call__(self) -> int:
        return self.now_us

    def advance(self, period: str) -> None:
        self.now_us += parse_period(period)


@pytest.fixture
async def clock(gateway: Gateway) -> Clock:
    """The gateway's lifecycle clock, starting now; tests move it, never sleep."""
    moved = Clock(gateway.clock())
    gateway.clock = moved
    return moved


def rid(name: str) -> str:
    return f"{TEST_CENTRE}:{name}"


async def submit(exchange: ExchangeStub, record: record_pb2.Record) -> exchange_pb2.SubmitAck:
    return (await exchange.Submit(exchange_pb2.SubmitRequest(record=record))).ack


async def withdraw(
    exchange: ExchangeStub, record_id: str, reason: int = CANCELLED, note: str = ""
) -> exchange_pb2.SubmitAck:
    request = exchange_pb2.WithdrawRequest(record_id=record_id, reason=reason, note=note)  # type: ignore[arg-type]
    return (await exchange.Withdraw(request)).ack


async def get(exchange: ExchangeStub, record_id: str, version: int = 0) -> record_pb2.Record:
    request = exchange_pb2.GetRequest(record_id=record_id, version=version)
    return (await exchange.Get(request)).record


async def refusal(call: object) -> aio.AioRpcError:
    with pytest.raises(aio.AioRpcError) as raised:
        await call  # type: ignore[misc]
    return raised.value


def micros(stamp: Timestamp) -> int:
    return stamp.seconds * 1_000_000 + stamp.nanos // 1000


# -- withdrawal ------------------------------------------------------------------------------


async def test_a_withdrawn_record_keeps_its_metadata_and_serves_no_content(
    exchange: ExchangeStub, clock: Clock
) -> None:
    await submit(exchange, person(rid("p1"), family="ONE"))
    await submit(exchange, person(rid("p1"), family="TWO"))
    ack = await withdraw(exchange, rid("p1"), note="closed")
    assert (ack.version, ack.duplicate) == (3, False)

    latest = await get(exchange, rid("p1"))
    assert latest.WhichOneof("body") == "withdrawal"
    assert latest.withdrawal.reason == CANCELLED
    assert latest.withdrawal.note == "closed"
    assert latest.withdrawal.withdrawn_kind == record_pb2.RECORD_KIND_PERSON
    assert latest.withdrawal.withdrawn_version == 2
    assert micros(latest.withdrawal.withdrawn_at) == clock.now_us
    assert latest.provenance.originating_centre == TEST_CENTRE
    for version in (1, 2):
        old = await get(exchange, rid("p1"), version)
        assert old.version == version
        assert old.WhichOneof("body") == "withdrawal", "old versions are served as the tombstone"
        assert not old.HasField("person")


async def test_search_subscribe_and_export_leave_a_withdrawn_record_out(
    channel: aio.Channel, exchange: ExchangeStub
) -> None:
    await submit(exchange, person(rid("p2"), family="SEARCHED"))
    await withdraw(exchange, rid("p2"))

    search = exchange.Search(exchange_pb2.SearchRequest(family_name="SEARCHED"))
    assert [r.hit.record.record_id async for r in search if r.HasField("hit")] == []

    subscription = exchange.Subscribe(exchange_pb2.SubscribeRequest(after_sequence=0))
    seen = []
    async for response in subscription:
        if response.HasField("caught_up"):
            break
        seen.append(response.record_event.record)
    subscription.cancel()
    assert [(r.record_id, r.WhichOneof("body")) for r in seen] == [(rid("p2"), "withdrawal")]

    translation = TranslationStub(channel)
    export = translation_pb2.ExportRequest(
        adapter="icao-mrz", record_refs=[translation_pb2.RecordRef(record_id=rid("p2"), version=1)]
    )
    error = await refusal(translation.Export(export))
    assert error.code() == grpc.StatusCode.NOT_FOUND


async def test_withdrawing_again_is_a_duplicate_and_no_version_follows_a_tombstone(
    exchange: ExchangeStub,
) -> None:
    await submit(exchange, person(rid("p3")))
    first = await withdraw(exchange, rid("p3"))
    again = await withdraw(exchange, rid("p3"), record_pb2.WITHDRAWAL_REASON_ERRONEOUS)
    assert (again.version, again.sequence, again.duplicate) == (first.version, first.sequence, True)

    error = await refusal(submit(exchange, person(rid("p3"), family="BACK")))
    assert error.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert "withdrawn" in (error.details() or "")


async def test_only_the_originating_centre_withdraws(
    gateway: Gateway, exchange: ExchangeStub
) -> None:
    await store_replica(gateway, person(f"{LYON}:9", centre=LYON))
    error = await refusal(withdraw(exchange, f"{LYON}:9"))
    assert error.code() == grpc.StatusCode.PERMISSION_DENIED
    assert LYON in (error.details() or "")

    error = await refusal(withdraw(exchange, rid("never-stored")))
    assert error.code() == grpc.StatusCode.NOT_FOUND


async def test_bad_withdrawals_name_their_fields(exchange: ExchangeStub) -> None:
    await submit(exchange, person(rid("p4")))
    cases = [
        (exchange_pb2.WithdrawRequest(record_id=rid("p4")), {"reason"}),
        (exchange_pb2.WithdrawRequest(record_id=rid("p4"), reason=EXPIRED), {"reason"}),
        (
            exchange_pb2.WithdrawRequest(
                record_id="bad id", reason=record_pb2.WITHDRAWAL_REASON_OTHER
            ),
            {"record_id", "note"},
        ),
    ]
    for request, fields in cases:
        error = await refusal(exchange.Withdraw(request))
        assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert set(violations_of(error)) == fields


async def test_a_tombstone_cannot_be_submitted(exchange: ExchangeStub) -> None:
    record = record_pb2.Record(record_id=rid("p5"))
    record.withdrawal.reason = CANCELLED
    record.withdrawal.withdrawn_kind = record_pb2.RECORD_KIND_PERSON
    record.withdrawal.withdrawn_at.seconds = 1
    error = await refusal(submit(exchange, record))
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert set(violations_of(error)) == {"withdrawal"}


async def test_withdrawal_leaves_the_screening_index(
    gateway: Gateway, channel: aio.Channel, exchange: ExchangeStub
) -> None:
    screening = ScreeningStub(channel)
    request = screening_pb2.ScreenRequest(subjects=[traveller("", "PETROV", "ALEKSEI")])
    await submit(exchange, red_notice(rid("notice:1"), "PETROV", "ALEXEI", (1971, 5, 4)))
    await settled(gateway)
    assert [h.entry_record_id for h in (await screening.Screen(request)).hits] == [rid("notice:1")]
    await withdraw(exchange, rid("notice:1"), note="cancelled at the source")
    await settled(gateway)
    assert not (await screening.Screen(request)).hits, "the withdrawn notice left the index"


# -- retention -------------------------------------------------------------------------------


async def test_retention_dates_are_stamped_per_kind_and_kept_out_of_the_content(
    exchange: ExchangeStub,
) -> None:
    # Notices keep INTERPOL's five years (this module's configuration shortens persons only).
    ack = await submit(exchange, red_notice(rid("r1"), "PETROV", "ALEXEI", (1971, 5, 4)))
    got = await get(exchange, rid("r1"))
    committed = micros(ack.committed_at)
    assert micros(got.expires_at) == committed + FIVE_YEARS
    assert micros(got.review_due) == committed + FIVE_YEARS
    # Read back and resubmitted unchanged (dates included) it is the same content.
    again = await submit(exchange, got)
    assert (again.duplicate, again.version) == (True, 1)


async def test_dates_given_by_the_originator_are_kept(exchange: ExchangeStub) -> None:
    record = person(rid("r2"))
    record.review_due.seconds = 2_000_000_000
    record.expires_at.seconds = 2_100_000_000
    await submit(exchange, record)
    got = await get(exchange, rid("r2"))
    assert (got.review_due.seconds, got.expires_at.seconds) == (2_000_000_000, 2_100_000_000)


@pytest.fixture
def gateway_config(tmp_path: Path) -> CentreConfig:
    """Persons kept a year here, reviews reminded two months ahead."""
    lifecycle = parse_lifecycle({"retention": {"person": "1y"}, "review_reminder": "2m"})
    return replace(make_config(tmp_path), lifecycle=lifecycle)


async def test_a_configured_period_applies_to_its_kind(exchange: ExchangeStub) -> None:
    ack = await submit(exchange, person(rid("r3")))
    got = await get(exchange, rid("r3"))
    assert micros(got.expires_at) == micros(ack.committed_at) + parse_period("1y")


async def test_no_record_is_served_past_its_expiry_and_the_keeper_withdraws_it(
    gateway: Gateway, exchange: ExchangeStub, clock: Clock
) -> None:
    await submit(exchange, person(rid("e1"), family="EXPIRING"))
    await submit(exchange, person(rid("e2"), family="KEPT"))
    extend = exchange_pb2.ExtendRetentionRequest(
        record_id=rid("e2"), extend_by=Duration(seconds=2 * 365 * 86400), note="still wanted"
    )
    await exchange.ExtendRetention(extend)
    clock.advance("1y")
    clock.advance("1d")

    # Past its expiry, before any sweep: the gate already serves no content.
    shown = await get(exchange, rid("e1"))
    assert shown.WhichOneof("body") == "withdrawal"
    assert shown.withdrawal.reason == EXPIRED
    search = exchange.Search(exchange_pb2.SearchRequest(family_name="EXPIRING"))
    assert [r async for r in search if r.HasField("hit")] == []
    assert (await get(exchange, rid("e2"))).HasField("person"), "the extended one is kept"

    report = await gateway.keeper.sweep()
    assert report.expired == (rid("e1"),)
    stored = await get(exchange, rid("e1"))
    assert (stored.version, stored.withdrawal.reason) == (2, EXPIRED)
    assert (await gateway.keeper.sweep()).expired == (), "withdrawn once"


async def test_extension_moves_both_dates_later_and_never_earlier(
    exchange: ExchangeStub, clock: Clock
) -> None:
    await submit(exchange, person(rid("x1")))
    before = await get(exchange, rid("x1"))
    response = await exchange.ExtendRetention(
        exchange_pb2.ExtendRetentionRequest(
            record_id=rid("x1"), extend_by=Duration(seconds=3 * 365 * 86400)
        )
    )
    after = await get(exchange, rid("x1"))
    assert after.version == 1, "an extension is no new version"
    assert micros(after.expires_at) == clock.now_us + 3 * 365 * 86400 * 1_000_000
    assert micros(response.retention.expires_at) == micros(after.expires_at)
    assert micros(after.review_due) > micros(before.review_due)
    assert response.retention.kind == record_pb2.RECORD_KIND_PERSON
    # A shorter extension than what is left changes nothing.
    await exchange.ExtendRetention(
        exchange_pb2.ExtendRetentionRequest(record_id=rid("x1"), extend_by=Duration(seconds=86400))
    )
    assert micros((await get(exchange, rid("x1"))).expires_at) == micros(after.expires_at)


async def test_bad_extensions_are_refused_clearly(gateway: Gateway, exchange: ExchangeStub) -> None:
    await submit(exchange, person(rid("x2")))
    error = await refusal(
        exchange.ExtendRetention(
            exchange_pb2.ExtendRetentionRequest(record_id=rid("x2"), extend_by=Duration(seconds=5))
        )
    )
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert set(violations_of(error)) == {"extend_by"}
    year = Duration(seconds=365 * 86400)
    await withdraw(exchange, rid("x2"))
    error = await refusal(
        exchange.ExtendRetention(
            exchange_pb2.ExtendRetentionRequest(record_id=rid("x2"), extend_by=year)
        )
    )
    assert error.code() == grpc.StatusCode.FAILED_PRECONDITION
    await store_replica(gateway, person(f"{LYON}:7", centre=LYON))
    error = await refusal(
        exchange.ExtendRetention(
            exchange_pb2.ExtendRetentionRequest(record_id=f"{LYON}:7", extend_by=year)
        )
    )
    assert error.code() == grpc.StatusCode.PERMISSION_DENIED


async def test_review_reminders_are_raised_once_listed_and_cleared_by_an_extension(
    gateway: Gateway, exchange: ExchangeStub, clock: Clock, caplog: pytest.LogCaptureFixture
) -> None:
    await submit(exchange, person(rid("v1")))
    await submit(exchange, person(rid("v2")))
    assert (await exchange.ListReviews(exchange_pb2.ListReviewsRequest())).reviews == []
    assert (await gateway.keeper.sweep()).reminded == ()

    clock.advance("11m")  # within the configured two months of the one-year review
    caplog.set_level("INFO", logger="gateway.lifecycle.keeper")
    report = await gateway.keeper.sweep()
    assert sorted(report.reminded) == [rid("v1"), rid("v2")]
    assert gateway.keeper.reviews_due == 2
    assert [r for r in caplog.records if getattr(r, "liaison.event", "") == "review.due"]
    assert (await gateway.keeper.sweep()).reminded == (), "reminded once"
    listed = (await exchange.ListReviews(exchange_pb2.ListReviewsRequest())).reviews
    assert sorted(r.record_id for r in listed) == [rid("v1"), rid("v2")]

    await exchange.ExtendRetention(
        exchange_pb2.ExtendRetentionRequest(
            record_id=rid("v1"), extend_by=Duration(seconds=5 * 365 * 86400)
        )
    )
    listed = (await exchange.ListReviews(exchange_pb2.ListReviewsRequest())).reviews
    assert [r.record_id for r in listed] == [rid("v2")]
    assert (await gateway.keeper.sweep()).due == 1


async def test_a_replica_is_not_served_past_its_expiry_but_only_its_origin_withdraws_it(
    gateway: Gateway, exchange: ExchangeStub, clock: Clock
) -> None:
    record = person(f"{LYON}:5", centre=LYON)
    record.expires_at.seconds = clock.now_us // 1_000_000 + 3600
    record.review_due.seconds = record.expires_at.seconds
    await store_replica(gateway, record)
    assert (await get(exchange, f"{LYON}:5")).HasField("person")
    clock.advance("2h")
    assert (await get(exchange, f"{LYON}:5")).withdrawal.reason == EXPIRED
    assert (await gateway.keeper.sweep()).expired == ()
    assert (await gateway.store.get(f"{LYON}:5")).version == 1  # type: ignore[union-attr]


async def test_a_withdrawn_entry_stays_out_of_the_index_rebuilt_at_start(
    gateway: Gateway, exchange: ExchangeStub
) -> None:
    await submit(exchange, red_notice(rid("notice:2"), "PETROV", "ALEXEI", (1971, 5, 4)))
    await withdraw(exchange, rid("notice:2"))
    await settled(gateway)
    rebuilt = ScreeningDesk(gateway.store, TEST_CENTRE, gateway.config.screening)
    await rebuilt.open()
    try:
        subject = traveller("", "PETROV", "ALEKSEI")
        subject.record_id = "subject-1"
        [matches] = await rebuilt.screen(subjects_from_records([subject]))
        assert matches == []
    finally:
        await rebuilt.close()


# -- withdrawals arriving from the originating centre ------------------------------------------


def _tombstone_of(record: record_pb2.Record, version: int) -> record_pb2.Record:
    tombstone = record_pb2.Record(record_id=record.record_id)
    tombstone.provenance.originating_centre = record.provenance.originating_centre
    tombstone.withdrawal.reason = CANCELLED
    tombstone.withdrawal.withdrawn_kind = record_pb2.RECORD_KIND_PERSON
    tombstone.withdrawal.withdrawn_version = version - 1
    tombstone.withdrawal.withdrawn_at.seconds = 1_800_000_000
    return tombstone


async def test_a_withdrawal_that_arrives_before_the_record_still_wins(
    gateway: Gateway, exchange: ExchangeStub
) -> None:
    record = person(f"{LYON}:late", family="LATECOMER", centre=LYON)
    await store_replica(gateway, _tombstone_of(record, 2), version=2)
    await store_replica(gateway, record, version=1)  # the record itself, delayed
    for version in (0, 1, 2):
        got = await get(exchange, f"{LYON}:late", version)
        assert got.WhichOneof("body") == "withdrawal", version
    search = exchange.Search(exchange_pb2.SearchRequest(family_name="LATECOMER"))
    assert [r async for r in search if r.HasField("hit")] == []


async def test_a_replicated_withdrawal_ends_the_replica_and_its_dates(
    gateway: Gateway, exchange: ExchangeStub
) -> None:
    record = person(f"{LYON}:w", centre=LYON)
    record.expires_at.seconds = 2_000_000_000
    await store_replica(gateway, record)
    assert (await gateway.store.get(f"{LYON}:w")).expires_at_us  # type: ignore[union-attr]
    await store_replica(gateway, _tombstone_of(record, 2), version=2)
    stored = await gateway.store.get(f"{LYON}:w")
    assert stored is not None
    assert (stored.kind, stored.expires_at_us) == ("withdrawal", 0)
    assert (await get(exchange, f"{LYON}:w", 1)).WhichOneof("body") == "withdrawal"


async def test_the_keeper_task_sweeps_after_each_interval(
    gateway: Gateway, exchange: ExchangeStub, clock: Clock
) -> None:
    await submit(exchange, person(rid("t1")))
    clock.advance("1y")
    clock.advance("1d")
    slept: list[float] = []

    async def sleep(seconds: float) -> None:
        slept.append(seconds)
        if len(slept) > 1:
            raise asyncio.CancelledError  # the second wait: one sweep happened

    with pytest.raises(asyncio.CancelledError):
        await gateway.keeper.run(Supervised(gateway.supervisor, "retention-test"), sleep)
    assert slept == [30.0, 30.0]
    assert (await get(exchange, rid("t1"))).version == 2
