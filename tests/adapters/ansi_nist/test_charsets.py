"""Character encodings of 1.015 DCS (ANSI/NIST-ITL 1-2011 Table 4): what is read and written."""

from __future__ import annotations

import pytest

from adapters.ansi_nist.charsets import (
    TextCodec,
    character_set_indexes,
    encoding_for_text,
    unreadable_indexes,
)


@pytest.mark.parametrize(
    ("items", "index"),
    [
        (["000", "ASCII"], 0),
        (["1"], 1),
        (["003", "UTF-8", ""], 3),
        (["128"], 128),
        (["UTF"], None),
        ([], None),
        (["0003"], None),
    ],
)
def test_character_set_index_is_the_first_item(items: list[str], index: int | None) -> None:
    assert character_set_indexes([items]) == [index]


def test_table4_indexes_000_001_003_are_readable_the_others_not() -> None:
    assert unreadable_indexes([0, 1, 3]) == []
    assert unreadable_indexes([2, 4, 5, 127, 128, 999, None]) == [2, 4, 5, 127, 128, 999, None]


def test_ascii_is_always_read_and_nothing_else_by_default() -> None:
    codec = TextCodec.from_indexes([])
    assert codec.decode(b"DOE,JOHN") == "DOE,JOHN"
    assert codec.decode("É".encode("latin-1")) is None
    assert codec.decode("É".encode()) is None


def test_declared_encodings_are_tried_utf8_first() -> None:
    codec = TextCodec.from_indexes([1, 3])
    assert codec.decode("É".encode()) == "É"
    assert codec.decode("É".encode("latin-1")) == "É"
    assert TextCodec.from_indexes([3]).decode("É".encode("latin-1")) is None


@pytest.mark.parametrize(
    ("indexes", "texts", "expected"),
    [
        ([], ["DOE"], ("ascii", False)),
        ([], ["É"], ("utf-8", True)),
        ([3], ["É"], ("utf-8", False)),
        ([1], ["É"], ("latin-1", False)),
        ([1], ["Ж"], ("utf-8", True)),
        ([1, 3], ["É"], ("utf-8", False)),
        ([2], ["É"], ("utf-8", True)),
    ],
)
def test_encoding_for_text(
    indexes: list[int | None], texts: list[str], expected: tuple[str, bool]
) -> None:
    assert encoding_for_text(indexes, texts) == expected
