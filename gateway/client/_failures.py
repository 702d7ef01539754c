"""The one place that turns a failed call (sync or asyncio) into a :class:`ClientError`."""

from __future__ import annotations

from collections.abc import Mapping

import grpc

from gateway.client._errors import ClientError, field_violations, stream_limit_error
from gateway.client._handshake import Transport, handshake_error

__all__ = ["error_from_rpc"]


def error_from_rpc(
    error: grpc.RpcError,
    classes: Mapping[grpc.StatusCode, type[ClientError]],
    transport: Transport,
    *,
    stream_limit: bool = False,
) -> ClientError:
    """The error to raise for a failed call.

    Args:
        error: What grpcio raised (a ``grpc.RpcError`` that is also a ``grpc.Call``, or an
            ``aio.AioRpcError``: both have ``code()`` and ``details()``).
        classes: The error class of each status code for the service called.
        transport: The client's connection, to explain a refused handshake.
        stream_limit: The call was a SubmitStream: RESOURCE_EXHAUSTED may be its record limit.
    """
    code = error.code()
    details = error.details() or ""
    message = " ".join(details.split())
    if code is grpc.StatusCode.UNAVAILABLE:
        refused = handshake_error(details, transport)
        if refused is not None:
            return refused
    if stream_limit:
        over_limit = stream_limit_error(code, message)
        if over_limit is not None:
            return over_limit
    cls = classes.get(code, ClientError)
    return cls(code, message, field_violations(error))
