"""The client's errors (:mod:`gateway.client._failures` turns a failed call into one).

The hierarchy::

    ClientError                           any failed call; ``code``, ``message``, field violations
    ├── InvalidRecordError                INVALID_ARGUMENT, with the BadRequest field violations
    ├── RecordNotFoundError               NOT_FOUND
    ├── VersionConflictError              ABORTED; FAILED_PRECONDITION of RecordExchange
    ├── StreamLimitError                  RESOURCE_EXHAUSTED of SubmitStream: too many records
    │                                     for one stream (``max_records`` when the gateway said)
    └── GatewayUnavailableError           UNAVAILABLE, DEADLINE_EXCEEDED (after the retries)
        └── HandshakeError                the connection was refused while it was set up
            ├── ClientCertificateRequiredError     plaintext to a mutual-TLS gateway
            ├── ClientCertificateRefusedError      the gateway refused this client's certificate
            ├── GatewayCertificateUntrustedError   this client does not trust the gateway's
            ├── WrongCentreError                   the gateway's certificate is another centre's
            └── PlaintextGatewayError              TLS to a gateway that serves plaintext

Which handshake failure it was is read from the status details grpcio reports
(:mod:`gateway.client._handshake`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Final, cast

import grpc
from google.rpc import error_details_pb2
from grpc_status import rpc_status

from liaison.rules.errors import LiaisonError

__all__ = [
    "ERROR_CLASSES",
    "SCREENING_ERROR_CLASSES",
    "TRANSLATION_ERROR_CLASSES",
    "ClientCertificateRefusedError",
    "ClientCertificateRequiredError",
    "ClientError",
    "GatewayCertificateUntrustedError",
    "GatewayUnavailableError",
    "HandshakeError",
    "InvalidRecordError",
    "PlaintextGatewayError",
    "RecordNotFoundError",
    "StreamLimitError",
    "VersionConflictError",
    "WrongCentreError",
    "field_violations",
    "stream_limit_error",
]

_NO_VIOLATIONS: tuple[tuple[str, str], ...] = ()


class ClientError(LiaisonError):
    """A call to the gateway failed (in the one error tree: :mod:`gateway.errors`).

    Attributes:
        code: The gRPC status code.
        message: The status message (the gateway never puts record content in it).
        field_violations: ``(field, description)`` pairs from the status's google.rpc.BadRequest
            details; empty when there are none.
    """

    def __init__(
        self,
        code: grpc.StatusCode,
        message: str,
        field_violations: Sequence[tuple[str, str]] = _NO_VIOLATIONS,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.field_violations = list(field_violations)

    def __str__(self) -> str:
        return f"{self.message} ({self.code.name})" if self.message else self.code.name


class InvalidRecordError(ClientError):
    """The gateway refused the request as invalid (INVALID_ARGUMENT); see ``field_violations``."""


class RecordNotFoundError(ClientError):
    """The record or version does not exist (NOT_FOUND)."""


class VersionConflictError(ClientError):
    """The record has moved on from the version the caller expected (ABORTED,
    FAILED_PRECONDITION)."""


class StreamLimitError(ClientError):
    """The gateway refused a SubmitStream call carrying more records than it takes per stream
    (RESOURCE_EXHAUSTED). The records before the refused message were processed.

    Attributes:
        max_records: The gateway's limit (``[limits] max_records_per_stream``), when its message
            gave it; ``None`` otherwise.
    """

    def __init__(self, code: grpc.StatusCode, message: str, max_records: int | None) -> None:
        super().__init__(code, message)
        self.max_records = max_records


class GatewayUnavailableError(ClientError):
    """The gateway could not be reached, or did not answer in time (UNAVAILABLE,
    DEADLINE_EXCEEDED), after the retries."""


class HandshakeError(GatewayUnavailableError):
    """The connection was refused while it was set up, before any call reached the gateway:
    a TLS handshake that failed. ``str()`` is one line naming the likely cause and what to check.

    Attributes:
        target: The gateway's address, as the client was given it.
        cause: The likely cause, e.g. "this client presented no certificate".
        remedy: What to check or change.
        details: What grpcio reported, for diagnosis.
    """

    def __init__(self, target: str, cause: str, remedy: str, details: str) -> None:
        super().__init__(grpc.StatusCode.UNAVAILABLE, f"{cause}; {remedy}")
        self.target = target
        self.cause = cause
        self.remedy = remedy
        self.details = details

    def __str__(self) -> str:
        return self.message


class ClientCertificateRequiredError(HandshakeError):
    """The gateway closed a plaintext connection at once: it serves mutual TLS only, and this
    client connected without TLS, so without a client certificate."""


class ClientCertificateRefusedError(HandshakeError):
    """The gateway ended the TLS handshake: it did not accept this client's certificate (not
    signed by a CA it trusts, expired, not for client authentication) or none was given."""


class GatewayCertificateUntrustedError(HandshakeError):
    """This client did not accept the gateway's certificate: signed by a CA missing from the CA
    bundle the client was given, or outside its validity period."""


class WrongCentreError(HandshakeError):
    """The gateway's certificate does not carry the name this client expects: it is another
    centre's gateway (or the client expects the wrong centre).

    Attributes:
        expected_name: The name the certificate had to carry.
    """

    def __init__(
        self, target: str, cause: str, remedy: str, details: str, expected_name: str
    ) -> None:
        super().__init__(target, cause, remedy, details)
        self.expected_name = expected_name


class PlaintextGatewayError(HandshakeError):
    """This client spoke TLS to a gateway that serves plaintext (allowed on loopback only)."""


ERROR_CLASSES: Final[Mapping[grpc.StatusCode, type[ClientError]]] = {
    grpc.StatusCode.INVALID_ARGUMENT: InvalidRecordError,
    grpc.StatusCode.NOT_FOUND: RecordNotFoundError,
    grpc.StatusCode.ABORTED: VersionConflictError,
    grpc.StatusCode.FAILED_PRECONDITION: VersionConflictError,
    grpc.StatusCode.UNAVAILABLE: GatewayUnavailableError,
    grpc.StatusCode.DEADLINE_EXCEEDED: GatewayUnavailableError,
}
"""The error class of each status code, for RecordExchange, Health and the federation services."""

TRANSLATION_ERROR_CLASSES: Final[Mapping[grpc.StatusCode, type[ClientError]]] = {
    code: cls
    for code, cls in ERROR_CLASSES.items()
    # Translation's FAILED_PRECONDITION is an adapter that cannot encode: no version conflict.
    if code is not grpc.StatusCode.FAILED_PRECONDITION
}
"""The error classes of the Translation service."""

SCREENING_ERROR_CLASSES: Final[Mapping[grpc.StatusCode, type[ClientError]]] = {
    code: cls
    for code, cls in ERROR_CLASSES.items()
    # Decide's FAILED_PRECONDITION is a hit screened at another centre (decide there): no version
    # conflict. Its ABORTED is one: the hit moved on since the analyst read it.
    if code is not grpc.StatusCode.FAILED_PRECONDITION
}
"""The error classes of the Screening service."""

# The gateway's refusal of a stream over its record limit (gateway/services/streaming.py) is the
# only place the limit is given; a test against a real gateway pins this wording.
_STREAM_LIMIT = re.compile(r"may carry at most (\d+) records")


def stream_limit_error(code: grpc.StatusCode, message: str) -> StreamLimitError | None:
    """The :class:`StreamLimitError` for a SubmitStream refusal, or ``None`` when the refusal is
    not about the number of records (another RESOURCE_EXHAUSTED: too many streams open)."""
    if code is not grpc.StatusCode.RESOURCE_EXHAUSTED:
        return None
    match = _STREAM_LIMIT.search(message)
    if match is None:
        return None
    return StreamLimitError(code, message, int(match.group(1)))


def field_violations(error: grpc.RpcError) -> list[tuple[str, str]]:
    """The ``(field, description)`` pairs of a failed call's google.rpc.BadRequest details."""
    try:
        # Sync errors are grpc.Call objects and asyncio ones have the same methods, which is all
        # from_call uses.
        status = rpc_status.from_call(cast(grpc.Call, error))
    except ValueError:
        # The rich status disagrees with the plain one (a misbehaving proxy): trust neither's
        # details rather than report violations that may belong to another error.
        return []
    if status is None:
        return []
    violations: list[tuple[str, str]] = []
    for detail in status.details:
        if detail.Is(error_details_pb2.BadRequest.DESCRIPTOR):
            bad_request = error_details_pb2.BadRequest()
            detail.Unpack(bad_request)
            violations.extend((v.field, v.description) for v in bad_request.field_violations)
    return violations
