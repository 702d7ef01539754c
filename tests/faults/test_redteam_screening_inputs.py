"""Red team: hostile inputs to the Screening service answer INVALID_ARGUMENT or
RESOURCE_EXHAUSTED with the field and limit named - never UNKNOWN, never silently accepted."""

from __future__ import annotations

import grpc
import pytest
from grpc import aio

from gateway.services.filters import MAX_FILTER_VALUES
from liaison.rules.ids import MAX_VERSION
from liaison.v1 import screening_hit_pb2, screening_pb2
from tests.support.rpc import ScreeningStub, violations_of
from tests.support.screening_records import traveller


def _out_of_range(field: str, seconds: int = 0, nanos: int = 0) -> screening_pb2.ListHitsRequest:
    request = screening_pb2.ListHitsRequest()
    stamp = getattr(request, field)
    stamp.seconds, stamp.nanos = seconds, nanos
    return request


@pytest.mark.parametrize(
    ("request_", "fields"),
    [
        (_out_of_range("screened_after", seconds=2**62), ["screened_after.seconds"]),
        (_out_of_range("screened_before", nanos=-5), ["screened_before.nanos"]),
        (
            screening_pb2.ListHitsRequest(bands=[screening_hit_pb2.SCREENING_BAND_HIT] * 800_000),
            ["bands"],
        ),
        (
            screening_pb2.ListHitsRequest(
                decisions=[screening_hit_pb2.SCREENING_DECISION_KIND_MATCH] * 800_000
            ),
            ["decisions"],
        ),
    ],
    ids=["after-seconds", "before-nanos", "bands", "decisions"],
)
async def test_list_hits_refuses_what_it_cannot_use_naming_the_field(
    channel: aio.Channel, request_: screening_pb2.ListHitsRequest, fields: list[str]
) -> None:
    """WRONG: a ``screened_after`` outside the Timestamp range answered UNKNOWN ("Unexpected
    <class 'ValueError'>: Timestamp is not valid"), and 800,000 bands or decisions were taken
    (every hit is tested against them) where every other repeated filter stops at 1,000.

    RIGHT: INVALID_ARGUMENT with a violation naming the field (and the limit)."""
    with pytest.raises(aio.AioRpcError) as refused:
        await ScreeningStub(channel).ListHits(request_)
    assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert list(violations_of(refused.value)) == fields
    if fields[0] in ("bands", "decisions"):
        assert str(MAX_FILTER_VALUES) in violations_of(refused.value)[fields[0]]


async def test_a_decision_expecting_a_version_beyond_int64_is_invalid(
    channel: aio.Channel,
) -> None:
    """WRONG: ``expected_version`` 2^64-1 was compared with the stored version (NOT_FOUND or
    ABORTED); Submit refuses versions over 2^63-1 as INVALID_ARGUMENT, and Decide should too."""
    request = screening_pb2.DecideRequest(
        hit_record_id="TEST-CENTRE:hit:1",
        decision=screening_hit_pb2.SCREENING_DECISION_KIND_MATCH,
        expected_version=MAX_VERSION + 1,
    )
    with pytest.raises(aio.AioRpcError) as refused:
        await ScreeningStub(channel).Decide(request)
    assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert list(violations_of(refused.value)) == ["expected_version"]


@pytest.mark.parametrize(
    ("request_", "code"),
    [
        (
            screening_pb2.ScreenRequest(subjects=[traveller(f"p{i}") for i in range(10_001)]),
            grpc.StatusCode.RESOURCE_EXHAUSTED,
        ),
        (screening_pb2.ScreenRequest(subjects=[traveller("")], lists=["x"] * 100_000), None),
        (screening_pb2.ScreenRequest(adapter="os:system\n\x00" * 50, payload=b"x"), None),
        (screening_pb2.ScreenRequest(adapter="paxlst"), None),
        (screening_pb2.ScreenRequest(payload=b"UNA:+.? '"), None),
        (screening_pb2.ScreenRequest(subjects=[traveller("a" * 100_000)]), None),
    ],
    ids=["10001-subjects", "100k-lists", "hostile-adapter", "no-payload", "no-adapter", "long-id"],
)
async def test_hostile_screen_requests_are_refused_clearly(
    channel: aio.Channel, request_: screening_pb2.ScreenRequest, code: grpc.StatusCode | None
) -> None:
    """HELD: each is refused with INVALID_ARGUMENT (RESOURCE_EXHAUSTED past 10,000 subjects)."""
    with pytest.raises(aio.AioRpcError) as refused:
        await ScreeningStub(channel).Screen(request_)
    assert refused.value.code() == (code or grpc.StatusCode.INVALID_ARGUMENT)
    if code is None:
        assert violations_of(refused.value)
