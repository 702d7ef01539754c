"""The index: versions replace each other, removal, merging, determinism, suppression."""

from __future__ import annotations

from gateway.screening import Band, Screener, ScreeningIndex
from tests.gateway.screening.builders import notice, traveller


def test_a_new_version_replaces_the_old_one_at_once() -> None:
    index = ScreeningIndex.build([notice("N:1", "KARIMOV", "RUSTAM")])
    screener = Screener(index)
    assert screener.screen(traveller("KARIMOV", "RUSTAM"))[0].entry.version == 1
    index.upsert("N:1", [notice("N:1", "KARIMOVA", "DILNOZA", version=2, sex=1)])
    assert screener.screen(traveller("KARIMOV", "RUSTAM")) == []
    found = screener.screen(traveller("KARIMOVA", "DILNOZA", sex=1))
    assert [(m.entry.record_id, m.entry.version) for m in found] == [("N:1", 2)]
    assert len(index) == 1


def test_a_removed_record_leaves_the_index() -> None:
    index = ScreeningIndex(merge_threshold=1_000_000)
    index.upsert("N:1", [notice("N:1", "HALVORSEN", "SIGRID", sex=1)])
    index.upsert("N:2", [notice("N:2", "HALVORSEN", "TOR")])
    screener = Screener(index)
    assert screener.screen(traveller("HALVORSEN", "SIGRID", sex=1))
    assert index.remove("N:1") is True
    assert index.remove("N:1") is False
    assert screener.screen(traveller("HALVORSEN", "SIGRID", sex=1)) == []
    assert len(index) == 1


def test_merging_the_delta_keeps_every_live_entry_and_drops_removed_ones() -> None:
    families = ["ABERNATHY", "BOUCHARD", "CZERNY", "DALGLIESH", "EKWUEME"]
    givens = ["ARVO", "BENEDIKT", "CORNELIS", "DESMOND", "EZEKIEL"]
    index = ScreeningIndex.build(
        [notice(f"N:{n}", f, g) for n, (f, g) in enumerate(zip(families, givens, strict=True))]
    )
    index.upsert("N:9", [notice("N:9", "OSTROWSKI", "ADAM")])
    index.remove("N:2")
    index.merge()
    screener = Screener(index)
    assert screener.screen(traveller("OSTROWSKI", "ADAM"))[0].entry.record_id == "N:9"
    assert screener.screen(traveller("CZERNY", "CORNELIS")) == []
    assert screener.screen(traveller("BOUCHARD", "BENEDIKT"))[0].entry.record_id == "N:1"
    assert len(index) == 5


def test_build_refuses_a_record_given_twice() -> None:
    import pytest

    with pytest.raises(ValueError, match="N:1 given twice"):
        ScreeningIndex.build([notice("N:1", "A", "B"), notice("N:1", "C", "D")])


def test_results_are_deterministic() -> None:
    entries = [notice(f"N:{n}", "GARCIA", "JOSE", (1980, 1, 1 + n % 3)) for n in range(30)]
    subject = traveller("GARCIA", "JOSE", (1980, 1, 2))
    first = Screener(ScreeningIndex.build(entries)).screen(subject)
    second = Screener(ScreeningIndex.build(list(reversed(entries)))).screen(subject)
    assert first == second
    assert len(first) == 10  # the 20 born on another day are below review
    scores = [m.score for m in first]
    assert scores == sorted(scores, reverse=True)


def test_a_no_match_decision_suppresses_the_pair_until_the_entry_changes() -> None:
    index = ScreeningIndex.build([notice("N:1", "MBEKI", "THABO")])
    screener = Screener(index)
    subject = traveller("MBEKI", "THABO")
    (match,) = screener.screen(subject)
    decided = {(subject.identity_key, match.entry.record_id, match.entry.version)}
    assert screener.screen(subject, suppressed=decided) == []
    # A new version of the entry re-opens the pair.
    index.upsert("N:1", [notice("N:1", "MBEKI", "THABO", version=2)])
    (reopened,) = screener.screen(subject, suppressed=decided)
    assert reopened.entry.version == 2
    assert reopened.band is Band.HIT


def test_memory_is_reported() -> None:
    index = ScreeningIndex.build([notice(f"N:{n}", "ABC", "DEF") for n in range(100)])
    assert 100 * 50 < index.memory_bytes() < 100 * 5_000


def test_an_index_grown_by_upserts_merges_its_delta_and_finds_the_same() -> None:
    from gateway.screening.index import MIN_DELTA_POSTINGS

    grown = ScreeningIndex()
    entries = [
        notice(f"N:{n}", f"FAMILY{n:05d}", "GIVEN", (1950 + n % 40, 1, 1)) for n in range(3000)
    ]
    for entry in entries:
        grown.upsert(entry.record_id, [entry])
    assert grown.delta_postings < MIN_DELTA_POSTINGS, "the delta was merged as it grew"
    built = ScreeningIndex.build(entries)
    subject = traveller("FAMILY01234", "GIVEN", (1950 + 1234 % 40, 1, 1))
    assert Screener(grown).screen(subject) == Screener(built).screen(subject)
    assert Screener(grown).screen(subject)[0].entry.record_id == "N:1234"
