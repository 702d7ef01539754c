"""Expiry everywhere a record went (issue 15): three real gateways in this process, on one
injected clock that the test moves (nothing sleeps). The i2c's person reaches Lyon and
Singapore; once the clock passes its ``expires_at`` no centre serves its content - before any
sweep, the receivers' gates already answer with an ``EXPIRED`` tombstone - and the i2c's keeper
withdraws it with reason ``EXPIRED``, a tombstone that every receiver stores and acknowledges.
The receivers' own keepers never withdraw another centre's record."""

from __future__ import annotations

import contextlib
import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from grpc import aio

from devkit.cluster import free_port
from gateway.config import CentreConfig, ServerConfig, StorageConfig
from gateway.federation.routing import RoutingRule
from gateway.federation.settings import FederationSettings
from gateway.server import Gateway
from liaison.v1 import exchange_pb2, federation_pb2, record_pb2
from tests.gateway.services.test_lifecycle import Clock
from tests.support.factories import person
from tests.support.polling import until
from tests.support.rpc import ExchangeStub
from tests.support.signing import CentreKey, centre_key, peer, signing_settings

I2C, LYON, SINGAPORE = "WCO-I2C", "INTERPOL-CCC-LYON", "INTERPOL-IGCI-SINGAPORE"
RECEIVERS = (LYON, SINGAPORE)
EXPIRED = record_pb2.WITHDRAWAL_REASON_EXPIRED
DELIVERED = federation_pb2.DELIVERY_STATE_DELIVERED
RECORD_ID = f"{I2C}:expiring:1"


def _config(
    root: Path, centre: str, ports: dict[str, int], keys: dict[str, CentreKey]
) -> CentreConfig:
    others = RECEIVERS if centre == I2C else (I2C,)
    return CentreConfig(
        centre_id=centre,
        server=ServerConfig(listen=f"127.0.0.1:{ports[centre]}", grace_seconds=1.0),
        storage=StorageConfig(
            path=root / centre / "gateway.db", synchronous="normal", writer="thread"
        ),
        federation=FederationSettings(
            signing=signing_settings(keys[centre]),
            peers=tuple(peer(keys[other], f"127.0.0.1:{ports[other]}") for other in others),
            routes=(
                (RoutingRule(peers=RECEIVERS, name="persons", kinds=frozenset({"person"})),)
                if centre == I2C
                else ()
            ),
            audit_path=root / centre / "audit.db",
        ),
    )


class Centres:
    """The three gateways, one clock, and a plaintext client of each (acting for its centre)."""

    def __init__(self, clock: Clock) -> None:
        self.clock = clock
        self.gateways: dict[str, Gateway] = {}
        self.channels: dict[str, aio.Channel] = {}

    async def start(self, config: CentreConfig) -> None:
        gateway = Gateway(config)
        await gateway.start()
        gateway.clock = self.clock
        self.gateways[config.centre_id] = gateway
        self.channels[config.centre_id] = aio.insecure_channel(gateway.address)

    def exchange(self, centre: str) -> ExchangeStub:
        return ExchangeStub(self.channels[centre])

    async def head(self, centre: str) -> record_pb2.Record | None:
        """The record as ``centre`` serves it, or None when it has none yet."""
        try:
            request = exchange_pb2.GetRequest(record_id=RECORD_ID)
            return (await self.exchange(centre).Get(request)).record
        except aio.AioRpcError:
            return None

    async def close(self) -> None:
        for channel in self.channels.values():
            await channel.close(None)
        for gateway in self.gateways.values():
            with contextlib.suppress(Exception):
                await gateway.stop(grace=0)


@pytest.fixture
async def centres(tmp_path: Path) -> AsyncIterator[Centres]:
    ports = {centre: free_port() for centre in (I2C, *RECEIVERS)}
    keys = {centre: centre_key(tmp_path / "keys", centre) for centre in ports}
    running = Centres(Clock(time.time_ns() // 1000))
    try:
        for centre in (*RECEIVERS, I2C):
            await running.start(_config(tmp_path, centre, ports, keys))
        yield running
    finally:
        await running.close()


async def _served_as_person_everywhere(centres: Centres) -> bool:
    heads = [await centres.head(centre) for centre in RECEIVERS]
    return all(head is not None and head.HasField("person") for head in heads)


async def _hits(exchange: ExchangeStub, family: str) -> list[str]:
    search = exchange.Search(exchange_pb2.SearchRequest(family_name=family))
    return [r.hit.record.record_id async for r in search if r.HasField("hit")]


async def _acknowledged(gateway: Gateway, version: int) -> set[str]:
    outbox = gateway.federation.outbox
    assert outbox is not None
    return {
        d.peer
        for d in await outbox.statuses(record_id=RECORD_ID)
        if d.version == version and d.state == DELIVERED
    }


async def test_an_expired_record_is_withdrawn_at_every_centre_it_went_to_and_never_served(
    centres: Centres,
) -> None:
    i2c = centres.gateways[I2C]
    ack = await centres.exchange(I2C).Submit(
        exchange_pb2.SubmitRequest(record=person(RECORD_ID, family="EXPIRING"))
    )
    await until(lambda: _served_as_person_everywhere(centres))
    stored = await centres.head(LYON)
    assert stored is not None
    expires_at_us = stored.expires_at.seconds * 1_000_000 + stored.expires_at.nanos // 1000
    assert expires_at_us > centres.clock.now_us, "the receivers got the origin's expiry date"

    # A microsecond before expiry every centre still serves it ...
    centres.clock.now_us = expires_at_us - 1
    for centre in (I2C, *RECEIVERS):
        head = await centres.head(centre)
        assert head is not None, centre
        assert head.HasField("person"), centre
    # ... at expiry none does, before any sweep: the gates answer with an EXPIRED tombstone and
    # Search finds nothing, at the receivers as at the origin.
    centres.clock.now_us = expires_at_us + 1
    for centre in (I2C, *RECEIVERS):
        head = await centres.head(centre)
        assert head is not None, centre
        assert (head.WhichOneof("body"), head.withdrawal.reason) == ("withdrawal", EXPIRED), centre
        assert await _hits(centres.exchange(centre), "EXPIRING") == [], centre
    for centre in RECEIVERS:
        report = await centres.gateways[centre].keeper.sweep()
        assert report.expired == (), f"{centre} withdrew a record it does not own"

    # The origin's keeper withdraws it: a tombstone at version 2, reason EXPIRED, that every
    # centre it went to stores and acknowledges.
    assert (await i2c.keeper.sweep()).expired == (RECORD_ID,)
    await until(lambda: _is_acknowledged_by_every_receiver(i2c, version=2))
    for centre in RECEIVERS:
        gateway = centres.gateways[centre]
        replica = await gateway.store.get(RECORD_ID)
        assert replica is not None
        assert (replica.version, replica.kind) == (2, "withdrawal"), centre
        for version in (0, 1, 2):
            request = exchange_pb2.GetRequest(record_id=RECORD_ID, version=version)
            served = (await centres.exchange(centre).Get(request)).record
            assert served.WhichOneof("body") == "withdrawal", (centre, version)
        head = await centres.head(centre)
        assert head is not None
        assert (head.version, head.withdrawal.reason) == (2, EXPIRED), centre
        assert head.withdrawal.withdrawn_version == ack.ack.version
    assert await _acknowledged(i2c, 1) == set(RECEIVERS)

    # Later still, nothing comes back: a further sweep withdraws nothing again.
    centres.clock.advance("1y")
    assert (await i2c.keeper.sweep()).expired == ()
    for centre in (I2C, *RECEIVERS):
        head = await centres.head(centre)
        assert head is not None, centre
        assert head.version == 2, centre
        assert await _hits(centres.exchange(centre), "EXPIRING") == [], centre


async def _is_acknowledged_by_every_receiver(gateway: Gateway, version: int) -> bool:
    return await _acknowledged(gateway, version) == set(RECEIVERS)
