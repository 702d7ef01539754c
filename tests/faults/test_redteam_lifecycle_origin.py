"""Red team of issue 15: only the originating centre speaks for its records' lifecycle.

Attacks through a real mutual-TLS gateway (the i2c) by a peer (Lyon) relaying Singapore's
records, and by Lyon's and Singapore's own requests:

* retention dates are outside the origin's signature (decision 0016): Lyon re-delivering a
  genuine, signed version of Singapore's record with other dates moved the i2c's expiry of it -
  an extension (or an early expiry) by a centre that is not the origin;
* a request's thread id names the requesting centre (replies are routed to that namespace): a
  peer opening a thread under another centre's thread id squatted that centre's thread here and
  had the i2c's reply sent to the wrong centre.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import grpc
import pytest
from grpc import aio

from gateway.lifecycle.receipts import receipt_record
from gateway.server import Gateway
from liaison.rules.lifecycle import tombstone_of
from liaison.v1 import (
    exchange_pb2,
    exchange_pb2_grpc,
    federation_pb2,
    federation_pb2_grpc,
    record_pb2,
)
from tests.gateway.security.test_origin_authority import GRANTS, OPERATOR, PARTNER, head, signed
from tests.support.factories import person
from tests.support.mtls import I2C, LYON, SINGAPORE, Pki, channel, tls_gateway
from tests.support.rpc import violations_of

HOUR_US = 3_600_000_000
YEAR_9000_US = 221_845_392_000 * 1_000_000


@pytest.fixture
async def gateway(tmp_path: Path, pki: Pki) -> AsyncIterator[Gateway]:
    async with tls_gateway(tmp_path, pki, GRANTS, peers=(LYON, SINGAPORE)) as started:
        yield started


async def deliver_as(
    gateway: Gateway, pki: Pki, sender: str, *records: record_pb2.Record
) -> list[federation_pb2.DeliveryResult]:
    """``Federation.Deliver`` with ``sender``'s own centre certificate."""
    certificate = {LYON: pki.lyon, SINGAPORE: pki.singapore}[sender]
    async with channel(gateway, pki, certificate) as peer:
        response = await federation_pb2_grpc.FederationStub(peer).Deliver(
            federation_pb2.DeliverRequest(
                records=[federation_pb2.ForwardedRecord(record=r) for r in records]
            )
        )
    return list(response.results)


def dated(record: record_pb2.Record, review_us: int, expires_us: int) -> record_pb2.Record:
    copy = record_pb2.Record()
    copy.CopyFrom(record)
    for stamp, micros in ((copy.review_due, review_us), (copy.expires_at, expires_us)):
        stamp.seconds, rest = divmod(micros, 1_000_000)
        stamp.nanos = rest * 1000
    return copy


async def dates(gateway: Gateway, record_id: str) -> tuple[int, int]:
    stored = await gateway.store.get(record_id)
    assert stored is not None
    return stored.review_due_us, stored.expires_at_us


async def test_a_relay_cannot_move_the_retention_of_another_centres_record(
    gateway: Gateway, pki: Pki
) -> None:
    now = gateway.clock()
    genuine = signed(person(f"{SINGAPORE}:kept-1"), 1, pki.keys[SINGAPORE])
    first = dated(genuine, now + HOUR_US, now + 2 * HOUR_US)
    [stored] = await deliver_as(gateway, pki, LYON, first)
    assert stored.ack.version == 1
    assert await dates(gateway, f"{SINGAPORE}:kept-1") == (now + HOUR_US, now + 2 * HOUR_US)

    # The same signed version, relayed again by Lyon with dates Singapore never gave.
    extended = dated(genuine, YEAR_9000_US, YEAR_9000_US)
    shortened = dated(genuine, now + 1, now + 1)
    for forged in (extended, shortened):
        [again] = await deliver_as(gateway, pki, LYON, forged)
        assert again.ack.duplicate
        assert await dates(gateway, f"{SINGAPORE}:kept-1") == (now + HOUR_US, now + 2 * HOUR_US)

    # The origin itself speaks for its record: Singapore's own delivery moves them.
    renewed = dated(genuine, now + 3 * HOUR_US, now + 4 * HOUR_US)
    [own] = await deliver_as(gateway, pki, SINGAPORE, renewed)
    assert own.ack.duplicate
    assert await dates(gateway, f"{SINGAPORE}:kept-1") == (now + 3 * HOUR_US, now + 4 * HOUR_US)


async def test_a_relayed_correction_keeps_the_dates_the_origin_gave(
    gateway: Gateway, pki: Pki
) -> None:
    now = gateway.clock()
    first = dated(
        signed(person(f"{SINGAPORE}:kept-2"), 1, pki.keys[SINGAPORE]), now + HOUR_US, now + HOUR_US
    )
    await deliver_as(gateway, pki, SINGAPORE, first)
    correction = signed(person(f"{SINGAPORE}:kept-2", family="CORRECTED"), 2, pki.keys[SINGAPORE])
    [relayed] = await deliver_as(gateway, pki, LYON, dated(correction, YEAR_9000_US, YEAR_9000_US))
    assert (relayed.ack.version, relayed.ack.duplicate) == (2, False)
    assert await dates(gateway, f"{SINGAPORE}:kept-2") == (now + HOUR_US, now + HOUR_US)


def rfi(record_id: str, thread_id: str, origin: str, to: str) -> record_pb2.Record:
    record = record_pb2.Record(record_id=record_id)
    record.provenance.originating_centre = origin
    record.request.thread_id = thread_id
    record.request.subject = "traveller on AF123"
    record.request.body = "Is this the subject of your notice?"
    record.handling.releasable_to.append(to)
    return record


async def test_a_peer_cannot_open_a_thread_under_another_centres_thread_id(
    gateway: Gateway, pki: Pki
) -> None:
    # Lyon asks the i2c under Singapore's thread id, before Singapore does: replies follow the
    # thread id's namespace, so the i2c's answer to Lyon would go to Singapore, and Singapore's
    # own request under that id would be taken for Lyon's.
    squatting = signed(rfi(f"{LYON}:rfi:sq", f"{SINGAPORE}:t1", LYON, I2C), 1, pki.keys[LYON])
    [refused] = await deliver_as(gateway, pki, LYON, squatting)
    assert refused.error.code == grpc.StatusCode.INVALID_ARGUMENT.value[0]
    assert [v.field for v in refused.error.field_violations] == ["request.thread_id"]
    assert await gateway.store.get(f"{LYON}:rfi:sq") is None
    genuine = signed(
        rfi(f"{SINGAPORE}:rfi:1", f"{SINGAPORE}:t1", SINGAPORE, I2C), 1, pki.keys[SINGAPORE]
    )
    [stored] = await deliver_as(gateway, pki, SINGAPORE, genuine)
    assert stored.ack.version == 1
    async with channel(gateway, pki, pki.client(OPERATOR)) as operator:
        exchange = exchange_pb2_grpc.RecordExchangeStub(operator)
        listed = await exchange.ListThreads(exchange_pb2.ListThreadsRequest())
        assert [(t.thread_id, t.requesting_centre) for t in listed.threads] == [
            (f"{SINGAPORE}:t1", SINGAPORE)
        ]
        # Nor does this centre ask under another's thread id (nor under none: no reply could
        # find its way back).
        for thread_id in (f"{LYON}:t2", "t2"):
            with pytest.raises(aio.AioRpcError) as own:
                await exchange.Submit(
                    exchange_pb2.SubmitRequest(record=rfi(f"{I2C}:rfi:2", thread_id, I2C, LYON))
                )
            assert own.value.code() == grpc.StatusCode.INVALID_ARGUMENT
            assert set(violations_of(own.value)) == {"request.thread_id"}


async def test_threads_listed_to_a_partner_show_only_its_own_part(
    gateway: Gateway, pki: Pki
) -> None:
    # The i2c asks Lyon and Singapore; Singapore's receipt (releasable to the i2c only) says
    # Singapore read it. A client reading here for Lyon may see the request, not Singapore's
    # handling of it.
    asked = rfi(f"{I2C}:rfi:both", f"{I2C}:t-both", I2C, LYON)
    asked.handling.releasable_to.append(SINGAPORE)
    async with channel(gateway, pki, pki.client(OPERATOR)) as operator:
        exchange = exchange_pb2_grpc.RecordExchangeStub(operator)
        await exchange.Submit(exchange_pb2.SubmitRequest(record=asked))
    now = gateway.clock()
    receipt = receipt_record(
        SINGAPORE,
        thread_id=f"{I2C}:t-both",
        request_record_id=f"{I2C}:rfi:both",
        requesting_centre=I2C,
        times=(now, now, 0),
        reply_record_ids=[],
    )
    [stored] = await deliver_as(gateway, pki, SINGAPORE, signed(receipt, 1, pki.keys[SINGAPORE]))
    assert stored.ack.version == 1
    async with channel(gateway, pki, pki.client(OPERATOR)) as operator:
        exchange = exchange_pb2_grpc.RecordExchangeStub(operator)
        mine = await exchange.ListThreads(exchange_pb2.ListThreadsRequest())
    assert sorted((t.addressed_centre, t.state) for t in mine.threads) == [
        (LYON, exchange_pb2.THREAD_STATE_SENT),
        (SINGAPORE, exchange_pb2.THREAD_STATE_READ),
    ]
    async with channel(gateway, pki, pki.client(PARTNER)) as partner:
        exchange = exchange_pb2_grpc.RecordExchangeStub(partner)
        theirs = await exchange.ListThreads(exchange_pb2.ListThreadsRequest())
    assert [t.addressed_centre for t in theirs.threads] == [LYON]


def copy_of(record: record_pb2.Record) -> record_pb2.Record:
    copy = record_pb2.Record()
    copy.CopyFrom(record)
    return copy


async def test_a_relay_cannot_withdraw_another_centres_record(gateway: Gateway, pki: Pki) -> None:
    genuine = signed(person(f"{SINGAPORE}:held-1"), 1, pki.keys[SINGAPORE])
    [stored] = await deliver_as(gateway, pki, SINGAPORE, genuine)
    assert stored.ack.version == 1
    held = await gateway.store.get(f"{SINGAPORE}:held-1")
    assert held is not None
    tombstone = tombstone_of(
        held.to_message(), record_pb2.WITHDRAWAL_REASON_CANCELLED, "", gateway.clock()
    )
    # Signed by Lyon for Singapore's record; unsigned; and Singapore-signed but altered after.
    by_lyon = signed(copy_of(tombstone), 2, pki.keys[LYON], origin=SINGAPORE)
    unsigned = copy_of(by_lyon)
    unsigned.provenance.ClearField("signature")
    altered = signed(copy_of(tombstone), 2, pki.keys[SINGAPORE])
    altered.withdrawal.note = "altered by the relay"
    results = await deliver_as(gateway, pki, LYON, by_lyon, unsigned, altered)
    assert [r.error.code for r in results] == [grpc.StatusCode.PERMISSION_DENIED.value[0]] * 3
    assert await head(gateway, f"{SINGAPORE}:held-1") == (1, SINGAPORE)
    # Singapore's own tombstone, relayed unaltered by Lyon, withdraws it.
    [relayed] = await deliver_as(
        gateway, pki, LYON, signed(copy_of(tombstone), 2, pki.keys[SINGAPORE])
    )
    assert relayed.ack.version == 2
    latest = await gateway.store.get(f"{SINGAPORE}:held-1")
    assert latest is not None
    assert latest.kind == "withdrawal"


async def test_a_centre_not_addressed_cannot_answer_or_receipt_a_thread(
    gateway: Gateway, pki: Pki
) -> None:
    # The i2c asks Singapore only. Lyon, not addressed, sends a receipt saying the request was
    # read and answered, and a reply; both are Lyon's own signed records (so they are stored),
    # but Singapore's thread stays SENT and no thread of Lyon's appears.
    asked = rfi(f"{I2C}:rfi:sg", f"{I2C}:t-sg", I2C, SINGAPORE)
    async with channel(gateway, pki, pki.client(OPERATOR)) as operator:
        exchange = exchange_pb2_grpc.RecordExchangeStub(operator)
        await exchange.Submit(exchange_pb2.SubmitRequest(record=asked))
    now = gateway.clock()
    forged_receipt = receipt_record(
        LYON,
        thread_id=f"{I2C}:t-sg",
        request_record_id=f"{I2C}:rfi:sg",
        requesting_centre=I2C,
        times=(now, now, now),
        reply_record_ids=[f"{LYON}:answer:sg"],
    )
    answer = record_pb2.Record(record_id=f"{LYON}:answer:sg")
    answer.reply.thread_id = f"{I2C}:t-sg"
    answer.reply.body = "answered for Singapore"
    results = await deliver_as(
        gateway,
        pki,
        LYON,
        signed(forged_receipt, 1, pki.keys[LYON]),
        signed(answer, 1, pki.keys[LYON]),
    )
    assert [r.ack.version for r in results] == [1, 1]
    async with channel(gateway, pki, pki.client(OPERATOR)) as operator:
        exchange = exchange_pb2_grpc.RecordExchangeStub(operator)
        listed = await exchange.ListThreads(exchange_pb2.ListThreadsRequest())
    assert [(t.addressed_centre, t.state, list(t.reply_record_ids)) for t in listed.threads] == [
        (SINGAPORE, exchange_pb2.THREAD_STATE_SENT, [])
    ]


async def test_read_is_set_only_by_a_fetch_of_a_client_of_the_addressed_centre(
    gateway: Gateway, pki: Pki
) -> None:
    # Lyon asks the i2c, releasable to both; a client reading here for Lyon fetches it, and
    # an i2c subscriber receives it: neither is the i2c reading it. The i2c's own Get is.
    asked = rfi(f"{LYON}:rfi:rd", f"{LYON}:t-rd", LYON, I2C)
    asked.handling.releasable_to.append(LYON)
    asked = signed(asked, 1, pki.keys[LYON])
    [stored] = await deliver_as(gateway, pki, LYON, asked)
    assert stored.ack.version == 1
    get = exchange_pb2.GetRequest(record_id=f"{LYON}:rfi:rd")
    async with channel(gateway, pki, pki.client(PARTNER)) as partner:
        fetched = await exchange_pb2_grpc.RecordExchangeStub(partner).Get(get)
        assert fetched.record.HasField("request")
    async with channel(gateway, pki, pki.client(OPERATOR)) as operator:
        exchange = exchange_pb2_grpc.RecordExchangeStub(operator)
        feed = exchange.Subscribe(exchange_pb2.SubscribeRequest(after_sequence=0))
        async for response in feed:
            if response.HasField("caught_up"):
                break
        feed.cancel()
        [thread] = (await exchange.ListThreads(exchange_pb2.ListThreadsRequest())).threads
        assert thread.state == exchange_pb2.THREAD_STATE_DELIVERED
        await exchange.Get(get)
        [thread] = (await exchange.ListThreads(exchange_pb2.ListThreadsRequest())).threads
        assert thread.state == exchange_pb2.THREAD_STATE_READ
