"""The ``telemetry`` scenario: what tracing costs the gateway, against the same gateway without it.

Every variant is a fresh ``liaison serve`` process configured the way an operator configures
one - ``OTEL_*`` variables - exporting traces and metrics over OTLP/gRPC to a real receiver on
127.0.0.1 in the benchmark process (:class:`OtlpReceiver`), which counts what arrives. The load
is the ``submit`` scenario's (unary Submit, 64 calls in flight). Variants of one round run back to
back, so the ratio to ``off`` survives the machine's noise.

``sdk`` variants run the same gateway with ``[telemetry] pipeline = "sdk"``: the stock
OpenTelemetry SDK tracer, OTLP exporter and instruments instead of Liaison's fast pipeline. They
are reported, not judged: they show what the fast pipeline saves, and what falling back costs.

``official`` variants (``--official``) run the same gateway with the official
``opentelemetry-instrumentation-grpc`` aio server interceptor in place of Liaison's
(:mod:`bench.official_gateway`), to keep the comparison behind the decision reproducible.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import grpc
from grpc import aio
from opentelemetry.proto.collector.metrics.v1 import metrics_service_pb2
from opentelemetry.proto.collector.trace.v1 import trace_service_pb2

from bench.report import Row
from bench.servers import HOST

__all__ = [
    "OFFICIAL_VARIANTS",
    "ONE_PERCENT_GOAL",
    "VARIANTS",
    "WHOLE_GOAL",
    "OtlpReceiver",
    "Variant",
    "summarize_telemetry",
]

ONE_PERCENT_GOAL = 0.90
"""With 1 % of calls sampled, Submit calls/s must be at least this fraction of telemetry off."""
WHOLE_GOAL = 0.65
"""With every call sampled, Submit calls/s must be at least this fraction of telemetry off."""


@dataclass(frozen=True, slots=True)
class Variant:
    """One way of running the gateway in the telemetry scenario."""

    name: str
    server: str
    """The server kind (:func:`bench.servers.server_argv`)."""
    ratio: float | None
    """Sampling ratio; ``None``: telemetry off."""
    metrics: bool = True
    """Whether metrics are exported too (``False`` shows what tracing alone costs)."""
    judged: bool = True
    """Whether the goals apply (the ``sdk`` variants are reported only)."""

    def environment(self, endpoint: str) -> dict[str, str]:
        """The ``OTEL_*`` variables of this variant, exporting to ``endpoint``."""
        if self.ratio is None:
            return {"OTEL_SDK_DISABLED": "true"}
        return {
            "OTEL_TRACES_EXPORTER": "otlp",
            "OTEL_METRICS_EXPORTER": "otlp" if self.metrics else "none",
            "OTEL_EXPORTER_OTLP_ENDPOINT": endpoint,
            "OTEL_TRACES_SAMPLER": "parentbased_traceidratio",
            "OTEL_TRACES_SAMPLER_ARG": str(self.ratio),
            "OTEL_METRIC_EXPORT_INTERVAL": "5000",
        }


VARIANTS = (
    Variant("off", "gateway", None),
    Variant("sampled 1%", "gateway", 0.01),
    Variant("sampled 100%", "gateway", 1.0),
    # Not judged: the share of the metrics in the 1 % figure.
    Variant("1%, traces only", "gateway", 0.01, metrics=False),
    # Not judged: the stock SDK pipeline, the way back when an upgrade breaks the fast one.
    Variant("sdk 1%", "gateway-sdk", 0.01, judged=False),
    Variant("sdk 100%", "gateway-sdk", 1.0, judged=False),
)
OFFICIAL_VARIANTS = (
    Variant("official 1%", "official", 0.01),
    Variant("official 100%", "official", 1.0),
)


class OtlpReceiver:
    """An OTLP/gRPC receiver of traces and metrics that counts spans and metric exports."""

    def __init__(self) -> None:
        """Nothing listens before :meth:`start`."""
        self.spans = 0
        self.metric_exports = 0
        self._server: aio.Server | None = None
        self.endpoint = ""

    async def start(self) -> None:
        """Listen on a free port of 127.0.0.1; :attr:`endpoint` is then its URL."""
        server = aio.server()
        trace_service = trace_service_pb2.DESCRIPTOR.services_by_name["TraceService"].full_name
        metrics_service = metrics_service_pb2.DESCRIPTOR.services_by_name[
            "MetricsService"
        ].full_name
        server.add_generic_rpc_handlers(
            (
                grpc.method_handlers_generic_handler(
                    trace_service,
                    {
                        "Export": grpc.unary_unary_rpc_method_handler(
                            self._export_traces,
                            request_deserializer=trace_service_pb2.ExportTraceServiceRequest.FromString,
                            response_serializer=trace_service_pb2.ExportTraceServiceResponse.SerializeToString,
                        )
                    },
                ),
                grpc.method_handlers_generic_handler(
                    metrics_service,
                    {
                        "Export": grpc.unary_unary_rpc_method_handler(
                            self._export_metrics,
                            request_deserializer=metrics_service_pb2.ExportMetricsServiceRequest.FromString,
                            response_serializer=metrics_service_pb2.ExportMetricsServiceResponse.SerializeToString,
                        )
                    },
                ),
            )
        )
        port = server.add_insecure_port(f"{HOST}:0")
        await server.start()
        self._server = server
        self.endpoint = f"http://{HOST}:{port}"

    async def stop(self) -> None:
        """Stop listening."""
        if self._server is not None:
            await self._server.stop(None)
            self._server = None

    async def _export_traces(
        self, request: trace_service_pb2.ExportTraceServiceRequest, context: Any
    ) -> trace_service_pb2.ExportTraceServiceResponse:
        self.spans += sum(
            len(scope.spans)
            for resource in request.resource_spans
            for scope in resource.scope_spans
        )
        return trace_service_pb2.ExportTraceServiceResponse()

    async def _export_metrics(
        self, request: metrics_service_pb2.ExportMetricsServiceRequest, context: Any
    ) -> metrics_service_pb2.ExportMetricsServiceResponse:
        self.metric_exports += 1
        return metrics_service_pb2.ExportMetricsServiceResponse()


_BY_NAME = {variant.name: variant for variant in VARIANTS + OFFICIAL_VARIANTS}


def _goal(variant: str) -> tuple[str, float] | None:
    known = _BY_NAME.get(variant)
    if known is None or not known.judged:
        return None
    if variant.endswith(" 1%"):
        return f">= {ONE_PERCENT_GOAL:.2f}", ONE_PERCENT_GOAL
    if variant.endswith(" 100%"):
        return f">= {WHOLE_GOAL:.2f}", WHOLE_GOAL
    return None


def summarize_telemetry(runs: Sequence[dict[str, Any]]) -> list[Row]:
    """Rows of the telemetry scenario: each variant's calls/s and server CPU against ``off``."""
    chosen = [r for r in runs if r["scenario"] == "telemetry"]
    off = {r["round"]: r for r in chosen if r["variant"] == "off"}
    if not off:
        return []
    rows: list[Row] = []
    names = list(dict.fromkeys(r["variant"] for r in chosen if r["variant"] != "off"))
    metrics = (
        ("calls/s", "calls_per_s"),
        ("server CPU us/call", "server_cpu_us_per_call"),
        ("p99 latency ms", "p99_ms"),
    )
    for name in names:
        measured = [r for r in chosen if r["variant"] == name and r["round"] in off]
        if not measured:
            continue
        for metric, field in metrics:
            base = statistics.median(off[r["round"]][field] for r in measured)
            value = statistics.median(r[field] for r in measured)
            goal = _goal(name) if field == "calls_per_s" else None
            ratio = value / base if base else float("nan")
            verdict = ""
            if goal is not None:
                invalid = any(r["errors"] or off[r["round"]]["errors"] for r in measured)
                verdict = "INVALID" if invalid else ("PASS" if ratio >= goal[1] else "MISS")
            rows.append(
                Row(
                    scenario=f"telemetry {name}",
                    metric=metric,
                    baseline=base,
                    target=value,
                    ratio=ratio,
                    round_ratios=[r[field] / off[r["round"]][field] for r in measured],
                    goal=goal[0] if goal else "",
                    verdict=verdict,
                )
            )
        spans = statistics.median(r["spans_per_call"] for r in measured)
        rows.append(
            Row(
                scenario=f"telemetry {name}",
                metric="spans exported per call",
                baseline=float("nan"),
                target=spans,
                ratio=float("nan"),
                round_ratios=[],
            )
        )
    return rows
