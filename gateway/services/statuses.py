"""What every service shares at its boundary: refusals to gRPC statuses, and acknowledgements."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from grpc import aio

from gateway.errors import GatewayError, UnavailableError, abort
from gateway.store.base import StoredVersion, StoreError
from liaison.rules.errors import LiaisonError
from liaison.v1 import exchange_pb2

__all__ = [
    "Context",
    "ack_of",
    "fill_ack",
    "statuses",
    "store_failed",
]

Context = aio.ServicerContext[object, object]


def store_failed() -> GatewayError:
    """The refusal for a request whose transaction failed."""
    return UnavailableError("the store could not commit; nothing was stored, retry")


@contextlib.asynccontextmanager
async def statuses(context: Context) -> AsyncIterator[None]:
    """Turn the gateway's refusals into their gRPC statuses; anything else stays INTERNAL."""
    try:
        yield
    except LiaisonError as error:
        await abort(context, error)
    except StoreError:
        await abort(context, store_failed())


def ack_of(stored: StoredVersion) -> exchange_pb2.SubmitAck:
    """The acknowledgement of a stored (or already stored) version."""
    ack = exchange_pb2.SubmitAck()
    fill_ack(ack, stored)
    return ack


def fill_ack(ack: exchange_pb2.SubmitAck, stored: StoredVersion) -> None:
    """Set ``ack`` from a stored version."""
    ack.record_id = stored.record_id
    ack.version = stored.version
    ack.sequence = stored.sequence
    ack.duplicate = stored.duplicate
    ack.committed_at.seconds, micros = divmod(stored.committed_at_us, 1_000_000)
    ack.committed_at.nanos = micros * 1000
    ack.content_sha256 = stored.content_sha256
