"""Red team of issue 15: absurd values on the lifecycle RPCs get INVALID_ARGUMENT with the field,
never UNKNOWN or a store error."""

from __future__ import annotations

import grpc
import pytest
from google.protobuf.duration_pb2 import Duration

from liaison.v1 import exchange_pb2, record_pb2
from tests.conftest import TEST_CENTRE
from tests.gateway.services.test_lifecycle import refusal
from tests.support.factories import person
from tests.support.rpc import ExchangeStub, violations_of

INT64_MAX = 2**63 - 1

pytestmark = pytest.mark.both_backends


@pytest.mark.parametrize(
    "within",
    [
        Duration(seconds=INT64_MAX),
        Duration(seconds=315_576_000_001),  # beyond protobuf's own bound: 10,000 years
        Duration(seconds=1, nanos=-5),
        Duration(nanos=1_000_000_000),
    ],
    ids=["int64-max", "beyond-duration-range", "mixed-signs", "nanos-overflow"],
)
async def test_list_reviews_within_an_absurd_period_is_invalid(
    exchange: ExchangeStub, within: Duration
) -> None:
    error = await refusal(exchange.ListReviews(exchange_pb2.ListReviewsRequest(within=within)))
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT, error.details()
    assert set(violations_of(error)) == {"within"}


@pytest.mark.parametrize(
    "extend_by",
    [
        Duration(seconds=INT64_MAX),
        Duration(seconds=-INT64_MAX - 1),
        Duration(seconds=86_400, nanos=-1),
        Duration(),
    ],
    ids=["int64-max", "int64-min", "mixed-signs", "zero"],
)
async def test_extend_retention_by_an_absurd_period_is_invalid(
    exchange: ExchangeStub, extend_by: Duration
) -> None:
    request = exchange_pb2.ExtendRetentionRequest(record_id="TEST-CENTRE:x", extend_by=extend_by)
    error = await refusal(exchange.ExtendRetention(request))
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT, error.details()
    assert set(violations_of(error)) == {"extend_by"}


async def test_hostile_characters_in_a_note_or_a_thread_are_refused_naming_the_field(
    exchange: ExchangeStub,
) -> None:
    # NUL (which PostgreSQL text cannot hold), terminal escapes, a bidi override: never content
    # (the text rule of liaison.rules.text); refused with the request's own field named and the
    # code point located, nothing stored. Lines (CR LF) are free text's and kept verbatim.
    await exchange.Submit(exchange_pb2.SubmitRequest(record=person(f"{TEST_CENTRE}:h1")))
    for hostile, position in (("ok\x00", 2), ("\x1b[2J", 0), ("a\u202eb", 1)):
        for call in (
            exchange.Withdraw(
                exchange_pb2.WithdrawRequest(
                    record_id=f"{TEST_CENTRE}:h1",
                    reason=record_pb2.WITHDRAWAL_REASON_OTHER,
                    note=hostile,
                )
            ),
            exchange.ExtendRetention(
                exchange_pb2.ExtendRetentionRequest(
                    record_id=f"{TEST_CENTRE}:h1",
                    extend_by=Duration(seconds=365 * 86400),
                    note=hostile,
                )
            ),
        ):
            error = await refusal(call)
            assert error.code() == grpc.StatusCode.INVALID_ARGUMENT, error.details()
            reason = violations_of(error)["note"]
            assert f"U+{ord(hostile[position]):04X}" in reason
            assert f"at position {position}" in reason
    head = await exchange.Get(exchange_pb2.GetRequest(record_id=f"{TEST_CENTRE}:h1"))
    assert head.record.version == 1  # nothing withdrawn
    lines = "first line\r\nforged log line\ud7ff"
    withdrawn = await exchange.Withdraw(
        exchange_pb2.WithdrawRequest(
            record_id=f"{TEST_CENTRE}:h1", reason=record_pb2.WITHDRAWAL_REASON_OTHER, note=lines
        )
    )
    assert withdrawn.ack.version == 2
    got = await exchange.Get(exchange_pb2.GetRequest(record_id=f"{TEST_CENTRE}:h1"))
    assert got.record.withdrawal.note == lines
    asked = record_pb2.Record(record_id=f"{TEST_CENTRE}:rfi:h2")
    asked.request.thread_id = f"{TEST_CENTRE}:t-h2"
    asked.request.subject = "subject\x00"
    asked.request.body = "body\x1b[2J"
    asked.handling.releasable_to.append("INTERPOL-CCC-LYON")
    error = await refusal(exchange.Submit(exchange_pb2.SubmitRequest(record=asked)))
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert set(violations_of(error)) == {"request.subject", "request.body"}
    assert (await exchange.ListThreads(exchange_pb2.ListThreadsRequest())).threads == []
    asked.request.subject = "subject"
    asked.request.body = lines
    await exchange.Submit(exchange_pb2.SubmitRequest(record=asked))
    [thread] = (await exchange.ListThreads(exchange_pb2.ListThreadsRequest())).threads
    assert thread.thread_id == f"{TEST_CENTRE}:t-h2"


async def test_a_megabyte_note_is_invalid_naming_the_note(exchange: ExchangeStub) -> None:
    await exchange.Submit(exchange_pb2.SubmitRequest(record=person(f"{TEST_CENTRE}:h3")))
    error = await refusal(
        exchange.Withdraw(
            exchange_pb2.WithdrawRequest(
                record_id=f"{TEST_CENTRE}:h3",
                reason=record_pb2.WITHDRAWAL_REASON_CANCELLED,
                note="x" * 1_000_000,
            )
        )
    )
    assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert set(violations_of(error)) == {"note"}
    for reason in (-1, 999):
        error = await refusal(
            exchange.Withdraw(
                exchange_pb2.WithdrawRequest(record_id=f"{TEST_CENTRE}:h3", reason=reason)  # type: ignore[arg-type]
            )
        )
        assert error.code() == grpc.StatusCode.INVALID_ARGUMENT
        assert set(violations_of(error)) == {"reason"}
