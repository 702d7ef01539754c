"""Store and forward between two centres: a peer down for a while, a sender killed in the middle
of forwarding, dead letters and their replay. None lost, none duplicated."""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest
from grpc import aio

from devkit.cluster import CentrePlan, Route, free_port
from gateway.client import RecordNotFoundError
from gateway.security.certs import CertificateAuthority
from gateway.security.tls import TlsConfig, channel_credentials, peer_channel_options
from liaison.v1 import exchange_pb2, exchange_pb2_grpc, federation_pb2, record_pb2
from tests.factories import person
from tests.federation.cluster import ALL_METHODS, I2C, LYON, OPERATOR, Cluster, has, wait_for

pytestmark = [pytest.mark.slow, pytest.mark.timeout(240)]


def _two_centres(directory: Path, **delivery: float) -> Cluster:
    ports = {I2C: free_port(), LYON: free_port()}
    return Cluster(
        directory,
        [
            CentrePlan(
                I2C,
                ports[I2C],
                peers=(LYON,),
                routes=(Route(peers=(LYON,), name="everything"),),
                clients={OPERATOR: ALL_METHODS},
                delivery={"initial_backoff_seconds": 0.05, "max_backoff_seconds": 0.3, **delivery},
            ),
            CentrePlan(LYON, ports[LYON], peers=(I2C,), clients={OPERATOR: ALL_METHODS}),
        ],
    )


@pytest.fixture
def cluster(tmp_path: Path) -> Iterator[Cluster]:
    running = _two_centres(tmp_path)
    try:
        yield running
    finally:
        running.close()


def _people(prefix: str, count: int) -> list[record_pb2.Record]:
    # Ids in the i2c's namespace: peers accept only ids minted by the originating centre.
    return [person(f"{I2C}:{prefix}-{index}", family=f"NAME{index}") for index in range(count)]


def _versions_at(cluster: Cluster, centre: str) -> dict[str, int]:
    """Every person record at ``centre`` with its latest version."""
    request = exchange_pb2.SearchRequest(kinds=[record_pb2.RECORD_KIND_PERSON], page_size=500)
    client = cluster.client(centre)
    return {hit.record.record_id: hit.metadata.latest_version for hit in client.search_all(request)}


def test_a_peer_down_for_a_while_gets_everything_once_back(tmp_path: Path) -> None:
    cluster = _two_centres(tmp_path)
    try:
        _peer_down_then_back(cluster)
    finally:
        cluster.close()


def _peer_down_then_back(cluster: Cluster) -> None:
    cluster.start(I2C)
    i2c = cluster.client(I2C)
    stored = i2c.submit_many(_people("queued", 40))
    assert stored.stored == 40
    wait_for(
        lambda: any(
            d.state == federation_pb2.DELIVERY_STATE_FAILED for d in i2c.deliveries(limit=100)
        ),
        what="failed attempts while Lyon is down",
    )
    failed = i2c.deliveries(states=[federation_pb2.DELIVERY_STATE_FAILED], limit=100)
    assert all(d.last_error.startswith("unreachable: connection refused") for d in failed)
    cluster.start(LYON)
    wait_for(lambda: len(_versions_at(cluster, LYON)) == 40, what="all 40 records at Lyon")
    assert set(_versions_at(cluster, LYON).values()) == {1}
    delivered = i2c.deliveries(states=[federation_pb2.DELIVERY_STATE_DELIVERED], limit=100)
    assert len(delivered) == 40


def test_a_sender_killed_while_forwarding_resumes_without_loss_or_duplicates(
    cluster: Cluster,
) -> None:
    cluster.start(I2C)
    i2c = cluster.client(I2C)
    assert i2c.submit_many(_people("burst", 3000)).stored == 3000
    cluster.start(LYON)  # everything is queued now; forwarding starts
    lyon = cluster.client(LYON)
    # Kill the sender as soon as forwarding has begun, before it can have finished.
    wait_for(lambda: has(lyon, f"{I2C}:burst-0"), what="forwarding to begin")
    cluster.processes[I2C].kill()
    arrived = len(_versions_at(cluster, LYON))
    assert arrived < 3000, "forwarding finished before the kill; the test proves nothing"
    cluster.start(I2C)
    wait_for(lambda: len(_versions_at(cluster, LYON)) == 3000, within=90, what="all 3000 at Lyon")
    versions = _versions_at(cluster, LYON)
    assert set(versions.values()) == {1}, "a record was stored twice as a new version"
    restarted = cluster.client(I2C)
    wait_for(
        lambda: (
            len(restarted.deliveries(states=[federation_pb2.DELIVERY_STATE_DELIVERED], limit=5000))
            == 3000
        ),
        what="all deliveries marked delivered",
    )


def test_dead_letters_after_the_maximum_age_and_replay(tmp_path: Path) -> None:
    # An unreachable peer dead-letters by age only (never by the attempt count).
    cluster = _two_centres(tmp_path, max_attempts=2, max_age_seconds=1)
    try:
        cluster.start(I2C)
        i2c = cluster.client(I2C)
        i2c.submit_many(_people("dead", 3))
        dead = federation_pb2.DELIVERY_STATE_DEAD_LETTERED
        wait_for(lambda: len(i2c.deliveries(states=[dead])) == 3, what="three dead letters")
        assert all(
            d.last_error.startswith("unreachable: connection refused")
            and "max_age_seconds" in d.last_error
            for d in i2c.deliveries(states=[dead])
        )
        cluster.start(LYON)
        requeued = i2c.replay_dead_letters(peer=LYON)
        assert sorted(d.record_id for d in requeued) == [f"{I2C}:dead-{n}" for n in range(3)]
        wait_for(lambda: len(_versions_at(cluster, LYON)) == 3, what="replayed records at Lyon")
    finally:
        cluster.close()


async def test_the_gateway_refuses_strangers_expired_wrong_centre_and_plaintext(
    cluster: Cluster, tmp_path: Path
) -> None:
    cluster.start(LYON)
    pki = cluster.directory / "pki"
    address = f"127.0.0.1:{cluster.ports[LYON]}"
    other = CertificateAuthority.create(tmp_path / "other-ca").issue_client(OPERATOR)

    expired = CertificateAuthority.load(pki).issue_client(
        "expired",
        not_before=dt.datetime.now(dt.UTC) - dt.timedelta(days=5),
        validity=dt.timedelta(days=1),
    )
    good = TlsConfig(
        pki / "clients" / "operator.pem", pki / "clients" / "operator-key.pem", pki / "ca.pem"
    )
    attempts = {
        "stranger": (TlsConfig(other.certificate, other.private_key, pki / "ca.pem"), LYON),
        "expired": (TlsConfig(expired.certificate, expired.private_key, pki / "ca.pem"), LYON),
        "wrong centre": (good, I2C),
    }
    request = exchange_pb2.GetRequest(record_id="x")
    for name, (tls, centre) in attempts.items():
        channel = aio.secure_channel(
            address, channel_credentials(tls), options=peer_channel_options(centre)
        )
        async with channel:
            stub = exchange_pb2_grpc.RecordExchangeStub(channel)
            with pytest.raises(aio.AioRpcError) as caught:
                await stub.Get(request, timeout=5)
            assert caught.value.code() == grpc.StatusCode.UNAVAILABLE, name
    async with aio.insecure_channel(address) as channel:
        stub = exchange_pb2_grpc.RecordExchangeStub(channel)
        with pytest.raises(aio.AioRpcError) as caught:
            await stub.Get(request, timeout=5)
        assert caught.value.code() == grpc.StatusCode.UNAVAILABLE
    # The genuine certificate, for the right centre, gets an answer (the record is not there).
    with pytest.raises(RecordNotFoundError):
        cluster.client(LYON).get("x")
