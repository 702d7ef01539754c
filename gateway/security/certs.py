"""A development certificate authority: the CA, centre certificates and client certificates.

For demos, tests and a first installation — production centres use certificates from their own
PKI, with the same identity convention:

* a **centre** certificate names the centre in a URI subject alternative name
  ``urn:liaison:centre:<CENTRE-ID>`` (and in the subject common name, for humans), in a DNS name
  ``<centre-id>.centre.liaison`` (what peers verify it by, see ``centre_host``), plus the DNS
  names and IP addresses it serves on; it is valid for TLS server *and* client authentication,
  because a centre both serves and calls its peers;
* a **client** certificate (an agency service) names the client as ``urn:liaison:client:<name>``
  and is valid for client authentication only.

Identities are read from the URI SAN, never from the common name: the SAN is what the
verification library matches, and a common name is free text.

Keys are ECDSA P-256 (small, fast handshakes, supported by gRPC's BoringSSL); private keys are
written with mode 0600.
"""

from __future__ import annotations

import datetime as dt
import ipaddress
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID

__all__ = [
    "CENTRE_URI_PREFIX",
    "CLIENT_URI_PREFIX",
    "CertificateAuthority",
    "IssuedCertificate",
    "centre_host",
    "centre_uri",
    "client_uri",
]

CENTRE_URI_PREFIX = "urn:liaison:centre:"
CLIENT_URI_PREFIX = "urn:liaison:client:"
_DEFAULT_VALIDITY = dt.timedelta(days=397)
_LOOPBACK_HOSTS = ("localhost", "127.0.0.1", "::1")


def centre_uri(centre_id: str) -> str:
    """The URI SAN that names a centre."""
    return CENTRE_URI_PREFIX + centre_id


def centre_host(centre_id: str) -> str:
    """The DNS name a centre's certificate carries for peers to verify it by.

    gRPC's TLS checks the server's certificate against the *target name*; a sender dialling a
    peer sets that name (``grpc.ssl_target_name_override``) to the peer's centre host, so a
    certificate of any other centre - even from the same CA - fails the handshake.
    """
    return f"{centre_id.lower()}.centre.liaison"


def client_uri(client_name: str) -> str:
    """The URI SAN that names a client (an agency service)."""
    return CLIENT_URI_PREFIX + client_name


@dataclass(frozen=True, slots=True)
class IssuedCertificate:
    """PEM files of one issued certificate."""

    certificate: Path
    """The certificate (PEM)."""
    private_key: Path
    """Its private key (PEM, PKCS#8, unencrypted, mode 0600)."""


class CertificateAuthority:
    """A self-signed CA that issues centre and client certificates into one directory.

    Layout: ``ca.pem``, ``ca-key.pem``, ``centres/<ID>.pem`` + ``centres/<ID>-key.pem``,
    ``clients/<name>.pem`` + ``clients/<name>-key.pem``.
    """

    def __init__(
        self, directory: Path, certificate: x509.Certificate, key: ec.EllipticCurvePrivateKey
    ):
        self.directory = directory
        self.certificate = certificate
        self._key = key

    @property
    def certificate_path(self) -> Path:
        return self.directory / "ca.pem"

    @classmethod
    def create(
        cls,
        directory: Path,
        *,
        name: str = "Liaison development CA",
        now: dt.datetime | None = None,
    ) -> CertificateAuthority:
        """Create a new CA in ``directory`` (refused when one is already there)."""
        directory.mkdir(parents=True, exist_ok=True)
        if (directory / "ca.pem").exists():
            raise FileExistsError(f"{directory / 'ca.pem'} already exists")
        start = _now(now)
        key = ec.generate_private_key(ec.SECP256R1())
        subject = x509.Name(
            [
                x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Liaison"),
                x509.NameAttribute(NameOID.COMMON_NAME, name),
            ]
        )
        certificate = (
            x509.CertificateBuilder()
            .subject_name(subject)
            .issuer_name(subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(start - dt.timedelta(minutes=5))
            .not_valid_after(start + dt.timedelta(days=3650))
            .add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True)
            .add_extension(
                x509.KeyUsage(
                    digital_signature=True,
                    content_commitment=False,
                    key_encipherment=False,
                    data_encipherment=False,
                    key_agreement=False,
                    key_cert_sign=True,
                    crl_sign=True,
                    encipher_only=False,
                    decipher_only=False,
                ),
                critical=True,
            )
            .add_extension(
                x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False
            )
            .sign(key, hashes.SHA256())
        )
        _write_pair(directory / "ca.pem", directory / "ca-key.pem", certificate, key)
        return cls(directory, certificate, key)

    @classmethod
    def load(cls, directory: Path) -> CertificateAuthority:
        """Load the CA kept in ``directory``."""
        certificate = x509.load_pem_x509_certificate((directory / "ca.pem").read_bytes())
        key = serialization.load_pem_private_key((directory / "ca-key.pem").read_bytes(), None)
        if not isinstance(key, ec.EllipticCurvePrivateKey):
            raise ValueError(f"{directory / 'ca-key.pem'} is not an EC private key")
        return cls(directory, certificate, key)

    def issue_centre(
        self,
        centre_id: str,
        *,
        hosts: Sequence[str] = _LOOPBACK_HOSTS,
        not_before: dt.datetime | None = None,
        validity: dt.timedelta = _DEFAULT_VALIDITY,
    ) -> IssuedCertificate:
        """Issue a centre's certificate (server and client authentication)."""
        return self._issue(
            self.directory / "centres",
            centre_id,
            uri=centre_uri(centre_id),
            hosts=(centre_host(centre_id), *hosts),
            usages=(ExtendedKeyUsageOID.SERVER_AUTH, ExtendedKeyUsageOID.CLIENT_AUTH),
            not_before=not_before,
            validity=validity,
        )

    def issue_client(
        self,
        client_name: str,
        *,
        not_before: dt.datetime | None = None,
        validity: dt.timedelta = _DEFAULT_VALIDITY,
    ) -> IssuedCertificate:
        """Issue an agency client's certificate (client authentication only)."""
        return self._issue(
            self.directory / "clients",
            client_name,
            uri=client_uri(client_name),
            hosts=(),
            usages=(ExtendedKeyUsageOID.CLIENT_AUTH,),
            not_before=not_before,
            validity=validity,
        )

    def _issue(
        self,
        folder: Path,
        name: str,
        *,
        uri: str,
        hosts: Sequence[str],
        usages: Sequence[x509.ObjectIdentifier],
        not_before: dt.datetime | None,
        validity: dt.timedelta,
    ) -> IssuedCertificate:
        if not name or "/" in name or name.startswith("."):
            raise ValueError("a certificate name must be a plain identifier")
        start = _now(not_before)
        key = ec.generate_private_key(ec.SECP256R1())
        names: list[x509.GeneralName] = [x509.UniformResourceIdentifier(uri)]
        for host in hosts:
            try:
                names.append(x509.IPAddress(ipaddress.ip_address(host)))
            except ValueError:
                names.append(x509.DNSName(host))
        certificate = (
            x509.CertificateBuilder()
            .subject_name(
                x509.Name(
                    [
                        x509.NameAttribute(NameOID.ORGANIZATION_NAME, "Liaison"),
                        x509.NameAttribute(NameOID.COMMON_NAME, name),
                    ]
                )
            )
            .issuer_name(self.certificate.subject)
            .public_key(key.public_key())
            .serial_number(x509.random_serial_number())
            .not_valid_before(start - dt.timedelta(minutes=5))
            .not_valid_after(start + validity)
            .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
            .add_extension(x509.SubjectAlternativeName(names), critical=False)
            .add_extension(x509.ExtendedKeyUsage(list(usages)), critical=False)
            .add_extension(
                x509.AuthorityKeyIdentifier.from_issuer_public_key(self._key.public_key()),
                critical=False,
            )
            .sign(self._key, hashes.SHA256())
        )
        folder.mkdir(parents=True, exist_ok=True)
        issued = IssuedCertificate(folder / f"{name}.pem", folder / f"{name}-key.pem")
        _write_pair(issued.certificate, issued.private_key, certificate, key)
        return issued


def _now(value: dt.datetime | None) -> dt.datetime:
    return value if value is not None else dt.datetime.now(dt.UTC)


def _write_pair(
    certificate_path: Path,
    key_path: Path,
    certificate: x509.Certificate,
    key: ec.EllipticCurvePrivateKey,
) -> None:
    certificate_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_bytes = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    # Created with 0600 from the start: never readable by others, not even for a moment.
    descriptor = os.open(key_path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as handle:
        handle.write(key_bytes)
