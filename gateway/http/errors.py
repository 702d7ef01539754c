"""Statuses as the Connect protocol writes them: an HTTP code and a JSON error body.

A call's status is read where the interceptors left it - the servicer context's code, message
and ``grpc-status-details-bin`` trailer - so an HTTP caller gets the gRPC caller's status: the
same code, message and ``google.rpc`` details. Each detail is written as Connect specifies
(``type``, ``value`` as unpadded base64 of the message) plus ``debug``, the detail as protobuf
JSON, so a ``curl`` user reads field violations, retry delays and error reasons without
decoding anything.
"""

from __future__ import annotations

import base64
from typing import Any

import grpc
from google.protobuf import json_format
from google.rpc import error_details_pb2, status_pb2

from gateway.http.context import HttpContext

__all__ = ["HTTP_STATUS", "connect_code", "error_body", "status_details", "status_of"]

# The google.rpc detail types must be in the default pool for their Any to be unpacked.
_DETAIL_TYPES = (error_details_pb2.BadRequest, error_details_pb2.RetryInfo)

HTTP_STATUS: dict[grpc.StatusCode, int] = {
    grpc.StatusCode.CANCELLED: 499,
    grpc.StatusCode.UNKNOWN: 500,
    grpc.StatusCode.INVALID_ARGUMENT: 400,
    grpc.StatusCode.DEADLINE_EXCEEDED: 504,
    grpc.StatusCode.NOT_FOUND: 404,
    grpc.StatusCode.ALREADY_EXISTS: 409,
    grpc.StatusCode.PERMISSION_DENIED: 403,
    grpc.StatusCode.RESOURCE_EXHAUSTED: 429,
    grpc.StatusCode.FAILED_PRECONDITION: 400,
    grpc.StatusCode.ABORTED: 409,
    grpc.StatusCode.OUT_OF_RANGE: 400,
    grpc.StatusCode.UNIMPLEMENTED: 501,
    grpc.StatusCode.INTERNAL: 500,
    grpc.StatusCode.UNAVAILABLE: 503,
    grpc.StatusCode.DATA_LOSS: 500,
    grpc.StatusCode.UNAUTHENTICATED: 401,
}
"""The HTTP status of each gRPC code, from the Connect protocol's table."""

_DETAILS_KEY = "grpc-status-details-bin"


def connect_code(code: grpc.StatusCode) -> str:
    """The code's name as Connect writes it (``invalid_argument``; ``canceled``, one l)."""
    return "canceled" if code is grpc.StatusCode.CANCELLED else code.name.lower()


def status_of(context: HttpContext, error: BaseException | None) -> tuple[grpc.StatusCode, str]:
    """The status a finished call ended with, as a gRPC server would report it: what it set or
    aborted with, else UNKNOWN for an error that escaped the services (no message: its text
    could carry anything), else OK."""
    code = context.code()
    if code is not None:
        return code, context.details()
    if error is None:
        return grpc.StatusCode.OK, ""
    return grpc.StatusCode.UNKNOWN, "the call failed; the gateway's log says why"


def error_body(code: grpc.StatusCode, message: str, context: HttpContext | None) -> dict[str, Any]:
    """The Connect error JSON of a status (``code``, ``message``, ``details``)."""
    body: dict[str, Any] = {"code": connect_code(code)}
    if message:
        body["message"] = message
    details = _details(context) if context is not None else []
    if details:
        body["details"] = details
    return body


def status_details(context: HttpContext) -> bytes | None:
    """The rich status the call ended with (``google.rpc.Status``, serialized), if any."""
    for key, value in context.trailing_metadata():
        if key == _DETAILS_KEY and isinstance(value, bytes):
            return value
    return None


def _details(context: HttpContext) -> list[dict[str, Any]]:
    found = status_details(context)
    if found is None:
        return []
    return [_detail(detail) for detail in status_pb2.Status.FromString(found).details]


def _detail(detail: Any) -> dict[str, Any]:
    type_name = detail.type_url.rpartition("/")[2]
    shown: dict[str, Any] = {
        "type": type_name,
        "value": base64.b64encode(detail.value).decode().rstrip("="),
    }
    try:
        shown["debug"] = json_format.MessageToDict(detail)
        shown["debug"].pop("@type", None)
    except (TypeError, KeyError, json_format.Error):
        pass  # a type this process cannot name: type and value still carry it
    return shown
