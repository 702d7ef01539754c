"""OpenTelemetry for Liaison: traces, metrics and logs, privacy-safe by construction.

Built once at the process entry point and passed where it is needed - nothing is patched or
installed globally::

    telemetry = Telemetry.from_settings(resolve_settings(config.telemetry, os.environ), centre)
    server = aio.server(interceptors=telemetry.server_interceptors())
    client = AsyncLiaisonClient(target, interceptors=telemetry.aio_client_interceptors(target))

Modules: :mod:`~gateway.telemetry.settings` (``[telemetry]`` and ``OTEL_*``),
:mod:`~gateway.telemetry.sampling` (the samplers), :mod:`~gateway.telemetry.providers`
(providers and exporters), :mod:`~gateway.telemetry.pipeline` (``fast`` or ``sdk``: the
optimized pieces in :mod:`~gateway.telemetry.fast`, or the stock SDK's in
:mod:`~gateway.telemetry.stock`), :mod:`~gateway.telemetry.server` and
:mod:`~gateway.telemetry.client` (interceptors), :mod:`~gateway.telemetry.spans` (Liaison's own
spans), :mod:`~gateway.telemetry.privacy` (the allowlist), :mod:`~gateway.telemetry.metrics`,
:mod:`~gateway.telemetry.logs` (JSON log lines with trace ids), and the names in
:mod:`~gateway.telemetry.attributes` and :mod:`~gateway.telemetry.names`.

The names below are loaded on first use, so that ``gateway.config`` can import
:mod:`~gateway.telemetry.settings` (the ``[telemetry]`` table) without loading the
OpenTelemetry SDK.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from gateway.telemetry.logs import JsonLogFormatter, configure_logging
    from gateway.telemetry.metrics import NATIVE_ADAPTER, GatewayMetrics
    from gateway.telemetry.privacy import AllowlistSpanExporter, redact_span
    from gateway.telemetry.providers import Telemetry
    from gateway.telemetry.server import ServerTelemetryInterceptor
    from gateway.telemetry.settings import (
        TelemetryConfig,
        TelemetryConfigError,
        TelemetrySettings,
        resolve_settings,
    )
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
    "TelemetryConfig",
    "TelemetryConfigError",
    "TelemetrySettings",
    "adapter_span",
    "configure_logging",
    "redact_span",
    "resolve_settings",
]

_HOMES = {
    "NATIVE_ADAPTER": "metrics",
    "AdapterSpan": "spans",
    "AllowlistSpanExporter": "privacy",
    "ChildSpan": "spans",
    "GatewayMetrics": "metrics",
    "JsonLogFormatter": "logs",
    "ServerTelemetryInterceptor": "server",
    "Telemetry": "providers",
    "TelemetryConfig": "settings",
    "TelemetryConfigError": "settings",
    "TelemetrySettings": "settings",
    "configure_logging": "logs",
    "redact_span": "privacy",
    "resolve_settings": "settings",
}
"""The module of each exported name (besides :func:`adapter_span`, defined here)."""


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{home}"), name)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__() -> list[str]:
    return sorted({*globals(), *__all__})


def adapter_span(
    telemetry: Telemetry, adapter: object, operation: str, payload_size: int = 0
) -> AdapterSpan:
    """The span and metrics of one adapter call; see :class:`AdapterSpan`.

    ``with adapter_span(telemetry, adapter, "decode", len(payload)) as step:`` then
    ``step.result(len(result.records), result.diagnostics)``.
    """
    from gateway.telemetry.spans import AdapterSpan

    return AdapterSpan(telemetry.tracer, telemetry.metrics, adapter, operation, payload_size)
