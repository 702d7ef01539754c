"""Fixtures of the telemetry tests: a gateway whose spans and metrics stay in memory."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass

import pytest
from opentelemetry.sdk.metrics.export import InMemoryMetricReader
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter

from gateway.config import CentreConfig
from gateway.server import Gateway
from gateway.telemetry import Telemetry
from tests.conftest import TEST_CENTRE
from tests.telemetry.otlp_receiver import OtlpReceiver


@dataclass(frozen=True, slots=True)
class Recorded:
    """A telemetry object and where what it records ends up."""

    telemetry: Telemetry
    spans: InMemorySpanExporter
    metrics: InMemoryMetricReader


def recording(sampling_ratio: float = 1.0) -> Recorded:
    """Telemetry exporting synchronously to memory (through the privacy allowlist)."""
    spans = InMemorySpanExporter()
    metrics = InMemoryMetricReader()
    telemetry = Telemetry.create(
        TEST_CENTRE,
        span_exporter=spans,
        metric_reader=metrics,
        sampling_ratio=sampling_ratio,
        batch=False,
    )
    return Recorded(telemetry, spans, metrics)


@pytest.fixture
def sampling_ratio() -> float:
    """The gateway's sampling ratio (override in a test module to change it)."""
    return 1.0


@pytest.fixture
def recorded(sampling_ratio: float) -> Iterator[Recorded]:
    """In-memory telemetry, shut down after the test."""
    found = recording(sampling_ratio)
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
