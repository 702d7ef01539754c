"""Bytes to JSON: invalid UTF-8, invalid JSON, deep nesting and lone surrogates are located."""

from __future__ import annotations

import pytest

from adapters.diagnostics import Severity
from adapters.interpol_notice.document import (
    DENSITY_CHECKED_BYTES,
    MAX_LOCATED_DUPLICATES,
    load_json,
)
from tests.adapters.interpol_notice.strategies import result_page


def test_valid_json_with_a_byte_order_mark_loads() -> None:
    value, problem, *_ = load_json(b'\xef\xbb\xbf{"name": "M\xc3\x9cLLER"}')
    assert problem is None
    assert value == {"name": "MÜLLER"}


def test_invalid_utf8_is_located_by_byte_offset_line_and_column() -> None:
    payload = b'{\n  "name": "M\xffLLER"\n}'
    value, problem, *_ = load_json(payload)
    assert value is None
    assert problem is not None
    assert (problem.severity, problem.code) == (Severity.ERROR, "NOTICE_UTF8")
    assert problem.location.byte_offset == payload.index(b"\xff") == 14
    assert (problem.location.line, problem.location.column) == (2, 13)


def test_invalid_utf8_after_a_bom_counts_the_bom_in_the_offset() -> None:
    _, problem, *_ = load_json(b"\xef\xbb\xbf\xc3(")
    assert problem is not None
    assert problem.location.byte_offset == 3


def test_invalid_json_is_located_in_bytes_not_characters() -> None:
    # "É" is two bytes in UTF-8: the error is at character 25 (column 26) but byte 26.
    payload = '{"name": "É", "forename" "X"}'.encode()
    value, problem, *_ = load_json(payload)
    assert value is None
    assert problem is not None
    assert problem.code == "NOTICE_JSON"
    assert (problem.location.line, problem.location.column) == (1, 26)
    assert problem.location.byte_offset == payload.index(b'"X"') == 26
    assert "Expecting ':' delimiter" in problem.message


def test_json_error_messages_never_quote_the_payload() -> None:
    _, problem, *_ = load_json(b'{"name": "SECRET-NAME", oops}')
    assert problem is not None
    assert "SECRET" not in problem.message


def test_truncated_json() -> None:
    _, problem, *_ = load_json(b'{"entity_id": "2019/12345", "name": "NDIA')
    assert problem is not None
    assert problem.code == "NOTICE_JSON"
    assert problem.location.byte_offset == 36  # where the unterminated string starts


@pytest.mark.parametrize("payload", [b"", b"   ", b"\n"])
def test_empty_payload_is_invalid_json(payload: bytes) -> None:
    _, problem, *_ = load_json(payload)
    assert problem is not None
    assert problem.code == "NOTICE_JSON"


def test_deep_nesting_is_a_diagnostic_not_a_recursion_error() -> None:
    # Below the size the density check starts at, so that the decoder itself meets the depth.
    depth = DENSITY_CHECKED_BYTES // 2 - 1
    _, problem, *_ = load_json(b"[" * depth + b"]" * depth)
    assert problem is not None
    assert problem.code == "NOTICE_JSON_DEPTH"


def test_a_large_document_denser_than_notices_is_refused_unread() -> None:
    """Issue 12: ``{}`` after ``{}`` takes 25 times its size once decoded; notices do not."""
    payload = b'{"_embedded":{"notices":[' + b",".join([b"{}"] * 100_000) + b"]}}"
    value, problem, *_ = load_json(payload)
    assert value is None
    assert problem is not None
    assert problem.code == "NOTICE_JSON_DENSITY"
    assert problem.location.byte_offset == 0


def test_deep_nesting_in_a_large_document_is_refused_by_density() -> None:
    _, problem, *_ = load_json(b"[" * 2_000_000)
    assert problem is not None
    assert problem.code == "NOTICE_JSON_DENSITY"


def test_a_large_page_of_real_notices_is_not_dense() -> None:
    page = result_page(400)
    assert len(page) >= DENSITY_CHECKED_BYTES
    value, problem, *_ = load_json(page)
    assert problem is None
    assert len(value["_embedded"]["notices"]) == 400


def test_an_integer_too_long_to_convert_is_a_diagnostic() -> None:
    _, problem, *_ = load_json(b'{"weight": ' + b"9" * 10_000 + b"}")
    assert problem is not None
    assert problem.code == "NOTICE_JSON"
    assert "9999" not in problem.message


def test_a_lone_surrogate_escape_is_refused_with_its_pointer() -> None:
    # RFC 8259 section 8.2: such a string is not Unicode text; protobuf could not hold it either.
    payload = b'{"_embedded": {"notices": [{"name": "AB"}, {"name": "A\\ud800B"}]}}'
    _, problem, *_ = load_json(payload)
    assert problem is not None
    assert problem.code == "NOTICE_JSON"
    assert problem.location.json_pointer == "/_embedded/notices/1/name"


def test_a_lone_surrogate_in_a_key_points_at_its_object() -> None:
    _, problem, *_ = load_json(b'{"x": {"\\udc00": 1}}')
    assert problem is not None
    assert problem.location.json_pointer == "/x"


def test_a_surrogate_pair_escape_is_one_character_and_loads() -> None:
    value, problem, *_ = load_json(b'{"name": "\\ud83d\\ude00"}')
    assert problem is None
    assert value == {"name": "\U0001f600"}


def test_an_escaped_backslash_before_u_is_not_a_surrogate() -> None:
    value, problem, *_ = load_json(b'{"name": "\\\\ud800"}')
    assert problem is None
    assert value == {"name": "\\ud800"}


def test_repeated_keys_are_found_at_any_depth_by_pointer() -> None:
    # Before: json.loads kept the last value of a repeated key and said nothing.
    payload = (
        b'{"name": "A", "name": "B", "x": [{"y": 1, "y": {"z": 1, "z": 2}}],'
        b' "a/b~c": 1, "a/b~c": 2}'
    )
    value, problem, duplicates, _ = load_json(payload)
    assert problem is None
    assert value["name"] == "B"  # still decoded: the mapper reports the repeats
    # An object's own repeats first, then those of the objects inside it.
    assert duplicates == ("/name", "/a~1b~0c", "/x/0/y", "/x/0/y/z")


def test_a_key_repeated_many_times_is_reported_once() -> None:
    _, _, duplicates, _ = load_json(b'{"k": 1, "k": 2, "k": 3, "j": 0, "j": 0}')
    assert duplicates == ("/k", "/j")


def test_documents_without_repeated_keys_report_none() -> None:
    _, problem, duplicates, _ = load_json(b'{"a": {"a": {"a": [1, {"b": 2}]}}, "b": 3}')
    assert (problem, duplicates) == (None, ())


def test_a_repeated_key_deep_in_a_deep_document_is_found_without_recursion() -> None:
    depth = 900  # within the decoder's own limit
    payload = b'{"a":' * depth + b'{"k": 1, "k": 2}' + b"}" * depth
    _, problem, duplicates, _ = load_json(payload)
    assert problem is None
    assert duplicates == ("/a" * depth + "/k",)


def test_past_the_located_repeats_a_document_says_there_are_more() -> None:
    unit = b'{"k": 1, "k": 2}'
    located = b"[" + b",".join([unit] * MAX_LOCATED_DUPLICATES) + b"]"
    assert load_json(located).more_duplicate_keys is False
    beyond = load_json(b"[" + b",".join([unit] * (MAX_LOCATED_DUPLICATES + 1)) + b"]")
    assert len(beyond.duplicate_keys) == MAX_LOCATED_DUPLICATES
    assert beyond.more_duplicate_keys is True
