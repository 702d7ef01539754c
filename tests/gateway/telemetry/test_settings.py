"""The ``[telemetry]`` table and the ``OTEL_*`` variables that override it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from gateway.config import ConfigError, load_config
from gateway.telemetry import (
    Telemetry,
    TelemetryConfig,
    TelemetryConfigError,
    TelemetrySettings,
    resolve_settings,
)
from gateway.telemetry.settings import SAMPLERS


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
            'sampling_ratio = 0.01\nmetrics_interval_seconds = 15\npipeline = "sdk"\n',
        )
    )
    assert config.telemetry == TelemetryConfig(
        exporter="otlp",
        endpoint="http://collector:4317",
        sampling_ratio=0.01,
        metrics_interval_seconds=15.0,
        pipeline="sdk",
    )
    assert resolve_settings(config.telemetry, {}) == TelemetrySettings(
        traces_exporter="otlp",
        metrics_exporter="otlp",
        endpoint="http://collector:4317",
        sampler="parentbased_traceidratio",
        sampling_ratio=0.01,
        metrics_interval_seconds=15.0,
        pipeline="sdk",
    )


def test_the_fast_pipeline_is_the_default(tmp_path: Path) -> None:
    config = load_config(_config(tmp_path, '[telemetry]\nexporter = "otlp"\n'))
    assert config.telemetry.pipeline == "fast"
    assert resolve_settings(config.telemetry, {}).pipeline == "fast"
    # Telemetry switched off keeps the choice (nothing is built with it).
    disabled = resolve_settings(config.telemetry, {"OTEL_SDK_DISABLED": "true"})
    assert (disabled.enabled, disabled.pipeline) == (False, "fast")


@pytest.mark.parametrize(
    ("text", "complaint"),
    [
        ('[telemetry]\nexporter = "jaeger"\n', "exporter must be one of none, otlp, console"),
        ("[telemetry]\nsampling_ratio = 1.5\n", "sampling_ratio must be between 0 and 1"),
        ("[telemetry]\nmetrics_interval_seconds = 0\n", "metrics_interval_seconds must be above"),
        ('[telemetry]\nservice_name = ""\n', "service_name must not be empty"),
        ("[telemetry]\nsample = 0.5\n", "unknown key(s) in [telemetry]: sample"),
        ('[telemetry]\nsampling_ratio = "all"\n', "sampling_ratio must be float"),
        ('[telemetry]\npipeline = "turbo"\n', "pipeline must be one of fast, sdk, got 'turbo'"),
        ("[telemetry]\npipeline = 1\n", "pipeline must be str"),
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


@pytest.mark.parametrize("sampler", SAMPLERS)
def test_every_standard_sampler_is_accepted(sampler: str) -> None:
    settings = resolve_settings(
        TelemetryConfig(sampling_ratio=0.3),
        {"OTEL_TRACES_SAMPLER": sampler.upper(), "OTEL_TRACES_SAMPLER_ARG": "0.25"},
    )
    assert settings.sampler == sampler
    # The argument is the ratio of the ratio samplers; the others ignore it, as the spec says.
    assert settings.sampling_ratio == (0.25 if sampler.endswith("traceidratio") else 0.3)


def test_the_ratio_without_an_argument_is_the_table_s() -> None:
    settings = resolve_settings(
        TelemetryConfig(sampling_ratio=0.3), {"OTEL_TRACES_SAMPLER": "traceidratio"}
    )
    assert (settings.sampler, settings.sampling_ratio) == ("traceidratio", 0.3)


def test_an_argument_alone_is_the_default_sampler_s_ratio() -> None:
    settings = resolve_settings(TelemetryConfig(), {"OTEL_TRACES_SAMPLER_ARG": "0.05"})
    assert (settings.sampler, settings.sampling_ratio) == ("parentbased_traceidratio", 0.05)


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
        ({"OTEL_TRACES_SAMPLER": "sometimes"}, "OTEL_TRACES_SAMPLER must be one of"),
        ({"OTEL_TRACES_SAMPLER": "xray"}, "needs a remote sampling service"),
        (
            {"OTEL_TRACES_SAMPLER": "parentbased_jaeger_remote"},
            "needs a remote sampling service",
        ),
        (
            {"OTEL_TRACES_SAMPLER": "traceidratio", "OTEL_TRACES_SAMPLER_ARG": "-1"},
            "OTEL_TRACES_SAMPLER_ARG must be between 0 and 1",
        ),
        ({"OTEL_TRACES_SAMPLER_ARG": "lots"}, "OTEL_TRACES_SAMPLER_ARG must be a number"),
        ({"OTEL_TRACES_SAMPLER_ARG": "2"}, "OTEL_TRACES_SAMPLER_ARG must be between 0 and 1"),
        ({"OTEL_METRIC_EXPORT_INTERVAL": "0"}, "OTEL_METRIC_EXPORT_INTERVAL must be at least 1"),
    ],
)
def test_bad_variables_are_refused(environment: dict[str, str], complaint: str) -> None:
    with pytest.raises(TelemetryConfigError, match=complaint):
        resolve_settings(TelemetryConfig(), environment)


def test_console_export_records_spans_and_no_metrics(pipeline: str) -> None:
    telemetry = Telemetry.from_settings(
        TelemetrySettings(traces_exporter="console", metrics_exporter="none", pipeline=pipeline),
        "LOCAL",
    )
    try:
        assert telemetry.pipeline == pipeline
        assert telemetry.tracing
        assert not telemetry.metering
        span = telemetry.tracer.start_span("liaison.validate")
        assert span.is_recording()
        span.end()
        assert len(telemetry.server_interceptors()) == 1
    finally:
        telemetry.shutdown()
