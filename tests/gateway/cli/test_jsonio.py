"""Reading record files (JSON arrays, JSON Lines, single objects) and writing records as JSON."""

from __future__ import annotations

import io
import json
from collections.abc import Iterator
from typing import Any

import pytest
from google.protobuf import json_format

from gateway.cli.jsonio import RecordFileError, iter_records, record_to_json
from liaison.v1 import exchange_pb2, record_pb2

# A marker standing for personal data: it must never appear in an error message.
SECRET = "SECRET-VALUE-4711"


def person_json(record_id: str, family: str = "DOE") -> dict[str, Any]:
    return {
        "recordId": record_id,
        "person": {
            "names": [{"type": "NAME_TYPE_PRIMARY", "family": family, "given": "JANE"}],
            "birthDate": {"year": 1975, "month": 3, "day": 12},
            "sex": "SEX_FEMALE",
        },
    }


def jsonl(*values: Any) -> bytes:
    return "".join(json.dumps(value) + "\n" for value in values).encode()


def ids(records: Iterator[record_pb2.Record] | list[record_pb2.Record]) -> list[str]:
    return [record.record_id for record in records]


def error_of(data: bytes) -> RecordFileError:
    with pytest.raises(RecordFileError) as caught:
        list(iter_records(data))
    return caught.value


def test_json_array() -> None:
    data = json.dumps([person_json("P-1"), person_json("P-2", "ROE")], indent=2).encode()
    records = list(iter_records(data))
    assert ids(records) == ["P-1", "P-2"]
    assert records[1].person.names[0].family == "ROE"
    assert records[0].person.birth_date.month == 3


def test_json_lines_with_blank_lines_and_crlf() -> None:
    data = (
        b"\n  \n"
        + json.dumps(person_json("P-1")).encode()
        + b"\r\n\r\n\t\n"
        + json.dumps(person_json("P-2")).encode()
        + b"\n   \n"
        + json.dumps(person_json("P-3")).encode()  # no final newline
    )
    assert ids(iter_records(data)) == ["P-1", "P-2", "P-3"]


@pytest.mark.parametrize("indent", [None, 2], ids=["one-line", "pretty-printed"])
def test_single_object(indent: int | None) -> None:
    data = json.dumps(person_json("P-1"), indent=indent).encode()
    assert ids(iter_records(data)) == ["P-1"]


@pytest.mark.parametrize("data", [b"", b"\n \n\t\r\n", b"[]", b"[\n]\n"])
def test_no_records(data: bytes) -> None:
    assert list(iter_records(data)) == []


def test_byte_order_mark_is_ignored() -> None:
    assert ids(iter_records(b"\xef\xbb\xbf" + jsonl(person_json("P-1")))) == ["P-1"]


def test_json_lines_stream_one_record_at_a_time() -> None:
    stream = io.BytesIO(jsonl(person_json("P-1"), person_json("P-2")) + b"{broken\n")
    records = iter_records(stream)
    assert next(records).record_id == "P-1"
    assert next(records).record_id == "P-2"
    # Nothing past the second line has been read yet: the broken line fails only now.
    with pytest.raises(RecordFileError) as caught:
        next(records)
    assert caught.value.line == 3


def test_bad_json_in_json_lines_reports_the_line_and_column() -> None:
    data = jsonl(person_json("P-1")) + b"\n" + b'{"recordId": "P-2",, "x": 1}\n'
    error = error_of(data)
    assert (error.line, error.column, error.index) == (3, 20, None)
    assert str(error) == (
        "line 3 column 20: invalid JSON: Expecting property name enclosed in double quotes"
    )


def test_bad_json_in_an_array_reports_the_line_and_column() -> None:
    data = b'[\n  {"recordId": "P-1", "person": {}},\n  {"recordId": "P-2" "person": {}}\n]\n'
    error = error_of(data)
    assert (error.line, error.column) == (3, 22)
    assert "Expecting ',' delimiter" in error.reason


def test_bad_json_inside_a_pretty_printed_object_reports_its_own_line() -> None:
    data = b'{\n  "recordId": "P-1",\n  "person": {\n    "sex": SEX_FEMALE\n  }\n}\n'
    error = error_of(data)
    assert (error.line, error.column) == (4, 12)


def test_truncated_json_lines_file() -> None:
    data = jsonl(person_json("P-1")) + json.dumps(person_json("P-2")).encode()[:-5]
    error = error_of(data)
    assert error.line == 2
    assert error.reason.startswith("invalid JSON:")


def test_record_in_an_array_is_located_by_its_index() -> None:
    error = error_of(json.dumps([person_json("P-1"), person_json("P-2"), "P-3"]).encode())
    assert (error.index, error.line) == (2, None)
    assert str(error) == "record [2]: expected a JSON object (one Record), got a string"


def test_json_lines_line_that_is_not_an_object() -> None:
    error = error_of(jsonl(person_json("P-1"), [person_json("P-2")]))
    assert str(error) == "line 2: expected a JSON object (one Record), got an array"


def test_unknown_field_in_json_lines() -> None:
    record = person_json("P-2")
    record["person"]["shoeSize"] = 44
    error = error_of(jsonl(person_json("P-1"), record))
    assert str(error) == 'line 2: person: unknown field "shoeSize"'


def test_unknown_top_level_field_in_an_array() -> None:
    record = person_json("P-2")
    record["colour"] = "red"
    error = error_of(json.dumps([person_json("P-1"), record]).encode())
    assert str(error) == 'record [1]: unknown field "colour"'


def test_unknown_enum_name() -> None:
    record = person_json("P-1")
    record["person"]["sex"] = SECRET
    error = error_of(jsonl(record))
    assert str(error) == "line 1: person.sex: not a liaison.v1.Sex value"


def test_duplicate_keys_are_refused() -> None:
    error = error_of(b'{"recordId": "P-1", "recordId": "P-2", "person": {}}\n')
    assert str(error) == 'line 1: invalid JSON: key "recordId" given twice'


def test_invalid_utf8_reports_the_line() -> None:
    data = jsonl(person_json("P-1")) + b'{"recordId": "P-\xff"}\n'
    error = error_of(data)
    assert (error.line, error.column, error.reason) == (2, 17, "not valid UTF-8")


@pytest.mark.parametrize(
    ("patch", "expected"),
    [
        ({"person": {"sex": SECRET}}, "person.sex: not a liaison.v1.Sex value"),
        ({"person": {"birthDate": {"year": SECRET}}}, "person.birthDate.year: not a valid integer"),
        ({"person": {"birthDate": {"year": -1}}}, "person.birthDate.year: number out of range"),
        ({"version": SECRET}, "version: not a valid integer"),
        (
            {"provenance": {"receivedAt": SECRET}},
            "provenance.receivedAt: not a valid RFC 3339 timestamp",
        ),
        (
            {"provenance": {"payloadSha256": 4711}},
            "provenance.payloadSha256: expected a base64 string",
        ),
        ({"recordId": 4711}, "recordId: expected a JSON string"),
        ({"person": {"names": SECRET}}, "person.names: expected a JSON array, got a string"),
        ({"person": {"names": [SECRET]}}, "person.names[0]: expected a JSON object, got a string"),
        (
            {"person": {"names": [{"family": "DOE"}, {"family": [SECRET]}]}},
            "person.names[1].family: expected a JSON string",
        ),
        (
            {"person": {"physicalDescription": {"heightM": SECRET}}},
            "person.physicalDescription.heightM: not a valid number",
        ),
        (
            {"travelDocument": {"visaMultipleEntries": SECRET}},
            "travelDocument.visaMultipleEntries: not a valid boolean",
        ),
        ({"links": [{}, {"type": SECRET}]}, "links[1].type: not a liaison.v1.LinkType value"),
        ({"person": {"names": [{SECRET + " !": 1}]}}, "person.names[0]: unknown field"),
        ({"person": SECRET}, "person: expected a JSON object, got a string"),
        ({"person": {}, "vehicle": {}}, "more than one field of oneof body"),
    ],
)
def test_parse_errors_locate_the_field_without_quoting_the_value(
    patch: dict[str, Any], expected: str
) -> None:
    record: dict[str, Any] = {"recordId": "P-1"}
    record.update(patch)
    error = error_of(jsonl(record))
    assert SECRET not in str(error)
    assert error.line == 1
    assert expected in error.reason


def test_record_to_json_is_compact_lower_camel_and_round_trips() -> None:
    record = record_pb2.Record(record_id="P-1", version=3)
    name = record.person.names.add(family="ИВАНОВ", given="ИВАН", script="Cyrl")
    name.transliteration.family = "IVANOV"
    record.person.birth_date.year = 1975
    text = record_to_json(record)
    assert "\n" not in text
    assert " " not in text
    assert '"recordId":"P-1"' in text
    assert '"version":"3"' in text  # uint64 is a string in the JSON mapping
    assert '"family":"ИВАНОВ"' in text  # not \u-escaped
    assert json_format.Parse(text, record_pb2.Record()) == record


def test_record_to_json_takes_any_message() -> None:
    hit = exchange_pb2.SearchHit(cursor="c1")
    hit.record.record_id = "P-1"
    hit.metadata.latest_version = 2
    assert json.loads(record_to_json(hit)) == {
        "record": {"recordId": "P-1"},
        "metadata": {"latestVersion": "2"},
        "cursor": "c1",
    }


def test_records_read_back_what_record_to_json_writes() -> None:
    records = [record_pb2.Record(record_id=f"P-{i}") for i in range(3)]
    for record in records:
        record.person.names.add(family="DOE")
    data = "\n".join(record_to_json(record) for record in records).encode()
    assert list(iter_records(data)) == records
