"""Reads every store serves: ``search``, ``read_since``, ``read_before``, ``get``,
``get_versions`` and ``last_sequence``."""

from __future__ import annotations

import pytest

from gateway.store import (
    DocumentKey,
    NameKey,
    RecordStore,
    SearchQuery,
    StoredRecord,
    StoredVersion,
)
from tests.support.store import CENTRE, make_item

UINT64_MAX = 2**64 - 1


def ids(records: list[StoredRecord]) -> list[str]:
    """The record ids, in the order returned."""
    return [record.record_id for record in records]


# --- search ----------------------------------------------------------------------------------


async def test_search_by_document_number_and_issuing_state(store: RecordStore) -> None:
    await store.write(
        [
            make_item(
                "doc-uto", kind="travel_document", documents=[DocumentKey("L898902C3", "UTO")]
            ),
            make_item(
                "doc-fra", kind="travel_document", documents=[DocumentKey("L898902C3", "FRA")]
            ),
            make_item("doc-other", kind="travel_document", documents=[DocumentKey("X1", "UTO")]),
            make_item("person", names=[NameKey("L898902C3", 0, 0, 0)]),
        ]
    )

    async def found(number: str, state: str = "") -> list[str]:
        query = SearchQuery(document_number=number, issuing_state=state)
        return ids(await store.search(query, 0, 10))

    assert await found("L898902C3") == ["doc-uto", "doc-fra"]
    assert await found("L898902C3", "FRA") == ["doc-fra"]
    assert await found("L898902C3", "DEU") == []
    assert await found("X1") == ["doc-other"]
    assert await found("L898902") == []


@pytest.mark.parametrize(
    ("key_date", "query_date", "matches"),
    [
        ((1975, 3, 12), (1975, 3, 12), True),
        ((1975, 0, 0), (1975, 3, 12), True),  # the key only knows the year
        ((1975, 3, 0), (1975, 3, 12), True),
        ((0, 0, 0), (1975, 3, 12), True),  # the key knows no date at all
        ((1975, 3, 12), (1975, 0, 0), True),  # the query only knows the year
        ((1975, 3, 12), (1975, 3, 0), True),
        ((1975, 3, 12), (0, 0, 0), True),
        ((1975, 3, 12), (0, 4, 0), True),  # no year: any date
        ((1975, 4, 2), (1975, 3, 0), False),
        ((1975, 3, 12), (1975, 3, 13), False),
        ((1975, 3, 12), (1976, 0, 0), False),
        ((1975, 0, 0), (1976, 3, 12), False),
        ((1975, 3, 0), (1975, 4, 12), False),
    ],
)
async def test_search_by_family_name_matches_partial_dates_at_their_precision(
    store: RecordStore,
    key_date: tuple[int, int, int],
    query_date: tuple[int, int, int],
    matches: bool,
) -> None:
    await store.write(
        [
            make_item("person", names=[NameKey("DOE", *key_date)]),
            make_item("namesake", names=[NameKey("DOERING", *key_date)]),
        ]
    )
    year, month, day = query_date
    query = SearchQuery(family_name="DOE", birth_year=year, birth_month=month, birth_day=day)

    assert ids(await store.search(query, 0, 10)) == (["person"] if matches else [])


async def test_name_and_date_must_match_on_the_same_key(store: RecordStore) -> None:
    await store.write(
        [make_item("person", names=[NameKey("DOE", 1980, 1, 1), NameKey("ROE", 1975, 3, 12)])]
    )

    doe_1975 = SearchQuery(family_name="DOE", birth_year=1975)
    roe_1975 = SearchQuery(family_name="ROE", birth_year=1975)

    assert await store.search(doe_1975, 0, 10) == []
    assert ids(await store.search(roe_1975, 0, 10)) == ["person"]


async def test_record_matching_several_keys_is_returned_once(store: RecordStore) -> None:
    names = [NameKey("DOE", 1975, 0, 0), NameKey("DOE", 1975, 3, 12), NameKey("DOE", 0, 0, 0)]
    documents = [DocumentKey("L1", "FRA"), DocumentKey("L1", "DEU")]
    await store.write([make_item("rec-1", names=names, documents=documents), make_item("rec-2")])

    query = SearchQuery(document_number="L1", family_name="DOE", birth_year=1975, birth_month=3)

    assert ids(await store.search(query, 0, 10)) == ["rec-1"]


async def test_search_by_kind_and_originating_centre(store: RecordStore) -> None:
    await store.write(
        [
            make_item("person-a", kind="person", centre="A"),
            make_item("vehicle-a", kind="vehicle", centre="A"),
            make_item("notice-b", kind="notice", centre="B"),
            make_item("person-b", kind="person", centre="B"),
        ]
    )

    async def found(kinds: frozenset[str] = frozenset(), centre: str = "") -> list[str]:
        query = SearchQuery(kinds=kinds, originating_centre=centre)
        return ids(await store.search(query, 0, 10))

    assert await found() == ["person-a", "vehicle-a", "notice-b", "person-b"]
    assert await found(frozenset({"person", "notice"})) == ["person-a", "notice-b", "person-b"]
    assert await found(centre="B") == ["notice-b", "person-b"]
    assert await found(frozenset({"vehicle"}), "B") == []
    assert await found(frozenset({"seizure"})) == []


async def test_search_by_commit_time_of_the_latest_version(store: RecordStore) -> None:
    latest: dict[str, int] = {}  # record id -> commit time of its latest version, in sequence order

    async def write(record_id: str, content: str = "") -> int:
        [outcome] = await store.write([make_item(record_id, content)])
        assert isinstance(outcome, StoredVersion)
        latest.pop(record_id, None)
        latest[record_id] = outcome.committed_at_us
        return outcome.committed_at_us

    async def found(after: int = 0, before: int = 0) -> list[str]:
        query = SearchQuery(committed_after_us=after, committed_before_us=before)
        return ids(await store.search(query, 0, 10))

    def expected(after: int = 0, before: int = 0) -> list[str]:
        # Commit times never go back but may repeat, so the bounds are read off the acks.
        return [
            record_id
            for record_id, at in latest.items()
            if at >= after and (before == 0 or at < before)
        ]

    await write("rec-1")
    middle = await write("rec-2")
    last = await write("rec-3")

    assert "rec-2" in await found(after=middle)  # inclusive
    assert await found(after=middle) == expected(after=middle)
    assert "rec-2" not in await found(before=middle)  # exclusive
    assert await found(before=middle) == expected(before=middle)
    assert await found(after=middle, before=middle + 1) == expected(middle, middle + 1)
    assert await found(after=last + 1) == []

    newest = await write("rec-1", "second version")
    assert "rec-1" not in await found(before=middle)
    assert await found(after=newest) == expected(after=newest)
    assert (await found(after=newest))[-1] == "rec-1"


async def test_search_pages_by_sequence(store: RecordStore) -> None:
    for n in range(7):
        # Every other record is a vehicle, so matches are not consecutive sequences.
        kind = "person" if n % 2 == 0 else "vehicle"
        await store.write([make_item(f"rec-{n}", kind=kind)])
    query = SearchQuery(kinds=frozenset({"person"}))

    pages: list[list[tuple[str, int]]] = []
    after = 0
    while page := await store.search(query, after, 3):
        pages.append([(r.record_id, r.sequence) for r in page])
        after = page[-1].sequence

    assert pages == [[("rec-0", 1), ("rec-2", 3), ("rec-4", 5)], [("rec-6", 7)]]
    assert await store.search(query, 2, 2) == (await store.search(query, 0, 3))[1:]
    assert await store.search(query, UINT64_MAX, 10) == []


async def test_only_latest_versions_are_searchable(store: RecordStore) -> None:
    old_keys = {
        "documents": [DocumentKey("OLD1", "FRA")],
        "names": [NameKey("OLDNAME", 1975, 0, 0)],
    }
    await store.write([make_item("rec-1", "A", **old_keys)])  # type: ignore[arg-type]
    await store.write([make_item("rec-2", "X", kind="vehicle")])
    [second] = await store.write(
        [
            make_item(
                "rec-1",
                "B",
                kind="notice",
                documents=[DocumentKey("NEW1", "FRA")],
                names=[NameKey("NEWNAME", 1975, 0, 0)],
            )
        ]
    )

    assert await store.search(SearchQuery(document_number="OLD1"), 0, 10) == []
    assert await store.search(SearchQuery(family_name="OLDNAME"), 0, 10) == []
    assert await store.search(SearchQuery(kinds=frozenset({"person"})), 0, 10) == []
    [hit] = await store.search(SearchQuery(document_number="NEW1", family_name="NEWNAME"), 0, 10)
    assert isinstance(second, StoredVersion)
    assert hit == StoredRecord(
        record_id="rec-1",
        version=2,
        sequence=3,
        committed_at_us=second.committed_at_us,
        content_sha256=second.content_sha256,
        kind="notice",
        originating_centre=CENTRE,
        blob=b"B",
        latest_version=2,
        latest_kind="notice",
    )
    # The updated record moved behind rec-2 in sequence order.
    assert [(r.record_id, r.sequence) for r in await store.search(SearchQuery(), 0, 10)] == [
        ("rec-2", 2),
        ("rec-1", 3),
    ]


async def test_new_version_without_keys_drops_the_old_keys(store: RecordStore) -> None:
    await store.write([make_item("rec-1", "A", documents=[DocumentKey("D1", "FRA")])])
    await store.write([make_item("rec-1", "B")])

    assert await store.search(SearchQuery(document_number="D1"), 0, 10) == []


async def test_keys_of_the_last_version_in_one_transaction_win(store: RecordStore) -> None:
    await store.write(
        [
            make_item("rec-1", "A", documents=[DocumentKey("D1", "FRA")]),
            make_item("rec-1", "B", documents=[DocumentKey("D2", "FRA")]),
        ]
    )

    assert await store.search(SearchQuery(document_number="D1"), 0, 10) == []
    [hit] = await store.search(SearchQuery(document_number="D2"), 0, 10)
    assert (hit.version, hit.sequence) == (2, 2)


async def test_search_refuses_a_limit_below_one(store: RecordStore) -> None:
    with pytest.raises(ValueError, match="limit"):
        await store.search(SearchQuery(), 0, 0)
    with pytest.raises(ValueError, match="limit"):
        await store.read_since(0, -1)


# --- read_since ------------------------------------------------------------------------------


async def test_read_since_returns_every_version_in_sequence_order(
    store: RecordStore,
) -> None:
    await store.write([make_item("rec-1", "A")])
    await store.write([make_item("rec-2", "A"), make_item("rec-1", "B")])
    await store.write([make_item("rec-3", "A")])

    everything = await store.read_since(0, 100)

    assert [(r.record_id, r.version, r.sequence, r.latest_version) for r in everything] == [
        ("rec-1", 1, 1, 2),
        ("rec-2", 1, 2, 1),
        ("rec-1", 2, 3, 2),
        ("rec-3", 1, 4, 1),
    ]
    assert [r.blob for r in everything] == [b"A", b"A", b"B", b"A"]
    assert await store.read_since(1, 2) == everything[1:3]
    assert await store.read_since(4, 10) == []
    assert await store.read_since(UINT64_MAX, 10) == []


async def test_read_since_filters_by_kind_and_centre(store: RecordStore) -> None:
    await store.write(
        [
            make_item("person-a", kind="person", centre="A"),
            make_item("vehicle-a", kind="vehicle", centre="A"),
            make_item("notice-b", kind="notice", centre="B"),
            make_item("person-c", kind="person", centre="C"),
        ]
    )

    async def found(kinds: set[str] = set(), centres: set[str] = set()) -> list[str]:  # noqa: B006
        return ids(await store.read_since(0, 10, frozenset(kinds), frozenset(centres)))

    assert await found({"person"}) == ["person-a", "person-c"]
    assert await found(centres={"B", "C"}) == ["notice-b", "person-c"]
    assert await found({"person", "vehicle"}, {"A"}) == ["person-a", "vehicle-a"]
    assert await found({"notice"}, {"A"}) == []


# --- get and last_sequence -------------------------------------------------------------------


async def test_get_latest_or_a_given_version(store: RecordStore) -> None:
    [first] = await store.write([make_item("rec-1", "A")])
    await store.write([make_item("rec-1", "B")])

    latest = await store.get("rec-1")
    old = await store.get("rec-1", 1)

    assert isinstance(first, StoredVersion)
    assert old == StoredRecord(
        record_id="rec-1",
        version=1,
        sequence=1,
        committed_at_us=first.committed_at_us,
        content_sha256=first.content_sha256,
        kind="person",
        originating_centre=CENTRE,
        blob=b"A",
        latest_version=2,
        latest_kind="person",
    )
    assert latest is not None
    assert (latest.version, latest.sequence, latest.blob, latest.latest_version) == (2, 2, b"B", 2)
    assert await store.get("rec-1", 2) == latest
    assert await store.get("rec-1", 3) is None
    assert await store.get("rec-1", UINT64_MAX) is None
    assert await store.get("rec-2") is None


async def test_last_sequence(store: RecordStore) -> None:
    assert await store.last_sequence() == 0
    await store.write([make_item("rec-1"), make_item("rec-2")])
    await store.write([make_item("rec-1")])  # duplicate: no new sequence

    assert await store.last_sequence() == 2


# --- read_before and get_versions --------------------------------------------------------------


async def test_read_before_returns_every_version_newest_first(store: RecordStore) -> None:
    await store.write([make_item("rec-1", "A")])
    await store.write([make_item("rec-2", "A"), make_item("rec-1", "B")])
    await store.write([make_item("rec-3", "A")])

    everything = await store.read_before(UINT64_MAX, 100)

    assert [(r.record_id, r.version, r.sequence, r.latest_version) for r in everything] == [
        ("rec-3", 1, 4, 1),
        ("rec-1", 2, 3, 2),
        ("rec-2", 1, 2, 1),
        ("rec-1", 1, 1, 2),
    ]
    assert everything == list(reversed(await store.read_since(0, 100)))
    assert await store.read_before(4, 2) == everything[1:3]
    assert await store.read_before(1, 10) == []


async def test_get_versions_reads_each_key_in_order(store: RecordStore) -> None:
    await store.write([make_item("rec-1", "A")])
    await store.write([make_item("rec-1", "B"), make_item("rec-2")])

    found = await store.get_versions([("rec-1", 2), ("rec-9", 1), ("rec-1", 1), ("rec-2", 1)])

    assert [None if r is None else (r.record_id, r.version, r.blob) for r in found] == [
        ("rec-1", 2, b"B"),
        None,
        ("rec-1", 1, b"A"),
        ("rec-2", 1, b"content of rec-2"),
    ]
    assert found[0] == await store.get("rec-1", 2)
    assert await store.get_versions([]) == []
