"""Screening across two centres: a notice Lyon issued and replicated to the i2c is hit by a
traveller committed at the i2c; the hit record travels back to Lyon by an ordinary routing rule
(kind ``screening_hit``), and so does the analyst's decision on it. A caller of the i2c who reads
for a centre the notice is not releasable to learns only that there is a hit, on which list,
and whom to contact.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from devkit.cluster import CentrePlan, Route, free_port
from gateway.client import LiaisonClient
from liaison.v1 import federation_pb2, record_pb2, screening_hit_pb2
from tests.e2e.cluster import (
    ALL_METHODS,
    I2C,
    LYON,
    OPERATOR,
    SINGAPORE,
    Cluster,
    has,
    wait_for,
)
from tests.support.screening_records import red_notice, traveller

pytestmark = [pytest.mark.slow, pytest.mark.timeout(180)]

NOTICE = f"{LYON}:notice:1"
PASSENGER = f"{I2C}:pax:1"
READS_FOR_SINGAPORE = "analyst-sg"
MATCH = screening_hit_pb2.SCREENING_DECISION_KIND_MATCH


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    ports = {centre: free_port() for centre in (I2C, LYON)}
    plans = [
        CentrePlan(
            LYON,
            ports[LYON],
            peers=(I2C,),
            routes=(Route(peers=(I2C,), kinds=("notice",), name="notices"),),
            clients={OPERATOR: ALL_METHODS},
        ),
        CentrePlan(
            I2C,
            ports[I2C],
            peers=(LYON,),
            routes=(Route(peers=(LYON,), kinds=("screening_hit",), name="hits-to-issuers"),),
            clients={OPERATOR: ALL_METHODS, READS_FOR_SINGAPORE: ALL_METHODS},
            acts_for={READS_FOR_SINGAPORE: SINGAPORE},
        ),
    ]
    running = Cluster(tmp_path_factory.mktemp("screening"), plans)
    try:
        running.start()
        lyon, i2c = running.client(LYON), running.client(I2C)
        # Releasable to the two centres only: Singapore may not see it, nor any hit on it.
        lyon.submit(red_notice(NOTICE, releasable_to=(LYON, I2C)))
        wait_for(lambda: has(i2c, NOTICE), what="the notice to reach the i2c")
        probe = traveller("")
        wait_for(lambda: bool(i2c.screen([probe]).hits), what="the i2c to index the notice")
        i2c.submit(traveller(PASSENGER))
        yield running
    finally:
        running.close()


def hits_from_i2c(client: LiaisonClient) -> list[record_pb2.Record]:
    return [h for h in client.hits() if h.provenance.originating_centre == I2C]


def test_the_hit_reaches_the_centre_that_issued_the_notice(cluster: Cluster) -> None:
    lyon, i2c = cluster.client(LYON), cluster.client(I2C)
    wait_for(lambda: bool(hits_from_i2c(lyon)), what="the i2c's hit to reach Lyon")
    (arrived,) = hits_from_i2c(lyon)
    hit = arrived.screening_hit
    assert (hit.subject_record_id, hit.entry_record_id, hit.list) == (PASSENGER, NOTICE, "notices")
    assert (hit.entry_centre, hit.entry_version) == (LYON, 1)
    assert {line.feature for line in hit.explanation} >= {"name", "birth_date"}
    # Handled as the stricter of subject (open) and entry (Lyon and the i2c only).
    assert sorted(arrived.handling.releasable_to) == sorted([LYON, I2C])
    (status,) = i2c.deliveries(record_id=arrived.record_id)
    assert (status.peer, status.state) == (LYON, federation_pb2.DELIVERY_STATE_DELIVERED)
    # The traveller itself is not routed anywhere: only the hit went.
    assert not has(lyon, PASSENGER)


def test_the_decision_taken_at_the_i2c_follows_the_hit_to_lyon(cluster: Cluster) -> None:
    lyon, i2c = cluster.client(LYON), cluster.client(I2C)
    wait_for(lambda: bool(hits_from_i2c(i2c)), what="the i2c to store its hit")
    (hit,) = hits_from_i2c(i2c)
    decided = i2c.decide(hit.record_id, MATCH, "identity confirmed at the gate")
    assert decided.ack.version == 2

    def decided_at_lyon() -> bool:
        found = lyon.get(hit.record_id).record if has(lyon, hit.record_id) else None
        return found is not None and found.version == 2

    wait_for(decided_at_lyon, what="the decision to reach Lyon")
    decision = lyon.get(hit.record_id).record.screening_hit.decision
    assert (decision.kind, decision.note) == (MATCH, "identity confirmed at the gate")


def test_a_caller_reading_for_a_centre_the_notice_is_not_releasable_to_gets_a_redacted_hit(
    cluster: Cluster,
) -> None:
    analyst = cluster.client(I2C, READS_FOR_SINGAPORE)
    response = analyst.screen([traveller("")])
    (hit,) = response.hits
    assert (hit.list, hit.entry_centre, hit.subject_record_id) == ("notices", LYON, "subject-1")
    assert (hit.entry_record_id, hit.entry_version, hit.score, len(hit.explanation)) == (
        "",
        0,
        0,
        0,
    )
    assert not response.entries
    # Nor does the stored hit show: it is handled as strictly as the notice.
    assert not has(analyst, NOTICE)
    wait_for(lambda: bool(hits_from_i2c(cluster.client(I2C))), what="the i2c's hit")
    assert list(analyst.hits()) == []
