"""What both clients' channels share: defaults, message limits and the retry policy.

Calls that fail with UNAVAILABLE (the gateway restarting, a connection dropped before the call
was sent) are retried by gRPC itself, as the channel's service config says: up to 5 attempts
with exponential backoff from 0.1 s to 2 s. Retrying is safe for every method because
submitting is idempotent (the same content is stored once), and so is ingesting.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any, Final

from grpc_health.v1 import health_pb2

from liaison.v1 import exchange_pb2, translation_pb2

__all__ = [
    "DEFAULT_BATCH_SIZE",
    "DEFAULT_MAX_MESSAGE_BYTES",
    "DEFAULT_RECORDS_PER_STREAM",
    "DEFAULT_RESUME_ATTEMPTS",
    "DEFAULT_TIMEOUT",
    "MAX_BATCH_BYTES",
    "RETRY_BACKOFF",
    "SERVICE_NAME",
    "channel_options",
]

SERVICE_NAME: Final = exchange_pb2.DESCRIPTOR.services_by_name["RecordExchange"].full_name
"""Full name of the RecordExchange service (``liaison.v1.RecordExchange``)."""
_HEALTH_SERVICE_NAME: Final = health_pb2.DESCRIPTOR.services_by_name["Health"].full_name
_TRANSLATION_SERVICE_NAME: Final = translation_pb2.DESCRIPTOR.services_by_name[
    "Translation"
].full_name

DEFAULT_TIMEOUT: Final = 10.0
"""Seconds a unary call (Submit, Get, a health check) or one Search page may take. SubmitStream
and Subscribe have no default deadline: the first lasts as long as its input, the second until
the caller stops it; a caller may still give one per call."""
DEFAULT_MAX_MESSAGE_BYTES: Final = 64 * 1024 * 1024
"""Largest message the client sends or accepts."""
DEFAULT_BATCH_SIZE: Final = 500
"""Records per SubmitStream message."""
DEFAULT_RECORDS_PER_STREAM: Final = 100_000
"""Most records one SubmitStream call carries: the gateway's default ``[limits]
max_records_per_stream``. More records are split over several calls."""
DEFAULT_RESUME_ATTEMPTS: Final = 5
"""Times in a row a subscription is resumed after the gateway went away, before giving up."""
MAX_BATCH_BYTES: Final = 1024 * 1024
"""A batch is also closed at this serialized size, well under the gateway's default 4 MiB
message limit, so that large records never push a batch over it."""

_MAX_ATTEMPTS: Final = 5
_INITIAL_BACKOFF: Final = 0.1
_MAX_BACKOFF: Final = 2.0
_BACKOFF_MULTIPLIER: Final = 2

RETRY_BACKOFF: Final = tuple(
    min(_INITIAL_BACKOFF * _BACKOFF_MULTIPLIER**attempt, _MAX_BACKOFF)
    for attempt in range(_MAX_ATTEMPTS - 1)
)
"""Seconds to wait before each retry, as the channel's retry policy waits at most (gRPC draws a
random wait up to these); what the client waits before resuming a subscription."""

_RETRY_POLICY: Final = {
    "maxAttempts": _MAX_ATTEMPTS,
    "initialBackoff": f"{_INITIAL_BACKOFF}s",
    "maxBackoff": f"{_MAX_BACKOFF:g}s",
    "backoffMultiplier": _BACKOFF_MULTIPLIER,
    "retryableStatusCodes": ["UNAVAILABLE"],
}


def channel_options(
    max_message_bytes: int = DEFAULT_MAX_MESSAGE_BYTES,
    options: Sequence[tuple[str, Any]] = (),
) -> list[tuple[str, Any]]:
    """The channel options both clients use: message limits and the retry service config.

    Args:
        max_message_bytes: Largest message sent or received.
        options: Extra channel options; they replace the defaults of the same name.

    Returns:
        The options, ready for ``grpc.insecure_channel`` and friends.
    """
    service_config = {
        "methodConfig": [
            # Every Translation call is safe to retry too: Ingest is idempotent by payload hash.
            {
                "name": [{"service": SERVICE_NAME}, {"service": _TRANSLATION_SERVICE_NAME}],
                "retryPolicy": _RETRY_POLICY,
            },
            {
                "name": [{"service": _HEALTH_SERVICE_NAME, "method": "Check"}],
                "retryPolicy": _RETRY_POLICY,
            },
        ]
    }
    # Deadlines are not put in the service config: gRPC takes the smaller of the config's and the
    # call's, so a per-call timeout could then only shorten a call, never lengthen it.
    merged: dict[str, Any] = {
        "grpc.max_send_message_length": max_message_bytes,
        "grpc.max_receive_message_length": max_message_bytes,
        "grpc.enable_retries": 1,
        "grpc.service_config": json.dumps(service_config),
    }
    merged.update(options)
    return list(merged.items())
