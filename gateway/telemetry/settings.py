"""What telemetry a process exports: the centre's ``[telemetry]`` table, overridden by ``OTEL_*``.

The standard OpenTelemetry environment variables win over the file, so that a deployment can
switch export on or point it elsewhere without editing the centre's configuration:

- ``OTEL_SDK_DISABLED=true``: telemetry off, whatever else is set;
- ``OTEL_TRACES_EXPORTER``, ``OTEL_METRICS_EXPORTER``: ``otlp``, ``console`` or ``none``;
- ``OTEL_TRACES_SAMPLER``: ``parentbased_traceidratio``, ``parentbased_always_on`` or
  ``parentbased_always_off``, with ``OTEL_TRACES_SAMPLER_ARG`` the ratio (0 to 1);
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

from gateway.config import TELEMETRY_EXPORTERS, ConfigError, TelemetryConfig

__all__ = ["TelemetrySettings", "resolve_settings"]

_SAMPLERS = {
    "parentbased_traceidratio": None,
    "parentbased_always_on": 1.0,
    "parentbased_always_off": 0.0,
}
_ENDPOINT_VARIABLES = ("OTEL_EXPORTER_OTLP_ENDPOINT", "OTEL_EXPORTER_OTLP_TRACES_ENDPOINT")


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
    sampling_ratio: float = 1.0
    """Parent-based ratio of new traces recorded."""
    metrics_interval_seconds: float = 60.0
    """Seconds between metric exports."""
    service_name: str = "liaison-gateway"
    """``service.name`` of the resource (``OTEL_SERVICE_NAME`` when set)."""

    @property
    def enabled(self) -> bool:
        """Whether anything is exported."""
        return self.traces_exporter != "none" or self.metrics_exporter != "none"


def resolve_settings(config: TelemetryConfig, environ: Mapping[str, str]) -> TelemetrySettings:
    """Combine the centre's ``[telemetry]`` table with the ``OTEL_*`` variables of ``environ``.

    Raises:
        ConfigError: a variable has a value Liaison does not support; the message names it.
    """
    if environ.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return TelemetrySettings(service_name=config.service_name)
    traces = _exporter(environ, "OTEL_TRACES_EXPORTER", config.exporter)
    metrics = _exporter(environ, "OTEL_METRICS_EXPORTER", config.exporter)
    ratio = _sampling_ratio(environ, config.sampling_ratio)
    interval = config.metrics_interval_seconds
    if "OTEL_METRIC_EXPORT_INTERVAL" in environ:
        interval = _number(environ, "OTEL_METRIC_EXPORT_INTERVAL", low=1.0) / 1000.0
    overridden = any(environ.get(name) for name in _ENDPOINT_VARIABLES)
    endpoint = None if overridden or not config.endpoint else config.endpoint
    return TelemetrySettings(
        traces_exporter=traces,
        metrics_exporter=metrics,
        endpoint=endpoint,
        sampling_ratio=ratio,
        metrics_interval_seconds=interval,
        service_name=environ.get("OTEL_SERVICE_NAME", "").strip() or config.service_name,
    )


def _exporter(environ: Mapping[str, str], name: str, default: str) -> str:
    value = environ.get(name, "").strip().lower()
    if not value:
        return default
    if value not in TELEMETRY_EXPORTERS:
        raise ConfigError(
            f"{name} must be one of {', '.join(TELEMETRY_EXPORTERS)} (one exporter), got {value!r}"
        )
    return value


def _sampling_ratio(environ: Mapping[str, str], default: float) -> float:
    sampler = environ.get("OTEL_TRACES_SAMPLER", "").strip().lower()
    if not sampler:
        if "OTEL_TRACES_SAMPLER_ARG" in environ:
            return _number(environ, "OTEL_TRACES_SAMPLER_ARG", low=0.0, high=1.0)
        return default
    if sampler not in _SAMPLERS:
        raise ConfigError(
            f"OTEL_TRACES_SAMPLER must be one of {', '.join(_SAMPLERS)} (Liaison follows the "
            f"caller's sampling decision), got {sampler!r}"
        )
    fixed = _SAMPLERS[sampler]
    if fixed is not None:
        return fixed
    if "OTEL_TRACES_SAMPLER_ARG" not in environ:
        return default
    return _number(environ, "OTEL_TRACES_SAMPLER_ARG", low=0.0, high=1.0)


def _number(environ: Mapping[str, str], name: str, *, low: float, high: float = math.inf) -> float:
    text = environ[name]
    try:
        value = float(text)
    except ValueError:
        raise ConfigError(f"{name} must be a number, got {text!r}") from None
    if not low <= value <= high:
        bound = f"between {low:g} and {high:g}" if math.isfinite(high) else f"at least {low:g}"
        raise ConfigError(f"{name} must be {bound}, got {text!r}")
    return value
