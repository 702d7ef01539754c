"""A passenger manifest ingested with its travellers' records (one commit) is screened once per
traveller: each hit names the manifest, and no second hit is stored for a person or document
screened again on its own."""

from __future__ import annotations

from gateway.client import AsyncLiaisonClient
from gateway.server import Gateway
from tests.conftest import TEST_CENTRE
from tests.support.screening_records import red_notice, screened, stolen_passport

_BODY = [
    "UNH+PAX001+PAXLST:D:05B:UN:IATA+UA123/070429/1230+01:F'",
    "BGM+745'",
    "NAD+MS+++JACKSON'",
    "TDT+20+UA123+++UA'",
    "LOC+125+YVR'",
    "DTM+189:0704291230:201'",
    "LOC+87+JFK'",
    "DTM+232:0704291600:201'",
    "NAD+FL+++IVANOFF:SERGEY'",
    "ATT+2++M'",
    "DTM+329:710504'",
    "NAT+2+RUS'",
    "DOC+P+X1234567'",
    "LOC+91+FRA'",
    "CNT+42:1'",
]
PAXLST = "\n".join(
    [
        "UNA:+.? '",
        "UNB+UNOA:4+APIS*ABE+USADHS+070429:0900+000000001++USADHS'",
        "UNG+PAXLST+XYZ AIRLINES+USADHS+070429:0900+1+UN+D:05B'",
        *_BODY,
        f"UNT+{len(_BODY) + 1}+PAX001'",
        "UNE+1+1'",
        "UNZ+1+000000001'",
        "",
    ]
).encode()


async def test_each_traveller_is_screened_once_as_part_of_the_manifest(gateway: Gateway) -> None:
    async with AsyncLiaisonClient(gateway.address) as client:
        await client.submit(red_notice(f"{TEST_CENTRE}:notice:1"))
        await client.submit(stolen_passport(f"{TEST_CENTRE}:sltd:1"))
        await screened(gateway)
        ingested = await client.ingest("paxlst", PAXLST)
        assert not [d.message for d in ingested.diagnostics]
        (manifest,) = [a.record_id for a in ingested.acks if ":paxlst-manifest:" in a.record_id]
        await screened(gateway)
        hits = [hit.screening_hit async for hit in client.hits()]
    assert sorted((hit.list, hit.entry_record_id) for hit in hits) == [
        ("notices", f"{TEST_CENTRE}:notice:1"),
        ("sltd", f"{TEST_CENTRE}:sltd:1"),
    ]
    assert {hit.manifest_record_id for hit in hits} == {manifest}


async def test_a_no_match_on_a_manifest_traveller_suppresses_the_same_traveller_later(
    gateway: Gateway,
) -> None:
    from liaison.v1 import screening_hit_pb2

    no_match = screening_hit_pb2.SCREENING_DECISION_KIND_NO_MATCH
    async with AsyncLiaisonClient(gateway.address) as client:
        await client.submit(red_notice(f"{TEST_CENTRE}:notice:1"))
        await screened(gateway)
        await client.ingest("paxlst", PAXLST)
        await screened(gateway)
        (hit,) = [h async for h in client.hits()]
        # The key of the traveller as screened: its person and its documents together.
        assert len(hit.screening_hit.subject_key) == 32
        await client.decide(hit.record_id, no_match, note="not him")
        await screened(gateway)
        again = await client.screen(adapter="paxlst", payload=PAXLST)
    assert not [h for h in again.hits if h.list == "notices"], "the decided pair is suppressed"
