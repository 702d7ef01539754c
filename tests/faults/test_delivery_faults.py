"""Delivery faults (issue 12, items 1, 2 and 8a), each made real where it can be: an audit log
whose SQLite file is full (``PRAGMA max_page_count`` on the log's own connection: SQLite's
"database or disk is full"), an outbox that refuses writes (``PRAGMA query_only``), a peer that
is down for ten minutes (an injected clock), a peer whose certificate is not trusted, a peer
that is not listening. ``tests/faults/README.md`` lists which test proves what.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from pathlib import Path

import pytest
from grpc import aio
from grpc_health.v1 import health, health_pb2_grpc

import gateway.audit.log as audit_log_module
from devkit.cluster import free_port
from gateway.audit.log import AuditLog, iter_stored, verify_file
from gateway.config import CentreConfig, ServerConfig, StorageConfig
from gateway.federation.forwarder import Forwarder, PeerUnavailableError
from gateway.federation.outbox import Backoff
from gateway.federation.routing import RoutingRule, h2_permission
from gateway.federation.settings import FederationSettings
from gateway.federation.sqlite_outbox import SqliteOutbox
from gateway.security.certs import CertificateAuthority
from gateway.security.gate import RecordGate
from gateway.security.policy import Grant
from gateway.security.tls import TlsConfig, channel_credentials, peer_channel_options
from gateway.security.tls import server_credentials as tls_server_credentials
from gateway.security.visibility import NeedToKnow
from gateway.server import Gateway
from gateway.store import SqliteRecordStore
from gateway.store.feed import CommitFeed
from liaison.rules.intake import prepare_record
from liaison.v1 import exchange_pb2, federation_pb2, federation_pb2_grpc, record_pb2
from tests.support.factories import person
from tests.support.mtls import Pki
from tests.support.polling import until
from tests.support.signing import CentreKey, centre_key, peer, signing_settings

I2C, LYON, SINGAPORE = "WCO-I2C", "INTERPOL-CCC-LYON", "INTERPOL-IGCI-SINGAPORE"
FEDERATION = federation_pb2.DESCRIPTOR.services_by_name["Federation"].full_name
ADMIN = federation_pb2.DESCRIPTOR.services_by_name["FederationAdmin"].full_name
S = federation_pb2

# -- a full audit log --------------------------------------------------------------------------


class AuditFiles:
    """The connections the audit logs write with, by file, to make a log's file full."""

    def __init__(self) -> None:
        self.connections: dict[Path, sqlite3.Connection] = {}

    def full(self, path: Path) -> None:
        """No page may be added any more: the next entry that needs one fails with SQLite's
        "database or disk is full" (max_page_count is clamped to the file's current size)."""
        self.connections[path].execute("PRAGMA max_page_count = 1")

    def space_again(self, path: Path) -> None:
        self.connections[path].execute("PRAGMA max_page_count = 1073741823")


@pytest.fixture
def audit_files(monkeypatch: pytest.MonkeyPatch) -> AuditFiles:
    files = AuditFiles()
    connect = audit_log_module._connect

    def recording(path: Path) -> sqlite3.Connection:
        connection = connect(path)
        files.connections[path] = connection
        return connection

    monkeypatch.setattr(audit_log_module, "_connect", recording)
    return files


def _config(
    root: Path,
    centre: str,
    port: int,
    keys: dict[str, CentreKey],
    other: str,
    other_port: int,
    *,
    forwards: bool,
) -> CentreConfig:
    return CentreConfig(
        centre_id=centre,
        server=ServerConfig(listen=f"127.0.0.1:{port}", grace_seconds=1.0),
        storage=StorageConfig(
            path=root / centre / "gateway.db", synchronous="normal", writer="thread"
        ),
        federation=FederationSettings(
            signing=signing_settings(keys[centre]),
            peers=(peer(keys[other], f"127.0.0.1:{other_port}"),),
            routes=(RoutingRule(peers=(other,), name="everything"),) if forwards else (),
            audit_path=root / centre / "audit.db",
        ),
    )


class Pair:
    """The i2c forwarding everything to Lyon: two real gateways on loopback, in this process."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.ports = {I2C: free_port(), LYON: free_port()}
        keys = {centre: centre_key(root / "keys", centre) for centre in self.ports}
        self.configs = {
            I2C: _config(root, I2C, self.ports[I2C], keys, LYON, self.ports[LYON], forwards=True),
            LYON: _config(root, LYON, self.ports[LYON], keys, I2C, self.ports[I2C], forwards=False),
        }
        self.gateways: dict[str, Gateway] = {}

    async def start(self, centre: str) -> Gateway:
        gateway = Gateway(self.configs[centre])
        await gateway.start()
        self.gateways[centre] = gateway
        return gateway

    async def stop(self, centre: str) -> None:
        gateway = self.gateways.pop(centre)
        await gateway.stop(grace=0)

    @property
    def audit_path(self) -> Path:
        path = self.configs[I2C].federation.audit_path
        assert path is not None
        return path

    async def close(self) -> None:
        for centre in list(self.gateways):
            with contextlib.suppress(Exception):
                await self.stop(centre)


@pytest.fixture
async def pair(tmp_path: Path) -> AsyncIterator[Pair]:
    running = Pair(tmp_path)
    try:
        yield running
    finally:
        await running.close()


def _people(prefix: str, count: int) -> list[record_pb2.Record]:
    return [person(f"{I2C}:{prefix}-{index:04d}") for index in range(count)]


async def _commit(gateway: Gateway, records: Sequence[record_pb2.Record]) -> None:
    """Commit records at the gateway's store (as acknowledged submissions are): the forwarder
    follows the commit feed. Not through Submit, whose own audit entry is another item."""
    await gateway.store.write(
        [prepare_record(record, gateway.config.centre_id) for record in records]
    )


async def _delivered(gateway: Gateway) -> int:
    outbox = gateway.federation.outbox
    assert outbox is not None
    return (await outbox.counts()).get(S.DELIVERY_STATE_DELIVERED, 0)


def _forwarded_ids(audit: Path) -> list[str]:
    """The record ids of every ``forward`` entry of the audit log, in order."""
    entries = [json.loads(text) for text in iter_stored(audit)]
    return [
        record_id
        for entry in entries
        if entry["action"] == "forward"
        for record_id in entry["record_ids"]
    ]


async def test_a_full_audit_log_neither_stops_forwarding_nor_loses_a_delivery_or_its_entry(
    pair: Pair, audit_files: AuditFiles
) -> None:
    """Issue 12 item 1. WRONG (before): the peer's delivery task died on AuditLogError with
    nothing logged, later records stayed QUEUED for good, health said SERVING, and the audit
    entries of the deliveries made meanwhile were lost. RIGHT: the loop goes on, the entries wait
    in the outbox (committed with the delivery state) and are written once the log can be;
    meanwhile health is NOT_SERVING with the reason."""
    await pair.start(LYON)
    i2c = await pair.start(I2C)
    await _commit(i2c, _people("before", 5))
    await until(lambda: _is(i2c, 5))
    audit_files.full(pair.audit_path)
    # 300 records: the first batch's audit entry (256 ids) needs new pages.
    await _commit(i2c, _people("full", 300))
    await until(lambda: _is(i2c, 305))
    await until(lambda: not i2c.health.serving(ADMIN))
    assert not i2c.health.serving("")
    assert not i2c.health.serving(FEDERATION)
    assert any("AuditLogError" in reason for reason in i2c.health.reasons(""))

    audit_files.space_again(pair.audit_path)
    await _commit(i2c, _people("after", 100))
    await until(lambda: _is(i2c, 405))
    await until(lambda: i2c.health.serving(""))
    async with asyncio.timeout(i2c.config.server.grace_seconds + 1):
        await pair.stop(I2C)
    forwarded = _forwarded_ids(pair.audit_path)
    assert sorted(forwarded) == sorted(
        r.record_id for r in [*_people("before", 5), *_people("full", 300), *_people("after", 100)]
    )
    assert verify_file(pair.audit_path).ok


async def _is(gateway: Gateway, count: int) -> bool:
    return await _delivered(gateway) == count


async def test_a_stop_with_a_full_audit_log_ends_in_grace_and_the_entries_come_later(
    pair: Pair, audit_files: AuditFiles
) -> None:
    """Issue 12 item 1 (SIGTERM). WRONG: ``Gateway.stop`` raised the delivery task's
    AuditLogError (the store was never closed; the process hung until SIGKILL). RIGHT: it stops
    within the grace, and the entries still pending are written at the next start."""
    await pair.start(LYON)
    i2c = await pair.start(I2C)
    await _commit(i2c, _people("warm", 1))
    await until(lambda: _is(i2c, 1))
    audit_files.full(pair.audit_path)
    await _commit(i2c, _people("pending", 300))
    await until(lambda: _is(i2c, 301))
    async with asyncio.timeout(i2c.config.server.grace_seconds + 1):
        await pair.stop(I2C)
    assert len(_forwarded_ids(pair.audit_path)) == 1

    restarted = await pair.start(I2C)
    await until(lambda: len(_forwarded_ids(pair.audit_path)) == 301)
    assert restarted.health.serving("")
    assert verify_file(pair.audit_path).ok


async def test_a_failing_delivery_task_is_restarted_and_health_says_why_until_it_recovers(
    pair: Pair,
) -> None:
    """Issue 12 item 1 (supervision). The outbox refuses writes (``PRAGMA query_only``: SQLite's
    "attempt to write a readonly database"): WRONG, the router task died silently and health
    stayed SERVING; RIGHT, it is restarted with backoff, health is NOT_SERVING (overall,
    Federation, FederationAdmin) with the error class, and SERVING again once it routes."""
    await pair.start(LYON)
    i2c = await pair.start(I2C)
    outbox = i2c.federation.outbox
    assert isinstance(outbox, SqliteOutbox)
    connection = outbox._db()
    connection.execute("PRAGMA query_only = 1")
    await _commit(i2c, _people("stuck", 3))
    await until(lambda: not i2c.health.serving(""))
    assert not i2c.health.serving(ADMIN)
    assert not i2c.health.serving(FEDERATION)
    (reason,) = i2c.health.reasons(ADMIN)
    assert "OperationalError" in reason
    connection.execute("PRAGMA query_only = 0")
    await until(lambda: _is(i2c, 3))
    await until(lambda: i2c.health.serving(""))
    assert i2c.health.serving(ADMIN)


# -- a peer down for a while (an injected clock) --------------------------------------------------


class FakeClock:
    """Wall-clock seconds and sleeps that follow :meth:`advance`, not time."""

    def __init__(self, now: float = 1_800_000_000.0) -> None:
        self.now = now
        self._sleepers: list[tuple[float, asyncio.Future[None]]] = []

    def __call__(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        waiter: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        entry = (self.now + max(seconds, 0.0), waiter)
        self._sleepers.append(entry)
        try:
            if seconds <= 0:
                waiter.set_result(None)
            await waiter
        finally:
            with contextlib.suppress(ValueError):
                self._sleepers.remove(entry)

    def advance(self, seconds: float) -> None:
        self.now += seconds
        for due, waiter in list(self._sleepers):
            if due <= self.now and not waiter.done():
                waiter.set_result(None)
                self._sleepers.remove((due, waiter))

    @property
    def sleeping(self) -> bool:
        """Someone waits on this clock."""
        return bool(self._sleepers)

    @property
    def asleep(self) -> bool:
        """Someone waits for a later time (and nobody for a time already passed)."""
        return bool(self._sleepers) and all(due > self.now for due, _ in self._sleepers)


class DownPeer:
    """A receiving centre that can be down: dedups like a gateway, counts every call."""

    def __init__(self) -> None:
        self.down = True
        self.calls = 0
        self.received: list[str] = []
        self.stored: set[tuple[str, int]] = set()

    async def deliver(
        self, records: Sequence[federation_pb2.ForwardedRecord]
    ) -> Sequence[federation_pb2.DeliveryResult]:
        self.calls += 1
        if self.down:
            raise PeerUnavailableError("unreachable: connection refused", cause="unreachable")
        results = []
        for item in records:
            key = (item.record.record_id, item.record.version)
            self.received.append(item.record.record_id)
            duplicate = key in self.stored
            self.stored.add(key)
            ack = exchange_pb2.SubmitAck(record_id=key[0], version=key[1], duplicate=duplicate)
            results.append(federation_pb2.DeliveryResult(ack=ack))
        return results


class Sender:
    """A forwarder on a real store, feed and outbox, with the injected clock."""

    def __init__(self, root: Path, backoff: Backoff) -> None:
        self.root = root
        self.backoff = backoff
        self.clock = FakeClock()
        self.lyon = DownPeer()

    async def __aenter__(self) -> Sender:
        key = centre_key(self.root, I2C)
        self.store = SqliteRecordStore(
            self.root / "i2c.db", synchronous="normal", signing_key=key.source
        )
        await self.store.open()
        self.feed = CommitFeed(self.store)
        await self.feed.start()
        self.outbox = SqliteOutbox(self.root / "outbox.db", self.backoff, seed=5)
        await self.outbox.open()
        self.audit = AuditLog(self.root / "audit.db")
        await self.audit.open()
        rules = [RoutingRule(peers=(LYON,))]
        self.forwarder = Forwarder(
            centre_id=I2C,
            gate=RecordGate(self.store, NeedToKnow(I2C, h2_permission(rules))),
            feed=self.feed,
            outbox=self.outbox,
            rules=rules,
            peers={LYON: self.lyon},
            audit=self.audit,
            clock=self.clock,
            sleep=self.clock.sleep,
        )
        await self.forwarder.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.forwarder.stop()
        self.feed.close()
        await self.outbox.close()
        await self.audit.close()
        await self.store.close()

    async def commit(self, count: int) -> list[str]:
        records = _people("outage", count)
        await self.store.write([prepare_record(r, I2C) for r in records])
        return [r.record_id for r in records]

    async def states(self) -> dict[int, int]:
        return await self.outbox.counts()

    async def settle(self) -> None:
        """Until the sender waits for a later time (its attempt at this time is made), or has
        nothing left to wait for (every delivery settled)."""

        async def settled() -> bool:
            if self.clock.asleep:
                return True
            if self.clock.sleeping:
                return False
            states = await self.states()
            return not states.get(S.DELIVERY_STATE_QUEUED) and not states.get(
                S.DELIVERY_STATE_FAILED
            )

        await until(settled)

    async def outage(self, seconds: float, step: float) -> None:
        elapsed = 0.0
        while elapsed < seconds:
            self.clock.advance(step)
            elapsed += step
            await self.settle()


async def test_a_ten_minute_outage_dead_letters_nothing_and_the_queue_drains_once_back(
    tmp_path: Path,
) -> None:
    """Issue 12 item 2. WRONG (the defaults before): a peer outage of about a minute
    dead-lettered everything queued for it (max_attempts counted every failed attempt), and a
    recovered peer got one record per backoff. RIGHT (the documented defaults): unavailability
    counts toward the age limit only, attempts back off to 5 minutes, and once the peer answers
    the whole queue goes, in commit order, each record once."""
    async with Sender(tmp_path, Backoff()) as sender:
        ids = await sender.commit(300)
        await until(lambda: sender.lyon.calls >= 1)
        await sender.settle()
        await sender.outage(600.0, step=5.0)
        states = await sender.states()
        assert S.DELIVERY_STATE_DEAD_LETTERED not in states
        assert sum(states.values()) == 300
        # Backing off: a probe per backoff period, not an attempt per batch and second.
        assert sender.lyon.calls <= 15
        failed = await sender.outbox.statuses(peer=LYON, states=[S.DELIVERY_STATE_FAILED])
        assert failed
        assert all(s.last_error.startswith("unreachable: ") for s in failed)

        sender.lyon.down = False
        sender.clock.advance(Backoff().max_seconds)  # the next probe is due at the latest now
        await until(lambda: len(sender.lyon.received) == 300)
        assert sender.lyon.received == ids  # in commit order
        assert len(sender.lyon.stored) == 300  # each exactly once
        await until(_all_delivered(sender, 300))


def _all_delivered(sender: Sender, count: int) -> Callable[[], Awaitable[bool]]:
    async def check() -> bool:
        return (await sender.states()).get(S.DELIVERY_STATE_DELIVERED, 0) == count

    return check


async def test_an_outage_longer_than_the_maximum_age_dead_letters_what_it_kept(
    tmp_path: Path,
) -> None:
    """Age still gives up: deliveries still failing after ``max_age_seconds`` are dead-lettered
    (with the last cause), and nothing dead is sent when the peer returns, until a replay."""
    async with Sender(tmp_path, Backoff(max_age_seconds=1800.0)) as sender:
        await sender.commit(40)
        await until(lambda: sender.lyon.calls >= 1)
        await sender.settle()
        await sender.outage(1500.0, step=60.0)
        assert S.DELIVERY_STATE_DEAD_LETTERED not in await sender.states()
        await sender.outage(600.0, step=60.0)
        assert await sender.states() == {S.DELIVERY_STATE_DEAD_LETTERED: 40}
        dead = await sender.outbox.statuses(states=[S.DELIVERY_STATE_DEAD_LETTERED])
        assert all("unreachable: connection refused" in s.last_error for s in dead)
        sender.lyon.down = False
        sender.clock.advance(600.0)
        await sender.settle()
        assert sender.lyon.received == []
        await sender.outbox.replay(LYON, [], now=sender.clock())
        sender.forwarder.wake(LYON)
        await until(_all_delivered(sender, 40))


# -- why a peer cannot be reached -------------------------------------------------------------


@pytest.fixture
async def untrusted_server(tmp_path: Path) -> AsyncIterator[int]:
    """A TLS server for Lyon whose certificate another CA signed (the i2c does not trust it)."""
    other = CertificateAuthority.create(tmp_path / "other-ca")
    lyon = other.issue_centre(LYON)
    server = aio.server()
    health_pb2_grpc.add_HealthServicer_to_server(health.aio.HealthServicer(), server)  # type: ignore[attr-defined]
    port = server.add_secure_port(
        "127.0.0.1:0",
        tls_server_credentials(
            TlsConfig(lyon.certificate, lyon.private_key, other.certificate_path)
        ),
    )
    await server.start()
    try:
        yield port
    finally:
        await server.stop(None)


async def test_delivery_status_tells_an_untrusted_certificate_from_a_peer_that_is_not_there(
    tmp_path: Path, untrusted_server: int
) -> None:
    """Issue 12 item 8a. WRONG: both were "UNAVAILABLE: no connection to ... within 2 s" (the
    cause only in a gRPC stderr line). RIGHT: ``last_error`` starts with the cause -
    ``handshake: ...`` for the certificate, ``unreachable: connection refused`` for the port
    nobody listens on - in the outbox and in ListDeliveries."""
    pki = Pki(tmp_path)
    analyst = pki.client("analyst")
    closed_port = free_port()
    config = CentreConfig(
        centre_id=I2C,
        server=ServerConfig(listen="127.0.0.1:0", grace_seconds=1.0),
        storage=StorageConfig(path=tmp_path / "i2c.db", synchronous="normal", writer="thread"),
        federation=FederationSettings(
            tls=pki.tls(pki.i2c),
            signing=signing_settings(pki.keys[I2C]),
            peers=(
                peer(pki.keys[LYON], f"127.0.0.1:{untrusted_server}"),
                peer(pki.keys[SINGAPORE], f"127.0.0.1:{closed_port}"),
            ),
            routes=(RoutingRule(peers=(LYON, SINGAPORE), name="everything"),),
            grants=(Grant(("urn:liaison:client:analyst",), ("liaison.v1.FederationAdmin/*",)),),
        ),
    )
    gateway = Gateway(config)
    await gateway.start()
    try:
        await _commit(gateway, [person(f"{I2C}:cause-1")])
        outbox = gateway.federation.outbox
        assert outbox is not None

        async def both_failed() -> bool:
            failed = await outbox.statuses(states=[S.DELIVERY_STATE_FAILED])
            return {s.peer for s in failed} == {LYON, SINGAPORE}

        await until(both_failed)
        channel = aio.secure_channel(
            gateway.address,
            channel_credentials(pki.tls(analyst)),
            options=peer_channel_options(I2C),
        )
        async with channel:
            answer = await federation_pb2_grpc.FederationAdminStub(channel).ListDeliveries(
                federation_pb2.ListDeliveriesRequest(), timeout=10
            )
        errors = {status.peer: status.last_error for status in answer.deliveries}
        assert errors[LYON].startswith("handshake: "), errors[LYON]
        assert "not trusted" in errors[LYON]
        assert errors[SINGAPORE].startswith("unreachable: connection refused"), errors[SINGAPORE]
    finally:
        await gateway.stop(grace=0)
