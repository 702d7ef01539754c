"""Server reflection over ``grpc.reflection.v1`` and ``v1alpha``, with json names and comments.

Each protocol is exercised over real gRPC on its own method path: as a reflection client does,
the test lists the services, asks for the file of a symbol and rebuilds the descriptors it is
given. ``buf curl`` (the pinned buf of ``make buf-lint``) then calls the gateway through
reflection over each protocol, as an integrator without the protos would.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path
from typing import TypeAlias

import pytest
from google.protobuf import descriptor_pb2, descriptor_pool
from grpc import aio
from grpc_reflection.v1alpha import reflection_pb2

from gateway.server import Gateway
from gateway.services.reflection import SERVICE_NAMES, DescriptorFiles
from liaison.v1 import exchange_pb2
from tests.support.factories import person
from tests.support.rpc import ExchangeStub

Request: TypeAlias = reflection_pb2.ServerReflectionRequest  # untyped to mypy (Any)
Response: TypeAlias = reflection_pb2.ServerReflectionResponse
PROTOCOLS = {"v1": SERVICE_NAMES[0], "v1alpha": SERVICE_NAMES[1]}
BUF = Path(__file__).resolve().parents[3] / ".tools/buf/node_modules/.bin/buf"


async def reflect(channel: aio.Channel, service: str, *requests: Request) -> list[Response]:
    """One reflection stream on ``service``: the responses to ``requests``, in order."""
    call = channel.stream_stream(
        f"/{service}/ServerReflectionInfo",
        request_serializer=Request.SerializeToString,
        response_deserializer=Response.FromString,
    )

    async def sent() -> AsyncIterator[Request]:
        for request in requests:
            yield request

    return [response async for response in call(sent())]


def files_of(response: Response) -> dict[str, descriptor_pb2.FileDescriptorProto]:
    return {
        proto.name: proto
        for proto in (
            descriptor_pb2.FileDescriptorProto.FromString(data)
            for data in response.file_descriptor_response.file_descriptor_proto
        )
    }


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_each_protocol_lists_the_services_and_itself(
    channel: aio.Channel, protocol: str
) -> None:
    [listed] = await reflect(channel, PROTOCOLS[protocol], Request(list_services=""))
    names = {service.name for service in listed.list_services_response.service}
    assert names == {
        "liaison.v1.RecordExchange",
        "liaison.v1.Translation",
        "liaison.v1.Screening",
        "grpc.health.v1.Health",
        "grpc.reflection.v1.ServerReflection",
        "grpc.reflection.v1alpha.ServerReflection",
    }


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_descriptors_carry_json_names_and_comments(
    channel: aio.Channel, protocol: str
) -> None:
    [answer] = await reflect(
        channel, PROTOCOLS[protocol], Request(file_containing_symbol="liaison.v1.RecordExchange")
    )
    files = files_of(answer)
    assert "liaison/v1/record.proto" in files, "the file comes with everything it imports"
    record = next(m for m in files["liaison/v1/record.proto"].message_type if m.name == "Record")
    json_names = {field.name: field.json_name for field in record.field}
    assert json_names["record_id"] == "recordId"
    exchange = files["liaison/v1/exchange.proto"]
    comments = [
        location.leading_comments
        for location in exchange.source_code_info.location
        if location.leading_comments
    ]
    assert any("Submit" in comment for comment in comments), "the proto comments are served"
    # The files rebuild into a pool, as a client's would.
    pool = descriptor_pool.DescriptorPool()
    for name in _dependency_order(files):
        pool.Add(files[name])
    submit = pool.FindMethodByName("liaison.v1.RecordExchange.Submit")
    assert submit.input_type.full_name == "liaison.v1.SubmitRequest"


def _dependency_order(files: dict[str, descriptor_pb2.FileDescriptorProto]) -> list[str]:
    ordered: list[str] = []

    def visit(name: str) -> None:
        if name not in ordered:
            for dependency in files[name].dependency:
                visit(dependency)
            ordered.append(name)

    for name in files:
        visit(name)
    return ordered


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_every_service_listed_resolves_to_its_file(
    channel: aio.Channel, protocol: str
) -> None:
    service = PROTOCOLS[protocol]
    [listed] = await reflect(channel, service, Request(list_services=""))
    names = [s.name for s in listed.list_services_response.service]
    answers = await reflect(channel, service, *(Request(file_containing_symbol=n) for n in names))
    for name, answer in zip(names, answers, strict=True):
        assert answer.HasField("file_descriptor_response"), name
        package = name.rsplit(".", 1)[0]
        assert any(f.package == package for f in files_of(answer).values()), name


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_the_error_details_types_are_served(channel: aio.Channel, protocol: str) -> None:
    """A client decoding grpc-status-details-bin resolves google.rpc.BadRequest by reflection."""
    [answer] = await reflect(
        channel, PROTOCOLS[protocol], Request(file_containing_symbol="google.rpc.BadRequest")
    )
    [comment_count] = [
        len(f.source_code_info.location)
        for f in files_of(answer).values()
        if f.name == "google/rpc/error_details.proto"
    ]
    assert comment_count > 0


@pytest.mark.parametrize("protocol", PROTOCOLS)
async def test_unknown_symbols_and_files_are_not_found(channel: aio.Channel, protocol: str) -> None:
    answers = await reflect(
        channel,
        PROTOCOLS[protocol],
        Request(file_containing_symbol="liaison.v1.Nothing"),
        Request(file_by_filename="liaison/v1/nothing.proto"),
        Request(),
    )
    assert [a.error_response.error_code for a in answers] == [5, 5, 3]


def test_the_committed_descriptor_set_covers_the_contract() -> None:
    files = DescriptorFiles.of_contract()
    for module in (exchange_pb2,):
        for service in module.DESCRIPTOR.services_by_name.values():
            assert files.file_of_symbol(service.full_name) == module.DESCRIPTOR.name


@pytest.mark.skipif(not BUF.exists(), reason="buf is installed by `make buf-lint` (make test)")
@pytest.mark.parametrize("protocol", ["grpc-v1", "grpc-v1alpha"])
async def test_buf_curl_calls_the_gateway_through_reflection(
    gateway: Gateway, exchange: ExchangeStub, protocol: str
) -> None:
    await exchange.Submit(exchange_pb2.SubmitRequest(record=person("P-1")))
    command = [
        str(BUF),
        "curl",
        "--protocol",
        "grpc",
        "--http2-prior-knowledge",
        "--reflect-protocol",
        protocol,
        "--data",
        json.dumps({"recordId": "P-1"}),
        f"http://{gateway.address}/liaison.v1.RecordExchange/Get",
    ]
    done = await asyncio.to_thread(
        subprocess.run, command, capture_output=True, text=True, timeout=30, check=False
    )
    assert done.returncode == 0, done.stderr
    got = json.loads(done.stdout)
    assert got["record"]["recordId"] == "P-1"
    assert got["record"]["person"]["birthDate"] == {"year": 1975, "month": 3, "day": 12}
