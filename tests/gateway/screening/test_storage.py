"""The index's compact parts: entry codec and storage, document keys, memos, date limits."""

from __future__ import annotations

import pytest

from gateway.screening import BirthDate, DocumentKey, ListEntry, NameRole, PersonName
from gateway.screening.codec import EntryCodec
from gateway.screening.keys import number_key
from gateway.screening.memo import memoized
from gateway.screening.storage import EntryStorage
from tests.gateway.screening.builders import notice, stolen


def test_entries_survive_the_codec_and_share_their_profile() -> None:
    codec = EntryCodec()
    entries = [
        notice("N:1", "Müller", "Jürgen", aliases=(("MILLER", "J"),), latin=("MUELLER", "")),
        stolen("S:1", "X12345678", "FRA"),
        stolen("S:2", "Y87654321", "FRA"),
        ListEntry("P:1", 3, "C", ("mine", "theirs"), "person", sex=3, nationalities=("D", "FRA")),
    ]
    encoded = [codec.encode(entry) for entry in entries]
    assert [codec.decode(data) for data in encoded] == entries
    # The two stolen passports from one centre share everything but their own fields.
    assert b"INTERPOL" not in encoded[1]
    assert len(encoded[2]) < 60


def test_storage_slots_are_stable_and_can_be_killed() -> None:
    storage = EntryStorage()
    slots = [storage.append(text.encode()) for text in ("first", "", "third")]
    assert slots == [0, 1, 2]
    assert [bytes(storage.get(slot)) for slot in slots] == [b"first", b"", b"third"]
    storage.kill(1)
    storage.kill(1)
    assert (len(storage), storage.live) == (3, 2)
    import numpy as np

    assert storage.alive_mask(np.array([2, 1, 0])).tolist() == [True, False, True]


def test_document_keys_are_exact_for_short_numbers_and_fold_ocr_confusions() -> None:
    keys = {number_key(n) for n in ("A1234567", "A12345670", "012345", "12345", "A1234568")}
    assert len(keys) == 5  # leading zeros and lengths kept apart
    assert number_key("O8S1234") == number_key("0851234")
    assert number_key("B0S5IZ") == number_key("805512")
    long_number = "DOCUMENT12345678901234"
    assert number_key(long_number) == number_key(long_number.replace("O", "0"))
    assert number_key(long_number) != number_key(long_number[:-1] + "5")


def test_a_memo_stays_within_its_size() -> None:
    calls: list[int] = []

    @memoized(maxsize=3)
    def square(number: int) -> int:
        calls.append(number)
        return number * number

    assert [square(n) for n in (1, 2, 1, 3, 4, 1)] == [1, 4, 1, 9, 16, 1]
    assert calls == [1, 2, 3, 4, 1]  # emptied when full, so 1 is computed again


def test_impossible_birth_dates_are_refused_with_their_values() -> None:
    with pytest.raises(ValueError, match="12345-1-1"):
        BirthDate(12345, 1, 1)
    with pytest.raises(ValueError, match="1970-13-1"):
        BirthDate(1970, 13, 1)
    assert str(BirthDate(1970)) == "1970"


def test_an_entry_without_documents_or_names_is_stored_as_given() -> None:
    codec = EntryCodec()
    entry = ListEntry(
        "N:-",
        1,
        "INTERPOL-CCC-LYON",
        ("notices",),
        "notice",
        names=(PersonName(NameRole.PRIMARY, "", "-", "", ""),),
        birth_dates=(BirthDate(1980, 2),),
        documents=(DocumentKey("", ""),),
    )
    assert codec.decode(codec.encode(entry)) == entry
