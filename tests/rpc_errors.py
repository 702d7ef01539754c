"""Reading rich gRPC error details in tests."""

from __future__ import annotations

from google.rpc import error_details_pb2
from grpc import aio
from grpc_status import rpc_status


def violations_of(error: aio.AioRpcError) -> dict[str, str]:
    """The google.rpc.BadRequest field violations carried by ``error``, field -> description."""
    status = rpc_status.from_call(error)  # type: ignore[arg-type]
    assert status is not None, "the status must carry rich details"
    found: dict[str, str] = {}
    for detail in status.details:
        bad_request = error_details_pb2.BadRequest()
        assert detail.Unpack(bad_request)
        found.update({v.field: v.description for v in bad_request.field_violations})
    return found
