"""Three centres: the right centres get the right records and no other; need-to-know in Get,
Search and Subscribe; authorisation; audit entries for every action, verified."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path

import grpc
import pytest

from devkit.cluster import CentrePlan, Route, audit_key_path, free_port
from gateway.audit.keys import read_key_file
from gateway.audit.log import iter_stored, verify_file
from gateway.client import ClientError, RecordNotFoundError
from liaison.v1 import exchange_pb2, federation_pb2, record_pb2
from tests.e2e.cluster import (
    ALL_METHODS,
    I2C,
    LYON,
    OPERATOR,
    SINGAPORE,
    Cluster,
    has,
    settled,
    states,
    wait_for,
)
from tests.support.factories import person, travel_document

pytestmark = [pytest.mark.slow, pytest.mark.timeout(180)]


@pytest.fixture(scope="module")
def cluster(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    ports = {centre: free_port() for centre in (I2C, LYON, SINGAPORE)}
    plans = [
        CentrePlan(
            I2C,
            ports[I2C],
            peers=(LYON, SINGAPORE),
            routes=(
                Route(peers=(LYON, SINGAPORE), kinds=("person",), name="persons"),
                Route(peers=(LYON,), kinds=("travel_document",), name="documents"),
            ),
            clients={OPERATOR: ALL_METHODS, "liaison-sg": ALL_METHODS},
            acts_for={"liaison-sg": SINGAPORE},
        ),
        CentrePlan(
            LYON,
            ports[LYON],
            peers=(I2C,),
            clients={OPERATOR: ALL_METHODS, "reader": ("liaison.v1.RecordExchange/Get",)},
        ),
        CentrePlan(SINGAPORE, ports[SINGAPORE], peers=(I2C,), clients={OPERATOR: ALL_METHODS}),
    ]
    running = Cluster(tmp_path_factory.mktemp("three-centres"), plans)
    try:
        running.start()
        i2c = running.client(I2C)
        for record in _records():
            i2c.submit(record)
        wait_for(lambda: settled(i2c, 6), what="deliveries from WCO-I2C to settle")
        yield running
    finally:
        running.close()


def _records() -> list[record_pb2.Record]:
    open_person = person("WCO-I2C:open-person", family="ALPHA")
    lyon_only = person("WCO-I2C:lyon-only", family="BRAVO")
    lyon_only.handling.releasable_to.append(LYON)
    restricted = person("WCO-I2C:h2-person", family="CHARLIE")
    restricted.handling.code = record_pb2.HANDLING_CODE_H2
    document = travel_document("WCO-I2C:doc-1", number="X1234567")
    return [open_person, lyon_only, restricted, document]


def test_records_reach_exactly_the_centres_routing_and_handling_allow(cluster: Cluster) -> None:
    lyon, singapore = cluster.client(LYON), cluster.client(SINGAPORE)
    wanted = {
        LYON: {"WCO-I2C:open-person", "WCO-I2C:lyon-only", "WCO-I2C:doc-1"},
        SINGAPORE: {"WCO-I2C:open-person"},
    }
    everything = {"WCO-I2C:open-person", "WCO-I2C:lyon-only", "WCO-I2C:h2-person", "WCO-I2C:doc-1"}
    for centre, client in ((LYON, lyon), (SINGAPORE, singapore)):
        present = {record_id for record_id in everything if has(client, record_id)}
        assert present == wanted[centre], centre
    forwarded = lyon.get("WCO-I2C:open-person").record
    assert forwarded.version == 1
    assert forwarded.provenance.originating_centre == I2C


def test_delivery_status_shows_delivered_and_withheld(cluster: Cluster) -> None:
    found = states(cluster.client(I2C))
    delivered = federation_pb2.DELIVERY_STATE_DELIVERED
    withheld = federation_pb2.DELIVERY_STATE_WITHHELD
    assert found == {
        ("WCO-I2C:open-person", LYON): delivered,
        ("WCO-I2C:open-person", SINGAPORE): delivered,
        ("WCO-I2C:lyon-only", LYON): delivered,
        ("WCO-I2C:lyon-only", SINGAPORE): withheld,
        ("WCO-I2C:h2-person", LYON): withheld,
        ("WCO-I2C:h2-person", SINGAPORE): withheld,
        ("WCO-I2C:doc-1", LYON): delivered,
    }
    [status] = cluster.client(I2C).deliveries(record_id="WCO-I2C:doc-1")
    assert status.receiver_ack.record_id == "WCO-I2C:doc-1"
    assert status.receiver_ack.version == 1


def test_releasability_filters_get_search_and_subscribe(cluster: Cluster) -> None:
    # An analyst at the i2c who reads for Singapore must not see what is releasable to Lyon only,
    # nor the H2 record that forwarding withheld from Singapore: H2 means the same at every door.
    analyst = cluster.client(I2C, "liaison-sg")
    for hidden in ("WCO-I2C:lyon-only", "WCO-I2C:h2-person"):
        with pytest.raises(RecordNotFoundError):
            analyst.get(hidden)
    assert analyst.get("WCO-I2C:open-person").record.record_id == "WCO-I2C:open-person"
    request = exchange_pb2.SearchRequest(kinds=[record_pb2.RECORD_KIND_PERSON])
    found = {hit.record.record_id for hit in analyst.search_all(request)}
    assert found == {"WCO-I2C:open-person"}
    seen: list[str] = []
    for item in analyst.subscribe(after_sequence=0):
        if not item.HasField("record_event"):
            break  # caught up: everything committed so far has been offered
        seen.append(item.record_event.record.record_id)
    assert set(seen) == {"WCO-I2C:open-person", "WCO-I2C:doc-1"}
    operator = cluster.client(I2C)
    assert operator.get("WCO-I2C:lyon-only").record.record_id == "WCO-I2C:lyon-only"


def test_a_client_without_a_grant_is_refused(cluster: Cluster) -> None:
    reader = cluster.client(LYON, "reader")
    assert reader.get("WCO-I2C:open-person").record.record_id == "WCO-I2C:open-person"
    with pytest.raises(ClientError) as caught:
        reader.submit(person("sneaky"))
    assert caught.value.code == grpc.StatusCode.PERMISSION_DENIED


def test_every_action_is_audited_and_the_chains_verify(cluster: Cluster) -> None:
    cluster.close()  # stop the gateways so the logs are complete
    i2c = [json.loads(entry) for entry in iter_stored(cluster.audit_log(I2C))]
    lyon = [json.loads(entry) for entry in iter_stored(cluster.audit_log(LYON))]
    actions = {(e["action"], e["outcome"]) for e in i2c}
    assert {("submit", "ok"), ("forward", "ok"), ("deny", "withheld"), ("read", "ok")} <= actions
    assert ("deny", "denied") in actions  # the Singapore reader's refused Get and filtered hits
    assert {("receive", "ok"), ("deny", "denied")} <= {(e["action"], e["outcome"]) for e in lyon}
    receipts = {rid for e in lyon if e["action"] == "receive" for rid in e["record_ids"]}
    assert receipts == {"WCO-I2C:open-person", "WCO-I2C:lyon-only", "WCO-I2C:doc-1"}
    for entry in i2c + lyon:
        text = json.dumps(entry)
        for personal in ("ALPHA", "BRAVO", "CHARLIE", "X1234567"):
            assert personal not in text
    for centre in (I2C, LYON, SINGAPORE):
        key = read_key_file(audit_key_path(cluster.directory, centre))
        report = verify_file(cluster.audit_log(centre), key=key)
        assert report.ok, (centre, report.first_break)
        assert report.checked > 0


def test_configuration_files_are_on_disk(cluster: Cluster) -> None:
    assert all(Path(path).exists() for path in cluster.configs.values())
