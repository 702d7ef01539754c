"""Errors the gateway reports to its callers, and the one table that turns them into statuses.

The refusals a caller is told about, by class; :data:`STATUS_CODES` gives each its gRPC status
(the first class of an error's ancestry listed there wins)::

    LiaisonError (liaison.rules.errors)   the root of every Liaison exception
    ├── InvalidArgumentError (rules)      INVALID_ARGUMENT, google.rpc.BadRequest field violations
    └── GatewayError                      a refusal the gateway explains to its caller
        ├── NotFoundError                 NOT_FOUND (also for a record the caller may not read)
        ├── PermissionDeniedError         PERMISSION_DENIED: the caller may not do this (publish
        │                                 another centre's records, write while acting for one)
        ├── ConflictError                 ABORTED: a version precondition no longer holds
        ├── FailedPreconditionError       FAILED_PRECONDITION: not possible in the current setup
        │                                 (e.g. exporting through an adapter that cannot encode)
        ├── DeadlineExceededError         DEADLINE_EXCEEDED: the caller's deadline passed first
        ├── LimitExceededError            RESOURCE_EXHAUSTED: a configured input limit was exceeded
        └── UnavailableError              UNAVAILABLE: retry (the store could not commit, a
                                          worker ended); nothing of the request was kept

Messages never carry record content: ids, field paths and limits only, because statuses end up in
client logs and traces, where personal data must not go.
"""

from __future__ import annotations

from collections.abc import Iterable

import grpc
from google.protobuf import any_pb2
from google.rpc import error_details_pb2, status_pb2
from grpc import aio
from grpc_status import rpc_status

from liaison.rules.errors import FieldViolation, InvalidArgumentError, LiaisonError
from liaison.v1 import exchange_pb2

__all__ = [
    "STATUS_CODES",
    "ConflictError",
    "DeadlineExceededError",
    "FailedPreconditionError",
    "FieldViolation",
    "GatewayError",
    "InvalidArgumentError",
    "LimitExceededError",
    "NotFoundError",
    "PermissionDeniedError",
    "UnavailableError",
    "abort",
    "record_error",
    "status_code_of",
    "to_status",
]


class GatewayError(LiaisonError):
    """A refusal with a message safe to show to the caller; its status is in STATUS_CODES."""


class NotFoundError(GatewayError):
    """The record (or version) does not exist, or the caller may not know that it does."""


class PermissionDeniedError(GatewayError):
    """The caller may not do this, whatever the request says."""


class ConflictError(GatewayError):
    """The submitter's expected version is no longer the latest."""


class FailedPreconditionError(GatewayError):
    """The request is well formed but cannot be served as the gateway is set up; retrying the
    same request will not help."""


class DeadlineExceededError(GatewayError):
    """The caller's deadline passed before the gateway could finish; nothing was kept."""


class LimitExceededError(GatewayError):
    """A configured input limit was exceeded."""


class UnavailableError(GatewayError):
    """The gateway could not do it now (the store could not commit, a worker ended); nothing of
    the request was kept, and retrying may succeed."""


STATUS_CODES: dict[type[BaseException], grpc.StatusCode] = {
    InvalidArgumentError: grpc.StatusCode.INVALID_ARGUMENT,
    NotFoundError: grpc.StatusCode.NOT_FOUND,
    PermissionDeniedError: grpc.StatusCode.PERMISSION_DENIED,
    ConflictError: grpc.StatusCode.ABORTED,
    FailedPreconditionError: grpc.StatusCode.FAILED_PRECONDITION,
    DeadlineExceededError: grpc.StatusCode.DEADLINE_EXCEEDED,
    LimitExceededError: grpc.StatusCode.RESOURCE_EXHAUSTED,
    UnavailableError: grpc.StatusCode.UNAVAILABLE,
}
"""The gRPC status of each refusal class (subclasses inherit their ancestor's)."""


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


def to_status(error: LiaisonError) -> grpc.Status:
    """The rich gRPC status for ``error`` (google.rpc.Status with details where they apply)."""
    status = status_pb2.Status(code=status_code_of(error).value[0], message=error.message)
    if isinstance(error, InvalidArgumentError) and error.violations:
        detail = any_pb2.Any()
        detail.Pack(_bad_request(error.violations))
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
    return result
