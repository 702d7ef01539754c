"""How a client command reaches its gateway: the client made from ``--target``, ``--timeout``
and the TLS options, its telemetry, and what to say when the gateway cannot be reached."""

from __future__ import annotations

import argparse
import os
from typing import Final

import grpc

from gateway.cli.exits import UsageError
from gateway.client import (
    DEFAULT_TIMEOUT,
    ClientCertificateRefusedError,
    ClientCertificateRequiredError,
    GatewayCertificateUntrustedError,
    GatewayUnavailableError,
    HandshakeError,
    LiaisonClient,
    PlaintextGatewayError,
    WrongCentreError,
)
from gateway.config import TelemetryConfig
from gateway.security.tls import TlsConfig, TlsError, channel_credentials, peer_channel_options
from gateway.telemetry import Telemetry
from gateway.telemetry.settings import resolve_settings

__all__ = ["CLI_SERVICE_NAME", "ClientTelemetry", "connect", "unreachable_message"]

CLI_SERVICE_NAME: Final = "liaison-cli"
"""``service.name`` of the client commands' spans."""

# What the user gives the command to fix each refused handshake: the error names the cause and
# what to check, this adds where to set it.
_HANDSHAKE_OPTIONS: Final[dict[type[HandshakeError], str]] = {
    ClientCertificateRequiredError: "--cert, --key and --ca, or $LIAISON_CERT, $LIAISON_KEY "
    "and $LIAISON_CA",
    ClientCertificateRefusedError: "--cert or $LIAISON_CERT",
    GatewayCertificateUntrustedError: "--ca or $LIAISON_CA",
    WrongCentreError: "--target, and --server-centre or $LIAISON_SERVER_CENTRE",
    PlaintextGatewayError: "leave out --cert, --key and --ca",
}


class ClientTelemetry:
    """The client commands' telemetry, made on first use from the ``OTEL_*`` variables alone.

    Off unless they ask for an exporter (``OTEL_TRACES_EXPORTER=otlp`` or ``console``): then the
    command's calls are traced as client spans, and the gateway's spans continue the same trace.
    Only client commands build it, so ``liaison serve`` keeps to its own ``[telemetry]``.
    """

    def __init__(self) -> None:
        self._telemetry: Telemetry | None = None

    def get(self) -> Telemetry:
        """The telemetry, made now if it was not yet."""
        if self._telemetry is None:
            settings = resolve_settings(
                TelemetryConfig(exporter="none", service_name=CLI_SERVICE_NAME), os.environ
            )
            self._telemetry = Telemetry.from_settings(settings, centre_id="")
        return self._telemetry

    def shutdown(self) -> None:
        """Export what the command's spans left pending (a short-lived process must flush)."""
        if self._telemetry is not None:
            self._telemetry.shutdown()


def connect(args: argparse.Namespace) -> LiaisonClient:
    """The client of a client command, from its parsed arguments.

    Raises:
        UsageError: The TLS options are incomplete or name unreadable files.
    """
    credentials = None
    options: list[tuple[str, str]] = []
    given = [args.cert, args.key, args.ca]
    if any(given):
        if not all(given):
            raise UsageError("mutual TLS needs --cert, --key and --ca together")
        try:
            credentials = channel_credentials(TlsConfig(args.cert, args.key, args.ca))
        except TlsError as error:
            raise UsageError(str(error)) from None
        if args.server_centre:
            options = peer_channel_options(args.server_centre)
    telemetry: Telemetry = args.client_telemetry.get()
    return LiaisonClient(
        args.target,
        timeout=args.timeout or DEFAULT_TIMEOUT,
        credentials=credentials,
        options=options,
        interceptors=telemetry.client_interceptors(args.target),
    )


def unreachable_message(error: GatewayUnavailableError, target: str) -> str:
    """The one line that explains why the gateway at ``target`` did not answer."""
    if isinstance(error, HandshakeError):
        where = _HANDSHAKE_OPTIONS.get(type(error))
        return f"{error} ({where})" if where else str(error)
    if error.code is grpc.StatusCode.DEADLINE_EXCEEDED:
        return f"the gateway at {target} did not answer before the deadline"
    return f"cannot reach the gateway at {target}: {error.message}"
