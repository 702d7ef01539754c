"""Mutual TLS and authorisation on a real grpc.aio server over loopback.

Unknown, expired and wrong-centre certificates and plaintext are refused at the handshake; a
verified caller without a grant gets PERMISSION_DENIED (audited); a granted caller reaches the
service in all four call shapes, which sees who called.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import grpc
import pytest
from grpc import aio

from gateway.audit.log import AuditLog, iter_stored
from gateway.security.authorization import AuthorizationInterceptor, current_caller
from gateway.security.certs import CertificateAuthority, IssuedCertificate
from gateway.security.policy import Grant, Policy
from gateway.security.tls import (
    TlsConfig,
    channel_credentials,
    peer_channel_options,
    server_credentials,
)

I2C, LYON = "WCO-I2C", "INTERPOL-CCC-LYON"
SERVICE = "test.Probe"


def _tls(ca: CertificateAuthority, issued: IssuedCertificate) -> TlsConfig:
    return TlsConfig(issued.certificate, issued.private_key, ca.certificate_path)


def _caller_text() -> bytes:
    caller = current_caller()
    assert caller is not None
    return f"{caller.identity}|{caller.centre}".encode()


async def _unary(request: bytes, context: Any) -> bytes:
    return _caller_text()


async def _server_stream(request: bytes, context: Any) -> AsyncIterator[bytes]:
    yield _caller_text()
    yield b"again"


async def _client_stream(requests: AsyncIterator[bytes], context: Any) -> bytes:
    count = 0
    async for _ in requests:
        count += 1
    return _caller_text() + f"|{count}".encode()


async def _bidi(requests: AsyncIterator[bytes], context: Any) -> AsyncIterator[bytes]:
    async for request in requests:
        yield _caller_text() + b"|" + request


class Pki:
    def __init__(self, root: Path) -> None:
        self.ca = CertificateAuthority.create(root / "pki")
        self.other_ca = CertificateAuthority.create(root / "other-pki")
        self.i2c = self.ca.issue_centre(I2C)
        self.lyon = self.ca.issue_centre(LYON)
        self.analyst = self.ca.issue_client("analyst")
        self.intruder = self.ca.issue_client("intruder")
        self.stranger = self.other_ca.issue_client("analyst")
        self.expired = self.ca.issue_client(
            "expired",
            not_before=dt.datetime.now(dt.UTC) - dt.timedelta(days=10),
            validity=dt.timedelta(days=1),
        )


@pytest.fixture
async def pki(tmp_path: Path) -> Pki:
    return Pki(tmp_path)


@pytest.fixture
async def served(pki: Pki, tmp_path: Path) -> AsyncIterator[tuple[int, AuditLog]]:
    audit = AuditLog(tmp_path / "audit.db")
    await audit.open()
    policy = Policy(
        (
            Grant(("urn:liaison:client:analyst",), (f"{SERVICE}/*",), acts_for=LYON),
            Grant(("urn:liaison:centre:*",), (f"{SERVICE}/Unary",)),
        )
    )
    server = aio.server(interceptors=[AuthorizationInterceptor(policy, I2C, audit)])
    handlers = {
        "Unary": grpc.unary_unary_rpc_method_handler(_unary),
        "ServerStream": grpc.unary_stream_rpc_method_handler(_server_stream),
        "ClientStream": grpc.stream_unary_rpc_method_handler(_client_stream),
        "Bidi": grpc.stream_stream_rpc_method_handler(_bidi),
    }
    server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler(SERVICE, handlers),))
    port = server.add_secure_port("127.0.0.1:0", server_credentials(_tls(pki.ca, pki.i2c)))
    await server.start()
    try:
        yield port, audit
    finally:
        await server.stop(None)
        await audit.close()


def _channel(port: int, credentials: grpc.ChannelCredentials, centre: str = I2C) -> aio.Channel:
    return aio.secure_channel(
        f"127.0.0.1:{port}", credentials, options=peer_channel_options(centre)
    )


def _same(data: bytes) -> bytes:
    return data


def _method(channel: aio.Channel, shape: str, name: str) -> Any:
    """A raw-bytes multi-callable (the probe service has no generated stub)."""
    factory = getattr(channel, shape)
    return factory(f"/{SERVICE}/{name}", request_serializer=_same, response_deserializer=_same)


async def test_a_granted_client_reaches_all_four_call_shapes(
    pki: Pki, served: tuple[int, AuditLog]
) -> None:
    port, _ = served
    async with _channel(port, channel_credentials(_tls(pki.ca, pki.analyst))) as channel:
        who = b"urn:liaison:client:analyst|" + LYON.encode()
        assert await _method(channel, "unary_unary", "Unary")(b"x") == who
        answers = [r async for r in _method(channel, "unary_stream", "ServerStream")(b"x")]
        assert answers == [who, b"again"]
        assert await _method(channel, "stream_unary", "ClientStream")(iter([b"a", b"b"])) == (
            who + b"|2"
        )
        bidi = [r async for r in _method(channel, "stream_stream", "Bidi")(iter([b"q"]))]
        assert bidi == [who + b"|q"]


async def test_a_peer_centre_reads_for_itself(pki: Pki, served: tuple[int, AuditLog]) -> None:
    port, _ = served
    async with _channel(port, channel_credentials(_tls(pki.ca, pki.lyon))) as channel:
        answer = await _method(channel, "unary_unary", "Unary")(b"x")
    assert answer == f"urn:liaison:centre:{LYON}|{LYON}".encode()


async def test_a_verified_caller_without_a_grant_is_denied_and_audited(
    pki: Pki, served: tuple[int, AuditLog], tmp_path: Path
) -> None:
    port, audit = served
    async with _channel(port, channel_credentials(_tls(pki.ca, pki.intruder))) as channel:
        with pytest.raises(aio.AioRpcError) as caught:
            await _method(channel, "unary_unary", "Unary")(b"x")
    assert caught.value.code() == grpc.StatusCode.PERMISSION_DENIED
    assert caught.value.details() == (f"urn:liaison:client:intruder may not call /{SERVICE}/Unary")
    async with _channel(port, channel_credentials(_tls(pki.ca, pki.lyon))) as channel:
        with pytest.raises(aio.AioRpcError) as caught:
            async for _ in _method(channel, "stream_stream", "Bidi")(iter([b"x"])):
                pass
    assert caught.value.code() == grpc.StatusCode.PERMISSION_DENIED
    await audit.close()
    entries = list(iter_stored(tmp_path / "audit.db"))
    assert len(entries) == 2
    assert '"actor":"urn:liaison:client:intruder"' in entries[0]
    assert '"outcome":"denied"' in entries[0]


@pytest.mark.parametrize("who", ["stranger", "expired"])
async def test_untrusted_and_expired_certificates_fail_the_handshake(
    pki: Pki, served: tuple[int, AuditLog], who: str
) -> None:
    port, _ = served
    issued = getattr(pki, who)
    credentials = channel_credentials(_tls(pki.ca, issued))
    async with _channel(port, credentials) as channel:
        with pytest.raises(aio.AioRpcError) as caught:
            await _method(channel, "unary_unary", "Unary")(b"x", timeout=5)
    assert caught.value.code() == grpc.StatusCode.UNAVAILABLE


async def test_a_server_with_another_centres_certificate_is_refused(
    pki: Pki, served: tuple[int, AuditLog]
) -> None:
    port, _ = served
    # The server is WCO-I2C; a sender that means to reach Lyon must not accept it.
    credentials = channel_credentials(_tls(pki.ca, pki.analyst))
    async with _channel(port, credentials, centre=LYON) as channel:
        with pytest.raises(aio.AioRpcError) as caught:
            await _method(channel, "unary_unary", "Unary")(b"x", timeout=5)
    assert caught.value.code() == grpc.StatusCode.UNAVAILABLE


async def test_plaintext_is_refused(served: tuple[int, AuditLog]) -> None:
    port, _ = served
    async with aio.insecure_channel(f"127.0.0.1:{port}") as channel:
        with pytest.raises(aio.AioRpcError) as caught:
            await _method(channel, "unary_unary", "Unary")(b"x", timeout=5)
    assert caught.value.code() == grpc.StatusCode.UNAVAILABLE
