"""Identities are read only from the verified certificate's URI SANs, exactly (issue 10, item 5).

Each attack is a certificate that the centre's own CA signed - so the TLS handshake succeeds -
but whose names should not make it anyone: it must be refused on its first call (UNAUTHENTICATED)
and the refusal audited, with the certificate's fingerprint and without the names it carries.
"""

from __future__ import annotations

import hashlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import grpc
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from grpc import aio
from grpc_health.v1 import health_pb2, health_pb2_grpc
from hypothesis import given
from hypothesis import strategies as st

from gateway.security.authorization import AuthorizationInterceptor, Caller, current_caller
from gateway.security.certs import IssuedCertificate
from gateway.security.identity import (
    LOCAL,
    Identity,
    IdentityError,
    identity_of_certificate,
    parse_identity,
)
from gateway.security.policy import Grant, Policy
from gateway.security.tls import server_credentials
from gateway.server import Gateway
from liaison.v1 import exchange_pb2, exchange_pb2_grpc
from tests.support.mtls import I2C, LYON, Pki, channel, denials, tls_gateway

ANALYST = "urn:liaison:client:analyst"
GET = "liaison.v1.RecordExchange/Get"


@pytest.fixture
async def gateway(tmp_path: Path, pki: Pki) -> AsyncIterator[Gateway]:
    """The i2c, where the analyst may read and ``*`` may check health."""
    grants = (Grant((ANALYST,), (GET,)), Grant(("*",), ("grpc.health.v1.Health/*",)))
    async with tls_gateway(tmp_path, pki, grants) as started:
        yield started


async def _get(gateway: Gateway, pki: Pki, issued: IssuedCertificate) -> aio.AioRpcError:
    """Get a record that does not exist: a caller let in hears NOT_FOUND."""
    async with channel(gateway, pki, issued) as opened:
        stub = exchange_pb2_grpc.RecordExchangeStub(opened)
        with pytest.raises(aio.AioRpcError) as caught:
            await stub.Get(exchange_pb2.GetRequest(record_id="absent"), timeout=10)
    return caught.value


def _sha256(issued: IssuedCertificate) -> str:
    certificate = x509.load_pem_x509_certificate(issued.certificate.read_bytes())
    return hashlib.sha256(certificate.public_bytes(serialization.Encoding.DER)).hexdigest()


def _assert_refused_and_audited(
    error: aio.AioRpcError, gateway: Gateway, issued: IssuedCertificate, reason: str
) -> None:
    assert error.code() == grpc.StatusCode.UNAUTHENTICATED, error.details()
    refused = denials(gateway, reason)
    assert len(refused) == 1
    entry = refused[0]
    assert entry["actor"] == "(no identity)"
    assert entry["outcome"] == "denied"
    assert entry["detail"]["method"] == f"/{GET}"
    assert entry["detail"]["certificate_sha256"] == _sha256(issued)
    assert "analyst" not in str(entry), "the names a refused certificate carries are not echoed"


async def test_the_genuine_analyst_is_let_in(gateway: Gateway, pki: Pki) -> None:
    error = await _get(gateway, pki, pki.client("analyst"))
    assert error.code() == grpc.StatusCode.NOT_FOUND


async def test_a_dns_name_that_looks_like_an_identity_is_no_identity(
    gateway: Gateway, pki: Pki
) -> None:
    dns_only = pki.with_names("dns-only", [x509.DNSName(ANALYST)])
    error = await _get(gateway, pki, dns_only)
    _assert_refused_and_audited(error, gateway, dns_only, "no-identity")


async def test_a_nul_in_the_uri_makes_the_whole_identity_invalid(
    gateway: Gateway, pki: Pki
) -> None:
    nul = pki.with_names("nul", [x509.UniformResourceIdentifier(ANALYST + "\0.evil.example")])
    error = await _get(gateway, pki, nul)
    _assert_refused_and_audited(error, gateway, nul, "invalid-identity")


async def test_star_never_matches_a_certificate_without_identity(tmp_path: Path, pki: Pki) -> None:
    grants = (Grant(("*",), ("*",)),)
    async with tls_gateway(tmp_path, pki, grants) as started:
        anonymous = pki.with_names("anonymous", [x509.DNSName("nobody.example")])
        error = await _get(started, pki, anonymous)
        _assert_refused_and_audited(error, started, anonymous, "no-identity")
        # Not even health: a certificate without an identity is refused on every call.
        async with channel(started, pki, anonymous) as opened:
            with pytest.raises(aio.AioRpcError) as caught:
                await health_pb2_grpc.HealthStub(opened).Check(health_pb2.HealthCheckRequest())
        assert caught.value.code() == grpc.StatusCode.UNAUTHENTICATED


@pytest.mark.parametrize(
    ("label", "names", "reason"),
    [
        ("folded", [x509.UniformResourceIdentifier("URN:LIAISON:CLIENT:analyst")], "invalid"),
        ("tab", [x509.UniformResourceIdentifier(ANALYST + "\t")], "invalid"),
        ("slash", [x509.UniformResourceIdentifier(ANALYST + "/../operator")], "invalid"),
        (
            "two",
            [
                x509.UniformResourceIdentifier(ANALYST),
                x509.UniformResourceIdentifier(f"urn:liaison:centre:{LYON}"),
            ],
            "ambiguous",
        ),
        ("email", [x509.RFC822Name("analyst@liaison.example")], "no"),
        ("none", [], "no"),
    ],
)
async def test_other_near_identities_are_refused(
    gateway: Gateway, pki: Pki, label: str, names: list[x509.GeneralName], reason: str
) -> None:
    issued = pki.with_names(label, names)
    error = await _get(gateway, pki, issued)
    _assert_refused_and_audited(error, gateway, issued, f"{reason}-identity")


async def test_uris_of_other_schemes_beside_the_identity_are_ignored(
    gateway: Gateway, pki: Pki
) -> None:
    issued = pki.with_names(
        "spiffe",
        [
            x509.UniformResourceIdentifier("spiffe://agency.example/analyst"),
            x509.UniformResourceIdentifier(ANALYST),
            x509.DNSName("analyst.agency.example"),
        ],
    )
    error = await _get(gateway, pki, issued)
    assert error.code() == grpc.StatusCode.NOT_FOUND


def _caller_text() -> bytes:
    caller = current_caller()
    assert caller is not None
    return f"{caller.kind}|{caller.identity}|{caller.centre}".encode()


def _same(data: bytes) -> bytes:
    return data


async def _who(request: bytes, context: Any) -> bytes:
    return _caller_text()


async def test_services_can_tell_centres_from_clients(pki: Pki) -> None:
    policy = Policy((Grant(("urn:liaison:*",), ("test.Probe/*",)),), peers=frozenset({LYON}))
    server = aio.server(interceptors=[AuthorizationInterceptor(policy, I2C)])
    handlers = {"Who": grpc.unary_unary_rpc_method_handler(_who)}
    server.add_generic_rpc_handlers((grpc.method_handlers_generic_handler("test.Probe", handlers),))
    port = server.add_secure_port("127.0.0.1:0", server_credentials(pki.tls(pki.i2c)))
    await server.start()
    try:
        answers = {}
        for name, issued in {"lyon": pki.lyon, "analyst": pki.client("analyst")}.items():
            async with aio.secure_channel(
                f"127.0.0.1:{port}",
                grpc.ssl_channel_credentials(
                    pki.ca.certificate_path.read_bytes(),
                    issued.private_key.read_bytes(),
                    issued.certificate.read_bytes(),
                ),
                options=[("grpc.ssl_target_name_override", "wco-i2c.centre.liaison")],
            ) as opened:
                who = opened.unary_unary(
                    "/test.Probe/Who", request_serializer=_same, response_deserializer=_same
                )
                answers[name] = await who(b"", timeout=10)
    finally:
        await server.stop(None)
    assert answers["lyon"] == f"centre|urn:liaison:centre:{LYON}|{LYON}".encode()
    assert answers["analyst"] == f"client|{ANALYST}|{I2C}".encode()


# -- the rules themselves ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("urn:liaison:centre:WCO-I2C", Identity("centre", "WCO-I2C")),
        ("urn:liaison:client:customs-be", Identity("client", "customs-be")),
        ("urn:liaison:client:a.b_c-9", Identity("client", "a.b_c-9")),
        ("local", LOCAL),
    ],
)
def test_valid_identities(text: str, expected: Identity) -> None:
    assert parse_identity(text) == expected
    assert expected.uri == text


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("", "no-identity"),
        ("https://example.org", "no-identity"),
        ("urn:liaison:centre:wco-i2c", "invalid-identity"),
        ("urn:liaison:centre:-X", "invalid-identity"),
        ("urn:liaison:client:", "invalid-identity"),
        ("urn:liaison:client:.hidden", "invalid-identity"),
        ("urn:liaison:client:a b", "invalid-identity"),
        ("urn:liaison:client:" + "a" * 129, "invalid-identity"),
        ("urn:liaison:agency:x", "invalid-identity"),
        ("Urn:Liaison:client:x", "invalid-identity"),
        ("local\0", "invalid-identity"),
    ],
)
def test_invalid_identities_name_their_reason(text: str, reason: str) -> None:
    with pytest.raises(IdentityError) as caught:
        parse_identity(text)
    assert caught.value.reason == reason


@given(
    name=st.from_regex(r"[A-Za-z0-9][A-Za-z0-9._-]{0,20}", fullmatch=True),
    control=st.characters(codec="utf-8", categories=["Cc"]),
    cut=st.integers(min_value=0, max_value=21),
)
def test_a_control_character_anywhere_invalidates_the_identity(
    name: str, control: str, cut: int
) -> None:
    text = "urn:liaison:client:" + name[:cut] + control + name[cut:]
    with pytest.raises(IdentityError) as caught:
        parse_identity(text)
    assert caught.value.reason == "invalid-identity"


def test_an_unreadable_certificate_is_no_identity() -> None:
    with pytest.raises(IdentityError) as caught:
        identity_of_certificate(b"-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n")
    assert caught.value.reason == "unreadable-certificate"


def test_a_caller_is_always_a_valid_identity() -> None:
    assert Caller("local", I2C).kind == "local"
    assert Caller(ANALYST, I2C).kind == "client"
    with pytest.raises(IdentityError):
        Caller("", I2C)
