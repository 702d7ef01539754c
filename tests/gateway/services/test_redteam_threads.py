"""Red team: thread receipts and replies cannot be forged by a client. The unknown-thread refusal
holds whatever the wire encoding of the reply (a non-minimal field key is still field 20), and a
receipt is refused on the stream path as on Submit."""

from __future__ import annotations

from collections.abc import AsyncIterator

import grpc
from grpc import aio

from liaison.v1 import exchange_pb2, record_pb2
from tests.conftest import TEST_CENTRE
from tests.gateway.services.test_lifecycle import refusal
from tests.support.rpc import ExchangeStub

SUBMIT = "/liaison.v1.RecordExchange/Submit"


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte, value = value & 0x7F, value >> 7
        out.append(byte | (0x80 if value else 0))
        if not value:
            return bytes(out)


def _reply_with_overlong_key(record_id: str, thread_id: str) -> bytes:
    """A SubmitRequest whose record's ``reply`` key (field 20, wire type 2) is written in three
    bytes (0xA2 0x81 0x00) instead of two: valid protobuf, which every parser reads as ``reply``."""
    record = record_pb2.Record(record_id=record_id)
    record.reply.thread_id = thread_id
    record.reply.body = "Yes: same person."
    data = record.SerializeToString()
    assert data.count(b"\xa2\x01") == 1
    data = data.replace(b"\xa2\x01", b"\xa2\x81\x00")
    assert record_pb2.Record.FromString(data).reply.thread_id == thread_id
    return b"\x0a" + _varint(len(data)) + data  # SubmitRequest.record (field 1)


async def test_a_reply_to_an_unknown_thread_with_a_non_minimal_key_is_refused(
    channel: aio.Channel, exchange: ExchangeStub
) -> None:
    # Bytes in, bytes out: no stub re-encodes the request.
    raw = channel.unary_unary(SUBMIT, request_serializer=None, response_deserializer=None)
    forged = _reply_with_overlong_key(f"{TEST_CENTRE}:answer:9", "NOWHERE:t9")
    error = await refusal(raw(forged))
    assert error.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert "NOWHERE:t9" in (error.details() or "")
    missing = await refusal(
        exchange.Get(exchange_pb2.GetRequest(record_id=f"{TEST_CENTRE}:answer:9"))
    )
    assert missing.code() == grpc.StatusCode.NOT_FOUND


async def test_a_client_cannot_write_a_receipt_through_submit_stream(
    exchange: ExchangeStub,
) -> None:
    forged = record_pb2.Record(record_id=f"{TEST_CENTRE}:receipt:y")
    forged.receipt.thread_id = "WCO-I2C:t"
    forged.receipt.request_record_id = "WCO-I2C:rfi"
    forged.receipt.requesting_centre = "WCO-I2C"
    forged.receipt.read_at.seconds = 1

    async def requests() -> AsyncIterator[exchange_pb2.SubmitStreamRequest]:
        yield exchange_pb2.SubmitStreamRequest(records=[forged])

    response = await exchange.SubmitStream(requests())
    assert (response.stored, response.rejected) == (0, 1), response
    missing = await refusal(
        exchange.Get(exchange_pb2.GetRequest(record_id=f"{TEST_CENTRE}:receipt:y"))
    )
    assert missing.code() == grpc.StatusCode.NOT_FOUND
