"""What every service shares at its boundary: refusals to gRPC statuses, and acknowledgements.

:data:`STATUS_CODES` is the one table from the error tree (:mod:`gateway.errors`) to gRPC
status codes.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator, Iterable

import grpc
from google.protobuf import any_pb2
from google.rpc import error_details_pb2, status_pb2
from grpc import aio
from grpc_status import rpc_status

from gateway.audit.log import AuditLogError
from gateway.errors import (
    ConflictError,
    DeadlineExceededError,
    FailedPreconditionError,
    FieldViolation,
    ForeignRecordError,
    GatewayError,
    InternalError,
    InvalidArgumentError,
    LiaisonError,
    LimitExceededError,
    NotFoundError,
    PermissionDeniedError,
    UnauditedError,
    UnavailableError,
    UnimplementedError,
)
from gateway.store.base import StoredVersion, StoreError
from liaison.v1 import exchange_pb2

__all__ = [
    "ERROR_DOMAIN",
    "FOREIGN_RECORD_REASON",
    "STATUS_CODES",
    "Context",
    "abort",
    "ack_of",
    "audit_failed",
    "fill_ack",
    "record_error",
    "status_code_of",
    "statuses",
    "store_failed",
    "to_status",
]

Context = aio.ServicerContext[object, object]


STATUS_CODES: dict[type[BaseException], grpc.StatusCode] = {
    InvalidArgumentError: grpc.StatusCode.INVALID_ARGUMENT,
    NotFoundError: grpc.StatusCode.NOT_FOUND,
    PermissionDeniedError: grpc.StatusCode.PERMISSION_DENIED,
    ForeignRecordError: grpc.StatusCode.PERMISSION_DENIED,
    ConflictError: grpc.StatusCode.ABORTED,
    FailedPreconditionError: grpc.StatusCode.FAILED_PRECONDITION,
    DeadlineExceededError: grpc.StatusCode.DEADLINE_EXCEEDED,
    LimitExceededError: grpc.StatusCode.RESOURCE_EXHAUSTED,
    UnimplementedError: grpc.StatusCode.UNIMPLEMENTED,
    UnavailableError: grpc.StatusCode.UNAVAILABLE,
    UnauditedError: grpc.StatusCode.UNAVAILABLE,
    StoreError: grpc.StatusCode.UNAVAILABLE,
    AuditLogError: grpc.StatusCode.UNAVAILABLE,
    InternalError: grpc.StatusCode.INTERNAL,
}
"""The gRPC status of each refusal class (subclasses inherit their ancestor's). A
:class:`StoreError` or an :class:`AuditLogError` is UNAVAILABLE too, reported with
:func:`store_failed`'s or :func:`audit_failed`'s message: their own may name files."""


def status_code_of(error: BaseException) -> grpc.StatusCode:
    """The status ``error`` is reported with: its nearest listed ancestor's, else INTERNAL."""
    for kind in type(error).__mro__:
        code = STATUS_CODES.get(kind)
        if code is not None:
            return code
    return grpc.StatusCode.INTERNAL


def _bad_request(violations: Iterable[FieldViolation]) -> error_details_pb2.BadRequest:
    return error_details_pb2.BadRequest(
        field_violations=[
            error_details_pb2.BadRequest.FieldViolation(field=v.field, description=v.description)
            for v in violations
        ]
    )


FOREIGN_RECORD_REASON = "FOREIGN_RECORD"
"""``google.rpc.ErrorInfo.reason`` of a :class:`ForeignRecordError` (domain
:data:`ERROR_DOMAIN`; metadata ``field`` and ``originatingCentre``)."""

ERROR_DOMAIN = "liaison"
"""``google.rpc.ErrorInfo.domain`` of the gateway's refusals."""


def to_status(error: LiaisonError) -> grpc.Status:
    """The rich gRPC status for ``error`` (google.rpc.Status with details where they apply)."""
    status = status_pb2.Status(code=status_code_of(error).value[0], message=error.message)
    if isinstance(error, InvalidArgumentError) and error.violations:
        detail = any_pb2.Any()
        detail.Pack(_bad_request(error.violations))
        status.details.append(detail)
    if isinstance(error, ForeignRecordError):
        detail = any_pb2.Any()
        detail.Pack(
            error_details_pb2.ErrorInfo(
                reason=FOREIGN_RECORD_REASON,
                domain=ERROR_DOMAIN,
                metadata={"field": error.field, "originatingCentre": error.originating_centre},
            )
        )
        status.details.append(detail)
    result: grpc.Status = rpc_status.to_status(status)
    return result


async def abort(context: aio.ServicerContext[object, object], error: LiaisonError) -> None:
    """End the call with ``error``'s status. Never returns."""
    # grpc-stubs lags behind grpc.aio, which has had abort_with_status since 1.38.
    await context.abort_with_status(to_status(error))  # type: ignore[attr-defined]


def record_error(error: LiaisonError) -> exchange_pb2.RecordError:
    """``error`` as the per-record error of a batch result."""
    result = exchange_pb2.RecordError(code=status_code_of(error).value[0], message=error.message)
    if isinstance(error, InvalidArgumentError):
        for violation in error.violations:
            result.field_violations.add(field=violation.field, description=violation.description)
    if isinstance(error, ForeignRecordError):
        violation = error.violation()
        result.field_violations.add(field=violation.field, description=violation.description)
    return result


def store_failed() -> GatewayError:
    """The refusal for a request whose transaction failed."""
    return UnavailableError("the store could not commit; nothing was stored, retry")


def audit_failed() -> GatewayError:
    """The refusal for a request whose audit entry could not be written before anything was
    done or returned."""
    return UnavailableError("the audit log could not be written; nothing was done, retry")


@contextlib.asynccontextmanager
async def statuses(context: Context) -> AsyncIterator[None]:
    """Turn the gateway's refusals into their gRPC statuses; anything else stays INTERNAL."""
    try:
        yield
    except StoreError:
        await abort(context, store_failed())
    except AuditLogError:
        await abort(context, audit_failed())
    except (GatewayError, InvalidArgumentError, ForeignRecordError) as error:
        await abort(context, error)


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
