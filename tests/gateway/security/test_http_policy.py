"""HTTP is never a way around the policy: over mutual TLS, every RPC the HTTP listener serves
refuses a caller without a grant (403, audited as over gRPC), a certificate without a Liaison
identity (401), and a client without a certificate (no TLS session at all); and every HTTP route
is an RPC declared in the access table - in every protocol the listener speaks (Connect, NDJSON,
Server-Sent Events, gRPC-Web; ``test_grpc_web_policy.py`` refuses a stranger over gRPC-Web)."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest

from gateway.http.calls import NOT_OVER_HTTP, Calls
from gateway.security.access import RPC_ACCESS
from gateway.security.policy import Grant
from gateway.server import Gateway
from tests.gateway.security.test_rpc_enumeration import METHODS
from tests.support.mtls import Pki, denials, https_context, tls_gateway

OPEN = ("/grpc.health.v1.Health/",)


def _calls(gateway: Gateway) -> Calls:
    calls = gateway.http_calls
    assert calls is not None
    return calls


def _served(gateway: Gateway) -> list[str]:
    return sorted(method.path for method in _calls(gateway).methods())


async def test_every_rpc_over_http_refuses_a_caller_without_a_grant(
    tmp_path: Path, pki: Pki
) -> None:
    stranger = pki.client("stranger")
    async with tls_gateway(tmp_path, pki, [], http=True) as gateway:
        served = _served(gateway)
        assert "/liaison.v1.RecordExchange/Submit" in served
        async with httpx.AsyncClient(
            base_url=f"https://{gateway.http_address}", verify=https_context(pki, stranger)
        ) as client:
            for path in served:
                if path.startswith(OPEN):
                    continue
                method = _calls(gateway).method(path)
                assert method is not None
                media = "application/x-ndjson" if method.client_streaming else "application/json"
                answer = await client.post(path, content=b"{}", headers={"content-type": media})
                assert answer.status_code == 403, (path, answer.text)
                assert answer.json()["code"] == "permission_denied"
        # Audited as over gRPC: "policy", or "not-a-peer" for the Federation service.
        entries = denials(gateway, "policy") + denials(gateway, "not-a-peer")
        refused = {entry["detail"]["method"] for entry in entries}
        assert refused >= {p for p in served if not p.startswith(OPEN)}


async def test_a_granted_client_is_served_and_sees_who_it_is(tmp_path: Path, pki: Pki) -> None:
    client_cert = pki.client("customs-1")
    grant = Grant(("urn:liaison:client:customs-*",), ("liaison.v1.RecordExchange/Get",))
    async with (
        tls_gateway(tmp_path, pki, [grant], http=True) as gateway,
        httpx.AsyncClient(
            base_url=f"https://{gateway.http_address}", verify=https_context(pki, client_cert)
        ) as client,
    ):
        answer = await client.post("/liaison.v1.RecordExchange/Get", json={"recordId": "X-1"})
        assert (answer.status_code, answer.json()["code"]) == (404, "not_found")
        refused = await client.post("/liaison.v1.RecordExchange/Search", json={})
        assert refused.status_code == 403


async def test_a_certificate_without_an_identity_is_401(tmp_path: Path, pki: Pki) -> None:
    nameless = pki.with_names("nameless", [])
    async with tls_gateway(tmp_path, pki, [], http=True) as gateway:
        async with httpx.AsyncClient(
            base_url=f"https://{gateway.http_address}", verify=https_context(pki, nameless)
        ) as client:
            answer = await client.post("/grpc.health.v1.Health/Check", json={})
        assert answer.status_code == 401
        assert answer.json()["code"] == "unauthenticated"
        assert denials(gateway, "no-identity")


async def test_a_client_without_a_certificate_gets_no_tls_session(tmp_path: Path, pki: Pki) -> None:
    async with (
        tls_gateway(tmp_path, pki, [], http=True) as gateway,
        httpx.AsyncClient(
            base_url=f"https://{gateway.http_address}", verify=https_context(pki, None)
        ) as client,
    ):
        with pytest.raises((httpx.ConnectError, httpx.ReadError, httpx.RemoteProtocolError)):
            await client.post("/grpc.health.v1.Health/Check", json={})


async def test_plaintext_http_is_not_served_over_tls(tmp_path: Path, pki: Pki) -> None:
    async with tls_gateway(tmp_path, pki, [], http=True) as gateway:
        client = httpx.AsyncClient(base_url=f"http://{gateway.http_address}")
        try:
            with pytest.raises(httpx.HTTPError):
                await client.post("/grpc.health.v1.Health/Check", json={})
        finally:
            await client.aclose()


def test_every_http_route_is_a_declared_rpc_and_every_rpc_is_accounted_for() -> None:
    # The full table a gateway builds is exercised above; here, against the enumeration of the
    # descriptors: what HTTP does not serve is listed with a reason, and nothing else is left.
    assert set(NOT_OVER_HTTP) <= set(RPC_ACCESS)
    for method in METHODS:
        assert method in RPC_ACCESS or method in NOT_OVER_HTTP
    assert all(len(reason) > 20 for reason in NOT_OVER_HTTP.values())


async def test_the_http_table_serves_exactly_the_grpc_methods_less_the_listed(
    tmp_path: Path, pki: Pki
) -> None:
    async with tls_gateway(tmp_path, pki, [], http=True) as gateway:
        registered = set(_calls(gateway).registered())
        served = set(_served(gateway))
    assert served == registered - set(NOT_OVER_HTTP)
    assert served <= set(RPC_ACCESS)


async def test_grpc_web_serves_the_http_table_less_client_streams(tmp_path: Path, pki: Pki) -> None:
    # gRPC-Web is spoken on the same paths: every one of them reaches the interceptors (the
    # stranger test in test_grpc_web_policy.py walks them all), and a client stream, which a
    # browser cannot send, is refused UNIMPLEMENTED after the policy.
    async with tls_gateway(tmp_path, pki, [], http=True) as gateway:
        methods = _calls(gateway).methods()
    over_grpc_web = {m.path for m in methods if m.over_grpc_web}
    client_streams = {m.path for m in methods if m.client_streaming}
    assert over_grpc_web == {m.path for m in methods} - client_streams
    assert client_streams == {"/liaison.v1.RecordExchange/SubmitStream"}
    assert (
        {
            "/liaison.v1.RecordExchange/Search",
            "/liaison.v1.RecordExchange/Subscribe",
            "/liaison.v1.FederationAdmin/VerifyAuditLog",
        }
        <= over_grpc_web
        <= set(RPC_ACCESS)
    )
