"""TLS material for listeners and peer channels, and the caller identity it proves.

A listener with TLS configured always requires and verifies a client certificate (mutual TLS)
against the centre's trust bundle; a listener without TLS is allowed only on loopback, where its
callers are the ``local`` identity (``make run``, tests, the CLI on the same machine).
"""

from __future__ import annotations

import ipaddress
from dataclasses import dataclass
from pathlib import Path

import grpc

from gateway.security.certs import centre_host
from gateway.security.policy import LOCAL_IDENTITY

__all__ = [
    "TlsConfig",
    "TlsError",
    "caller_identity",
    "channel_credentials",
    "is_loopback",
    "peer_channel_options",
    "server_credentials",
]


class TlsError(ValueError):
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


def caller_identity(context: grpc.aio.ServicerContext) -> str:  # type: ignore[type-arg]
    """The verified identity of the caller: its certificate's URI SAN, or ``local``.

    Only a URI that the TLS handshake verified is used (``peer_uri``, else a URI among the
    subject alternative names); a TLS caller with no URI SAN has the empty identity, which no
    grant matches.
    """
    auth = context.auth_context()
    if b"ssl" not in list(auth.get("transport_security_type", [])):
        return LOCAL_IDENTITY
    for value in auth.get("peer_uri", []):
        return value.decode("utf-8", "replace")
    for value in auth.get("x509_subject_alternative_name", []):
        text = value.decode("utf-8", "replace")
        if text.startswith("urn:"):
            return text
    return ""


def is_loopback(host: str) -> bool:
    """Whether ``host`` (from a listen address) is a loopback name or address."""
    name = host.strip("[]")
    if name == "localhost":
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False
