"""A refused TLS handshake is a :class:`HandshakeError` naming its likely cause, not "failed to
connect".

Against a real mutual-TLS gateway on loopback with certificates from the development CA (and
one from a CA it does not know); both clients, each case. The details strings of the last tests
are those grpcio reports for peers we cannot produce here (TLS 1.2 alerts, an expired
certificate).
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import grpc
import pytest

from gateway.client import (
    AsyncLiaisonClient,
    ClientCertificateRefusedError,
    ClientCertificateRequiredError,
    ClientError,
    GatewayCertificateUntrustedError,
    GatewayUnavailableError,
    HandshakeError,
    LiaisonClient,
    PlaintextGatewayError,
    WrongCentreError,
)
from gateway.client._handshake import Transport, centre_of_host, handshake_error
from gateway.security.certs import CertificateAuthority, centre_host
from gateway.security.tls import channel_credentials, peer_channel_options
from gateway.server import Gateway
from tests.support.mtls import I2C, LYON, Pki, tls_gateway


@dataclass(frozen=True)
class Setup:
    """A TLS gateway, a plaintext one, and the material to reach them right and wrong."""

    tls: Gateway
    plaintext: Gateway
    pki: Pki
    stranger_ca: CertificateAuthority


@pytest.fixture
async def setup(tmp_path: Path, gateway: Gateway) -> AsyncIterator[Setup]:
    pki = Pki(tmp_path)
    async with tls_gateway(tmp_path, pki, []) as tls:
        yield Setup(tls, gateway, pki, CertificateAuthority.create(tmp_path / "stranger"))


Connection = dict[str, Any]


def plaintext(s: Setup) -> tuple[str, Connection]:
    return s.tls.address, {}


def tls_without_a_certificate(s: Setup) -> tuple[str, Connection]:
    credentials = grpc.ssl_channel_credentials(s.pki.ca.certificate_path.read_bytes())
    return s.tls.address, {"credentials": credentials, "options": peer_channel_options(I2C)}


def certificate_of_an_unknown_ca(s: Setup) -> tuple[str, Connection]:
    issued = s.stranger_ca.issue_client("stranger")
    credentials = grpc.ssl_channel_credentials(
        s.pki.ca.certificate_path.read_bytes(),
        issued.private_key.read_bytes(),
        issued.certificate.read_bytes(),
    )
    return s.tls.address, {"credentials": credentials, "options": peer_channel_options(I2C)}


def gateway_of_an_unknown_ca(s: Setup) -> tuple[str, Connection]:
    issued = s.pki.client("customs-a")
    credentials = grpc.ssl_channel_credentials(
        s.stranger_ca.certificate_path.read_bytes(),
        issued.private_key.read_bytes(),
        issued.certificate.read_bytes(),
    )
    return s.tls.address, {"credentials": credentials, "options": peer_channel_options(I2C)}


def another_centre(s: Setup) -> tuple[str, Connection]:
    credentials = channel_credentials(s.pki.tls(s.pki.client("customs-a")))
    return s.tls.address, {"credentials": credentials, "options": peer_channel_options(LYON)}


def tls_to_a_plaintext_gateway(s: Setup) -> tuple[str, Connection]:
    credentials = channel_credentials(s.pki.tls(s.pki.client("customs-a")))
    return s.plaintext.address, {"credentials": credentials}


CASES: list[tuple[Callable[[Setup], tuple[str, Connection]], type[HandshakeError], str]] = [
    (plaintext, ClientCertificateRequiredError, "connected without TLS (no client certificate)"),
    (tls_without_a_certificate, ClientCertificateRefusedError, "none was given"),
    (certificate_of_an_unknown_ca, ClientCertificateRefusedError, "not signed by a CA"),
    (gateway_of_an_unknown_ca, GatewayCertificateUntrustedError, "local issuer certificate"),
    (another_centre, WrongCentreError, f"centre {LYON}'s name ({centre_host(LYON)})"),
    (tls_to_a_plaintext_gateway, PlaintextGatewayError, "does not speak TLS"),
]


async def refusals(address: str, connection: Connection) -> list[ClientError]:
    """What each client raises calling ``address`` (at the same time: each retries ~1.5 s)."""

    def blocking() -> ClientError:
        with LiaisonClient(address, **connection) as client:
            try:
                client.health()
            except ClientError as error:
                return error
        raise AssertionError("the call went through")

    async def asynchronous() -> ClientError:
        async with AsyncLiaisonClient(address, **connection) as client:
            try:
                await client.health()
            except ClientError as error:
                return error
        raise AssertionError("the call went through")

    return list(await asyncio.gather(asyncio.to_thread(blocking), asynchronous()))


async def test_each_refused_handshake_is_explained(setup: Setup) -> None:
    # All cases at once: each failing call takes ~1.5 s of gRPC's retries.
    connections = [connection(setup) for connection, _, _ in CASES]
    outcomes = await asyncio.gather(*(refusals(*connection) for connection in connections))
    for (connection, expected, cause), (address, _), errors in zip(
        CASES, connections, outcomes, strict=True
    ):
        for error in errors:
            case = f"{connection.__name__}: {type(error).__name__}: {error}"
            assert type(error) is expected, case
            assert isinstance(error, GatewayUnavailableError)  # still "unreachable" to callers
            assert error.code == grpc.StatusCode.UNAVAILABLE
            assert cause in str(error), case
            assert f"the gateway at {address} " in str(error), case
            assert "\n" not in str(error)
            assert "failed to connect" in error.details  # what grpcio said, for diagnosis


async def test_the_right_material_connects(setup: Setup) -> None:
    credentials = channel_credentials(setup.pki.tls(setup.pki.client("customs-a")))
    async with AsyncLiaisonClient(
        setup.tls.address, credentials=credentials, options=peer_channel_options(I2C)
    ) as client:
        assert await client.health() == "SERVING"


TLS = Transport("10.0.0.1:50051", tls=True, server_name=centre_host(LYON))
PLAIN = Transport("10.0.0.1:50051", tls=False, server_name="10.0.0.1")
CONNECT = "failed to connect to all addresses; last error: UNKNOWN: ipv4:10.0.0.1:50051: "


@pytest.mark.parametrize(
    ("details", "transport", "expected"),
    [
        (CONNECT + "SSL_ERROR_SSL: TLSV1_ALERT_UNKNOWN_CA", TLS, ClientCertificateRefusedError),
        (CONNECT + "SSLV3_ALERT_BAD_CERTIFICATE", TLS, ClientCertificateRefusedError),
        (CONNECT + "TLSV13_ALERT_CERTIFICATE_REQUIRED", TLS, ClientCertificateRequiredError),
        (CONNECT + "Connection reset by peer", PLAIN, ClientCertificateRequiredError),
        (
            CONNECT + "Tls handshake failed (TSI_PROTOCOL_FAILURE): SSL_ERROR_SSL: error:1000007d:"
            "SSL routines:OPENSSL_internal:CERTIFICATE_VERIFY_FAILED: certificate has expired: OK",
            TLS,
            GatewayCertificateUntrustedError,
        ),
        (
            CONNECT + "Peer name x is not in peer certificate. No match found for server name",
            TLS,
            WrongCentreError,
        ),
    ],
)
def test_details_of_other_peers(
    details: str, transport: Transport, expected: type[HandshakeError]
) -> None:
    error = handshake_error(details, transport)
    assert type(error) is expected


def test_an_expired_gateway_certificate_is_not_called_untrusted() -> None:
    details = CONNECT + "CERTIFICATE_VERIFY_FAILED: certificate has expired: OK"
    error = handshake_error(details, TLS)
    assert error is not None
    assert "is not valid now (certificate has expired)" in str(error)


@pytest.mark.parametrize(
    "details",
    [
        "Stream removed (Socket closed)",  # a call cut off mid-way, e.g. the gateway was killed
        "failed to connect to all addresses; last error: UNAVAILABLE: ipv4:10.0.0.1:1: "
        "Connection refused",
        "down for maintenance",
    ],
)
@pytest.mark.parametrize("transport", [TLS, PLAIN], ids=["tls", "plaintext"])
def test_other_unavailable_statuses_are_no_handshake_error(
    details: str, transport: Transport
) -> None:
    assert handshake_error(details, transport) is None


def test_the_expected_centre_is_read_back_from_its_host_name() -> None:
    for centre in (LYON, I2C, "A", "X-1-Y"):
        assert centre_of_host(centre_host(centre)) == centre
    assert centre_of_host("gateway.example.org") is None
    assert centre_of_host(".centre.liaison") is None


def test_the_transport_knows_the_name_the_gateway_must_carry() -> None:
    assert Transport.of("[::1]:50051", None, []).server_name == "::1"
    assert Transport.of("dns:///gw.example:443", None, []).server_name == "gw.example"
    assert Transport.of("gw.example", None, []).server_name == "gw.example"
    overridden = Transport.of("127.0.0.1:1", None, peer_channel_options(LYON))
    assert overridden.server_name == centre_host(LYON)
