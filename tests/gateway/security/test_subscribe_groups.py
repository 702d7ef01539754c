"""Subscribe's shared fan-out keeps readers apart: through a real mutual-TLS gateway, live
subscribers acting for different centres each receive only what their centre may see, and what
the shared filtering hid is audited for every caller it was hidden from, under its own name."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import AsyncExitStack
from pathlib import Path
from typing import Any

import pytest

from gateway.security.policy import Grant
from gateway.server import Gateway
from liaison.v1 import exchange_pb2, exchange_pb2_grpc, record_pb2
from tests.support.factories import person
from tests.support.mtls import LYON, SINGAPORE, Pki, audit_entries, channel, tls_gateway
from tests.support.polling import until

OPERATOR = "operator"
LYON_A, LYON_B, SINGAPORE_A = "lyon-a", "lyon-b", "singapore-a"
GRANTS = (
    Grant((f"urn:liaison:client:{OPERATOR}",), ("liaison.v1.*",)),
    *(
        Grant((f"urn:liaison:client:{name}",), ("liaison.v1.RecordExchange/*",), acts_for=centre)
        for name, centre in ((LYON_A, LYON), (LYON_B, LYON), (SINGAPORE_A, SINGAPORE))
    ),
)


@pytest.fixture
async def gateway(tmp_path: Path, pki: Pki) -> AsyncIterator[Gateway]:
    async with tls_gateway(tmp_path, pki, GRANTS) as started:
        yield started


def _releasable(record_id: str, *centres: str) -> record_pb2.Record:
    record = person(record_id)
    record.handling.releasable_to.extend(centres)
    return record


async def _read_ids(call: Any, count: int) -> list[str]:
    ids: list[str] = []
    while len(ids) < count:
        response = await call.read()
        ids += [event.record.record_id for event in response.record_events.events]
    return ids


async def test_live_subscribers_of_different_centres_never_see_each_others_records(
    gateway: Gateway, pki: Pki
) -> None:
    async with AsyncExitStack() as stack:
        calls = {}
        for name in (LYON_A, LYON_B, SINGAPORE_A):
            opened = await stack.enter_async_context(channel(gateway, pki, pki.client(name)))
            call = exchange_pb2_grpc.RecordExchangeStub(opened).Subscribe(
                exchange_pb2.SubscribeRequest(max_events_per_response=100)
            )
            first = await call.read()
            assert isinstance(first, exchange_pb2.SubscribeResponse)
            assert first.HasField("caught_up")
            calls[name] = call
        # The two callers acting for Lyon share a group: filtered once, for both.
        # Subscribe's groups only (events=True): the forwarder follows the feed too, with
        # stream(), in a group of its own that joins when it has caught up.
        subscribe_groups = [
            group for group in gateway.feed.fan_out._groups.values() if group.filters.events
        ]
        assert sorted(len(group.members) for group in subscribe_groups) == [1, 2]
        operator = await stack.enter_async_context(channel(gateway, pki, pki.client(OPERATOR)))
        exchange = exchange_pb2_grpc.RecordExchangeStub(operator)
        for record in (
            _releasable("for-lyon", LYON),
            _releasable("for-singapore", SINGAPORE),
            _releasable("for-both", LYON, SINGAPORE),
            _releasable("for-lyon-2", LYON),
        ):
            await exchange.Submit(exchange_pb2.SubmitRequest(record=record))
        for name in (LYON_A, LYON_B):
            assert await _read_ids(calls[name], 3) == ["for-lyon", "for-both", "for-lyon-2"]
        assert await _read_ids(calls[SINGAPORE_A], 2) == ["for-singapore", "for-both"]
        for call in calls.values():
            call.cancel()

    def denied_to(name: str) -> list[str]:
        return [
            record_id
            for entry in audit_entries(gateway)
            if entry["action"] == "deny" and entry["actor"].endswith(f":{name}")
            for record_id in entry["record_ids"]
        ]

    def streams_audited() -> bool:
        return [e["action"] for e in audit_entries(gateway)].count("subscribe") == 3

    await until(streams_audited)
    # Each caller is audited for what was kept from it, under its own name, once.
    assert denied_to(LYON_A) == ["for-singapore"]
    assert denied_to(LYON_B) == ["for-singapore"]
    assert denied_to(SINGAPORE_A) == ["for-lyon", "for-lyon-2"]
