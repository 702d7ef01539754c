"""Helpers for the security tests: certificates with chosen names, a real mutual-TLS gateway on
loopback, channels that present a certificate, and the gateway's audit entries.

Every attack in these tests goes through a real gateway over TLS on 127.0.0.1: the certificates
are issued here with ``cryptography``, including the malformed ones a real CA might be tricked
into signing (a DNS name that looks like an identity, a URI with a NUL in it).
"""

from __future__ import annotations

import datetime as dt
import json
import ssl
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from grpc import aio

from gateway.audit.log import iter_stored
from gateway.config import CentreConfig, HttpConfig, LimitsConfig, ServerConfig, StorageConfig
from gateway.federation.routing import RoutingRule
from gateway.federation.settings import FederationSettings
from gateway.security.certs import CertificateAuthority, IssuedCertificate
from gateway.security.policy import Grant
from gateway.security.tls import TlsConfig, channel_credentials, peer_channel_options
from gateway.server import Gateway
from gateway.telemetry import Telemetry
from tests.support.signing import centre_key, peer, signing_settings

I2C, LYON, SINGAPORE = "WCO-I2C", "INTERPOL-CCC-LYON", "INTERPOL-IGCI-SINGAPORE"
"""The gateway under test is the i2c; Lyon is its peer; Singapore is a centre it does not peer
with (its certificate is signed by the same CA)."""


class Pki:
    """A CA and the certificates the tests present."""

    def __init__(self, root: Path) -> None:
        self.ca = CertificateAuthority.create(root / "pki")
        self.i2c = self.ca.issue_centre(I2C)
        self.lyon = self.ca.issue_centre(LYON)
        self.singapore = self.ca.issue_centre(SINGAPORE)
        self.keys = {centre: centre_key(root / "pki", centre) for centre in (I2C, LYON, SINGAPORE)}
        """Each centre's record-signing key."""

    def client(self, name: str) -> IssuedCertificate:
        """A well-formed client certificate ``urn:liaison:client:<name>``."""
        return self.ca.issue_client(name)

    def with_names(self, label: str, names: Sequence[x509.GeneralName]) -> IssuedCertificate:
        """A client-authentication certificate, signed by the CA, whose SANs are ``names``."""
        ca_key = serialization.load_pem_private_key(
            (self.ca.directory / "ca-key.pem").read_bytes(), None
        )
        assert isinstance(ca_key, ec.EllipticCurvePrivateKey)
        key = ec.generate_private_key(ec.SECP256R1())
        now = dt.datetime.now(dt.UTC)
        builder = (
            x509.CertificateBuilder()
            .subject_name(x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, label)]))
            .issuer_name(self.ca.certificate.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(now - dt.timedelta(minutes=5))
            .not_valid_after(now + dt.timedelta(days=1))
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.ExtendedKeyUsage([ExtendedKeyUsageOID.CLIENT_AUTH]), False)
        )
        if names:
            builder = builder.add_extension(x509.SubjectAlternativeName(names), critical=False)
        certificate = builder.sign(ca_key, hashes.SHA256())
        folder = self.ca.directory / "crafted"
        folder.mkdir(exist_ok=True)
        issued = IssuedCertificate(folder / f"{label}.pem", folder / f"{label}-key.pem")
        issued.certificate.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
        issued.private_key.write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
        return issued

    def tls(self, issued: IssuedCertificate) -> TlsConfig:
        return TlsConfig(issued.certificate, issued.private_key, self.ca.certificate_path)


@asynccontextmanager
async def tls_gateway(
    root: Path,
    pki: Pki,
    grants: Sequence[Grant],
    *,
    peers: Sequence[str] = (LYON,),
    max_streams_per_caller: int = 64,
    routes: Sequence[RoutingRule] = (),
    http: bool = False,
    telemetry: Telemetry | None = None,
) -> AsyncIterator[Gateway]:
    """A started i2c gateway with mutual TLS on an ephemeral loopback port, signing its records
    and knowing its peers' keys (and serving HTTP with the same TLS when ``http``); stopped
    after. ``telemetry`` records the gateway's spans and metrics (none by default)."""
    config = CentreConfig(
        centre_id=I2C,
        server=ServerConfig(listen="127.0.0.1:0", grace_seconds=1.0),
        http=HttpConfig("127.0.0.1:0" if http else ""),
        storage=StorageConfig(path=root / "i2c.db", synchronous="normal", writer="thread"),
        limits=LimitsConfig(max_streams_per_caller=max_streams_per_caller),
        federation=FederationSettings(
            tls=pki.tls(pki.i2c),
            signing=signing_settings(pki.keys[I2C]),
            # Peers without routes: the Federation service runs, nothing is forwarded.
            peers=tuple(peer(pki.keys[centre], "127.0.0.1:9") for centre in peers),
            routes=tuple(routes),
            grants=tuple(grants),
        ),
    )
    gateway = Gateway(config, telemetry=telemetry)
    await gateway.start()
    try:
        yield gateway
    finally:
        await gateway.stop(grace=0)


def channel(gateway: Gateway, pki: Pki, issued: IssuedCertificate) -> aio.Channel:
    """A channel to ``gateway`` that presents ``issued`` and verifies the i2c's certificate."""
    return aio.secure_channel(
        gateway.address,
        channel_credentials(pki.tls(issued)),
        options=peer_channel_options(I2C),
    )


def https_context(pki: Pki, issued: IssuedCertificate | None) -> ssl.SSLContext:
    """TLS for an HTTP client of ``gateway``: trusts the CA, presents ``issued`` (if any). The
    host name is not checked: the tests connect to 127.0.0.1, and the CA is theirs alone."""
    context = ssl.create_default_context(cafile=str(pki.ca.certificate_path))
    context.check_hostname = False
    if issued is not None:
        context.load_cert_chain(issued.certificate, issued.private_key)
    return context


def audit_entries(gateway: Gateway) -> list[dict[str, Any]]:
    """The gateway's audit entries so far (each is durable before the call it records ends)."""
    audit = gateway.audit
    assert audit is not None
    return [json.loads(text) for text in iter_stored(audit.path)]


def denials(gateway: Gateway, reason: str) -> list[dict[str, Any]]:
    """The audited refusals with ``reason``."""
    return [
        entry
        for entry in audit_entries(gateway)
        if entry["action"] == "deny" and entry.get("detail", {}).get("reason") == reason
    ]
