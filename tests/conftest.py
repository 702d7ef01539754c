"""Fixtures shared by every test: a real gateway on an ephemeral loopback port with a temp store.

The store is SQLite unless the test runs on PostgreSQL: a module marked ``both_backends`` runs
each of its tests that use a gateway once per backend (``storage_backend``), on the same code -
parametrized, not copied. The PostgreSQL runs take a schema of their own in the run's database
(``tests/support/postgresql.py``), and skip where no server answers (fail under ``.ci/run``).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import pytest
from grpc import aio

from gateway.config import CentreConfig, LimitsConfig, ServerConfig, StorageConfig
from gateway.screening.settings import ScreeningSettings
from gateway.server import Gateway
from tests.support.mtls import Pki
from tests.support.postgresql import postgresql_database, postgresql_storage
from tests.support.rpc import ExchangeStub

__all__ = ["postgresql_database"]  # a fixture: the run's PostgreSQL database (created on demand)

TEST_CENTRE = "TEST-CENTRE"
BACKENDS = ("sqlite", "postgresql")
"""The values of ``storage_backend``: the stores every gateway test marked ``both_backends``
runs on."""


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


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    """Tests of a ``both_backends`` module that reach ``storage_backend`` run on every backend."""
    if "storage_backend" in metafunc.fixturenames and metafunc.definition.get_closest_marker(
        "both_backends"
    ):
        metafunc.parametrize("storage_backend", BACKENDS, indirect=True)


@pytest.fixture
def storage_backend(request: pytest.FixtureRequest) -> str:
    """The backend of the ``gateway`` fixture's store: SQLite unless parametrized."""
    return str(getattr(request, "param", "sqlite"))


@pytest.fixture
def gateway_storage(
    tmp_path: Path, storage_backend: str, request: pytest.FixtureRequest
) -> StorageConfig:
    """The ``[storage]`` table of the test's gateway, on the backend of ``storage_backend``."""
    sqlite = make_config(tmp_path).storage
    if storage_backend == "sqlite":
        return sqlite
    # Only PostgreSQL runs need the server: asking for the database here, not in the signature,
    # keeps the SQLite runs free of it.
    return postgresql_storage(request.getfixturevalue("postgresql_database"), sqlite)


@pytest.fixture
def gateway_config(tmp_path: Path, gateway_storage: StorageConfig) -> CentreConfig:
    """The configuration the ``gateway`` fixture runs with."""
    return replace(make_config(tmp_path), storage=gateway_storage)


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
