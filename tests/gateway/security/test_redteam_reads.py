"""Red team: read paths where a record hidden from the caller is not yet absent.

Attacked through a real mutual-TLS gateway (the i2c) by a partner client acting for Lyon, beside
an operator client acting for the i2c itself.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from gateway.federation.routing import RoutingRule
from gateway.security.policy import Grant
from gateway.server import Gateway
from liaison.v1 import (
    exchange_pb2,
    exchange_pb2_grpc,
    federation_pb2,
    federation_pb2_grpc,
)
from tests.support.factories import person
from tests.support.mtls import LYON, SINGAPORE, Pki, channel, tls_gateway
from tests.support.polling import until
from tests.support.rpc import ExchangeStub

OPERATOR, PARTNER = "operator", "lyon-partner"
GRANTS = (
    Grant((f"urn:liaison:client:{OPERATOR}",), ("liaison.v1.*",)),
    # As the operator guide's example grants analysts: exchange and delivery status.
    Grant(
        (f"urn:liaison:client:{PARTNER}",),
        ("liaison.v1.RecordExchange/*", "liaison.v1.FederationAdmin/*"),
        acts_for=LYON,
    ),
)
# Everything to both peers (their addresses answer nothing: deliveries stay queued).
ROUTES = (RoutingRule(peers=(LYON, SINGAPORE), name="everything"),)


@pytest.fixture
async def gateway(tmp_path: Path, pki: Pki) -> AsyncIterator[Gateway]:
    async with tls_gateway(
        tmp_path, pki, GRANTS, peers=(LYON, SINGAPORE), routes=ROUTES
    ) as started:
        yield started


async def _deliveries(
    gateway: Gateway, pki: Pki, client: str, record_id: str = ""
) -> list[federation_pb2.DeliveryStatus]:
    async with channel(gateway, pki, pki.client(client)) as opened:
        response = await federation_pb2_grpc.FederationAdminStub(opened).ListDeliveries(
            federation_pb2.ListDeliveriesRequest(record_id=record_id)
        )
    return list(response.deliveries)


async def test_list_deliveries_shows_a_reader_only_what_it_may_see(
    gateway: Gateway, pki: Pki
) -> None:
    """WRONG: ``FederationAdmin.ListDeliveries`` is declared metadata-only and reads nothing
    through the gate, so a client acting for Lyon learns of records it may not see: the id,
    version and peers of an i2c record releasable only to Singapore - including a delivery to
    Lyon in state WITHHELD ("not releasable to this centre") - while Get answers NOT_FOUND for
    the same id. Asking with ``record_id`` makes it an oracle for any id.

    RIGHT: delivery states are records' metadata and obey need-to-know like every other door:
    to a caller acting for Lyon, a record it may not see has no deliveries (the answer is the
    one an absent record gets); the operator acting for the i2c still sees them all.
    """
    secret = person("for-singapore-only")
    secret.handling.releasable_to.append(SINGAPORE)
    async with channel(gateway, pki, pki.client(OPERATOR)) as operator:
        await exchange_pb2_grpc.RecordExchangeStub(operator).Submit(
            exchange_pb2.SubmitRequest(record=secret)
        )

    async def routed() -> bool:
        return len(await _deliveries(gateway, pki, OPERATOR, "for-singapore-only")) == 2

    await until(routed)
    assert await _deliveries(gateway, pki, PARTNER, "absent-id") == []
    assert await _deliveries(gateway, pki, PARTNER, "for-singapore-only") == []
    assert [d.record_id for d in await _deliveries(gateway, pki, PARTNER)] == []


async def test_caught_up_never_points_at_a_version_the_reader_may_no_longer_see(
    gateway: Gateway, pki: Pki
) -> None:
    """WRONG: a Subscribe "from now on" reports ``caught_up`` at the last version the reader
    may see, remembered per reader centre and only moved forward by later commits. When a record
    is then restricted (version 2 releasable only to Singapore), its version 1 becomes hidden
    from Lyon too, yet Lyon's next Subscribe reports ``caught_up`` at version 1's sequence - a
    version it may not see, and an answer that differs from the same store read afresh (after a
    restart the scan finds nothing visible and says 0).

    RIGHT: ``caught_up`` is the sequence of the last version the reader may see *now* (here 0:
    nothing is visible to Lyon), the same as if the restricted record had never existed.
    """
    async with (
        channel(gateway, pki, pki.client(OPERATOR)) as operator,
        channel(gateway, pki, pki.client(PARTNER)) as partner,
    ):
        exchange = exchange_pb2_grpc.RecordExchangeStub(operator)
        reader = exchange_pb2_grpc.RecordExchangeStub(partner)
        await exchange.Submit(exchange_pb2.SubmitRequest(record=person("later-restricted")))
        assert await _caught_up_from_now(reader) == 1
        restricted = person("later-restricted", family="RESTRICTED")
        restricted.handling.releasable_to.append(SINGAPORE)
        await exchange.Submit(exchange_pb2.SubmitRequest(record=restricted))
        assert await _caught_up_from_now(reader) == 0


async def _caught_up_from_now(reader: ExchangeStub) -> int:
    subscription = reader.Subscribe(exchange_pb2.SubscribeRequest())
    try:
        async for response in subscription:
            assert response.HasField("caught_up"), "nothing is committed after 'now'"
            return int(response.caught_up.sequence)
    finally:
        subscription.cancel()
    raise AssertionError("the subscription ended without caught_up")
