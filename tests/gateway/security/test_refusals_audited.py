"""Refusals the gateway used to make silently are audited (issue 10, item 8, in part): unknown
methods, stream-limit refusals, and certificates without a valid identity.

TLS handshake failures are not among them: grpcio gives Python no server-side view of a failed
handshake (no hook, and channelz counts neither a call nor a socket for it); the operator guide
says where they show instead. A CA-signed certificate without a valid identity completes the
handshake and is refused - and audited - on its first call (``test_identities``).
"""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator
from pathlib import Path

import grpc
import pytest
from cryptography import x509
from grpc import aio

from gateway.federation.settings import FederationSettings
from gateway.security.policy import Grant
from gateway.server import Gateway
from liaison.v1 import exchange_pb2, exchange_pb2_grpc
from tests.conftest import make_config
from tests.gateway.telemetry.conftest import recording
from tests.support.mtls import Pki, channel, denials, tls_gateway
from tests.support.polling import until

OPERATOR = "urn:liaison:client:operator"


@pytest.fixture
async def gateway(tmp_path: Path, pki: Pki) -> AsyncIterator[Gateway]:
    grants = (Grant((OPERATOR,), ("liaison.v1.*",)),)
    async with tls_gateway(tmp_path, pki, grants, max_streams_per_caller=1) as started:
        yield started


def _same(data: bytes) -> bytes:
    return data


async def _call_unknown(opened: aio.Channel, method: str, shape: str) -> aio.AioRpcError:
    factory = getattr(opened, shape)
    call = factory(method, request_serializer=_same, response_deserializer=_same)

    async def attempt() -> None:
        if shape == "unary_unary":
            await call(b"", timeout=10)
        elif shape == "unary_stream":
            async for _ in call(b"", timeout=10):
                pass
        elif shape == "stream_unary":
            await call(iter([b"", b""]), timeout=10)
        else:
            async for _ in call(iter([b""]), timeout=10):
                pass

    with pytest.raises(aio.AioRpcError) as caught:
        await attempt()
    return caught.value


@pytest.mark.parametrize("shape", ["unary_unary", "unary_stream", "stream_unary", "stream_stream"])
async def test_an_unknown_method_is_refused_and_audited(
    gateway: Gateway, pki: Pki, shape: str
) -> None:
    async with channel(gateway, pki, pki.client("operator")) as opened:
        error = await _call_unknown(opened, "/liaison.v1.RecordExchange/Delete", shape)
    assert error.code() == grpc.StatusCode.UNIMPLEMENTED
    (entry,) = denials(gateway, "unknown-method")
    assert entry["actor"] == OPERATOR
    assert entry["outcome"] == "denied"
    assert entry["detail"]["method"] == "/liaison.v1.RecordExchange/Delete"


async def test_the_audited_method_name_is_printable_and_truncated(
    gateway: Gateway, pki: Pki
) -> None:
    # Any caller with a valid identity, granted or not; the name is theirs to choose.
    chosen = "/liaison.v1.Probe/" + "é" * 3 + "<script>" + "x" * 300
    async with channel(gateway, pki, pki.client("prober")) as opened:
        error = await _call_unknown(opened, chosen, "unary_unary")
    assert error.code() == grpc.StatusCode.UNIMPLEMENTED
    (entry,) = denials(gateway, "unknown-method")
    assert entry["actor"] == "urn:liaison:client:prober"
    audited = entry["detail"]["method"]
    assert audited.endswith("...")
    assert len(audited) == 128 + len("...")
    assert audited.isascii()
    assert audited.isprintable()
    assert audited.startswith("/liaison.v1.Probe/")
    assert "é" not in audited


async def test_an_unknown_method_from_a_certificate_without_identity_is_an_identity_refusal(
    gateway: Gateway, pki: Pki
) -> None:
    anonymous = pki.with_names("anonymous", [x509.DNSName("nobody.example")])
    async with channel(gateway, pki, anonymous) as opened:
        error = await _call_unknown(opened, "/liaison.v1.Nothing/Here", "unary_unary")
    assert error.code() == grpc.StatusCode.UNAUTHENTICATED
    assert denials(gateway, "unknown-method") == []
    (entry,) = denials(gateway, "no-identity")
    assert entry["detail"]["method"] == "/liaison.v1.Nothing/Here"


async def test_a_stream_limit_refusal_is_audited(gateway: Gateway, pki: Pki) -> None:
    async with channel(gateway, pki, pki.client("operator")) as opened:
        exchange = exchange_pb2_grpc.RecordExchangeStub(opened)
        held = exchange.Subscribe(exchange_pb2.SubscribeRequest(after_sequence=0))
        first = await held.read()
        assert isinstance(first, exchange_pb2.SubscribeResponse)
        assert first.HasField("caught_up")
        with pytest.raises(aio.AioRpcError) as refused:
            await exchange.Search(exchange_pb2.SearchRequest(), timeout=10).read()
        held.cancel()
    assert refused.value.code() == grpc.StatusCode.RESOURCE_EXHAUSTED
    (entry,) = denials(gateway, "stream-limit")
    assert entry["actor"] == OPERATOR
    assert entry["detail"] == {
        "method": "/liaison.v1.RecordExchange/Search",
        "reason": "stream-limit",
        "limit": 1,
    }


async def test_plaintext_loopback_with_an_audit_log_audits_unknown_methods_as_local(
    tmp_path: Path,
) -> None:
    config = make_config(tmp_path)
    config = dataclasses.replace(
        config, federation=FederationSettings(audit_path=tmp_path / "audit.db")
    )
    recorded = recording()
    started = Gateway(config, telemetry=recorded.telemetry)
    await started.start()
    try:
        async with aio.insecure_channel(started.address) as opened:
            for name in ("One", "Two", "Three"):
                error = await _call_unknown(opened, f"/liaison.v1.Nothing/{name}", "stream_stream")
                assert error.code() == grpc.StatusCode.UNIMPLEMENTED
            with pytest.raises(aio.AioRpcError):
                await exchange_pb2_grpc.RecordExchangeStub(opened).Get(
                    exchange_pb2.GetRequest(record_id="absent"), timeout=10
                )
        assert [e["actor"] for e in denials(started, "unknown-method")] == ["local"] * 3

        # Invented method names make no spans (nor metric series): telemetry never sees them.
        def names() -> set[str]:
            return {span.name for span in recorded.spans.get_finished_spans()}

        await until(lambda: "/liaison.v1.RecordExchange/Get" in names())  # its span ends late
        assert not [name for name in names() if "Nothing" in name]
    finally:
        await started.stop(grace=0)
        recorded.telemetry.shutdown()
