"""OpenTelemetry for Liaison: traces, metrics and logs, privacy-safe by construction.

Built once at the process entry point and passed where it is needed - nothing is patched or
installed globally::

    telemetry = Telemetry.from_settings(resolve_settings(config.telemetry, os.environ), centre)
    server = aio.server(interceptors=telemetry.server_interceptors())
    client = AsyncLiaisonClient(target, interceptors=telemetry.aio_client_interceptors(target))

Modules: :mod:`~gateway.telemetry.settings` (``[telemetry]`` and ``OTEL_*``),
:mod:`~gateway.telemetry.providers` (providers and exporters), :mod:`~gateway.telemetry.tracer`
(the SDK's span pipeline with lighter span objects), :mod:`~gateway.telemetry.server`
and :mod:`~gateway.telemetry.client` (interceptors), :mod:`~gateway.telemetry.spans` (Liaison's
own spans), :mod:`~gateway.telemetry.privacy` (the allowlist), :mod:`~gateway.telemetry.metrics`,
:mod:`~gateway.telemetry.logs` (JSON log lines with trace ids), and the names in
:mod:`~gateway.telemetry.attributes` and :mod:`~gateway.telemetry.names`.
"""

from __future__ import annotations

from gateway.telemetry.logs import JsonLogFormatter, configure_logging
from gateway.telemetry.metrics import NATIVE_ADAPTER, GatewayMetrics
from gateway.telemetry.privacy import AllowlistSpanExporter, redact_span
from gateway.telemetry.providers import Telemetry
from gateway.telemetry.server import ServerTelemetryInterceptor
from gateway.telemetry.settings import TelemetrySettings, resolve_settings
from gateway.telemetry.spans import AdapterSpan, ChildSpan

__all__ = [
    "NATIVE_ADAPTER",
    "AdapterSpan",
    "AllowlistSpanExporter",
    "ChildSpan",
    "GatewayMetrics",
    "JsonLogFormatter",
    "ServerTelemetryInterceptor",
    "Telemetry",
    "TelemetrySettings",
    "adapter_span",
    "configure_logging",
    "redact_span",
    "resolve_settings",
]


def adapter_span(
    telemetry: Telemetry, adapter: object, operation: str, payload_size: int = 0
) -> AdapterSpan:
    """The span and metrics of one adapter call; see :class:`AdapterSpan`.

    ``with adapter_span(telemetry, adapter, "decode", len(payload)) as step:`` then
    ``step.result(len(result.records), result.diagnostics)``.
    """
    return AdapterSpan(telemetry.tracer, telemetry.metrics, adapter, operation, payload_size)
