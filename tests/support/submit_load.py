"""Submit under load, as a client that retries: what was acknowledged, what failed and how.

Used where a gateway (or a replica) goes away under load - its database cut, its process killed -
and the test must then prove that nothing acknowledged was lost. Each record is sent until it
is acknowledged (Submit is idempotent: a retry of a record that was in fact stored comes back as
a duplicate with the original acknowledgement), and every failed attempt's status is kept.
"""

from __future__ import annotations

import asyncio
import itertools
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import grpc
from grpc import aio

from liaison.v1 import exchange_pb2
from tests.support.factories import person
from tests.support.rpc import ExchangeStub

__all__ = ["SubmitLoad"]

CALL_TIMEOUT_SECONDS = 20.0
"""A call that hangs fails the test as DEADLINE_EXCEEDED rather than hanging it."""


@dataclass
class SubmitLoad:
    """``in_flight`` concurrent Submits of fresh records ``<prefix>-<n>`` through ``stubs``.

    Attempts go round the stubs (one per replica, or one stub over a ``round_robin`` channel);
    a failed attempt is retried on the next stub after ``retry_pause`` seconds.
    """

    stubs: Sequence[ExchangeStub]
    prefix: str
    in_flight: int = 64
    retry_pause: float = 0.05
    acks: dict[str, exchange_pb2.SubmitAck] = field(default_factory=dict)
    """The acknowledgement of each record, by record id, with ``duplicate`` cleared (the call
    that stored the record and every retry of it must be answered alike)."""
    failures: Counter[grpc.StatusCode] = field(default_factory=Counter)
    """Failed attempts by status code."""
    retried: dict[str, exchange_pb2.SubmitAck] = field(default_factory=dict)
    """Records acknowledged after at least one failed attempt, with that acknowledgement
    (``duplicate`` when the failed attempt had in fact stored the record)."""
    on_ack: Callable[[str], None] | None = None
    _numbers: itertools.count[int] = field(default_factory=itertools.count)
    _turn: itertools.count[int] = field(default_factory=itertools.count)

    def record_id(self, number: int) -> str:
        return f"{self.prefix}-{number}"

    async def run(self, stop: asyncio.Event) -> None:
        """Submit until ``stop`` is set; every record started is acknowledged before returning."""
        await asyncio.gather(*(self._worker(stop) for _ in range(self.in_flight)))

    async def _worker(self, stop: asyncio.Event) -> None:
        while not stop.is_set():
            record_id = self.record_id(next(self._numbers))
            await self.submit_until_acknowledged(record_id)

    async def submit_until_acknowledged(self, record_id: str) -> exchange_pb2.SubmitAck:
        """Send the record (always the same content) until a replica acknowledges it."""
        request = exchange_pb2.SubmitRequest(record=person(record_id, family="LOAD"))
        failed = False
        while True:
            stub = self.stubs[next(self._turn) % len(self.stubs)]
            try:
                response = await stub.Submit(request, timeout=CALL_TIMEOUT_SECONDS)
            except aio.AioRpcError as error:
                self.failures[error.code()] += 1
                failed = True
                await asyncio.sleep(self.retry_pause)
                continue
            if failed:
                self.retried[record_id] = response.ack
            ack = exchange_pb2.SubmitAck()
            ack.CopyFrom(response.ack)
            ack.duplicate = False
            self.acks.setdefault(record_id, ack)
            if self.on_ack is not None:
                self.on_ack(record_id)
            return response.ack

    async def send_again(self) -> list[exchange_pb2.SubmitAck]:
        """Send every acknowledged record again (``in_flight`` at a time); the answers."""
        slots = asyncio.Semaphore(self.in_flight)

        async def again(record_id: str) -> exchange_pb2.SubmitAck:
            async with slots:
                return await self.submit_until_acknowledged(record_id)

        return list(await asyncio.gather(*(again(record_id) for record_id in list(self.acks))))

    @property
    def acknowledged(self) -> int:
        return len(self.acks)
