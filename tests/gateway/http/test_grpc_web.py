"""gRPC-Web on the HTTP listener (grpc/grpc ``doc/PROTOCOL-WEB.md``), on a real gateway over
loopback, with a client written from the spec (``tests/support/grpcweb.py``): unary calls and
server streams, binary and base64, the status and its ``google.rpc`` details in the trailers,
and every malformed body refused with a gRPC status - never a 500."""

from __future__ import annotations

import base64
import struct

import httpx
import pytest
from google.rpc import error_details_pb2

from gateway.config import CentreConfig
from gateway.server import Gateway
from liaison.v1 import exchange_pb2
from tests.support import grpcweb
from tests.support.factories import person

SUBMIT = "/liaison.v1.RecordExchange/Submit"
GET = "/liaison.v1.RecordExchange/Get"
SEARCH = "/liaison.v1.RecordExchange/Search"
SUBSCRIBE = "/liaison.v1.RecordExchange/Subscribe"
SUBMIT_STREAM = "/liaison.v1.RecordExchange/SubmitStream"

OK, INVALID_ARGUMENT, NOT_FOUND, RESOURCE_EXHAUSTED, UNIMPLEMENTED = 0, 3, 5, 8, 12


async def _submit(http: httpx.AsyncClient, record_id: str, *, text: bool = False) -> None:
    answer = await grpcweb.unary(
        http, SUBMIT, exchange_pb2.SubmitRequest(record=person(record_id)), text=text
    )
    assert (answer.http_status, answer.code) == (200, OK), answer


@pytest.mark.parametrize("text", [False, True], ids=["binary", "text"])
async def test_submit_then_get(http: httpx.AsyncClient, text: bool) -> None:
    record_id = f"LOCAL-WEB-{int(text)}"
    submitted = await grpcweb.unary(
        http, SUBMIT, exchange_pb2.SubmitRequest(record=person(record_id)), text=text
    )
    assert submitted.http_status == 200
    assert submitted.content_type == (grpcweb.TEXT if text else grpcweb.BINARY)
    assert submitted.code == OK
    [ack] = submitted.messages
    assert exchange_pb2.SubmitResponse.FromString(ack).ack.record_id == record_id
    assert submitted.frames_after_trailers == 0

    got = await grpcweb.unary(http, GET, exchange_pb2.GetRequest(record_id=record_id), text=text)
    assert got.code == OK
    [record] = got.messages
    assert exchange_pb2.GetResponse.FromString(record).record.person.names[0].family == "DOE"


async def test_a_missing_record_is_not_found_in_trailers_only(http: httpx.AsyncClient) -> None:
    answer = await grpcweb.unary(http, GET, exchange_pb2.GetRequest(record_id="LOCAL-NOWHERE"))
    assert (answer.http_status, answer.code, answer.messages) == (200, NOT_FOUND, [])
    assert answer.message


@pytest.mark.parametrize("text", [False, True], ids=["binary", "text"])
async def test_a_field_violation_comes_back_in_grpc_status_details_bin(
    http: httpx.AsyncClient, text: bool
) -> None:
    record = person("LOCAL-WEB-BAD", birth=(1975, 13, 12))
    answer = await grpcweb.unary(http, SUBMIT, exchange_pb2.SubmitRequest(record=record), text=text)
    assert (answer.http_status, answer.code, answer.messages) == (200, INVALID_ARGUMENT, [])
    status = answer.status()
    assert (status.code, status.message) == (INVALID_ARGUMENT, answer.message)
    [detail] = status.details
    bad_request = error_details_pb2.BadRequest()
    assert detail.Unpack(bad_request)
    assert [v.field for v in bad_request.field_violations] == ["person.birth_date.month"]


@pytest.mark.parametrize("text", [False, True], ids=["binary", "text"])
async def test_search_streams_several_messages_then_the_trailers(
    http: httpx.AsyncClient, text: bool
) -> None:
    for record_id in ("LOCAL-WS-1", "LOCAL-WS-2", "LOCAL-WS-3"):
        await _submit(http, record_id)
    answer = await grpcweb.unary(
        http, SEARCH, exchange_pb2.SearchRequest(family_name="DOE"), text=text
    )
    assert (answer.http_status, answer.code, answer.frames_after_trailers) == (200, OK, 0)
    responses = [exchange_pb2.SearchResponse.FromString(m) for m in answer.messages]
    hits = {r.hit.record.record_id for r in responses if r.WhichOneof("item") == "hit"}
    assert hits == {"LOCAL-WS-1", "LOCAL-WS-2", "LOCAL-WS-3"}


async def test_a_search_refused_before_any_result_has_only_trailers(
    http: httpx.AsyncClient,
) -> None:
    answer = await grpcweb.unary(http, SEARCH, exchange_pb2.SearchRequest(cursor="not-a-cursor"))
    assert (answer.http_status, answer.code, answer.messages) == (200, INVALID_ARGUMENT, [])
    [detail] = answer.status().details
    bad_request = error_details_pb2.BadRequest()
    assert detail.Unpack(bad_request)
    assert bad_request.field_violations[0].field == "cursor"


@pytest.mark.parametrize("text", [False, True], ids=["binary", "text"])
async def test_subscribe_streams_its_first_events(http: httpx.AsyncClient, text: bool) -> None:
    await _submit(http, "LOCAL-WE-1")
    await _submit(http, "LOCAL-WE-2")
    first = await grpcweb.first_messages(
        http, SUBSCRIBE, exchange_pb2.SubscribeRequest(after_sequence=0), 3, text=text
    )
    events = [exchange_pb2.SubscribeResponse.FromString(m) for m in first]
    assert [e.WhichOneof("event") for e in events] == ["record_event", "record_event", "caught_up"]
    assert [e.record_event.record.record_id for e in events[:2]] == ["LOCAL-WE-1", "LOCAL-WE-2"]


async def test_an_unknown_method_is_unimplemented(http: httpx.AsyncClient) -> None:
    nothing = "/liaison.v1.RecordExchange/Nothing"
    answer = await grpcweb.unary(http, nothing, exchange_pb2.GetRequest())
    assert (answer.http_status, answer.code) == (200, UNIMPLEMENTED)


async def test_a_client_stream_is_refused_unimplemented(http: httpx.AsyncClient) -> None:
    request = exchange_pb2.SubmitStreamRequest(records=[person("LOCAL-WEB-STREAM")])
    answer = await grpcweb.unary(http, SUBMIT_STREAM, request)
    assert (answer.http_status, answer.code) == (200, UNIMPLEMENTED)
    assert "Connect streaming or NDJSON" in answer.message
    got = await grpcweb.unary(http, GET, exchange_pb2.GetRequest(record_id="LOCAL-WEB-STREAM"))
    assert got.code == NOT_FOUND


def _limit(config: CentreConfig) -> int:
    return config.limits.max_message_bytes


GET_REQUEST = exchange_pb2.GetRequest(record_id="LOCAL-X").SerializeToString()
MALFORMED: dict[str, tuple[bytes, str, dict[str, str], int]] = {
    "empty body": (b"", grpcweb.BINARY, {}, INVALID_ARGUMENT),
    "short prefix": (b"\x00\x00\x00", grpcweb.BINARY, {}, INVALID_ARGUMENT),
    "cut message": (struct.pack(">BI", 0, 10) + b"abc", grpcweb.BINARY, {}, INVALID_ARGUMENT),
    "two messages": (
        grpcweb.frame(GET_REQUEST) * 2,
        grpcweb.BINARY,
        {},
        INVALID_ARGUMENT,
    ),
    "a trailers frame": (grpcweb.frame(b"grpc-status: 0\r\n", 0x80), grpcweb.BINARY, {}, 3),
    "unknown flags": (grpcweb.frame(GET_REQUEST, 0x04), grpcweb.BINARY, {}, INVALID_ARGUMENT),
    "not protobuf": (grpcweb.frame(b"\xff\xff\xff"), grpcweb.BINARY, {}, INVALID_ARGUMENT),
    "compressed flag": (grpcweb.frame(GET_REQUEST, 0x01), grpcweb.BINARY, {}, UNIMPLEMENTED),
    "grpc-encoding gzip": (
        grpcweb.frame(GET_REQUEST),
        grpcweb.BINARY,
        {"grpc-encoding": "gzip"},
        UNIMPLEMENTED,
    ),
    "bad base64": (b"AAAA!AAA", grpcweb.TEXT, {}, INVALID_ARGUMENT),
    "base64 cut inside a quantum": (
        base64.b64encode(grpcweb.frame(GET_REQUEST))[:-1].rstrip(b"="),
        grpcweb.TEXT,
        {},
        INVALID_ARGUMENT,
    ),
    "binary sent as text": (grpcweb.frame(GET_REQUEST), grpcweb.TEXT, {}, INVALID_ARGUMENT),
}


@pytest.mark.parametrize("case", list(MALFORMED))
@pytest.mark.parametrize("path", [GET, SEARCH], ids=["unary", "server-stream"])
async def test_a_malformed_body_gets_a_grpc_status_never_a_500(
    http: httpx.AsyncClient, case: str, path: str
) -> None:
    body, content_type, headers, code = MALFORMED[case]
    answer = await grpcweb.call(http, path, body, content_type=content_type, headers=headers)
    assert (answer.http_status, answer.code, answer.messages) == (200, code, [])
    assert answer.message


@pytest.mark.parametrize("path", [GET, SEARCH], ids=["unary", "server-stream"])
async def test_a_message_over_the_limit_is_resource_exhausted_before_it_is_read(
    http: httpx.AsyncClient, gateway_config: CentreConfig, path: str
) -> None:
    # Only the prefix is sent: the length alone is refused.
    prefix = struct.pack(">BI", 0, _limit(gateway_config) + 1)
    answer = await grpcweb.call(http, path, prefix)
    assert (answer.http_status, answer.code) == (200, RESOURCE_EXHAUSTED)
    assert str(_limit(gateway_config)) in answer.message


async def test_text_requests_may_come_in_several_padded_chunks(http: httpx.AsyncClient) -> None:
    framed = grpcweb.frame(exchange_pb2.GetRequest(record_id="LOCAL-NOWHERE").SerializeToString())
    # Split so that the first chunk needs padding: each chunk is encoded on its own.
    body = base64.b64encode(framed[:4]) + b"\r\n" + base64.b64encode(framed[4:])
    assert b"=" in body[: body.index(b"\r")]
    answer = await grpcweb.call(http, GET, body, content_type=grpcweb.TEXT)
    assert answer.code == NOT_FOUND  # parsed, served, and not found


async def test_the_connect_api_is_unchanged_beside_grpc_web(gateway: Gateway) -> None:
    async with httpx.AsyncClient(base_url=f"http://{gateway.http_address}") as client:
        answer = await client.post(GET, json={"recordId": "LOCAL-NOWHERE"})
        assert (answer.status_code, answer.json()["code"]) == (404, "not_found")
        plus_json = await client.post(
            GET, content=b"{}", headers={"content-type": "application/grpc-web+json"}
        )
        assert plus_json.status_code == 415


async def test_a_binary_request_may_ask_for_a_text_answer(http: httpx.AsyncClient) -> None:
    request = grpcweb.body_of(exchange_pb2.GetRequest(record_id="LOCAL-NOWHERE"), text=False)
    answer = await http.post(
        GET,
        content=request,
        headers={"content-type": grpcweb.BINARY, "accept": grpcweb.TEXT},
    )
    assert answer.headers["content-type"] == grpcweb.TEXT
    _, trailers, _ = grpcweb.parse(answer.content, text=True)
    assert trailers["grpc-status"] == str(NOT_FOUND)
