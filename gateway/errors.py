"""Errors the gateway reports, and the one place that turns them into gRPC statuses.

The hierarchy::

    GatewayError                      any refusal the gateway explains to its caller
    ├── InvalidArgumentError          INVALID_ARGUMENT, with google.rpc.BadRequest field violations
    ├── NotFoundError                 NOT_FOUND (also for a record the caller may not read)
    ├── PermissionDeniedError         PERMISSION_DENIED: the caller may not do this (publish
    │                                 another centre's records, write while acting for another)
    ├── ConflictError                 ABORTED: a version precondition no longer holds
    ├── FailedPreconditionError       FAILED_PRECONDITION: not possible in the current setup
    │                                 (e.g. exporting through an adapter that cannot encode)
    └── LimitExceededError            RESOURCE_EXHAUSTED: a configured input limit was exceeded

Messages never carry record content: ids, field paths and limits only, because statuses end up in
client logs and traces, where personal data must not go.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import grpc
from google.protobuf import any_pb2
from google.rpc import error_details_pb2, status_pb2
from grpc import aio
from grpc_status import rpc_status

from liaison.v1 import exchange_pb2

__all__ = [
    "ConflictError",
    "FailedPreconditionError",
    "FieldViolation",
    "GatewayError",
    "InvalidArgumentError",
    "LimitExceededError",
    "NotFoundError",
    "PermissionDeniedError",
    "abort",
    "record_error",
    "to_status",
]


@dataclass(frozen=True, slots=True)
class FieldViolation:
    """One refused field: its path (``person.birth_date.month``) and why."""

    field: str
    description: str

    def under(self, prefix: str) -> FieldViolation:
        """The same violation with its path placed under ``prefix`` (``record`` → ``record.x``)."""
        return FieldViolation(f"{prefix}.{self.field}" if self.field else prefix, self.description)


class GatewayError(Exception):
    """A refusal with a gRPC status code and a message safe to show to the caller."""

    code: grpc.StatusCode = grpc.StatusCode.INTERNAL

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class InvalidArgumentError(GatewayError):
    """The request is malformed; ``violations`` names each bad field."""

    code = grpc.StatusCode.INVALID_ARGUMENT

    def __init__(self, message: str, violations: Sequence[FieldViolation] = ()) -> None:
        super().__init__(message)
        self.violations = tuple(violations)


class NotFoundError(GatewayError):
    """The record (or version) does not exist, or the caller may not know that it does."""

    code = grpc.StatusCode.NOT_FOUND


class PermissionDeniedError(GatewayError):
    """The caller may not do this, whatever the request says."""

    code = grpc.StatusCode.PERMISSION_DENIED


class ConflictError(GatewayError):
    """The submitter's expected version is no longer the latest."""

    code = grpc.StatusCode.ABORTED


class FailedPreconditionError(GatewayError):
    """The request is well formed but cannot be served as the gateway is set up; retrying the
    same request will not help."""

    code = grpc.StatusCode.FAILED_PRECONDITION


class DeadlineExceededError(GatewayError):
    """The caller's deadline passed before the gateway could finish; nothing was kept."""

    code = grpc.StatusCode.DEADLINE_EXCEEDED


class LimitExceededError(GatewayError):
    """A configured input limit was exceeded."""

    code = grpc.StatusCode.RESOURCE_EXHAUSTED


def _bad_request(violations: Iterable[FieldViolation]) -> error_details_pb2.BadRequest:
    return error_details_pb2.BadRequest(
        field_violations=[
            error_details_pb2.BadRequest.FieldViolation(field=v.field, description=v.description)
            for v in violations
        ]
    )


def to_status(error: GatewayError) -> grpc.Status:
    """The rich gRPC status for ``error`` (google.rpc.Status with details where they apply)."""
    status = status_pb2.Status(code=error.code.value[0], message=error.message)
    if isinstance(error, InvalidArgumentError) and error.violations:
        detail = any_pb2.Any()
        detail.Pack(_bad_request(error.violations))
        status.details.append(detail)
    result: grpc.Status = rpc_status.to_status(status)
    return result


async def abort(context: aio.ServicerContext[object, object], error: GatewayError) -> None:
    """End the call with ``error``'s status. Never returns."""
    # grpc-stubs lags behind grpc.aio, which has had abort_with_status since 1.38.
    await context.abort_with_status(to_status(error))  # type: ignore[attr-defined]


def record_error(error: GatewayError) -> exchange_pb2.RecordError:
    """``error`` as the per-record error of a batch result."""
    result = exchange_pb2.RecordError(code=error.code.value[0], message=error.message)
    if isinstance(error, InvalidArgumentError):
        for violation in error.violations:
            result.field_violations.add(field=violation.field, description=violation.description)
    return result
