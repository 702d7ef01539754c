"""Choosing a pipeline: ``sdk`` is the stock SDK alone, ``fast`` falls back to it when the
installed OpenTelemetry no longer has what the fast pipeline relies on."""

from __future__ import annotations

import logging
import math
import subprocess
import sys
import textwrap

import pytest
from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter
from opentelemetry.sdk.metrics.export import ConsoleMetricExporter, PeriodicExportingMetricReader
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.sampling import ALWAYS_ON

from gateway.telemetry.fast import internals
from gateway.telemetry.fast.internals import PrivateName
from gateway.telemetry.metrics import SdkRecorder
from gateway.telemetry.pipeline import load_pipeline


def test_the_sdk_pipeline_builds_the_stock_pieces() -> None:
    pipeline = load_pipeline("sdk")
    assert pipeline.name == "sdk"
    provider = pipeline.tracer_provider(Resource.create({}), ALWAYS_ON)
    exporter = pipeline.otlp_span_exporter("http://127.0.0.1:1")
    reader = pipeline.metric_reader(ConsoleMetricExporter(), math.inf)
    try:
        # Exactly the SDK's classes, not subclasses of them.
        assert type(provider) is TracerProvider
        assert type(exporter) is OTLPSpanExporter
        assert type(reader) is PeriodicExportingMetricReader
        assert type(pipeline.recorder(reader)) is SdkRecorder
    finally:
        provider.shutdown()
        exporter.shutdown()
        reader.shutdown()


def test_with_the_sdk_pipeline_the_fast_package_is_never_imported() -> None:
    """An upgrade that breaks the fast package cannot affect a gateway that chose ``sdk``."""
    script = textwrap.dedent(
        """
        import sys
        from gateway.telemetry import Telemetry, TelemetrySettings
        settings = TelemetrySettings(
            traces_exporter="otlp",
            metrics_exporter="console",
            endpoint="http://127.0.0.1:1",
            sampler="always_off",  # nothing to send to that endpoint
            pipeline="sdk",
        )
        telemetry = Telemetry.from_settings(settings, "TEST")
        with telemetry.tracer.start_as_current_span("liaison.validate"):
            telemetry.metrics.rpc_server_duration.record(0.01)
        telemetry.shutdown()
        print(telemetry.pipeline, any(m.startswith("gateway.telemetry.fast") for m in sys.modules))
        """
    )
    run = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, timeout=60, check=True
    )
    assert run.stdout.splitlines()[-1].split() == ["sdk", "False"]


def test_the_fast_pipeline_is_fast_when_its_names_are_there() -> None:
    assert internals.problems() == []
    assert load_pipeline("fast").name == "fast"


def test_a_changed_private_name_falls_back_to_the_sdk_pipeline(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    real = internals.RELIED_ON[0]
    moved = PrivateName(real.module, real.owner, "_renamed", real.parameters, real.returns, "")
    monkeypatch.setattr(internals, "RELIED_ON", (moved,))
    with caplog.at_level(logging.WARNING, logger="gateway.telemetry.pipeline"):
        pipeline = load_pipeline("fast")
    assert pipeline.name == "sdk"
    assert f"{real.module}.{real.owner}._renamed is gone" in caplog.text
    assert 'pipeline = "sdk"' in caplog.text


def test_a_fast_package_that_no_longer_imports_falls_back(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    # A None entry makes the next import of the package fail, as a broken upgrade would.
    monkeypatch.delattr("gateway.telemetry.fast", raising=False)
    monkeypatch.setitem(sys.modules, "gateway.telemetry.fast", None)
    with caplog.at_level(logging.WARNING, logger="gateway.telemetry.pipeline"):
        pipeline = load_pipeline("fast")
    assert pipeline.name == "sdk"
    assert "the fast pipeline does not import (ModuleNotFoundError" in caplog.text


def test_an_unknown_pipeline_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown telemetry pipeline 'turbo'; known: fast, sdk"):
        load_pipeline("turbo")
