"""Red team: search terms and record ids are data, never SQL or patterns, on every backend. Quotes,
comment markers, LIKE wildcards, backslashes and NUL characters find exactly the records that
carry them (here: none, or the one planted), and nothing is dropped or altered."""

from __future__ import annotations

import pytest

from gateway.store import DocumentKey, NameKey, RecordStore, SearchQuery
from tests.support.store import make_item

HOSTILE = [
    "' OR '1'='1",
    "'; DROP TABLE heads; --",
    "%",
    "_",
    "D%E",
    "\\",
    "A\x00B",
    "\u00e9\u0301",
    "\ud7ff",
    "X1\x00",
]


@pytest.mark.parametrize("term", HOSTILE, ids=repr)
async def test_hostile_search_terms_match_only_themselves(store: RecordStore, term: str) -> None:
    await store.write(
        [
            make_item("plain", names=[NameKey("DOE", 0, 0, 0)]),
            make_item("doc", kind="travel_document", documents=[DocumentKey("X1", "UTO")]),
        ]
    )
    for query in (
        SearchQuery(family_name=term),
        SearchQuery(document_number=term),
        SearchQuery(document_number="X1", issuing_state=term),
        SearchQuery(originating_centre=term),
    ):
        assert await store.search(query, 0, 10) == [], query
    assert await store.get(term) is None
    assert [r.record_id for r in await store.search(SearchQuery(family_name="DOE"), 0, 10)] == [
        "plain"
    ]


async def test_a_nul_in_a_feed_filter_matches_nothing_and_fails_nothing(
    store: RecordStore,
) -> None:
    await store.write([make_item("plain", names=[NameKey("DOE", 0, 0, 0)])])
    assert await store.read_since(0, 10, originating_centres=frozenset({"A\x00"})) == []
    assert await store.read_since(0, 10, kinds=frozenset({"person\x00"})) == []
    assert await store.get_versions([("plain\x00", 0)]) == [None]
    [record] = await store.read_since(0, 10, kinds=frozenset({"person", "x\x00"}))
    assert record.record_id == "plain"
