"""Client library for a Liaison gateway: a blocking and an asyncio client with the same methods.

Both clients share one request/response layer - building requests, reading responses and
refusals, the retry policy and the channel options - and differ only in how they make calls
(``_sync.py`` blocks, ``_async.py`` awaits; a test keeps their methods the same).

Calls that fail with UNAVAILABLE are retried by gRPC's own retry machinery, configured in the
channel's service config (up to 5 attempts, backing off from 0.1 s to 2 s); a subscription the
gateway ends with UNAVAILABLE resumes after the last sequence number seen. Retrying is safe for
every method because submitting and ingesting are idempotent.

Failures are raised as :class:`ClientError` subclasses (under :class:`LiaisonError`, the root
of every Liaison exception) chosen by status code, carrying the field
violations the gateway sent in its ``google.rpc.BadRequest`` details; a refused TLS handshake is
a :class:`HandshakeError` whose message names the likely cause::

    with LiaisonClient("127.0.0.1:50051") as client:
        try:
            ack = client.submit(record)
        except InvalidRecordError as error:
            for field, description in error.field_violations:
                ...
"""

from __future__ import annotations

from gateway.client._async import AsyncLiaisonClient
from gateway.client._channel import (
    DEFAULT_BATCH_SIZE,
    DEFAULT_MAX_MESSAGE_BYTES,
    DEFAULT_RECORDS_PER_STREAM,
    DEFAULT_RESUME_ATTEMPTS,
    DEFAULT_TIMEOUT,
    SERVICE_NAME,
    channel_options,
)
from gateway.client._errors import (
    ClientCertificateRefusedError,
    ClientCertificateRequiredError,
    ClientError,
    GatewayCertificateUntrustedError,
    GatewayUnavailableError,
    HandshakeError,
    InvalidRecordError,
    PlaintextGatewayError,
    RecordNotFoundError,
    StreamLimitError,
    VersionConflictError,
    WrongCentreError,
)
from gateway.client._sync import LiaisonClient
from liaison.rules.errors import LiaisonError

__all__ = [
    "DEFAULT_BATCH_SIZE",
    "DEFAULT_MAX_MESSAGE_BYTES",
    "DEFAULT_RECORDS_PER_STREAM",
    "DEFAULT_RESUME_ATTEMPTS",
    "DEFAULT_TIMEOUT",
    "SERVICE_NAME",
    "AsyncLiaisonClient",
    "ClientCertificateRefusedError",
    "ClientCertificateRequiredError",
    "ClientError",
    "GatewayCertificateUntrustedError",
    "GatewayUnavailableError",
    "HandshakeError",
    "InvalidRecordError",
    "LiaisonClient",
    "LiaisonError",
    "PlaintextGatewayError",
    "RecordNotFoundError",
    "StreamLimitError",
    "VersionConflictError",
    "WrongCentreError",
    "channel_options",
]
