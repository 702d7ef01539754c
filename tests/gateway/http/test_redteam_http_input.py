"""Red team: hostile input on the HTTP listener. Whatever arrives - malformed or deeply nested
JSON, invalid UTF-8, enormous numbers, wrong content types, oversized bodies and lines, forged
cursors, traversal paths - the answer is a clear 4xx (or a stream ending in an error), never a
5xx, a traceback or a hang."""

from __future__ import annotations

import json
import struct
from dataclasses import replace
from pathlib import Path

import httpx
import pytest

from gateway.config import CentreConfig, HttpConfig, LimitsConfig
from tests.conftest import make_config
from tests.support import grpcweb

SUBMIT = "/liaison.v1.RecordExchange/Submit"
GET = "/liaison.v1.RecordExchange/Get"
SEARCH = "/liaison.v1.RecordExchange/Search"
SUBSCRIBE = "/liaison.v1.RecordExchange/Subscribe"
SUBMIT_STREAM = "/liaison.v1.RecordExchange/SubmitStream"
SMALL_LIMIT = 64 * 1024


@pytest.fixture
def gateway_config(tmp_path: Path) -> CentreConfig:
    """An HTTP listener with a small message limit, so that limits are cheap to cross."""
    config = make_config(tmp_path)
    return replace(
        config,
        http=HttpConfig("127.0.0.1:0"),
        limits=replace(config.limits or LimitsConfig(), max_message_bytes=SMALL_LIMIT),
    )


def _no_traceback(answer: httpx.Response) -> None:
    assert "Traceback" not in answer.text
    assert 'File "' not in answer.text


def _client_error(answer: httpx.Response) -> None:
    assert 400 <= answer.status_code < 500, (answer.status_code, answer.text[:300])
    _no_traceback(answer)


def _refused_as_unknown_or_client_error(answer: httpx.Response) -> None:
    """Connect answers an unknown method 501 ``unimplemented``: a refusal, not a failure."""
    if answer.status_code == 501:
        assert answer.json()["code"] == "unimplemented"
        _no_traceback(answer)
    else:
        _client_error(answer)


@pytest.mark.parametrize(
    "body",
    [
        b"{",
        b"[]",
        b"null",
        b'"a string"',
        b'{"recordId": ' + b"[" * 50_000 + b"]" * 50_000 + b"}",
        b'{"recordId": {"a": ' * 5_000 + b"1" + b"}" * 5_000 + b"}",
        b'{"recordId": "\xff\xfe"}',
        b'{"recordId": "X", "recordId": "Y"}',
        b'{"record": {"version": "' + b"9" * 5_000 + b'"}}',
        b'{"record": {"version": 1e999}}',
        b'{"record": {"version": -1}}',
        b'{"record": {"version": "18446744073709551616"}}',
        b'{"recordId": "\\ud800"}',
        b'{"recordId": "X\\u0000Y"}',
        b'{"unknownField": 1}',
        b"\x00\x01\x02",
    ],
    ids=lambda body: repr(body[:24]),
)
async def test_malformed_json_is_400_on_unary_calls(http: httpx.AsyncClient, body: bytes) -> None:
    for path in (GET, SUBMIT):
        answer = await http.post(path, content=body, headers={"content-type": "application/json"})
        _client_error(answer)


@pytest.mark.parametrize(
    "body",
    [
        b"{",
        b'{"familyName": ' + b"[" * 50_000 + b"]" * 50_000 + b"}",
        b'{"pageSize": "' + b"9" * 5_000 + b'"}',
        b'{"familyName": "\xff"}',
    ],
    ids=lambda body: repr(body[:24]),
)
async def test_malformed_json_is_400_on_streams(http: httpx.AsyncClient, body: bytes) -> None:
    answer = await http.post(SEARCH, content=body, headers={"content-type": "application/json"})
    _client_error(answer)


async def test_binary_protobuf_garbage_is_400(http: httpx.AsyncClient) -> None:
    for body in (b"\xff\xff\xff\xff", b"\x0a\xff\xff\xff\xff\x0f", b"\x0a" * 100_000):
        answer = await http.post(GET, content=body, headers={"content-type": "application/proto"})
        _client_error(answer)


@pytest.mark.parametrize(
    "media",
    [
        "text/plain",
        "application/xml",
        "multipart/form-data; boundary=x",
        "application/grpc",
        "application/grpc-web+json",  # gRPC-Web is served with protobuf only
        "application/connect+json",
        "\u00e9",
    ],
)
async def test_a_content_type_not_served_is_refused(http: httpx.AsyncClient, media: str) -> None:
    answer = await http.post(
        GET, content=b'{"recordId": "X"}', headers={b"content-type": media.encode("latin-1")}
    )
    _client_error(answer)


async def test_a_body_over_the_limit_is_refused_without_being_read_whole(
    http: httpx.AsyncClient,
) -> None:
    body = b'{"recordId": "' + b"A" * (4 * SMALL_LIMIT + 10) + b'"}'
    answer = await http.post(GET, content=body, headers={"content-type": "application/json"})
    _client_error(answer)
    assert answer.json()["code"] == "resource_exhausted"


async def test_an_ndjson_line_over_the_limit_is_refused(http: httpx.AsyncClient) -> None:
    # One endless line, never a newline: the listener must stop buffering and refuse it.
    body = b'{"records": [' + b" " * (5 * SMALL_LIMIT) + b"]}"
    answer = await http.post(
        SUBMIT_STREAM, content=body, headers={"content-type": "application/x-ndjson"}
    )
    _client_error(answer)


async def test_ndjson_with_malformed_lines_is_refused(http: httpx.AsyncClient) -> None:
    for body in (b"{\n", b"not json\n", b'{"records": []}\n\xff\xfe\n', b"[]\n[]\n"):
        answer = await http.post(
            SUBMIT_STREAM, content=body, headers={"content-type": "application/x-ndjson"}
        )
        _client_error(answer)


async def test_a_connect_envelope_announcing_four_gigabytes_is_refused(
    http: httpx.AsyncClient,
) -> None:
    headers = {"content-type": "application/connect+json"}
    announced = struct.pack(">BI", 0, 2**32 - 1) + b"{}"
    answer = await http.post(SUBMIT_STREAM, content=announced, headers=headers)
    _no_traceback(answer)
    assert answer.status_code < 500
    assert b"resource_exhausted" in answer.content or b"invalid_argument" in answer.content
    answer = await http.post(SEARCH, content=announced, headers=headers)
    _no_traceback(answer)
    assert answer.status_code < 500
    assert b"error" in answer.content


@pytest.mark.parametrize(
    "cursor",
    ["-1", "9" * 21, "18446744073709551616", "\u0661\u0662", "+1", "0x10", "1e3", "a" * 4000],
)
async def test_a_forged_last_event_id_on_subscribe_is_refused(
    http: httpx.AsyncClient, cursor: str
) -> None:
    answer = await http.get(SUBSCRIBE, headers={b"last-event-id": cursor.encode("utf-8")})
    _client_error(answer)


@pytest.mark.parametrize(
    "cursor",
    ["-1", "9" * 500, "' OR 1=1 --", "AAAA", "eyJ0IjoxfQ", "\u00e9\u00e9", "a" * 4000, "%00"],
)
async def test_a_forged_last_event_id_on_search_is_refused(
    http: httpx.AsyncClient, cursor: str
) -> None:
    message = json.dumps({"familyName": "DOE"})
    answer = await http.get(
        SEARCH, params={"message": message}, headers={b"last-event-id": cursor.encode("utf-8")}
    )
    _client_error(answer)


@pytest.mark.parametrize(
    "path",
    [
        "/../../../../etc/passwd",
        "/%2e%2e/%2e%2e/etc/passwd",
        "/openapi.json/../../etc/passwd",
        "/liaison.v1.RecordExchange/..%2f..%2fetc%2fpasswd",
        "/..%2f..%2fetc/passwd",
        "/gateway.http/openapi.py",
        "/openapi.json%00",
        "/static/../../pyproject.toml",
    ],
)
async def test_no_route_serves_a_file_outside_the_api(http: httpx.AsyncClient, path: str) -> None:
    for verb in ("GET", "POST"):
        answer = await http.request(verb, path, content=b"{}")
        _refused_as_unknown_or_client_error(answer)
        assert "root:" not in answer.text
        assert "[project]" not in answer.text


async def test_a_get_on_a_unary_method_or_unknown_service_is_a_client_error(
    http: httpx.AsyncClient,
) -> None:
    for path in (GET, "/no.such.Service/Method", "/liaison.v1.RecordExchange/Nope"):
        answer = await http.get(path)
        _refused_as_unknown_or_client_error(answer)
    for verb in ("PUT", "DELETE", "PATCH"):
        answer = await http.request(verb, GET, content=b"{}")
        _client_error(answer)


async def test_odd_connect_timeouts_are_not_server_errors(http: httpx.AsyncClient) -> None:
    for value in ("-1", "0", "9" * 30, "abc", "\u0661"):
        answer = await http.post(
            GET, json={"recordId": "X-1"}, headers={b"connect-timeout-ms": value.encode("utf-8")}
        )
        assert answer.status_code < 500 or answer.status_code == 504, answer.text
        _no_traceback(answer)


def _grpc_web_status(answer: httpx.Response, *, text: bool = False) -> int:
    """The grpc-status of a gRPC-Web answer (always 200, the status in the trailers frame)."""
    _no_traceback(answer)
    assert answer.status_code == 200, answer.status_code
    _, trailers, _ = grpcweb.parse(answer.content, text=text)
    return int(trailers["grpc-status"])


@pytest.mark.parametrize("path", [GET, SEARCH, SUBSCRIBE, SUBMIT_STREAM])
async def test_a_grpc_web_message_over_the_limit_is_refused_while_it_is_still_coming(
    http: httpx.AsyncClient, path: str
) -> None:
    # A real body several times the limit, announced truthfully: refused from the prefix;
    # the rest is never buffered, and the connection is not left hanging.
    payload = b"\x0a" + b"A" * (4 * SMALL_LIMIT)
    for text in (False, True):
        body = grpcweb.body_of(payload, text=text)
        answer = await http.post(
            path,
            content=body,
            headers={"content-type": grpcweb.TEXT if text else grpcweb.BINARY},
        )
        expected = 12 if path == SUBMIT_STREAM else 8  # a client stream: not over gRPC-Web
        assert _grpc_web_status(answer, text=text) == expected, (path, text)


async def test_a_grpc_web_frame_announcing_four_gigabytes_is_refused(
    http: httpx.AsyncClient,
) -> None:
    announced = struct.pack(">BI", 0, 2**32 - 1) + b"x" * 100
    for path in (GET, SEARCH):
        answer = await http.post(path, content=announced, headers={"content-type": grpcweb.BINARY})
        assert _grpc_web_status(answer) == 8


async def test_endless_grpc_web_text_whitespace_and_garbage_is_refused(
    http: httpx.AsyncClient,
) -> None:
    for body in (b" \r\n" * SMALL_LIMIT + b"AAAA", b"\x00" * SMALL_LIMIT, b"=" * 64):
        answer = await http.post(GET, content=body, headers={"content-type": grpcweb.TEXT})
        assert _grpc_web_status(answer, text=True) == 3
