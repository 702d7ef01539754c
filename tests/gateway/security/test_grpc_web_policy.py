"""gRPC-Web is never a way around the policy: over mutual TLS, every RPC the HTTP listener
serves refuses a caller without a grant with PERMISSION_DENIED in the trailers, audited as over
gRPC - before anything of the body is looked at, so a malformed body or a client stream is
refused for the grant first; and need-to-know hides over gRPC-Web exactly what it hides over
gRPC."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import grpc
import httpx
import pytest

from gateway.http.calls import Calls
from gateway.security.policy import Grant
from gateway.server import Gateway
from liaison.v1 import exchange_pb2, exchange_pb2_grpc, record_pb2
from tests.support import grpcweb
from tests.support.factories import person
from tests.support.mtls import LYON, SINGAPORE, Pki, channel, denials, https_context, tls_gateway

OPEN = ("/grpc.health.v1.Health/",)
PERMISSION_DENIED = grpc.StatusCode.PERMISSION_DENIED.value[0]
NOT_FOUND = grpc.StatusCode.NOT_FOUND.value[0]
GET = "/liaison.v1.RecordExchange/Get"
SEARCH = "/liaison.v1.RecordExchange/Search"


def _calls(gateway: Gateway) -> Calls:
    calls = gateway.http_calls
    assert calls is not None
    return calls


@pytest.mark.parametrize("body", [b"", b"\x01\x00\x00\x00\x01x"], ids=["empty", "compressed"])
async def test_every_rpc_over_grpc_web_refuses_a_caller_without_a_grant(
    tmp_path: Path, pki: Pki, body: bytes
) -> None:
    stranger = pki.client("stranger")
    async with tls_gateway(tmp_path, pki, [], http=True) as gateway:
        served = sorted(m.path for m in _calls(gateway).methods())
        assert "/liaison.v1.FederationAdmin/VerifyAuditLog" in served
        async with httpx.AsyncClient(
            base_url=f"https://{gateway.http_address}", verify=https_context(pki, stranger)
        ) as client:
            for path in served:
                if path.startswith(OPEN):
                    continue
                answer = await grpcweb.call(client, path, body)
                assert (answer.http_status, answer.code) == (200, PERMISSION_DENIED), path
                assert "may not call" in answer.message, (path, answer.message)
        entries = denials(gateway, "policy") + denials(gateway, "not-a-peer")
        refused = {entry["detail"]["method"] for entry in entries}
        assert refused >= {p for p in served if not p.startswith(OPEN)}


OPERATOR, PARTNER = "operator", "lyon-partner"
GRANTS = (
    Grant((f"urn:liaison:client:{OPERATOR}",), ("liaison.v1.*",)),
    Grant((f"urn:liaison:client:{PARTNER}",), ("liaison.v1.RecordExchange/*",), acts_for=LYON),
)


def _person(record_id: str, family: str, *releasable: str) -> record_pb2.Record:
    record = person(record_id, family=family)
    record.handling.releasable_to.extend(releasable)
    return record


@pytest.fixture
async def gateway(tmp_path: Path, pki: Pki) -> AsyncIterator[Gateway]:
    async with tls_gateway(tmp_path, pki, GRANTS, http=True) as started:
        async with channel(started, pki, pki.client(OPERATOR)) as operator:
            exchange = exchange_pb2_grpc.RecordExchangeStub(operator)
            for record in (
                _person("open-1", "SAMENAME"),
                _person("sg-only", "SAMENAME", SINGAPORE),
            ):
                await exchange.Submit(exchange_pb2.SubmitRequest(record=record))
        yield started


async def test_handling_hides_over_grpc_web_what_it_hides_over_grpc(
    gateway: Gateway, pki: Pki
) -> None:
    partner = pki.client(PARTNER)
    async with (
        channel(gateway, pki, partner) as grpc_channel,
        httpx.AsyncClient(
            base_url=f"https://{gateway.http_address}", verify=https_context(pki, partner)
        ) as web,
    ):
        stub = exchange_pb2_grpc.RecordExchangeStub(grpc_channel)
        with pytest.raises(grpc.aio.AioRpcError) as over_grpc:
            await stub.Get(exchange_pb2.GetRequest(record_id="sg-only"))
        hidden = await grpcweb.unary(web, GET, exchange_pb2.GetRequest(record_id="sg-only"))
        absent = await grpcweb.unary(web, GET, exchange_pb2.GetRequest(record_id="no-such-1"))
        search = exchange_pb2.SearchRequest(family_name="SAMENAME")
        grpc_results = [r async for r in stub.Search(search)]
        web_search = await grpcweb.unary(web, SEARCH, search)
    assert over_grpc.value.code() is grpc.StatusCode.NOT_FOUND
    assert (hidden.code, hidden.message) == (NOT_FOUND, over_grpc.value.details())
    assert (absent.code, absent.message.replace("no-such-1", "sg-only")) == (
        hidden.code,
        hidden.message,
    )
    # The search answers the same messages over both: the open record, none of the hidden one.
    web_results = [exchange_pb2.SearchResponse.FromString(m) for m in web_search.messages]
    assert web_search.code == 0
    hits = [r.hit.record.record_id for r in web_results if r.WhichOneof("item") == "hit"]
    assert hits == ["open-1"]
    assert [r.SerializeToString(deterministic=True) for r in web_results] == [
        r.SerializeToString(deterministic=True) for r in grpc_results
    ]
    assert b"sg-only" not in b"".join(web_search.messages)
