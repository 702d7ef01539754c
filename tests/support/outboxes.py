"""Outboxes on both backends, for the tests that hold of every outbox: ``outbox_backend`` is
parametrized ``sqlite`` / ``postgresql``, and :class:`OutboxMaker` opens outboxes on it.

Every outbox a maker opens is on the same state (the same file, or the same PostgreSQL schema of
the run's database, see :mod:`tests.support.postgresql`): reopening finds what was left, and two
outboxes opened at once are two replicas sharing it. PostgreSQL tests skip (or fail under
``LIAISON_REQUIRE_POSTGRESQL=1``) where no server answers.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from gateway.federation.outbox import Backoff, Outbox
from gateway.federation.postgresql_outbox import DEFAULT_LEASE_SECONDS, PostgresOutbox
from gateway.federation.sqlite_outbox import SqliteOutbox
from tests.support.postgresql import unique_schema

__all__ = ["BACKENDS", "OutboxMaker", "outbox_backend", "outbox_maker"]

BACKENDS = ("sqlite", "postgresql")


class OutboxMaker:
    """Opens outboxes on one backend's state; closes whatever it opened."""

    def __init__(self, backend: str, tmp_path: Path, dsn: str = "", schema: str = "") -> None:
        self.backend = backend
        self.path = tmp_path / "outbox.db"
        self.dsn = dsn
        self.schema = schema
        self._opened: list[Outbox] = []

    def new(
        self,
        backoff: Backoff | None = None,
        *,
        seed: int | None = None,
        lease_seconds: float = DEFAULT_LEASE_SECONDS,
    ) -> Outbox:
        """An unopened outbox on the shared state (the caller opens it)."""
        outbox: Outbox
        if self.backend == "postgresql":
            outbox = PostgresOutbox(
                self.dsn, backoff, schema=self.schema, lease_seconds=lease_seconds, seed=seed
            )
        else:
            outbox = SqliteOutbox(self.path, backoff, seed=seed)
        self._opened.append(outbox)
        return outbox

    async def open(self, backoff: Backoff | None = None, *, seed: int | None = None) -> Outbox:
        """An opened outbox on the shared state."""
        outbox = self.new(backoff, seed=seed)
        await outbox.open()
        return outbox

    async def close_all(self) -> None:
        for outbox in self._opened:
            await outbox.close()


@pytest.fixture(params=BACKENDS)
def outbox_backend(request: pytest.FixtureRequest) -> str:
    """``sqlite`` or ``postgresql``."""
    return str(request.param)


@pytest.fixture
async def outbox_maker(
    outbox_backend: str, tmp_path: Path, request: pytest.FixtureRequest
) -> AsyncIterator[OutboxMaker]:
    """An :class:`OutboxMaker` on ``outbox_backend`` (a schema of its own on PostgreSQL)."""
    dsn = ""
    if outbox_backend == "postgresql":
        dsn = request.getfixturevalue("postgresql_database")
    maker = OutboxMaker(outbox_backend, tmp_path, dsn, unique_schema(request.node.name))
    yield maker
    await maker.close_all()
