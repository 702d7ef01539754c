"""Submit answers the same wherever its record is prepared - in the writer (the default; the
writer process or the writer thread) or on the event loop (``[storage] preparation = "inline"``):
acknowledgements, refusals, field violations, spans."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any, Literal

import grpc
import pytest
from grpc import aio

from gateway.server import Gateway
from liaison.v1 import exchange_pb2, record_pb2
from tests.conftest import TEST_CENTRE, make_config
from tests.gateway.telemetry.conftest import recording
from tests.support.factories import person, travel_document
from tests.support.polling import until
from tests.support.rpc import ExchangeStub, error_info_of, violations_of

Writer = Literal["process", "thread"]
Preparation = Literal["writer", "inline"]

SETUPS: list[tuple[Writer, Preparation]] = [
    ("process", "writer"),
    ("thread", "writer"),
    ("process", "inline"),
    ("thread", "inline"),
]


def _bad_person() -> record_pb2.Record:
    record = person("TEST-CENTRE:bad", birth=(1975, 13, 40))
    record.person.sex = 42  # type: ignore[assignment]  # an enum number the contract lacks
    record.person.nationalities[0].code = "ZZZ"
    return record


def _no_body() -> record_pb2.Record:
    return record_pb2.Record(record_id="TEST-CENTRE:empty")


async def _answers(tmp_path: Path, writer: Writer, preparation: Preparation) -> list[Any]:
    """What a gateway with ``writer`` and ``preparation`` answers to a fixed series of Submits,
    times left out."""
    config = make_config(tmp_path / f"{writer}-{preparation}")
    storage = dataclasses.replace(config.storage, writer=writer, preparation=preparation)
    config = dataclasses.replace(config, storage=storage)
    gateway = Gateway(config)
    await gateway.start()
    answers: list[Any] = []
    try:
        async with aio.insecure_channel(gateway.address) as channel:
            exchange = ExchangeStub(channel)
            changed = person("TEST-CENTRE:p1", family="SMITH")
            for record in (
                person("TEST-CENTRE:p1"),
                person("TEST-CENTRE:p1"),  # duplicate
                changed,  # new version
                travel_document("TEST-CENTRE:d1"),
                _bad_person(),
                _no_body(),
                person("TEST-CENTRE:p2", centre="BE-I2C"),
            ):
                try:
                    response = await exchange.Submit(exchange_pb2.SubmitRequest(record=record))
                except aio.AioRpcError as error:
                    answers.append(
                        (error.code(), error.details(), violations_of(error), error_info_of(error))
                    )
                    continue
                ack = response.ack
                answers.append(
                    (ack.record_id, ack.version, ack.sequence, ack.duplicate, ack.content_sha256)
                )
            stale = person("TEST-CENTRE:p1", family="JONES")
            stale.version = 1
            with pytest.raises(aio.AioRpcError) as raised:
                await exchange.Submit(exchange_pb2.SubmitRequest(record=stale))
            answers.append((raised.value.code(), raised.value.details()))
            stored = await exchange.Get(exchange_pb2.GetRequest(record_id="TEST-CENTRE:d1"))
            answers.append(stored.record.provenance.originating_centre)
            # Bytes that are not a request, and a request without a record.
            raw = channel.unary_unary(
                "/liaison.v1.RecordExchange/Submit",
                request_serializer=None,
                response_deserializer=None,
            )
            for data in (b"\xff\xff\xff", b""):
                with pytest.raises(aio.AioRpcError) as raised:
                    await raw(data)
                answers.append(
                    (raised.value.code(), raised.value.details(), violations_of(raised.value))
                )
    finally:
        await gateway.stop(grace=0)
    return answers


async def test_every_setup_answers_alike(tmp_path: Path) -> None:
    [first, *others] = [await _answers(tmp_path, *setup) for setup in SETUPS]
    for setup, answers in zip(SETUPS[1:], others, strict=True):
        assert answers == first, setup
    # The series exercised what it should: two refusals with field violations, another
    # centre's record (a permission problem: PERMISSION_DENIED naming the centre and the field,
    # whether the writer process, the writer thread or the event loop refused it), a conflict,
    # garbage bytes and a request without a record.
    refusals = [answer for answer in first if answer[0] == grpc.StatusCode.INVALID_ARGUMENT]
    assert len(refusals) == 4
    assert refusals[0][2]["person.birth_date.month"]
    assert "person.sex" in refusals[0][2]
    [foreign] = [answer for answer in first if answer[0] == grpc.StatusCode.PERMISSION_DENIED]
    assert "only its originating centre BE-I2C publishes" in foreign[1]
    assert foreign[2] == {}
    assert foreign[3] == (
        "FOREIGN_RECORD",
        "liaison",
        {"field": "provenance.originating_centre", "originatingCentre": "BE-I2C"},
    )
    assert first[-4][0] == grpc.StatusCode.ABORTED
    assert first[-3] == TEST_CENTRE
    assert first[-2][1] == "the request is not a valid liaison.v1.SubmitRequest message"
    assert first[-1][1] == "a record is required"
    assert list(first[-1][2]) == ["record"]


@pytest.fixture(params=SETUPS, ids=["-".join(setup) for setup in SETUPS])
async def traced(
    request: pytest.FixtureRequest, tmp_path: Path
) -> AsyncIterator[tuple[Gateway, Any]]:
    recorded = recording()
    config = make_config(tmp_path)
    writer, preparation = request.param
    storage = dataclasses.replace(config.storage, writer=writer, preparation=preparation)
    config = dataclasses.replace(config, storage=storage)
    gateway = Gateway(config, telemetry=recorded.telemetry)
    await gateway.start()
    try:
        yield gateway, recorded
    finally:
        await gateway.stop(grace=0)
        recorded.telemetry.shutdown()


async def test_spans_of_a_submit_are_the_same_shape(traced: tuple[Gateway, Any]) -> None:
    gateway, recorded = traced
    interceptors = recorded.telemetry.aio_client_interceptors(gateway.address)
    async with aio.insecure_channel(gateway.address, interceptors=interceptors) as channel:
        exchange = ExchangeStub(channel)
        await exchange.Submit(exchange_pb2.SubmitRequest(record=person("TEST-CENTRE:p1")))
        with pytest.raises(aio.AioRpcError):
            await exchange.Submit(exchange_pb2.SubmitRequest(record=_bad_person()))

    def server_spans_ended() -> bool:
        # The server's span of a call ends just after the client has its answer.
        ended = recorded.spans.get_finished_spans()
        servers: int = sum(span.kind.name == "SERVER" for span in ended)
        return servers == 2

    await until(server_spans_ended)
    spans = recorded.spans.get_finished_spans()
    by_name: dict[str, list[Any]] = {}
    for span in spans:
        by_name.setdefault(span.name, []).append(span)
    servers = [s for s in by_name["/liaison.v1.RecordExchange/Submit"] if s.kind.name == "SERVER"]
    assert len(servers) == 2
    accepted, refused = sorted(by_name["liaison.validate"], key=lambda s: s.start_time)
    assert dict(accepted.attributes) == {"liaison.records.count": 1}
    assert dict(refused.attributes)["liaison.records.rejected"] == 1
    assert dict(refused.attributes)["liaison.validation.violations"] >= 3
    [write] = by_name["liaison.store.write"]
    assert dict(write.attributes)["liaison.records.stored"] == 1
    for span in (accepted, refused, write):
        assert span.parent is not None
        assert span.parent.span_id in {server.context.span_id for server in servers}
        assert span.start_time <= span.end_time
    # Validation ends before the write's span begins, within the server span.
    assert accepted.end_time <= write.start_time
    server = next(s for s in servers if s.context.span_id == write.parent.span_id)
    assert server.start_time <= accepted.start_time
    assert write.end_time <= server.end_time
