"""Need-to-know on every read path: a hidden record is absent, in every detail of every answer.

Findings of issue 10 reproduced through a real mutual-TLS gateway (the i2c), read by a partner
client acting for Lyon:

* ``Translation.Export`` returned records the caller may not see;
* Search moved its cursor and kept ``has_more`` over hidden matches;
* ``Get(version=1)`` answered differently for a hidden record and an absent one;
* old versions of a record later restricted were still served;
* Subscribe's ``caught_up`` counted hidden commits;
* an H2 record withheld from Lyon's forwarding was readable by a client acting for Lyon.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import grpc
import pytest
from grpc import aio

from gateway.federation.routing import RoutingRule
from gateway.security.policy import Grant
from gateway.server import Gateway
from liaison.v1 import (
    exchange_pb2,
    exchange_pb2_grpc,
    record_pb2,
    translation_pb2,
    translation_pb2_grpc,
)
from tests.support.factories import person, travel_document
from tests.support.mtls import LYON, SINGAPORE, Pki, audit_entries, channel, tls_gateway

OPERATOR, PARTNER = "operator", "lyon-partner"
GRANTS = (
    Grant((f"urn:liaison:client:{OPERATOR}",), ("liaison.v1.*",)),
    Grant(
        (f"urn:liaison:client:{PARTNER}",),
        ("liaison.v1.RecordExchange/*", "liaison.v1.Translation/*"),
        acts_for=LYON,
    ),
)
# The provider's permission to pass H2 persons to Lyon - and nothing else.
ROUTES = (RoutingRule(peers=(LYON,), kinds=frozenset({"person"}), allow_h2=True, name="h2"),)
H2 = record_pb2.HANDLING_CODE_H2


def _person(
    record_id: str, family: str, *, releasable: tuple[str, ...] = (), code: int = 0
) -> record_pb2.Record:
    record = person(record_id, family=family)
    record.handling.releasable_to.extend(releasable)
    record.handling.code = code  # type: ignore[assignment]
    return record


def _document(record_id: str, *, code: int = 0) -> record_pb2.Record:
    record = travel_document(record_id, number="X" + record_id.upper().replace("-", "")[:8])
    record.handling.code = code  # type: ignore[assignment]
    return record


@pytest.fixture
async def gateway(tmp_path: Path, pki: Pki) -> AsyncIterator[Gateway]:
    async with tls_gateway(tmp_path, pki, GRANTS, routes=ROUTES) as started:
        async with channel(started, pki, pki.client(OPERATOR)) as operator:
            exchange = exchange_pb2_grpc.RecordExchangeStub(operator)
            for record in (
                _person("open-1", "OPENONE"),
                _person("sg-only", "HIDDENNAME", releasable=(SINGAPORE,)),
                _person("h2-person", "PERMITTED", code=H2),
                _document("h2-document", code=H2),
                _person("later", "LATER"),
                _person("later", "LATER", releasable=(SINGAPORE,)),
                _person("stricter", "STRICTER", releasable=(SINGAPORE,)),
                _person("stricter", "STRICTER"),
                _person("open-2", "OPENTWO"),
                _person("tail-hidden", "TAIL", releasable=(SINGAPORE,)),
            ):
                await exchange.Submit(exchange_pb2.SubmitRequest(record=record))
        yield started


async def _refusal(call: object) -> tuple[grpc.StatusCode, str]:
    try:
        await call  # type: ignore[misc]
    except aio.AioRpcError as error:
        return error.code(), error.details() or ""
    raise AssertionError("the call succeeded")


async def test_export_of_a_hidden_record_is_not_found_like_an_absent_one(
    gateway: Gateway, pki: Pki
) -> None:
    async with channel(gateway, pki, pki.client(PARTNER)) as partner:
        translation = translation_pb2_grpc.TranslationStub(partner)

        def export(record_id: str) -> object:
            ref = translation_pb2.RecordRef(record_id=record_id)
            return translation.Export(
                translation_pb2.ExportRequest(adapter="icao-mrz", record_refs=[ref])
            )

        hidden = await _refusal(export("sg-only"))
        absent = await _refusal(export("no-such-1"))
        allowed = await translation.Export(
            translation_pb2.ExportRequest(
                adapter="interpol-notice",
                record_refs=[translation_pb2.RecordRef(record_id="open-1")],
            )
        )
    assert hidden[0] == grpc.StatusCode.NOT_FOUND
    assert hidden == (absent[0], absent[1].replace("no-such-1", "sg-only"))
    assert b"HIDDENNAME" not in allowed.payload
    exports = [e for e in audit_entries(gateway) if e["action"] == "export"]
    assert [e["outcome"] for e in exports] == ["not-found", "not-found", "ok"]


async def test_get_answers_the_same_for_hidden_and_absent_records_and_versions(
    gateway: Gateway, pki: Pki
) -> None:
    async with channel(gateway, pki, pki.client(PARTNER)) as partner:
        exchange = exchange_pb2_grpc.RecordExchangeStub(partner)

        async def get(record_id: str, version: int = 0) -> tuple[grpc.StatusCode, str]:
            request = exchange_pb2.GetRequest(record_id=record_id, version=version)
            return await _refusal(exchange.Get(request))

        for version in (0, 1):
            hidden = await get("sg-only", version)
            absent = await get("no-such-2", version)
            assert hidden == (absent[0], absent[1].replace("no-such-2", "sg-only"))
        # A record restricted later: its history is restricted too.
        assert (await get("later", 1))[0] == grpc.StatusCode.NOT_FOUND
        assert (await get("later", 2))[0] == grpc.StatusCode.NOT_FOUND
        # A version once stricter stays so, while the latest is visible.
        assert (await get("stricter", 1)) == (
            grpc.StatusCode.NOT_FOUND,
            "version 1 of record stricter not found",
        )
        latest = await exchange.Get(exchange_pb2.GetRequest(record_id="stricter"))
        assert latest.record.version == 2


async def test_h2_is_shown_only_where_the_provider_permitted_it(gateway: Gateway, pki: Pki) -> None:
    async with channel(gateway, pki, pki.client(PARTNER)) as partner:
        exchange = exchange_pb2_grpc.RecordExchangeStub(partner)
        permitted = await exchange.Get(exchange_pb2.GetRequest(record_id="h2-person"))
        assert permitted.record.person.names[0].family == "PERMITTED"
        refused = await _refusal(exchange.Get(exchange_pb2.GetRequest(record_id="h2-document")))
        assert refused[0] == grpc.StatusCode.NOT_FOUND
    async with channel(gateway, pki, pki.client(OPERATOR)) as operator:
        local = exchange_pb2_grpc.RecordExchangeStub(operator)
        held = await local.Get(exchange_pb2.GetRequest(record_id="h2-document"))
        assert held.record.record_id == "h2-document"


async def test_search_pages_over_visible_matches_only(gateway: Gateway, pki: Pki) -> None:
    async with channel(gateway, pki, pki.client(PARTNER)) as partner:
        exchange = exchange_pb2_grpc.RecordExchangeStub(partner)

        async def page(request: exchange_pb2.SearchRequest) -> tuple[list[str], str, bool]:
            answers = [r async for r in exchange.Search(request)]
            hits = [r.hit.record.record_id for r in answers if r.HasField("hit")]
            return hits, answers[-1].page_end.next_cursor, answers[-1].page_end.has_more

        only_hidden = exchange_pb2.SearchRequest(family_name="HIDDENNAME", page_size=1)
        hits, cursor, more = await page(only_hidden)
        assert (hits, more) == ([], False)
        assert cursor.split(".")[1] == "0"  # the cursor did not move over the hidden match
        nothing = exchange_pb2.SearchRequest(family_name="NOBODYATALL", page_size=1)
        assert (await page(nothing))[::2] == ([], False)

        seen: list[str] = []
        request = exchange_pb2.SearchRequest(kinds=[record_pb2.RECORD_KIND_PERSON], page_size=1)
        while True:
            hits, cursor, more = await page(request)
            assert hits, "no empty page while more is announced"
            seen += hits
            if not more:
                break
            request.cursor = cursor
    assert seen == ["open-1", "h2-person", "stricter", "open-2"]


async def test_subscribe_delivers_and_counts_visible_versions_only(
    gateway: Gateway, pki: Pki
) -> None:
    async with channel(gateway, pki, pki.client(PARTNER)) as partner:
        exchange = exchange_pb2_grpc.RecordExchangeStub(partner)
        call = exchange.Subscribe(exchange_pb2.SubscribeRequest(after_sequence=0))
        delivered: list[tuple[str, int]] = []
        caught_up = 0
        async for event in call:
            if event.HasField("caught_up"):
                caught_up = event.caught_up.sequence
                break
            record = event.record_event.record
            delivered.append((record.record_id, event.record_event.metadata.sequence))
        call.cancel()
        from_now = exchange.Subscribe(exchange_pb2.SubscribeRequest())
        first = await anext(aiter(from_now))
        from_now.cancel()
    assert [record_id for record_id, _ in delivered] == [
        "open-1",
        "h2-person",
        "stricter",
        "open-2",
    ]
    # Caught up at the last version delivered, not at the hidden commit after it.
    assert caught_up == delivered[-1][1]
    assert first.caught_up.sequence == caught_up
    assert caught_up < await gateway.store.last_sequence()
