"""Search by each criterion, partial-date matching and cursor paging."""

from __future__ import annotations

import asyncio

import grpc
import pytest
from google.protobuf import timestamp_pb2
from grpc import aio

from gateway.server import Gateway
from liaison.v1 import common_pb2, exchange_pb2, record_pb2
from tests.support.factories import person, store_replica, travel_document
from tests.support.rpc import ExchangeStub as Stub
from tests.support.rpc import violations_of

pytestmark = pytest.mark.both_backends  # every test on SQLite and on PostgreSQL


async def submit(exchange: Stub, *records: record_pb2.Record) -> list[exchange_pb2.SubmitAck]:
    return [(await exchange.Submit(exchange_pb2.SubmitRequest(record=r))).ack for r in records]


async def search(
    exchange: Stub, request: exchange_pb2.SearchRequest
) -> tuple[list[str], exchange_pb2.SearchPageEnd]:
    ids: list[str] = []
    end = None
    async for response in exchange.Search(request):
        if response.HasField("hit"):
            ids.append(response.hit.record.record_id)
        else:
            end = response.page_end
    assert end is not None, "every page ends with a page_end"
    return ids, end


def partial(year: int, month: int = 0, day: int = 0) -> common_pb2.PartialDate:
    return common_pb2.PartialDate(year=year, month=month, day=day)


async def test_by_document_number_and_issuing_state(exchange: Stub) -> None:
    await submit(
        exchange,
        travel_document("D-UTO", number="L898902C3"),
        travel_document("D-FRA", number="L898902C3", issuing_state="FRA"),
        travel_document("D-OTHER", number="X1234567", issuing_state="FRA"),
    )
    ids, _ = await search(exchange, exchange_pb2.SearchRequest(document_number="l898 902<c3"))
    assert ids == ["D-UTO", "D-FRA"]
    ids, _ = await search(
        exchange, exchange_pb2.SearchRequest(document_number="L898902C3", issuing_state="fra")
    )
    assert ids == ["D-FRA"]
    ids, _ = await search(
        exchange, exchange_pb2.SearchRequest(document_number="L898902C3", issuing_state="UTO")
    )
    assert ids == ["D-UTO"]


async def test_family_name_with_partial_dates_matching_at_their_precision(exchange: Stub) -> None:
    await submit(
        exchange,
        person("FULL", family="Müller", birth=(1975, 3, 12)),
        person("YEAR-ONLY", family="MULLER", birth=(1975, 0, 0)),
        person("MONTH-ONLY", family="muller", birth=(1975, 3, 0)),
        person("OTHER-DAY", family="Muller", birth=(1975, 3, 13)),
        person("OTHER-MONTH", family="Muller", birth=(1975, 4, 12)),
        person("OTHER-YEAR", family="Muller", birth=(1976, 3, 12)),
        person("OTHER-NAME", family="Miller", birth=(1975, 3, 12)),
    )
    by_name = exchange_pb2.SearchRequest(family_name="MÜLLER")
    ids, _ = await search(exchange, by_name)
    assert ids == ["FULL", "YEAR-ONLY", "MONTH-ONLY", "OTHER-DAY", "OTHER-MONTH", "OTHER-YEAR"]

    cases = {
        (1975, 3, 12): ["FULL", "YEAR-ONLY", "MONTH-ONLY"],
        (1975, 3, 0): ["FULL", "YEAR-ONLY", "MONTH-ONLY", "OTHER-DAY"],
        (1975, 0, 0): ["FULL", "YEAR-ONLY", "MONTH-ONLY", "OTHER-DAY", "OTHER-MONTH"],
        (1976, 0, 0): ["OTHER-YEAR"],
    }
    for date, expected in cases.items():
        request = exchange_pb2.SearchRequest(family_name="muller", birth_date=partial(*date))
        ids, _ = await search(exchange, request)
        assert ids == expected, date


async def test_names_of_document_holders_and_transliterations_are_found(exchange: Stub) -> None:
    cyrillic = person("CYR", family="Иванова", given="Анна")
    cyrillic.person.names[0].script = "Cyrl"
    cyrillic.person.names[0].transliteration.family = "IVANOVA"
    await submit(exchange, cyrillic, travel_document("D-1", family="IVANOVA", birth=(1975, 3, 12)))
    ids, _ = await search(exchange, exchange_pb2.SearchRequest(family_name="Ivanova"))
    assert ids == ["CYR", "D-1"]
    ids, _ = await search(exchange, exchange_pb2.SearchRequest(family_name="иванова"))
    assert ids == ["CYR"]


async def test_by_kind_and_by_originating_centre(exchange: Stub, gateway: Gateway) -> None:
    await submit(exchange, person("P-1"), travel_document("D-1"))
    await store_replica(gateway, person("INTERPOL-CCC-LYON:P-2", centre="INTERPOL-CCC-LYON"))
    ids, _ = await search(
        exchange, exchange_pb2.SearchRequest(kinds=[record_pb2.RECORD_KIND_TRAVEL_DOCUMENT])
    )
    assert ids == ["D-1"]
    ids, _ = await search(
        exchange, exchange_pb2.SearchRequest(originating_centre="INTERPOL-CCC-LYON")
    )
    assert ids == ["INTERPOL-CCC-LYON:P-2"]
    ids, _ = await search(
        exchange,
        exchange_pb2.SearchRequest(
            kinds=[record_pb2.RECORD_KIND_PERSON], originating_centre="TEST-CENTRE"
        ),
    )
    assert ids == ["P-1"]


async def test_by_time_window(exchange: Stub) -> None:
    [early] = await submit(exchange, person("EARLY"))
    await asyncio.sleep(0.01)
    [late] = await submit(exchange, person("LATE"))
    boundary = timestamp_pb2.Timestamp()
    boundary.FromMicroseconds(late.committed_at.ToMicroseconds())
    ids, _ = await search(exchange, exchange_pb2.SearchRequest(committed_after=boundary))
    assert ids == ["LATE"]
    ids, _ = await search(exchange, exchange_pb2.SearchRequest(committed_before=boundary))
    assert ids == ["EARLY"]
    assert early.committed_at.ToMicroseconds() < boundary.ToMicroseconds()


async def test_only_the_latest_version_is_searched(exchange: Stub) -> None:
    await submit(exchange, person("P-1", family="BEFORE"))
    await submit(exchange, person("P-1", family="AFTER"))
    assert (await search(exchange, exchange_pb2.SearchRequest(family_name="BEFORE")))[0] == []
    ids, _ = await search(exchange, exchange_pb2.SearchRequest(family_name="AFTER"))
    assert ids == ["P-1"]


async def test_paging_with_a_resumable_cursor(exchange: Stub) -> None:
    await submit(exchange, *[person(f"P-{i}", family="SMITH") for i in range(5)])
    await submit(exchange, person("NOT-SMITH", family="JONES"))
    seen: list[str] = []
    cursor = ""
    pages = []
    while True:
        ids, end = await search(
            exchange, exchange_pb2.SearchRequest(family_name="smith", page_size=2, cursor=cursor)
        )
        seen += ids
        pages.append((len(ids), end.has_more))
        cursor = end.next_cursor
        if not end.has_more:
            break
    assert seen == [f"P-{i}" for i in range(5)]
    assert pages == [(2, True), (2, True), (1, False)]


async def test_a_hit_cursor_resumes_right_after_that_hit(exchange: Stub) -> None:
    await submit(exchange, *[person(f"P-{i}", family="SMITH") for i in range(4)])
    request = exchange_pb2.SearchRequest(family_name="smith")
    hits = [r.hit async for r in exchange.Search(request) if r.HasField("hit")]
    request.cursor = hits[1].cursor
    ids, end = await search(exchange, request)
    assert ids == ["P-2", "P-3"]
    assert not end.has_more


@pytest.mark.parametrize(
    ("request_", "field"),
    [
        (exchange_pb2.SearchRequest(issuing_state="FRA"), "issuing_state"),
        (exchange_pb2.SearchRequest(birth_date=partial(1975)), "birth_date"),
        (
            exchange_pb2.SearchRequest(family_name="x", birth_date=partial(1975, 13)),
            "birth_date.month",
        ),
        (exchange_pb2.SearchRequest(kinds=[record_pb2.RecordKind.ValueType(42)]), "kinds[0]"),
        (exchange_pb2.SearchRequest(cursor="garbage"), "cursor"),
        (exchange_pb2.SearchRequest(family_name="--"), "family_name"),
    ],
)
async def test_invalid_criteria_are_refused(
    exchange: Stub, request_: exchange_pb2.SearchRequest, field: str
) -> None:
    with pytest.raises(aio.AioRpcError) as caught:
        await search(exchange, request_)
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert set(violations_of(caught.value)) == {field}


async def test_a_cursor_from_other_criteria_is_refused(exchange: Stub) -> None:
    await submit(exchange, person("P-1", family="SMITH"))
    _, end = await search(exchange, exchange_pb2.SearchRequest(family_name="smith"))
    with pytest.raises(aio.AioRpcError) as caught:
        await search(
            exchange, exchange_pb2.SearchRequest(family_name="jones", cursor=end.next_cursor)
        )
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert violations_of(caught.value) == {"cursor": "was issued for other search criteria"}
