"""Red team: a stored hit over HTTP/JSON, to a reader who may see its subject but not its entry.

A hit repeats its entry's data (the entry's record id, the explanation's names and dates), so
it is handled as the stricter of its subject's and its entry's handling. Attacked over the HTTP
listener (mutual TLS) by a partner client acting for Lyon, who may see the traveller (no
restriction) but not the notice (releasable to Singapore only), on every read path: ListHits,
Get, Search (NDJSON), Subscribe (SSE), Export, and Decide; and by a client of this centre
without a grant for Screening. HELD when written: nothing of the hit reaches Lyon.
"""

from __future__ import annotations

import json
from pathlib import Path

import httpx

from gateway.security.policy import Grant
from gateway.server import Gateway
from liaison.v1 import exchange_pb2, exchange_pb2_grpc
from tests.support.mtls import (
    I2C,
    LYON,
    SINGAPORE,
    Pki,
    channel,
    denials,
    https_context,
    tls_gateway,
)
from tests.support.screening_records import red_notice, screened, traveller

OPERATOR, PARTNER, FEEDER = "operator", "lyon-partner", "feeder"
GRANTS = (
    Grant((f"urn:liaison:client:{OPERATOR}",), ("liaison.v1.*",)),
    Grant(
        (f"urn:liaison:client:{PARTNER}",),
        ("liaison.v1.RecordExchange/*", "liaison.v1.Screening/*", "liaison.v1.Translation/*"),
        acts_for=LYON,
    ),
    Grant((f"urn:liaison:client:{FEEDER}",), ("liaison.v1.RecordExchange/*",)),
)
NOTICE, PAX = f"{I2C}:notice:sg", f"{I2C}:pax:1"


async def _stored_hit(gateway: Gateway, pki: Pki) -> str:
    async with channel(gateway, pki, pki.client(OPERATOR)) as opened:
        stub = exchange_pb2_grpc.RecordExchangeStub(opened)
        notice = red_notice(NOTICE, "KOWALENKO", "DMITRIJ", releasable_to=(SINGAPORE,))
        await stub.Submit(exchange_pb2.SubmitRequest(record=notice))
        await stub.Submit(exchange_pb2.SubmitRequest(record=traveller(PAX, "KOVALENKO", "DMYTRO")))
    await screened(gateway)
    hits = await gateway.store.read_since(0, 100, kinds=frozenset({"screening_hit"}))
    assert [h.to_message().screening_hit.subject_record_id for h in hits] == [PAX]
    return hits[0].record_id


async def _sse_events(client: httpx.AsyncClient) -> list[str]:
    """Every SSE event up to ``caught_up`` of a Subscribe from the start."""
    events: list[str] = []
    message = json.dumps({"afterSequence": "0"})
    path = "/liaison.v1.RecordExchange/Subscribe"
    async with client.stream("GET", path, params={"message": message}) as answer:
        assert answer.status_code == 200
        current: list[str] = []
        async for line in answer.aiter_lines():
            if line:
                current.append(line)
                continue
            events.append("\n".join(current))
            if "event: caught_up" in current:
                return events
            current = []
    return events


async def test_a_reader_of_the_subject_but_not_the_entry_sees_nothing_of_the_hit_over_http(
    tmp_path: Path, pki: Pki
) -> None:
    async with tls_gateway(tmp_path, pki, GRANTS, peers=(LYON, SINGAPORE), http=True) as gateway:
        hit_id = await _stored_hit(gateway, pki)
        # The notice's spelling of the name: in the hit's explanation, never in the traveller.
        secrets = (hit_id, NOTICE, "KOWALENKO", "DMITRIJ")
        async with httpx.AsyncClient(
            base_url=f"https://{gateway.http_address}",
            verify=https_context(pki, pki.client(PARTNER)),
            timeout=20,
        ) as lyon:
            # The traveller itself is Lyon's to read: the gate lets Lyon in at all.
            seen = await lyon.post("/liaison.v1.RecordExchange/Get", json={"recordId": PAX})
            assert seen.status_code == 200, seen.text
            answers = {
                "ListHits": await lyon.post("/liaison.v1.Screening/ListHits", json={}),
                "Get": await lyon.post("/liaison.v1.RecordExchange/Get", json={"recordId": hit_id}),
                "Search": await lyon.post(
                    "/liaison.v1.RecordExchange/Search", json={"kinds": ["screening_hit"]}
                ),
                "SearchAll": await lyon.post("/liaison.v1.RecordExchange/Search", json={}),
                "Export": await lyon.post(
                    "/liaison.v1.Translation/Export",
                    json={"adapter": "paxlst", "recordRefs": [{"recordId": hit_id}]},
                ),
                "Decide": await lyon.post(
                    "/liaison.v1.Screening/Decide",
                    json={"hitRecordId": hit_id, "decision": "SCREENING_DECISION_KIND_MATCH"},
                ),
            }
            events = await _sse_events(lyon)
        assert answers["ListHits"].status_code == 200
        assert answers["ListHits"].json().get("hits", []) == []
        assert answers["Get"].status_code == 404
        assert answers["Export"].status_code in (400, 404), answers["Export"].text
        assert answers["Decide"].status_code in (403, 404), answers["Decide"].text
        for name, answer in answers.items():
            # A refusal may name the id it was asked about; nothing else of the hit.
            asked = name in ("Get", "Export", "Decide")
            for secret in secrets[1:] if asked else secrets:
                assert secret not in answer.text, (name, secret, answer.text[:300])
        text = "\n".join(events)
        assert PAX in text, "the subscription carried the traveller"
        for secret in secrets:
            assert secret not in text, secret
        # A client of this centre without a grant for Screening is refused, and audited.
        async with httpx.AsyncClient(
            base_url=f"https://{gateway.http_address}",
            verify=https_context(pki, pki.client(FEEDER)),
            timeout=20,
        ) as feeder:
            for method in ("ListHits", "Screen", "Decide"):
                refused = await feeder.post(f"/liaison.v1.Screening/{method}", json={})
                assert refused.status_code == 403, (method, refused.text)
        refused_methods = {entry["detail"]["method"] for entry in denials(gateway, "policy")}
        assert {
            "/liaison.v1.Screening/ListHits",
            "/liaison.v1.Screening/Screen",
            "/liaison.v1.Screening/Decide",
        } <= refused_methods
