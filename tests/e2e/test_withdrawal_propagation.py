"""Corrections and withdrawals follow a record to every centre that received it (issue 15):
through the outbox (the recipient ledger), even when no routing rule names the tombstone's
kind; the receiver applies and acknowledges, and serves no content after the withdrawal."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from devkit.cluster import CentrePlan, Route, free_port
from liaison.v1 import exchange_pb2, federation_pb2, record_pb2
from tests.e2e.cluster import (
    ALL_METHODS,
    I2C,
    LYON,
    OPERATOR,
    SINGAPORE,
    Cluster,
    wait_for,
)
from tests.support.factories import person

pytestmark = [pytest.mark.slow, pytest.mark.timeout(240)]

DELIVERED = federation_pb2.DELIVERY_STATE_DELIVERED


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    ports = {I2C: free_port(), LYON: free_port(), SINGAPORE: free_port()}
    fast = {"initial_backoff_seconds": 0.05, "max_backoff_seconds": 0.3}
    running = Cluster(
        tmp_path_factory.mktemp("withdrawal"),
        [
            CentrePlan(
                I2C,
                ports[I2C],
                peers=(LYON, SINGAPORE),
                # Persons go to Lyon only; no rule names tombstones (kind "withdrawal").
                routes=(Route(peers=(LYON,), name="persons", kinds=("person",)),),
                clients={OPERATOR: ALL_METHODS},
                delivery=fast,
            ),
            CentrePlan(LYON, ports[LYON], peers=(I2C,), clients={OPERATOR: ALL_METHODS}),
            CentrePlan(SINGAPORE, ports[SINGAPORE], peers=(I2C,), clients={OPERATOR: ALL_METHODS}),
        ],
    )
    try:
        running.start()
        yield running
    finally:
        running.close()


def _latest(cluster: Cluster, centre: str, record_id: str) -> record_pb2.Record | None:
    client = cluster.client(centre)
    try:
        return client.get(record_id).record
    except Exception:
        return None


def test_a_correction_and_a_withdrawal_reach_every_recipient_and_only_them(
    cluster: Cluster,
) -> None:
    i2c = cluster.client(I2C)
    record_id = f"{I2C}:wanted-1"
    i2c.submit(person(record_id, family="FIRST"))
    wait_for(lambda: _latest(cluster, LYON, record_id) is not None, what="version 1 at Lyon")

    corrected = person(record_id, family="SECOND")
    i2c.submit(corrected)
    wait_for(
        lambda: (_latest(cluster, LYON, record_id) or record_pb2.Record()).version == 2,
        what="the correction at Lyon",
    )

    ack = i2c.withdraw(record_id, record_pb2.WITHDRAWAL_REASON_CANCELLED, "closed at the source")
    assert ack.version == 3
    wait_for(
        lambda: (_latest(cluster, LYON, record_id) or record_pb2.Record()).version == 3,
        what="the withdrawal at Lyon",
    )
    lyon = cluster.client(LYON)
    at_lyon = lyon.get(record_id).record
    assert at_lyon.withdrawal.reason == record_pb2.WITHDRAWAL_REASON_CANCELLED
    assert at_lyon.withdrawal.note == "closed at the source"
    assert lyon.get(record_id, 1).record.WhichOneof("body") == "withdrawal", "no content left"
    search = exchange_pb2.SearchRequest(family_name="SECOND")
    assert list(lyon.search_all(search)) == []

    # The ledger: Lyon got each version and acknowledged it; Singapore got nothing.
    def ledger() -> dict[tuple[str, int], int]:
        return {(d.peer, d.version): d.state for d in i2c.deliveries(record_id=record_id)}

    wait_for(lambda: ledger().get((LYON, 3)) == DELIVERED, what="Lyon's acknowledgement")
    assert ledger() == {(LYON, 1): DELIVERED, (LYON, 2): DELIVERED, (LYON, 3): DELIVERED}
    [tombstone] = [d for d in i2c.deliveries(record_id=record_id) if d.version == 3]
    assert tombstone.receiver_ack.version == 3
    assert _latest(cluster, SINGAPORE, record_id) is None


def _without_routes(config: str) -> str:
    """The TOML text without its ``[[routes]]`` tables (each ends at the next blank line)."""
    kept, skipping = [], False
    for line in config.splitlines():
        if line.strip() == "[[routes]]":
            skipping = True
        elif skipping and not line.strip():
            skipping = False
        if not skipping:
            kept.append(line)
    return "\n".join(kept) + "\n"


def test_a_correction_follows_the_record_after_its_route_was_removed(cluster: Cluster) -> None:
    # Last in this module: it restarts the i2c without its routing rules.
    i2c = cluster.client(I2C)
    record_id = f"{I2C}:wanted-route"
    i2c.submit(person(record_id, family="ROUTED"))
    wait_for(lambda: _latest(cluster, LYON, record_id) is not None, what="version 1 at Lyon")

    process = cluster.processes[I2C]
    process.terminate()
    config = process.config.read_text()
    assert "[[routes]]" in config
    process.config.write_text(_without_routes(config))
    process.start()
    i2c = cluster.client(I2C)

    i2c.submit(person(f"{I2C}:unrouted", family="NEW"))  # no rule sends this one anywhere
    i2c.submit(person(record_id, family="CORRECTED"))
    wait_for(
        lambda: (_latest(cluster, LYON, record_id) or record_pb2.Record()).version == 2,
        what="the correction at Lyon, with no route naming it",
    )
    assert _latest(cluster, LYON, record_id).person.names[0].family == "CORRECTED"  # type: ignore[union-attr]
    reasons = {d.version: d.reason for d in i2c.deliveries(record_id=record_id) if d.peer == LYON}
    assert reasons[2] == "follows an earlier version this peer received"
    assert _latest(cluster, LYON, f"{I2C}:unrouted") is None
    assert _latest(cluster, SINGAPORE, record_id) is None
