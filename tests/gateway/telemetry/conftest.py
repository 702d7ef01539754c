"""Fixtures of the telemetry tests: a gateway whose spans and metrics stay in memory.

Every test that takes ``recorded`` (or ``pipeline``) runs once per telemetry pipeline, ``fast``
and ``sdk``: what the gateway records must not depend on which one records it.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass

import pytest
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from gateway.config import CentreConfig
from gateway.server import Gateway
from gateway.telemetry import Telemetry
from gateway.telemetry.settings import DEFAULT_SAMPLER, PIPELINES
from tests.conftest import TEST_CENTRE
from tests.gateway.telemetry.metric_points import CollectedMetrics
from tests.gateway.telemetry.otlp_receiver import OtlpReceiver


@dataclass(frozen=True, slots=True)
class Recorded:
    """A telemetry object and where what it records ends up."""

    telemetry: Telemetry
    spans: InMemorySpanExporter
    metrics: CollectedMetrics


def recording(
    sampling_ratio: float = 1.0, *, pipeline: str = "fast", sampler: str = DEFAULT_SAMPLER
) -> Recorded:
    """Telemetry of ``pipeline`` exporting spans synchronously to memory (through the privacy
    allowlist), and metrics to memory when the test collects them."""
    spans = InMemorySpanExporter()
    metrics = CollectedMetrics(pipeline)
    telemetry = Telemetry.create(
        TEST_CENTRE,
        span_exporter=spans,
        metric_reader=metrics.reader,
        sampler=sampler,
        sampling_ratio=sampling_ratio,
        batch=False,
        pipeline=pipeline,
    )
    assert telemetry.pipeline == pipeline, "the pipeline under test fell back: see the log"
    return Recorded(telemetry, spans, metrics)


@pytest.fixture(params=PIPELINES)
def pipeline(request: pytest.FixtureRequest) -> str:
    """The telemetry pipeline under test: ``fast``, then ``sdk``."""
    name: str = request.param
    return name


@pytest.fixture
def sampling_ratio() -> float:
    """The gateway's sampling ratio (override in a test module to change it)."""
    return 1.0


@pytest.fixture
def recorded(sampling_ratio: float, pipeline: str) -> Iterator[Recorded]:
    """In-memory telemetry of ``pipeline``, shut down after the test."""
    found = recording(sampling_ratio, pipeline=pipeline)
    try:
        yield found
    finally:
        found.telemetry.shutdown()


@pytest.fixture
async def gateway(gateway_config: CentreConfig, recorded: Recorded) -> AsyncIterator[Gateway]:
    """A started gateway recording into ``recorded``."""
    server = Gateway(gateway_config, telemetry=recorded.telemetry)
    await server.start()
    try:
        yield server
    finally:
        await server.stop(grace=0)


@pytest.fixture
async def receiver() -> AsyncIterator[OtlpReceiver]:
    """An OTLP receiver on loopback, in this test's event loop."""
    found = OtlpReceiver()
    await found.start()
    try:
        yield found
    finally:
        await found.stop()
