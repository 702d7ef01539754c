"""The ``[telemetry]`` table and the ``OTEL_*`` variables that override it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from gateway.config import ConfigError, TelemetryConfig, load_config
from gateway.telemetry import Telemetry, TelemetrySettings, resolve_settings


def _config(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "centre.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_telemetry_is_off_by_default() -> None:
    settings = resolve_settings(TelemetryConfig(), {})
    assert settings == TelemetrySettings()
    assert not settings.enabled
    assert not Telemetry.from_settings(settings, "LOCAL").enabled
    assert Telemetry.disabled().server_interceptors() == []


def test_the_table_configures_export(tmp_path: Path) -> None:
    config = load_config(
        _config(
            tmp_path,
            '[telemetry]\nexporter = "otlp"\nendpoint = "http://collector:4317"\n'
            "sampling_ratio = 0.01\nmetrics_interval_seconds = 15\n",
        )
    )
    assert config.telemetry == TelemetryConfig(
        exporter="otlp",
        endpoint="http://collector:4317",
        sampling_ratio=0.01,
        metrics_interval_seconds=15.0,
    )
    assert resolve_settings(config.telemetry, {}) == TelemetrySettings(
        traces_exporter="otlp",
        metrics_exporter="otlp",
        endpoint="http://collector:4317",
        sampling_ratio=0.01,
        metrics_interval_seconds=15.0,
    )


@pytest.mark.parametrize(
    ("text", "complaint"),
    [
        ('[telemetry]\nexporter = "jaeger"\n', "exporter must be one of none, otlp, console"),
        ("[telemetry]\nsampling_ratio = 1.5\n", "sampling_ratio must be between 0 and 1"),
        ("[telemetry]\nmetrics_interval_seconds = 0\n", "metrics_interval_seconds must be above"),
        ('[telemetry]\nservice_name = ""\n', "service_name must not be empty"),
        ("[telemetry]\nsample = 0.5\n", "unknown key(s) in [telemetry]: sample"),
        ('[telemetry]\nsampling_ratio = "all"\n', "sampling_ratio must be float"),
    ],
)
def test_bad_values_are_refused(tmp_path: Path, text: str, complaint: str) -> None:
    with pytest.raises(ConfigError, match=re.escape(complaint)):
        load_config(_config(tmp_path, text))


def test_environment_overrides_the_table() -> None:
    table = TelemetryConfig(exporter="otlp", endpoint="http://table:4317", sampling_ratio=0.5)
    settings = resolve_settings(
        table,
        {
            "OTEL_TRACES_EXPORTER": "console",
            "OTEL_METRICS_EXPORTER": "none",
            "OTEL_TRACES_SAMPLER": "parentbased_traceidratio",
            "OTEL_TRACES_SAMPLER_ARG": "0.01",
            "OTEL_METRIC_EXPORT_INTERVAL": "5000",
            "OTEL_EXPORTER_OTLP_ENDPOINT": "http://environment:4317",
            "OTEL_SERVICE_NAME": "i2c-gateway",
        },
    )
    assert settings == TelemetrySettings(
        traces_exporter="console",
        metrics_exporter="none",
        endpoint=None,  # the exporter reads OTEL_EXPORTER_OTLP_ENDPOINT itself
        sampling_ratio=0.01,
        metrics_interval_seconds=5.0,
        service_name="i2c-gateway",
    )


@pytest.mark.parametrize(
    ("sampler", "ratio"),
    [("parentbased_always_on", 1.0), ("parentbased_always_off", 0.0)],
)
def test_fixed_samplers(sampler: str, ratio: float) -> None:
    settings = resolve_settings(
        TelemetryConfig(sampling_ratio=0.3), {"OTEL_TRACES_SAMPLER": sampler}
    )
    assert settings.sampling_ratio == ratio


def test_sdk_disabled_wins() -> None:
    settings = resolve_settings(
        TelemetryConfig(exporter="otlp"),
        {"OTEL_SDK_DISABLED": "true", "OTEL_TRACES_EXPORTER": "otlp"},
    )
    assert not settings.enabled


@pytest.mark.parametrize(
    ("environment", "complaint"),
    [
        ({"OTEL_TRACES_EXPORTER": "zipkin"}, "OTEL_TRACES_EXPORTER must be one of"),
        ({"OTEL_METRICS_EXPORTER": "otlp,console"}, "OTEL_METRICS_EXPORTER must be one of"),
        ({"OTEL_TRACES_SAMPLER": "always_on"}, "OTEL_TRACES_SAMPLER must be one of"),
        ({"OTEL_TRACES_SAMPLER_ARG": "lots"}, "OTEL_TRACES_SAMPLER_ARG must be a number"),
        ({"OTEL_TRACES_SAMPLER_ARG": "2"}, "OTEL_TRACES_SAMPLER_ARG must be between 0 and 1"),
        ({"OTEL_METRIC_EXPORT_INTERVAL": "0"}, "OTEL_METRIC_EXPORT_INTERVAL must be at least 1"),
    ],
)
def test_bad_variables_are_refused(environment: dict[str, str], complaint: str) -> None:
    with pytest.raises(ConfigError, match=complaint):
        resolve_settings(TelemetryConfig(), environment)


def test_console_export_records_spans_and_no_metrics() -> None:
    telemetry = Telemetry.from_settings(
        TelemetrySettings(traces_exporter="console", metrics_exporter="none"), "LOCAL"
    )
    try:
        assert telemetry.tracing
        assert not telemetry.metering
        span = telemetry.tracer.start_span("liaison.validate")
        assert span.is_recording()
        span.end()
        assert len(telemetry.server_interceptors()) == 1
    finally:
        telemetry.shutdown()
