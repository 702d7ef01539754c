"""gRPC helpers for tests: the typed stub alias and rich error details."""

from __future__ import annotations

from typing import TYPE_CHECKING

from google.rpc import error_details_pb2
from grpc import aio
from grpc_status import rpc_status

if TYPE_CHECKING:
    # mypy-protobuf types the stub built on an aio channel as this class; at run time the
    # generated RecordExchangeStub serves both kinds of channel.
    from liaison.v1.exchange_pb2_grpc import RecordExchangeAsyncStub as ExchangeStub
    from liaison.v1.screening_pb2_grpc import ScreeningAsyncStub as ScreeningStub
    from liaison.v1.translation_pb2_grpc import TranslationAsyncStub as TranslationStub
else:
    from liaison.v1.exchange_pb2_grpc import RecordExchangeStub as ExchangeStub
    from liaison.v1.screening_pb2_grpc import ScreeningStub
    from liaison.v1.translation_pb2_grpc import TranslationStub

__all__ = ["ExchangeStub", "ScreeningStub", "TranslationStub", "error_info_of", "violations_of"]


def violations_of(error: aio.AioRpcError) -> dict[str, str]:
    """The google.rpc.BadRequest field violations carried by ``error``, field -> description."""
    status = rpc_status.from_call(error)  # type: ignore[arg-type]
    assert status is not None, "the status must carry rich details"
    found: dict[str, str] = {}
    for detail in status.details:
        if not detail.Is(error_details_pb2.BadRequest.DESCRIPTOR):
            assert detail.Is(error_details_pb2.ErrorInfo.DESCRIPTOR), detail.type_url
            continue
        bad_request = error_details_pb2.BadRequest()
        assert detail.Unpack(bad_request)
        found.update({v.field: v.description for v in bad_request.field_violations})
    return found


def error_info_of(error: aio.AioRpcError) -> tuple[str, str, dict[str, str]] | None:
    """The google.rpc.ErrorInfo carried by ``error`` - (reason, domain, metadata) - if any."""
    status = rpc_status.from_call(error)  # type: ignore[arg-type]
    for detail in status.details if status is not None else ():
        info = error_details_pb2.ErrorInfo()
        if detail.Unpack(info):
            return info.reason, info.domain, dict(info.metadata)
    return None
