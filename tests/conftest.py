"""Fixtures shared by every test: a real gateway on an ephemeral loopback port with a temp store."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from grpc import aio

from gateway.config import CentreConfig, LimitsConfig, ServerConfig, StorageConfig
from gateway.screening.settings import ScreeningSettings
from gateway.server import Gateway
from tests.support.mtls import Pki
from tests.support.rpc import ExchangeStub

TEST_CENTRE = "TEST-CENTRE"


def make_config(tmp_path: Path, **limits: int) -> CentreConfig:
    """A configuration for a test gateway: loopback, port 0, store under ``tmp_path``."""
    return CentreConfig(
        centre_id=TEST_CENTRE,
        server=ServerConfig(listen="127.0.0.1:0", grace_seconds=1.0),
        # "normal" keeps the suite fast; durability across a crash is tested with the default.
        storage=StorageConfig(path=tmp_path / "gateway.db", synchronous="normal"),
        limits=LimitsConfig(**limits),
        # The index on a thread: no worker process to start per gateway. The process (the
        # default) is tested in tests/gateway/services/test_screening_worker.py and the faults.
        screening=ScreeningSettings(worker="thread"),
    )


@pytest.fixture
def gateway_config(tmp_path: Path) -> CentreConfig:
    """The configuration the ``gateway`` fixture runs with."""
    return make_config(tmp_path)


@pytest.fixture
async def gateway(gateway_config: CentreConfig) -> AsyncIterator[Gateway]:
    """A started gateway; stopped (and its store closed) after the test."""
    server = Gateway(gateway_config)
    await server.start()
    try:
        yield server
    finally:
        await server.stop(grace=0)


@pytest.fixture
async def channel(gateway: Gateway) -> AsyncIterator[aio.Channel]:
    """An asyncio channel to the ``gateway`` fixture."""
    async with aio.insecure_channel(gateway.address) as opened:
        yield opened


@pytest.fixture
def exchange(channel: aio.Channel) -> ExchangeStub:
    """A RecordExchange stub on ``channel``."""
    return ExchangeStub(channel)


@pytest.fixture
def pki(tmp_path: Path) -> Pki:
    """A fresh CA with the i2c's, Lyon's and Singapore's centre certificates (mutual-TLS tests)."""
    return Pki(tmp_path)
