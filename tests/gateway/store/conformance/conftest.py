"""The store conformance suite: what every :class:`~gateway.store.RecordStore` setup must do.

Every test here gets its stores from ``store_factory``, the one fixture that knows the backend:
the suite runs once per entry of :data:`STORE_SETUPS`. A new backend (or writer) passes the suite
by adding one entry there; nothing else in the suite names a backend. Tests use the
``RecordStore`` interface only: counting transactions through commit listeners, never rows.
"""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import pytest

from gateway.store import (
    PreparationRefused,
    RecordStore,
    StoredRecord,
    WriteOutcome,
    create_store,
)
from gateway.store.preparation import prepare_submission
from gateway.store.settings import StorageConfig
from tests.support.postgresql import unique_schema


@dataclass(frozen=True, slots=True)
class StoreSetup:
    """One way of running a store: its ``[storage]`` settings, less the path."""

    id: str
    storage: StorageConfig


STORE_SETUPS = (
    # "normal" keeps the suite fast; durability across a crash is tested with the default.
    StoreSetup("sqlite-thread", StorageConfig(synchronous="normal", writer="thread")),
    StoreSetup("sqlite-process", StorageConfig(synchronous="normal", writer="process")),
    # One database per run on the test server, one schema per store (tests/support/postgresql).
    StoreSetup("postgresql", StorageConfig(backend="postgresql")),
)


class StoreFactory:
    """Makes the stores of one test, all in its temporary folder, with one setup."""

    def __init__(self, setup: StoreSetup, directory: Path, dsn: str = "") -> None:
        self.setup = setup
        self._directory = directory
        self._dsn = dsn
        self._schemas: dict[str, str] = {}

    def create(self, name: str = "store", *, max_batch_records: int = 2048) -> RecordStore:
        """An unopened store; the same ``name`` is the same stored data."""
        storage = dataclasses.replace(
            self.setup.storage,
            path=self._directory / name / "liaison.db",
            max_batch_records=max_batch_records,
        )
        if storage.backend == "postgresql":
            schema = self._schemas.setdefault(name, unique_schema(name))
            storage = dataclasses.replace(storage, dsn=self._dsn, schema=schema)
        return create_store(storage)

    @asynccontextmanager
    async def opened(
        self, name: str = "store", *, max_batch_records: int = 2048
    ) -> AsyncIterator[RecordStore]:
        """An opened store, closed on exit."""
        store = self.create(name, max_batch_records=max_batch_records)
        await store.open()
        try:
            yield store
        finally:
            await store.close()


@pytest.fixture(params=STORE_SETUPS, ids=[setup.id for setup in STORE_SETUPS])
def store_factory(request: pytest.FixtureRequest, tmp_path: Path) -> StoreFactory:
    """The stores of one setup (the test runs once per setup)."""
    setup: StoreSetup = request.param
    if setup.storage.backend == "postgresql":
        dsn: str = request.getfixturevalue("postgresql_database")
        return StoreFactory(setup, tmp_path, dsn)
    return StoreFactory(setup, tmp_path)


@pytest.fixture
async def store(store_factory: StoreFactory) -> AsyncIterator[RecordStore]:
    """An opened store of the setup under test."""
    async with store_factory.opened() as opened:
        yield opened


class Commits:
    """What a commit listener heard: the record ids of each commit that stored new versions."""

    def __init__(self) -> None:
        self.transactions: list[list[str]] = []

    def __call__(self, records: Sequence[StoredRecord]) -> None:
        self.transactions.append([record.record_id for record in records])


@pytest.fixture
def commits(store: RecordStore) -> Commits:
    """The commits of ``store`` from now on (one entry per transaction that stored something)."""
    heard = Commits()
    store.add_commit_listener(heard)
    return heard


Preparation = Literal["writer", "inline"]


@pytest.fixture(params=["writer", "inline"])
def preparation(request: pytest.FixtureRequest) -> Preparation:
    """Where a Submit's record is prepared (``[storage] preparation``)."""
    chosen: Preparation = request.param
    return chosen


async def submit(
    store: RecordStore, preparation: Preparation, request: bytes, centre_id: str
) -> WriteOutcome | PreparationRefused:
    """Store a serialized ``SubmitRequest`` as the exchange service does with ``preparation``:
    prepared where the store writes, or on the event loop and then written."""
    if preparation == "writer":
        result = await store.prepare_and_write(request, centre_id)
        return result if isinstance(result, PreparationRefused) else result.outcome
    prepared = prepare_submission(request, centre_id)
    if isinstance(prepared, PreparationRefused):
        return prepared
    [outcome] = await store.write([prepared])
    return outcome
