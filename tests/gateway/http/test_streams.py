"""Streams over HTTP: Search as NDJSON (a status line last), Subscribe as Server-Sent Events
resumed with Last-Event-ID, Connect streaming envelopes, SubmitStream from NDJSON."""

from __future__ import annotations

import json
import struct
from dataclasses import replace
from pathlib import Path

import httpx
import pytest
from google.protobuf import json_format

from gateway.config import CentreConfig, ConfigError, HttpConfig, load_config
from gateway.server import Gateway
from liaison.v1 import exchange_pb2
from tests.support.factories import person

SEARCH = "/liaison.v1.RecordExchange/Search"
SUBSCRIBE = "/liaison.v1.RecordExchange/Subscribe"


async def _submit(http: httpx.AsyncClient, *record_ids: str) -> None:
    for record_id in record_ids:
        body = json_format.MessageToDict(exchange_pb2.SubmitRequest(record=person(record_id)))
        answer = await http.post("/liaison.v1.RecordExchange/Submit", json=body)
        assert answer.status_code == 200, answer.text


async def test_search_is_ndjson_ending_with_the_status(http: httpx.AsyncClient) -> None:
    await _submit(http, "LOCAL-S-1", "LOCAL-S-2")
    answer = await http.post(SEARCH, json={"familyName": "DOE"})
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "application/x-ndjson"
    lines = [json.loads(line) for line in answer.text.splitlines()]
    hits = [line["result"]["hit"] for line in lines if "hit" in line.get("result", {})]
    assert len(hits) == 2
    assert lines[-1] == {"status": {"code": "ok"}}


async def test_a_search_refused_before_any_result_is_an_http_error(
    http: httpx.AsyncClient,
) -> None:
    answer = await http.post(SEARCH, json={"cursor": "not-a-cursor"})
    assert answer.status_code == 400
    assert answer.json()["details"][0]["debug"]["fieldViolations"][0]["field"] == "cursor"


async def _events(response: httpx.Response, count: int) -> list[dict[str, str]]:
    events: list[dict[str, str]] = []
    current: dict[str, str] = {}
    async for line in response.aiter_lines():
        if not line:
            events.append(current)
            current = {}
            if len(events) == count:
                break
            continue
        key, _, value = line.partition(": ")
        current[key] = value
    return events


async def test_subscribe_is_sse_and_resumes_after_last_event_id(http: httpx.AsyncClient) -> None:
    await _submit(http, "LOCAL-E-1", "LOCAL-E-2")
    message = json.dumps({"afterSequence": "0"})
    async with http.stream("GET", SUBSCRIBE, params={"message": message}) as answer:
        assert answer.headers["content-type"] == "text/event-stream"
        events = await _events(answer, 3)
    assert [e["event"] for e in events] == ["record_event", "record_event", "caught_up"]
    first = json.loads(events[0]["data"])["recordEvent"]
    assert events[0]["id"] == first["metadata"]["sequence"]
    # A browser reconnects with the last id it saw: only what followed it comes again.
    headers = {"last-event-id": events[0]["id"]}
    async with http.stream(
        "GET", SUBSCRIBE, params={"message": message}, headers=headers
    ) as resumed:
        again = await _events(resumed, 2)
    assert [e["event"] for e in again] == ["record_event", "caught_up"]
    assert json.loads(again[0]["data"])["recordEvent"]["record"]["recordId"] == "LOCAL-E-2"


async def test_a_bad_last_event_id_is_refused(http: httpx.AsyncClient) -> None:
    answer = await http.get(SUBSCRIBE, headers={"last-event-id": "yesterday"})
    assert answer.status_code == 400
    assert answer.json()["code"] == "invalid_argument"


async def test_search_over_connect_streaming_ends_with_an_end_stream_envelope(
    http: httpx.AsyncClient,
) -> None:
    await _submit(http, "LOCAL-C-1")
    request = json.dumps({"familyName": "DOE"}).encode()
    answer = await http.post(
        SEARCH,
        content=struct.pack(">BI", 0, len(request)) + request,
        headers={"content-type": "application/connect+json"},
    )
    assert answer.status_code == 200
    body, frames = answer.content, []
    while body:
        flags, size = struct.unpack(">BI", body[:5])
        frames.append((flags, json.loads(body[5 : 5 + size])))
        body = body[5 + size :]
    assert frames[-1] == (2, {})
    assert "hit" in frames[0][1]


async def test_submit_stream_takes_ndjson(http: httpx.AsyncClient) -> None:
    lines = [
        json.dumps(json_format.MessageToDict(exchange_pb2.SubmitStreamRequest(records=[person(r)])))
        for r in ("LOCAL-N-1", "LOCAL-N-2")
    ]
    answer = await http.post(
        "/liaison.v1.RecordExchange/SubmitStream",
        content="\n".join(lines).encode(),
        headers={"content-type": "application/x-ndjson"},
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["stored"] == "2"


async def test_an_idle_sse_stream_gets_keep_alive_comments(gateway_config: CentreConfig) -> None:
    # Subscribe on an empty store: "caught_up", then nothing - but a comment line, again and
    # again, so that a proxy does not close the connection as idle.
    config = replace(gateway_config, http=HttpConfig("127.0.0.1:0", sse_keepalive_seconds=0.05))
    gateway = Gateway(config)
    await gateway.start()
    try:
        async with httpx.AsyncClient(base_url=f"http://{gateway.http_address}", timeout=20) as http:
            message = json.dumps({"afterSequence": "0"})
            async with http.stream("GET", SUBSCRIBE, params={"message": message}) as answer:
                lines: list[str] = []
                async for line in answer.aiter_lines():
                    lines.append(line)
                    if lines.count(": keep-alive") == 2:
                        break
    finally:
        await gateway.stop(grace=0)
    assert lines[0] == "event: caught_up"
    assert lines[lines.index(": keep-alive") - 1] == ""  # between events, never inside one


def test_the_keep_alive_interval_must_be_positive(tmp_path: Path) -> None:
    path = tmp_path / "liaison.toml"
    path.write_text('[centre]\nid = "TEST-CENTRE"\n[http]\nsse_keepalive_seconds = 0\n')
    with pytest.raises(ConfigError, match="sse_keepalive_seconds"):
        load_config(path)
