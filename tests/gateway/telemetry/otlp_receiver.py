"""A real OTLP/gRPC receiver for tests: the trace and metrics services of opentelemetry-proto."""

from __future__ import annotations

from typing import Any

import grpc
from grpc import aio
from opentelemetry.proto.collector.metrics.v1 import metrics_service_pb2
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2

__all__ = ["OtlpReceiver"]

_TRACE_SERVICE = trace_service_pb2.DESCRIPTOR.services_by_name["TraceService"].full_name
_METRICS_SERVICE = metrics_service_pb2.DESCRIPTOR.services_by_name["MetricsService"].full_name


class OtlpReceiver:
    """Keeps every export request it receives, on a free loopback port."""

    def __init__(self) -> None:
        """Nothing listens before :meth:`start`."""
        self.traces: list[trace_service_pb2.ExportTraceServiceRequest] = []
        self.metrics: list[metrics_service_pb2.ExportMetricsServiceRequest] = []
        self.endpoint = ""
        self._server: aio.Server | None = None

    async def start(self) -> None:
        """Listen on 127.0.0.1; :attr:`endpoint` is then the URL to export to."""
        server = aio.server()
        traces = grpc.unary_unary_rpc_method_handler(
            self._export_traces,
            request_deserializer=trace_service_pb2.ExportTraceServiceRequest.FromString,
            response_serializer=trace_service_pb2.ExportTraceServiceResponse.SerializeToString,
        )
        metrics = grpc.unary_unary_rpc_method_handler(
            self._export_metrics,
            request_deserializer=metrics_service_pb2.ExportMetricsServiceRequest.FromString,
            response_serializer=metrics_service_pb2.ExportMetricsServiceResponse.SerializeToString,
        )
        server.add_generic_rpc_handlers(
            (
                grpc.method_handlers_generic_handler(_TRACE_SERVICE, {"Export": traces}),
                grpc.method_handlers_generic_handler(_METRICS_SERVICE, {"Export": metrics}),
            )
        )
        port = server.add_insecure_port("127.0.0.1:0")
        await server.start()
        self._server = server
        self.endpoint = f"http://127.0.0.1:{port}"

    async def stop(self) -> None:
        """Stop listening."""
        if self._server is not None:
            await self._server.stop(None)
            self._server = None

    def spans(self) -> list[tuple[dict[str, str], Any]]:
        """``(resource attributes, span)`` of every span received so far."""
        found: list[tuple[dict[str, str], Any]] = []
        for request in self.traces:
            for resource in request.resource_spans:
                attributes = {a.key: a.value.string_value for a in resource.resource.attributes}
                for scope in resource.scope_spans:
                    found += [(attributes, span) for span in scope.spans]
        return found

    def metric_names(self) -> set[str]:
        """Names of every metric received so far."""
        return {
            metric.name
            for request in self.metrics
            for resource in request.resource_metrics
            for scope in resource.scope_metrics
            for metric in scope.metrics
        }

    async def _export_traces(
        self, request: trace_service_pb2.ExportTraceServiceRequest, context: Any
    ) -> trace_service_pb2.ExportTraceServiceResponse:
        self.traces.append(request)
        return trace_service_pb2.ExportTraceServiceResponse()

    async def _export_metrics(
        self, request: metrics_service_pb2.ExportMetricsServiceRequest, context: Any
    ) -> metrics_service_pb2.ExportMetricsServiceResponse:
        self.metrics.append(request)
        return metrics_service_pb2.ExportMetricsServiceResponse()
