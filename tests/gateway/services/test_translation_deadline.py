"""Ingest stores nothing for a caller whose deadline has passed, even before gRPC cancels it.

gRPC cancels the handler of an expired call, but that cancellation reaches the event loop
through the completion queue and may arrive after the adapter's result does. These tests call
the servicer directly with a context in each state, so the order is not left to the machine.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import grpc
import pytest

from gateway.config import LimitsConfig
from gateway.security.gate import RecordGate
from gateway.security.visibility import NeedToKnow
from gateway.services.translation import TranslationService
from gateway.store import SqliteRecordStore
from liaison.v1 import translation_pb2
from tests.support.store import db_path, open_store
from tests.support.translation_adapters import lines, lines_registry


class Aborted(Exception):
    """What the fake context raises on abort, as grpc.aio does."""

    def __init__(self, status: grpc.Status) -> None:
        super().__init__(status.details)
        self.status = status


class FakeContext:
    """The parts of a servicer context that Ingest reads, in a chosen state."""

    def __init__(self, *, remaining: float | None, cancelled: bool = False) -> None:
        self._remaining = remaining
        self._cancelled = cancelled

    def time_remaining(self) -> float | None:
        return self._remaining

    def cancelled(self) -> bool:
        return self._cancelled

    async def abort_with_status(self, status: grpc.Status) -> None:
        raise Aborted(status)

    def __getattr__(self, name: str) -> Any:
        raise AssertionError(f"Ingest used context.{name}, which this fake does not model")


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SqliteRecordStore]:
    async with open_store(db_path(tmp_path)) as opened:
        yield opened


@pytest.fixture
async def service(store: SqliteRecordStore) -> AsyncIterator[TranslationService]:
    translation = TranslationService(
        registry=lines_registry(),
        store=store,
        gate=RecordGate(store, NeedToKnow("TEST-CENTRE")),
        centre_id="TEST-CENTRE",
        limits=LimitsConfig(),
    )
    yield translation
    await translation.close()


REQUEST = translation_pb2.IngestRequest(
    adapter="lines", payload=lines("DOE;JANE;1980-01-02", "ROE;RICHARD;1975")
)


@pytest.mark.parametrize(
    ("remaining", "cancelled"),
    [(-0.001, False), (0.0, False), (5.0, True)],
    ids=["deadline-passed", "deadline-now", "cancelled"],
)
async def test_an_expired_or_cancelled_call_stores_nothing(
    service: TranslationService, store: SqliteRecordStore, remaining: float, cancelled: bool
) -> None:
    context = FakeContext(remaining=remaining, cancelled=cancelled)

    with pytest.raises(Aborted) as aborted:
        await service.Ingest(REQUEST, context)  # type: ignore[arg-type]

    assert aborted.value.status.code == grpc.StatusCode.DEADLINE_EXCEEDED
    assert aborted.value.status.details == (
        "the deadline passed while the adapter decoded the payload; nothing was stored"
    )
    assert await store.last_sequence() == 0


@pytest.mark.parametrize("remaining", [None, 5.0], ids=["no-deadline", "time-left"])
async def test_a_call_with_time_left_is_stored(
    service: TranslationService, store: SqliteRecordStore, remaining: float | None
) -> None:
    response = await service.Ingest(REQUEST, FakeContext(remaining=remaining))  # type: ignore[arg-type]

    assert [ack.sequence for ack in response.acks] == [1, 2]
    assert await store.last_sequence() == 2
