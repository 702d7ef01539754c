"""TLS material for listeners and peer channels, and the caller identity it proves.

A listener with TLS configured always requires and verifies a client certificate (mutual TLS)
against the centre's trust bundle; a listener without TLS is allowed only on loopback, where its
callers are the ``local`` identity (``make run``, tests, the CLI on the same machine).

A TLS handshake that fails (untrusted or expired certificate, plaintext on a TLS port) never
reaches Python: grpcio 1.85 offers no server-side hook, and channelz counts neither the
connection nor a call. gRPC's core logs it on standard error
(``ssl_transport_security.cc ... Handshake failed with error ...``); see the operator guide.
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from pathlib import Path

import grpc

from gateway.security.certs import centre_host
from gateway.security.identity import LOCAL, Identity, IdentityError, identity_of_certificate
from liaison.rules.errors import SetupError

__all__ = [
    "PlaintextRefusedError",
    "TlsConfig",
    "TlsError",
    "caller_identity",
    "channel_credentials",
    "is_loopback",
    "peer_channel_options",
    "server_credentials",
]


class PlaintextRefusedError(SetupError, ValueError):
    """Plaintext was asked for on a non-loopback address."""


class TlsError(SetupError, ValueError):
    """TLS material is missing or unreadable; the message names the file."""


@dataclass(frozen=True, slots=True)
class TlsConfig:
    """Certificate, key and trust bundle (PEM files)."""

    certificate: Path
    """This centre's (or client's) certificate chain."""
    private_key: Path
    """Its private key."""
    trusted_cas: Path
    """The CA certificates that sign peers' and clients' certificates."""

    def read(self) -> tuple[bytes, bytes, bytes]:
        """(certificate, key, trusted CAs) bytes."""
        return _read(self.certificate), _read(self.private_key), _read(self.trusted_cas)


def _read(path: Path) -> bytes:
    try:
        data = path.read_bytes()
    except OSError as error:
        raise TlsError(f"cannot read {path}: {error.strerror or error}") from None
    if b"-----BEGIN" not in data:
        raise TlsError(f"{path} is not a PEM file")
    return data


def server_credentials(config: TlsConfig) -> grpc.ServerCredentials:
    """Mutual TLS: the client must present a certificate signed by a trusted CA."""
    certificate, key, cas = config.read()
    return grpc.ssl_server_credentials(
        [(key, certificate)], root_certificates=cas, require_client_auth=True
    )


def channel_credentials(config: TlsConfig) -> grpc.ChannelCredentials:
    """Credentials to call a TLS listener with this certificate."""
    certificate, key, cas = config.read()
    return grpc.ssl_channel_credentials(cas, key, certificate)


def peer_channel_options(centre_id: str) -> list[tuple[str, str]]:
    """Channel options that make the handshake accept only ``centre_id``'s certificate."""
    return [("grpc.ssl_target_name_override", centre_host(centre_id))]


def caller_identity(context: grpc.aio.ServicerContext) -> Identity:  # type: ignore[type-arg]
    """The verified identity of the caller: the one its certificate names, or ``local``.

    The certificate is the one the TLS handshake verified (``x509_pem_cert`` of the auth
    context), read here with ``cryptography``: gRPC's flattened properties
    (``x509_subject_alternative_name``, ``peer_uri``) mix SAN types and cut a name at a NUL, so
    they are not used. A caller without TLS is ``local`` (plaintext is served on loopback only).

    Raises:
        IdentityError: the certificate names no valid identity (see
            :mod:`gateway.security.identity`).
    """
    auth = context.auth_context()
    if b"ssl" not in list(auth.get("transport_security_type", [])):
        return LOCAL
    certificates = list(auth.get("x509_pem_cert", []))
    if len(certificates) != 1:
        raise IdentityError("no-identity", "the TLS session carries no client certificate")
    return identity_of_certificate(certificates[0])


def is_loopback(host: str) -> bool:
    """Whether ``host`` (from a listen address) is a loopback name or address."""
    name = host.strip("[]")
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False
