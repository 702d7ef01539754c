"""Red team: control characters and bidi overrides in text, on every path that takes a record in.

* WRONG (before): a NUL, a newline, an escape sequence or a right-to-left override in a name or a
  note was stored as any other character: it cut C strings short in other-language clients,
  forged lines in logs and CSV exports, and displayed text in another order than it is stored.
* RIGHT: INVALID_ARGUMENT with a field violation per field naming the code point and its position
  (``liaison.rules.text``), on SubmitStream and the HTTP/JSON routes as on Submit and Screen
  (``test_redteam_screening_names.py``); through Ingest, the adapter reports
  ``FORBIDDEN_CHARACTER`` at the value's place in the payload and the record is not stored.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import httpx
import pytest
from google.protobuf import json_format
from grpc import aio

from gateway.config import CentreConfig, HttpConfig
from gateway.server import Gateway
from liaison.v1 import exchange_pb2, translation_pb2
from tests.conftest import make_config
from tests.support.factories import person
from tests.support.rpc import ExchangeStub, TranslationStub

NUL_REASON = "must not contain U+0000 (a control character) at position 3"


@pytest.fixture
def gateway_config(tmp_path: Path) -> CentreConfig:
    return replace(make_config(tmp_path), http=HttpConfig("127.0.0.1:0"))


def _person_named(record_id: str, family: str) -> exchange_pb2.SubmitRequest:
    record = person(record_id)
    record.person.names[0].family = family
    return exchange_pb2.SubmitRequest(record=record)


async def test_submit_stream_reports_each_record_and_stores_the_others(
    exchange: ExchangeStub,
) -> None:
    records = [
        person("LOCAL-CC-1"),
        _person_named("LOCAL-CC-2", "IVA\x00NOV").record,
        person("LOCAL-CC-3"),
    ]
    records[2].handling.restrictions = "do not forward\n\tbeyond Europol"  # free text: lines

    async def batches() -> AsyncIterator[exchange_pb2.SubmitStreamRequest]:
        yield exchange_pb2.SubmitStreamRequest(records=records)

    response = await exchange.SubmitStream(batches())
    assert (response.stored, response.rejected) == (2, 1)
    [failed] = [result for result in response.results if result.HasField("error")]
    assert failed.index == 1
    violations = {v.field: v.description for v in failed.error.field_violations}
    assert violations == {"person.names[0].family": NUL_REASON}


async def test_http_json_refuses_an_escaped_nul_with_the_field_violation(
    gateway: Gateway,
) -> None:
    body = json_format.MessageToDict(_person_named("LOCAL-CC-4", "IVA\x00NOV"))
    assert "\\u0000" in json.dumps(body)  # valid JSON: the escape is what arrives
    async with httpx.AsyncClient(base_url=f"http://{gateway.http_address}", timeout=20) as http:
        refused = await http.post("/liaison.v1.RecordExchange/Submit", json=body)
    assert refused.status_code == 400
    [detail] = refused.json()["details"]
    assert detail["debug"]["fieldViolations"] == [
        {"field": "person.names[0].family", "description": NUL_REASON}
    ]


async def test_ingest_locates_the_character_in_the_payload_and_stores_only_clean_notices(
    channel: aio.Channel, exchange: ExchangeStub
) -> None:
    notices = [
        {
            "entity_id": f"2024/{number}",
            "name": name,
            "forename": "SERGEI",
            "_links": {
                "self": {"href": f"https://ws-public.interpol.int/notices/v1/red/2024-{number}"}
            },
        }
        for number, name in ((1, "IVANOV"), (2, "IVA\x00NOV"))
    ]
    payload = json.dumps({"_embedded": {"notices": notices}}).encode()
    request = translation_pb2.IngestRequest(
        adapter="interpol-notice", payload=payload, accept_partial=True
    )
    response = await TranslationStub(channel).Ingest(request)
    [diagnostic] = [d for d in response.diagnostics if d.code == "FORBIDDEN_CHARACTER"]
    assert diagnostic.location.json_pointer == "/_embedded/notices/1/name"
    assert diagnostic.message.endswith(NUL_REASON)
    assert len(response.acks) == 1
    assert list(response.skipped_record_ids) == list(diagnostic.record_ids)
