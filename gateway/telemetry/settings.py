"""What telemetry a process exports: the centre's ``[telemetry]`` table, overridden by ``OTEL_*``.

The table's shape (:class:`TelemetryConfig`) lives here, with the telemetry it configures;
``gateway.config`` reads the file and imports it, never the reverse, so that the telemetry
package loads nothing of the gateway's configuration, federation or security. This module
imports no OpenTelemetry either: reading a centre's file does not load the SDK.

The standard OpenTelemetry environment variables win over the file, so that a deployment can
switch export on or point it elsewhere without editing the centre's configuration:

- ``OTEL_SDK_DISABLED=true``: telemetry off, whatever else is set;
- ``OTEL_TRACES_EXPORTER``, ``OTEL_METRICS_EXPORTER``: ``otlp``, ``console`` or ``none``;
- ``OTEL_TRACES_SAMPLER``: any of :data:`SAMPLERS`, with
  ``OTEL_TRACES_SAMPLER_ARG`` the ratio (0 to 1) of the ``traceidratio`` ones;
- ``OTEL_METRIC_EXPORT_INTERVAL``: milliseconds between metric exports;
- ``OTEL_EXPORTER_OTLP_ENDPOINT`` (and the other ``OTEL_EXPORTER_OTLP_*``): read by the OTLP
  exporter itself, and then preferred to ``endpoint``;
- ``OTEL_SERVICE_NAME``: the resource's ``service.name``; ``OTEL_RESOURCE_ATTRIBUTES`` is read
  when the resource is built.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Final

from liaison.rules.errors import SetupError

__all__ = [
    "DEFAULT_SAMPLER",
    "PIPELINES",
    "REMOTE_SAMPLERS",
    "SAMPLERS",
    "TELEMETRY_EXPORTERS",
    "TelemetryConfig",
    "TelemetryConfigError",
    "TelemetrySettings",
    "resolve_settings",
    "takes_ratio",
]

TELEMETRY_EXPORTERS: Final = ("none", "otlp", "console")
"""Where traces and metrics go: nowhere (the default), an OTLP/gRPC collector, or stdout."""

PIPELINES: Final = ("fast", "sdk")
"""How spans and measurements are recorded and encoded: Liaison's optimized pipeline (the
default), or the stock OpenTelemetry SDK and exporter alone (see ``docs/operations.md``)."""

SAMPLERS: Final = (
    "parentbased_traceidratio",
    "parentbased_always_on",
    "parentbased_always_off",
    "traceidratio",
    "always_on",
    "always_off",
)
"""The ``OTEL_TRACES_SAMPLER`` values Liaison accepts (the default first); what each means for a
gateway is in ``docs/operations.md`` ("Sampling")."""

DEFAULT_SAMPLER: Final = SAMPLERS[0]
"""Follow the caller's decision; sample new traces at the configured ratio."""

REMOTE_SAMPLERS: Final = ("jaeger_remote", "parentbased_jaeger_remote", "xray")
"""Standard values that need a remote sampling service and a package Liaison does not ship:
refused with a message saying so, rather than silently replaced."""

_PARENT_BASED = "parentbased_"

_ENDPOINT_VARIABLES = ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")


def takes_ratio(sampler: str) -> bool:
    """Whether ``sampler`` uses a ratio (``OTEL_TRACES_SAMPLER_ARG`` or ``sampling_ratio``)."""
    return sampler.removeprefix(_PARENT_BASED) == "traceidratio"


class TelemetryConfigError(SetupError, ValueError):
    """An ``OTEL_*`` variable has a value Liaison does not support; the message names it."""


@dataclass(frozen=True, slots=True)
class TelemetryConfig:
    """The centre file's ``[telemetry]`` table (see ``docs/operations.md``); ``OTEL_*`` variables
    take precedence."""

    exporter: str = "none"
    """``"none"`` (telemetry off: no interceptor, no cost), ``"otlp"`` or ``"console"``."""
    endpoint: str = ""
    """OTLP/gRPC collector URL, e.g. ``http://collector:4317``; empty: the exporter's default
    (``OTEL_EXPORTER_OTLP_ENDPOINT``, else ``http://localhost:4317``)."""
    sampling_ratio: float = 1.0
    """Fraction of new traces recorded (parent-based: a caller's decision is followed)."""
    metrics_interval_seconds: float = 60.0
    """How often metrics are exported."""
    service_name: str = "liaison-gateway"
    """``service.name`` of the resource every span and metric carries."""
    pipeline: str = "fast"
    """``"fast"`` (Liaison's optimized tracer, OTLP encoder and deferred histograms) or
    ``"sdk"`` (the stock OpenTelemetry SDK and exporter only: the way back when an OpenTelemetry
    upgrade breaks the fast pipeline)."""


@dataclass(frozen=True, slots=True)
class TelemetrySettings:
    """The resolved export settings of one process."""

    traces_exporter: str = "none"
    """``none``, ``otlp`` or ``console``."""
    metrics_exporter: str = "none"
    """``none``, ``otlp`` or ``console``."""
    endpoint: str | None = None
    """OTLP collector URL; ``None`` lets the exporter read ``OTEL_EXPORTER_OTLP_*`` or use its
    default."""
    sampler: str = DEFAULT_SAMPLER
    """The trace sampler, one of :data:`SAMPLERS`."""
    sampling_ratio: float = 1.0
    """The ratio of the ``traceidratio`` samplers (unused by the others)."""
    metrics_interval_seconds: float = 60.0
    """Seconds between metric exports."""
    service_name: str = "liaison-gateway"
    """``service.name`` of the resource (``OTEL_SERVICE_NAME`` when set)."""
    pipeline: str = "fast"
    """``fast`` or ``sdk``: see :attr:`TelemetryConfig.pipeline`."""

    @property
    def enabled(self) -> bool:
        """Whether anything is exported."""
        return self.traces_exporter != "none" or self.metrics_exporter != "none"


def resolve_settings(config: TelemetryConfig, environ: Mapping[str, str]) -> TelemetrySettings:
    """Combine the centre's ``[telemetry]`` table with the ``OTEL_*`` variables of ``environ``.

    Raises:
        TelemetryConfigError: a variable has a value Liaison does not support; the message
            names it.
    """
    if environ.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return TelemetrySettings(service_name=config.service_name, pipeline=config.pipeline)
    traces = _exporter(environ, "OTEL_TRACES_EXPORTER", config.exporter)
    metrics = _exporter(environ, "OTEL_METRICS_EXPORTER", config.exporter)
    sampler = _sampler(environ)
    ratio = config.sampling_ratio
    if takes_ratio(sampler) and "OTEL_TRACES_SAMPLER_ARG" in environ:
        ratio = _number(environ, "OTEL_TRACES_SAMPLER_ARG", low=0.0, high=1.0)
    interval = config.metrics_interval_seconds
    if "OTEL_METRIC_EXPORT_INTERVAL" in environ:
        interval = _number(environ, "OTEL_METRIC_EXPORT_INTERVAL", low=1.0) / 1000.0
    overridden = any(environ.get(name) for name in _ENDPOINT_VARIABLES)
    endpoint = None if overridden or not config.endpoint else config.endpoint
    return TelemetrySettings(
        traces_exporter=traces,
        metrics_exporter=metrics,
        endpoint=endpoint,
        sampler=sampler,
        sampling_ratio=ratio,
        metrics_interval_seconds=interval,
        service_name=environ.get("OTEL_SERVICE_NAME", "").strip() or config.service_name,
        pipeline=config.pipeline,
    )


def _exporter(environ: Mapping[str, str], name: str, default: str) -> str:
    value = environ.get(name, "").strip().lower()
    if not value:
        return default
    if value not in TELEMETRY_EXPORTERS:
        raise TelemetryConfigError(
            f"{name} must be one of {', '.join(TELEMETRY_EXPORTERS)} (one exporter), got {value!r}"
        )
    return value


def _sampler(environ: Mapping[str, str]) -> str:
    """``OTEL_TRACES_SAMPLER``, or the default (``OTEL_TRACES_SAMPLER_ARG`` alone is the ratio of
    the default sampler)."""
    value = environ.get("OTEL_TRACES_SAMPLER", "").strip().lower()
    if not value:
        return DEFAULT_SAMPLER
    if value in REMOTE_SAMPLERS:
        raise TelemetryConfigError(
            f"OTEL_TRACES_SAMPLER={value} needs a remote sampling service Liaison does not "
            f"support; use one of {', '.join(SAMPLERS)}"
        )
    if value not in SAMPLERS:
        raise TelemetryConfigError(
            f"OTEL_TRACES_SAMPLER must be one of {', '.join(SAMPLERS)}, got {value!r}"
        )
    return value


def _number(environ: Mapping[str, str], name: str, *, low: float, high: float = math.inf) -> float:
    text = environ[name]
    try:
        value = float(text)
    except ValueError:
        raise TelemetryConfigError(f"{name} must be a number, got {text!r}") from None
    if not low <= value <= high:
        bound = f"between {low:g} and {high:g}" if math.isfinite(high) else f"at least {low:g}"
        raise TelemetryConfigError(f"{name} must be {bound}, got {text!r}")
    return value
