"""Why a connection was refused while it was set up: a TLS handshake failure in one line.

grpcio reports every refused handshake as UNAVAILABLE "failed to connect to all addresses",
with the reason in the details. Measured with grpcio 1.85 on loopback, against a gateway with
mutual TLS (TLS 1.3) and certificates from ``liaison certs``:

=========================================  ===============================================
what went wrong                            what the client's status details say
=========================================  ===============================================
plaintext client, mutual-TLS gateway       ``...: Socket closed``
TLS client without a client certificate    ``...: Socket closed`` (the gateway logs
                                           PEER_DID_NOT_RETURN_A_CERTIFICATE)
client certificate from an unknown CA      ``...: Socket closed`` (the gateway logs
                                           CERTIFICATE_VERIFY_FAILED)
gateway certificate from an unknown CA     ``Tls handshake failed ... CERTIFICATE_VERIFY_FAILED:
                                           unable to get local issuer certificate``
another centre's gateway certificate       ``Custom verification check failed ...
                                           Hostname Verification Check failed.``
TLS client, plaintext gateway              ``Tls handshake failed ... WRONG_VERSION_NUMBER``
=========================================  ===============================================

``debug_error_string()`` says the same, after the status code; the gateway's own log (gRPC core,
on stderr) has the server side of it.

Under TLS 1.3 the gateway checks the client's certificate after the client has finished its
side of the handshake, so a refused client certificate reaches the client as a closed socket,
not as an alert; TLS 1.2 peers send alerts (``TLSV1_ALERT_UNKNOWN_CA``, ...), recognised too.
What the client itself knows - whether it spoke TLS, and which name it expects the gateway's
certificate to carry - tells the remaining cases apart.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Final

import grpc

from gateway.client._errors import (
    ClientCertificateRefusedError,
    ClientCertificateRequiredError,
    GatewayCertificateUntrustedError,
    HandshakeError,
    PlaintextGatewayError,
    WrongCentreError,
)

__all__ = ["CENTRE_HOST_SUFFIX", "Transport", "centre_of_host", "handshake_error"]

TARGET_NAME_OPTION: Final = "grpc.ssl_target_name_override"

CENTRE_HOST_SUFFIX: Final = ".centre.liaison"
"""Ending of the DNS name a centre's certificate carries for peers to check
(``gateway.security.certs.centre_host``; a test keeps the two in step)."""

_CONNECT_FAILED = "failed to connect to all addresses"
# A socket the gateway closed (or reset) before the connection was up; mid-call the same words
# mean something else, hence only together with _CONNECT_FAILED.
_CLOSED = ("Socket closed", "Connection reset by peer")
_WRONG_NAME = ("Hostname Verification Check failed", "No match found for server name")
_VERIFY_FAILED = re.compile(r"CERTIFICATE_VERIFY_FAILED(?::\s*([a-z][a-z ]+[a-z]))?")
_NOT_VALID_NOW = ("expired", "not yet valid")
_NOT_TLS = "WRONG_VERSION_NUMBER"
_CERTIFICATE_REQUIRED_ALERT = "ALERT_CERTIFICATE_REQUIRED"
# Alerts a TLS 1.2 gateway sends when it refuses the client's certificate.
_REFUSED_ALERTS = (
    "ALERT_UNKNOWN_CA",
    "ALERT_BAD_CERTIFICATE",
    "ALERT_CERTIFICATE_EXPIRED",
    "ALERT_CERTIFICATE_UNKNOWN",
    "ALERT_UNSUPPORTED_CERTIFICATE",
    "ALERT_HANDSHAKE_FAILURE",
)


@dataclass(frozen=True, slots=True)
class Transport:
    """What a client knows of its connection, to explain a refused one."""

    target: str
    """The gateway's address, as the client was given it."""
    tls: bool
    """Whether the client speaks TLS."""
    server_name: str
    """The name the gateway's certificate must carry: the target name override when set (a
    centre's host, see ``peer_channel_options``), else the target's host."""

    @classmethod
    def of(
        cls, target: str, credentials: grpc.ChannelCredentials | None, options: Sequence[Any]
    ) -> Transport:
        """The transport of a client built with these arguments."""
        override = dict(options).get(TARGET_NAME_OPTION)
        return cls(
            target=target,
            tls=credentials is not None,
            server_name=str(override) if override else _host_of(target),
        )


def centre_of_host(name: str) -> str | None:
    """The centre id whose certificate carries the DNS name ``name``, or ``None``."""
    if not name.endswith(CENTRE_HOST_SUFFIX) or name == CENTRE_HOST_SUFFIX:
        return None
    return name.removesuffix(CENTRE_HOST_SUFFIX).upper()


def handshake_error(details: str, transport: Transport) -> HandshakeError | None:
    """The :class:`HandshakeError` that ``details`` (of an UNAVAILABLE status) describes, or
    ``None`` when the connection was not refused during its setup."""
    target = transport.target
    if any(marker in details for marker in _WRONG_NAME):
        return _wrong_centre(details, transport)
    verify_failed = _VERIFY_FAILED.search(details)
    if verify_failed is not None:
        reason = verify_failed.group(1) or "certificate verification failed"
        if any(word in reason for word in _NOT_VALID_NOW):
            return GatewayCertificateUntrustedError(
                target,
                f"the certificate of the gateway at {target} is not valid now ({reason})",
                "its operator must renew it; check this machine's clock too",
                details,
            )
        return GatewayCertificateUntrustedError(
            target,
            f"this client does not trust the certificate of the gateway at {target} ({reason})",
            "check that the CA bundle given to this client holds the CA that signed the "
            "gateway's certificate",
            details,
        )
    if _NOT_TLS in details and transport.tls:
        return PlaintextGatewayError(
            target,
            f"the gateway at {target} does not speak TLS (a plaintext gateway, which serves "
            "loopback only)",
            "connect without a client certificate, or to the centre's TLS address",
            details,
        )
    if _CERTIFICATE_REQUIRED_ALERT in details or (
        not transport.tls and _CONNECT_FAILED in details and _closed(details)
    ):
        return _certificate_required(details, transport)
    if transport.tls and (
        any(alert in details for alert in _REFUSED_ALERTS)
        or (_CONNECT_FAILED in details and _closed(details))
    ):
        return ClientCertificateRefusedError(
            target,
            f"the gateway at {target} ended the TLS handshake: it did not accept this client's "
            "certificate (none was given, or it is not signed by a CA the gateway trusts, or it "
            "has expired)",
            "check that the client certificate is issued by a CA in the gateway's [tls] "
            "trusted_cas, is still valid and is meant for client authentication",
            details,
        )
    return None


def _wrong_centre(details: str, transport: Transport) -> WrongCentreError:
    name = transport.server_name
    centre = centre_of_host(name)
    expected = f"centre {centre}'s name ({name})" if centre else f"the name {name}"
    return WrongCentreError(
        transport.target,
        f"the gateway at {transport.target} presented a certificate that does not carry "
        f"{expected}: it is another centre's gateway",
        "check the address, and which centre this client expects to reach",
        details,
        name,
    )


def _certificate_required(details: str, transport: Transport) -> ClientCertificateRequiredError:
    target = transport.target
    if transport.tls:
        cause = (
            f"the gateway at {target} requires a client certificate, and this client presented none"
        )
    else:
        cause = (
            f"the gateway at {target} closed the connection at once: it most likely serves "
            "mutual TLS only, and this client connected without TLS (no client certificate)"
        )
    return ClientCertificateRequiredError(
        target,
        cause,
        "connect with a client certificate, its private key and the CA bundle of the gateway's PKI",
        details,
    )


def _closed(details: str) -> bool:
    return any(marker in details for marker in _CLOSED)


def _host_of(target: str) -> str:
    """The host of a gRPC target (``host:port``, ``[v6]:port``, ``dns:///host:port``)."""
    address = target.rpartition("/")[2] if "://" in target else target
    if address.startswith("["):
        return address[1:].partition("]")[0]
    host, separator, port = address.rpartition(":")
    if separator and port.isdigit() and ":" not in host:
        return host
    return address
