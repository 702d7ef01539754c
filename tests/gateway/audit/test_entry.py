"""Stored entries are parsed strictly: only the canonical JSON of an entry is an entry."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st

from gateway.audit.chain import ChainHead, entry_hash, next_entry
from gateway.audit.entry import AuditEntry, EntryFormatError, parse_entry

_T0 = dt.datetime(2026, 11, 27, 12, 0, tzinfo=dt.UTC)


def _stored(key: bytes | None = None, **detail: str | int) -> str:
    entry = next_entry(
        ChainHead(),
        actor="urn:liaison:client:customs-be",
        action="read",
        outcome="ok",
        record_ids=["rec-1"],
        detail=detail or {"method": "Get"},
        now=_T0,
        key=key,
    )
    return entry.to_json()


def _refused(text: object) -> str:
    with pytest.raises(EntryFormatError) as caught:
        parse_entry(text)
    return str(caught.value)


def test_the_canonical_form_parses_back_to_the_same_entry() -> None:
    for text in (_stored(), _stored(bytes(32)), _stored(note="caf\u00e9", count=3)):
        entry = parse_entry(text)
        assert entry.to_json() == text
        assert AuditEntry.from_json(text) == entry


def test_a_duplicate_key_is_refused_wherever_it_is() -> None:
    text = _stored()
    assert "duplicate key 'actor'" in _refused('{"actor":"forged",' + text[1:])
    nested = text.replace('"detail":{"method":"Get"}', '"detail":{"method":"Get","method":"x"}')
    assert "duplicate key 'method'" in _refused(nested)


def test_an_unknown_field_is_refused_with_the_claimed_sequence() -> None:
    value = json.loads(_stored())
    value["note"] = "anything"
    with pytest.raises(EntryFormatError, match="unknown field\\(s\\) 'note'") as caught:
        parse_entry(json.dumps(value, sort_keys=True, separators=(",", ":")))
    assert caught.value.sequence == 1


@pytest.mark.parametrize(
    "reformat",
    [
        lambda v: json.dumps(v, sort_keys=True),  # spaces
        lambda v: json.dumps(dict(reversed(v.items())), separators=(",", ":")),  # key order
        lambda v: json.dumps(v, sort_keys=True, separators=(",", ":")) + "\n",
        lambda v: json.dumps(v, sort_keys=True, separators=(",", ":"), ensure_ascii=False),
        lambda v: json.dumps(v, sort_keys=True, separators=(",", ":")).replace(
            "rec-1", "rec\\u002d1"
        ),
    ],
)
def test_any_other_encoding_of_the_same_content_is_refused(
    reformat: Callable[[dict[str, Any]], str],
) -> None:
    value = json.loads(_stored(note="caf\u00e9"))
    text = reformat(value)
    assert json.loads(text) == value  # the same content ...
    assert "not in canonical form" in _refused(text)  # ... in another form


@pytest.mark.parametrize(
    ("field", "value", "words"),
    [
        ("sequence", 1.0, "sequence must be an integer"),
        ("sequence", True, "sequence must be an integer"),
        ("sequence", 0, "sequence must be an integer"),
        ("sequence", "1", "sequence must be an integer"),
        ("actor", None, "actor must be a string"),
        ("time", "2026-11-27T12:00:00Z", "time must be RFC 3339"),
        ("time", "2026-02-30T12:00:00.000000Z", "time must be RFC 3339"),
        ("record_ids", ["a", 1], "record_ids must be an array of strings"),
        ("detail", {"n": 1.5}, "detail must be an object of strings and integers"),
        ("detail", {"n": False}, "detail must be an object of strings and integers"),
        ("detail", {"n": {"deep": 1}}, "detail must be an object of strings and integers"),
        ("hash", "AB" * 32, "hash must be 64 lower-case hexadecimal digits"),
        ("previous_hash", "0" * 63, "previous_hash must be 64 lower-case"),
        ("mac", "", "mac must be 'hmac-sha256' when present"),
    ],
)
def test_every_field_has_its_exact_type(field: str, value: object, words: str) -> None:
    altered = json.loads(_stored())
    altered[field] = value
    assert words in _refused(json.dumps(altered, sort_keys=True, separators=(",", ":")))


@pytest.mark.parametrize(
    ("text", "words"),
    [
        (b'{"sequence":1}', "stored as bytes, not as text"),
        (None, "stored as NoneType"),
        ("", "not JSON (Expecting value at character 0)"),
        ('{"sequence":NaN}', "not JSON (NaN is not a JSON number)"),
        ("[" * 100_000 + "]" * 100_000, "not JSON"),
        ("[]", "not a JSON object but list"),
        ("{}", "missing field(s) 'action'"),
    ],
)
def test_what_is_not_an_entry_is_refused_with_a_reason(text: object, words: str) -> None:
    assert words in _refused(text)


_TEXT = st.text(max_size=20)


@given(
    actor=_TEXT,
    record_ids=st.lists(_TEXT, max_size=3),
    detail=st.dictionaries(_TEXT, _TEXT | st.integers(), max_size=3),
    keyed=st.booleans(),
)
def test_every_written_entry_parses_back_and_verifies(
    actor: str, record_ids: list[str], detail: dict[str, str | int], keyed: bool
) -> None:
    key = bytes(32) if keyed else None
    entry = next_entry(
        ChainHead(),
        actor=actor,
        action="read",
        outcome="ok",
        record_ids=record_ids,
        detail=detail,
        now=_T0,
        key=key,
    )
    parsed = parse_entry(entry.to_json())
    assert parsed == entry
    assert entry_hash(parsed, key) == entry.hash
