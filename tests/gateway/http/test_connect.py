"""Unary calls over HTTP: the Connect protocol (JSON and protobuf), its status table, and the
google.rpc details as JSON - on a real gateway over loopback."""

from __future__ import annotations

import json

import httpx
from google.protobuf import json_format

from gateway.server import Gateway
from liaison.v1 import exchange_pb2
from tests.support.factories import person

SUBMIT = "/liaison.v1.RecordExchange/Submit"
GET = "/liaison.v1.RecordExchange/Get"


def _submit_body(record_id: str) -> dict[str, object]:
    return json_format.MessageToDict(exchange_pb2.SubmitRequest(record=person(record_id)))


async def test_submit_then_get_round_trips_in_json(http: httpx.AsyncClient) -> None:
    submitted = await http.post(SUBMIT, json=_submit_body("LOCAL-HTTP-1"))
    assert submitted.status_code == 200, submitted.text
    ack = submitted.json()["ack"]
    assert ack["recordId"] == "LOCAL-HTTP-1"
    assert ack["version"] == "1"  # uint64 is a string in the proto3 JSON mapping
    got = await http.post(GET, json={"recordId": "LOCAL-HTTP-1"})
    assert got.status_code == 200
    record = got.json()["record"]
    assert record["person"]["names"][0]["family"] == "DOE"


async def test_protobuf_bodies_are_served_too(http: httpx.AsyncClient) -> None:
    request = exchange_pb2.SubmitRequest(record=person("LOCAL-HTTP-2"))
    answer = await http.post(
        SUBMIT,
        content=request.SerializeToString(),
        headers={"content-type": "application/proto"},
    )
    assert answer.status_code == 200
    assert answer.headers["content-type"] == "application/proto"
    assert exchange_pb2.SubmitResponse.FromString(answer.content).ack.record_id == "LOCAL-HTTP-2"


async def test_an_invalid_record_is_400_with_field_violations_as_json(
    http: httpx.AsyncClient,
) -> None:
    body = _submit_body("LOCAL-HTTP-3")
    body["record"]["person"]["birthDate"]["month"] = 13  # type: ignore[index]
    refused = await http.post(SUBMIT, json=body)
    assert refused.status_code == 400
    error = refused.json()
    assert error["code"] == "invalid_argument"
    [detail] = error["details"]
    assert detail["type"] == "google.rpc.BadRequest"
    fields = [v["field"] for v in detail["debug"]["fieldViolations"]]
    assert fields == ["person.birth_date.month"]  # from the record, as on every RPC (0022)


async def test_another_centres_record_is_403_permission_denied_naming_the_centre(
    http: httpx.AsyncClient,
) -> None:
    body = _submit_body("WCO-I2C:HTTP-1")  # in the i2c's namespace, submitted here
    refused = await http.post(SUBMIT, json=body)
    assert refused.status_code == 403
    error = refused.json()
    assert error["code"] == "permission_denied"
    assert "only its originating centre WCO-I2C publishes" in error["message"]
    [detail] = error["details"]
    assert detail["type"] == "google.rpc.ErrorInfo"
    assert detail["debug"]["reason"] == "FOREIGN_RECORD"
    assert detail["debug"]["metadata"] == {"field": "record_id", "originatingCentre": "WCO-I2C"}


async def test_statuses_map_to_connect_http_codes(http: httpx.AsyncClient) -> None:
    missing = await http.post(GET, json={"recordId": "LOCAL-NOWHERE"})
    assert (missing.status_code, missing.json()["code"]) == (404, "not_found")
    unknown = await http.post("/liaison.v1.RecordExchange/Nothing", json={})
    assert (unknown.status_code, unknown.json()["code"]) == (501, "unimplemented")


async def test_bad_json_is_refused_as_invalid_argument_never_500(http: httpx.AsyncClient) -> None:
    for body in (b"{", b"[]", b'{"recordId": 5}', b'{"noSuchField": 1}', b"\xff\xfe"):
        answer = await http.post(GET, content=body, headers={"content-type": "application/json"})
        assert answer.status_code == 400, body
        assert answer.json()["code"] == "invalid_argument"


async def test_an_unsupported_content_type_is_415(http: httpx.AsyncClient) -> None:
    answer = await http.post(GET, content=b"x", headers={"content-type": "text/plain"})
    assert answer.status_code == 415
    assert "application/json" in answer.headers["accept-post"]


async def test_a_body_over_the_limit_is_refused(gateway: Gateway, http: httpx.AsyncClient) -> None:
    limit = 4 * gateway.config.limits.max_message_bytes
    answer = await http.post(
        GET, content=b" " * (limit + 1), headers={"content-type": "application/json"}
    )
    assert answer.status_code == 429
    assert answer.json()["code"] == "resource_exhausted"


async def test_health_check_answers_over_http(http: httpx.AsyncClient) -> None:
    answer = await http.post("/grpc.health.v1.Health/Check", json={})
    assert answer.json() == {"status": "SERVING"}


async def test_the_openapi_document_is_served(http: httpx.AsyncClient) -> None:
    answer = await http.get("/openapi.json")
    assert answer.status_code == 200
    assert json.loads(answer.content)["openapi"] == "3.1.0"
