"""CPU per call of the server interceptors alone: Liaison's against the official one.

    .venv/bin/python -m bench.interceptor_cost [--calls N]

Runs each interceptor in this process around a handler that does nothing, with a stand-in
servicer context, and prints the CPU microseconds per call it adds, unsampled (ratio 0) and
sampled (ratio 1; spans go to a processor that drops them, so export is not counted). Unlike the
telemetry scenario this needs no server and no network, so it is far less sensitive to what
else runs on the machine; it measures the interceptor, not what it costs a whole gateway.
"""

from __future__ import annotations

import argparse
import asyncio
import time
from collections.abc import Sequence
from typing import Any, NamedTuple

import grpc
from opentelemetry.instrumentation.grpc import aio_server_interceptor
from opentelemetry.propagate import get_global_textmap
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor, SpanExporter, SpanExportResult
from opentelemetry.sdk.trace.sampling import ParentBased, TraceIdRatioBased

from gateway.telemetry import ServerTelemetryInterceptor
from gateway.telemetry.fast import LiaisonTracerProvider

_METHOD = "/liaison.v1.RecordExchange/Submit"


class _Metadatum(NamedTuple):
    key: str
    value: str


_METADATA = (_Metadatum("user-agent", "grpc-python-asyncio/1.85.1"),)


class _Context:
    """The parts of a grpc.aio servicer context the interceptors use."""

    def invocation_metadata(self) -> tuple[_Metadatum, ...]:
        return _METADATA

    def peer(self) -> str:
        return "ipv4:127.0.0.1:50000"

    def code(self) -> None:
        return None


class _Details:
    method = _METHOD
    invocation_metadata = _METADATA


class _Drop(SpanExporter):
    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        return SpanExportResult.SUCCESS


async def _behaviour(request: Any, context: Any) -> bytes:
    return b""


_HANDLER = grpc.unary_unary_rpc_method_handler(_behaviour)


async def _continuation(details: Any) -> Any:
    return _HANDLER


async def _cpu_per_call(interceptor: Any, calls: int) -> float:
    context, details = _Context(), _Details()
    started = time.process_time()
    for _ in range(calls):
        handler = await interceptor.intercept_service(_continuation, details)
        await handler.unary_unary(None, context)
    return (time.process_time() - started) / calls * 1e6


def _provider(ratio: float, provider_type: type[TracerProvider] = TracerProvider) -> TracerProvider:
    provider = provider_type(sampler=ParentBased(TraceIdRatioBased(ratio)))
    provider.add_span_processor(SimpleSpanProcessor(_Drop()))
    return provider


async def _measure(calls: int) -> None:
    class _Bare:
        async def intercept_service(self, continuation: Any, details: Any) -> Any:
            return await continuation(details)

    bare = await _cpu_per_call(_Bare(), calls)
    print(f"no interceptor (handler call only): {bare:.1f} us/call")
    for ratio in (0.0, 1.0):
        # Each interceptor with the provider it is deployed with: Liaison's makes lighter spans.
        provider = _provider(ratio)
        ours_provider = _provider(ratio, LiaisonTracerProvider)
        ours = ServerTelemetryInterceptor(
            tracer=ours_provider.get_tracer("liaison"),
            metrics=None,
            propagator=get_global_textmap(),
            server_address="127.0.0.1",
            server_port=50051,
        )
        official = aio_server_interceptor(tracer_provider=provider)  # type: ignore[no-untyped-call]
        for name, interceptor in (("liaison", ours), ("official", official)):
            await _cpu_per_call(interceptor, calls // 10)  # warm-up
            cost = await _cpu_per_call(interceptor, calls) - bare
            print(f"sampling {ratio:.0%}  {name:<8} +{cost:.1f} us/call")
        provider.shutdown()
        ours_provider.shutdown()


def main(argv: list[str] | None = None) -> int:
    """Command line entry point."""
    parser = argparse.ArgumentParser(prog="python -m bench.interceptor_cost")
    parser.add_argument("--calls", type=int, default=20_000)
    args = parser.parse_args(argv)
    asyncio.run(_measure(args.calls))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
