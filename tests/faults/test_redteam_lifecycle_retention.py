"""Red team of issue 15: only ExtendRetention moves the retention of a record already stored.

Dates are outside the content hash, and the store moved a record's dates whenever a version came
with other ones (decision 0016). So a plain Submit of the unchanged record with later dates was
an extension that skipped ExtendRetention's rules: beyond its ten-year limit, not audited as an
extension, and - for a record already past its expiry, which ExtendRetention refuses - bringing
its content back to every reader here while the receivers, which keep the dates they were sent,
no longer served it. Both stores.
"""

from __future__ import annotations

import pytest
from google.protobuf.duration_pb2 import Duration

from gateway.server import Gateway
from liaison.rules.lifecycle import parse_period
from liaison.v1 import exchange_pb2, record_pb2
from tests.conftest import TEST_CENTRE
from tests.gateway.services.test_lifecycle import Clock
from tests.support.factories import person
from tests.support.rpc import ExchangeStub

pytestmark = pytest.mark.both_backends


@pytest.fixture
async def clock(gateway: Gateway) -> Clock:
    moved = Clock(gateway.clock())
    gateway.clock = moved
    return moved


def _dated(record_id: str, expires_at_us: int) -> exchange_pb2.SubmitRequest:
    record = person(record_id)
    record.expires_at.seconds, rest = divmod(expires_at_us, 1_000_000)
    record.expires_at.nanos = rest * 1000
    return exchange_pb2.SubmitRequest(record=record)


async def test_an_expired_record_is_not_revived_by_submitting_it_again_with_later_dates(
    exchange: ExchangeStub, clock: Clock
) -> None:
    # ExtendRetention refuses an expired record (FAILED_PRECONDITION) and caps an extension at
    # ten years; Submit of the unchanged record with other dates moves them too (decision 0016).
    record_id = f"{TEST_CENTRE}:revived"
    await exchange.Submit(_dated(record_id, clock.now_us + 3_600_000_000))
    clock.advance("2h")
    expired = await exchange.Get(exchange_pb2.GetRequest(record_id=record_id))
    assert expired.record.withdrawal.reason == record_pb2.WITHDRAWAL_REASON_EXPIRED
    again = await exchange.Submit(_dated(record_id, clock.now_us + parse_period("100y")))
    assert again.ack.duplicate  # the same content: accepted, its dates ignored
    served = await exchange.Get(exchange_pb2.GetRequest(record_id=record_id))
    assert served.record.HasField("withdrawal"), "the expired record was served again"


async def test_a_resubmission_with_later_dates_extends_nothing(
    gateway: Gateway, exchange: ExchangeStub, clock: Clock
) -> None:
    record_id = f"{TEST_CENTRE}:kept"
    await exchange.Submit(_dated(record_id, clock.now_us + parse_period("1y")))
    before = await gateway.store.get(record_id)
    assert before is not None
    again = await exchange.Submit(_dated(record_id, clock.now_us + parse_period("100y")))
    assert again.ack.duplicate  # the same content: accepted, its dates ignored
    corrected = _dated(record_id, clock.now_us + parse_period("100y"))
    corrected.record.person.names[0].family = "CORRECTED"
    await exchange.Submit(corrected)
    after = await gateway.store.get(record_id)
    assert after is not None
    assert (after.version, after.review_due_us, after.expires_at_us) == (
        2,
        before.review_due_us,
        before.expires_at_us,
    )
    # ExtendRetention still moves them, within its limit.
    extended = await exchange.ExtendRetention(
        exchange_pb2.ExtendRetentionRequest(
            record_id=record_id, extend_by=Duration(seconds=parse_period("5y") // 1_000_000)
        )
    )
    moved = await gateway.store.get(record_id)
    assert moved is not None
    assert moved.expires_at_us == clock.now_us + parse_period("5y")
    assert extended.retention.expires_at.seconds == moved.expires_at_us // 1_000_000
