"""Scripted gateways: a grpc.aio server answering chosen RecordExchange methods as a test says,
for what a real gateway does not do on demand (fail, stall, end a stream)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from typing import Any

import grpc
from grpc import aio

from gateway.client import SERVICE_NAME

Context = aio.ServicerContext[Any, Any]


@contextlib.asynccontextmanager
async def scripted_gateway(
    handlers: dict[str, grpc.RpcMethodHandler[Any, Any]],
) -> AsyncIterator[str]:
    """A grpc.aio server answering the given RecordExchange methods; yields its address."""
    server = aio.server()
    server.add_generic_rpc_handlers([grpc.method_handlers_generic_handler(SERVICE_NAME, handlers)])
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    try:
        yield f"127.0.0.1:{port}"
    finally:
        await server.stop(0)
