"""Property-based tests: round trips, and no input (bytes or JSON of any shape) breaks decode."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

from google.protobuf import json_format
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters.base import DecodeResult
from adapters.diagnostics import Severity
from adapters.interpol_notice import InterpolNoticeAdapter
from adapters.interpol_notice import fields as notice_fields
from liaison.rules.validation import validate_record
from liaison.v1 import record_pb2
from tests.adapters.interpol_notice.strategies import notice_records, result_page

ADAPTER = InterpolNoticeAdapter()
PROPERTY = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])
FEW = settings(PROPERTY, max_examples=20)

# Strings no diagnostic message could contain by chance: if one shows up in a message, the
# message quotes the payload.
MARKED = st.text(alphabet="qzjx", min_size=5, max_size=8)
SCALARS = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(allow_nan=False), MARKED, st.text()
)
JSON = st.recursive(
    SCALARS,
    lambda children: st.one_of(
        st.lists(children, max_size=4),
        st.dictionaries(st.text(max_size=6), children, max_size=4),
    ),
    max_leaves=12,
)
KEYS = sorted(
    notice_fields.NOTICE_FIELDS
    | notice_fields.NOTICE_FIELDS_NOT_CARRIED
    | notice_fields.WARRANT_FIELDS
    | notice_fields.ALIAS_FIELDS
    | {"href", "self", "thumbnail", "images", "links", "notices"}
)
NOTICE_VALUES = st.one_of(
    JSON,
    st.sampled_from(["2019/12345", "2019-1", "1985/03", "1985/13/40", "FR", "914", "M", "-", ""]),
    st.just("https://ws-public.interpol.int/notices/v1/red/2019-12345"),
)


def notice_like(values: st.SearchStrategy[Any]) -> st.SearchStrategy[dict[str, Any]]:
    """Objects with the API's field names (and others) holding values of any type."""
    return st.dictionaries(st.sampled_from(KEYS) | st.text(max_size=4), values, max_size=12)


NESTED_VALUES = st.one_of(
    NOTICE_VALUES, notice_like(NOTICE_VALUES), st.lists(notice_like(NOTICE_VALUES), max_size=3)
)
DOCUMENTS = st.one_of(
    notice_like(NESTED_VALUES),
    st.builds(
        lambda notices, extra: {"_embedded": {"notices": notices}, **extra},
        st.lists(st.one_of(notice_like(NESTED_VALUES), JSON), max_size=4),
        notice_like(JSON),
    ),
    JSON,
)


def round_trip_form(records: Sequence[record_pb2.Record]) -> list[dict[str, Any]]:
    forms = []
    for record in records:
        copy = record_pb2.Record()
        copy.CopyFrom(record)
        copy.ClearField("provenance")
        forms.append(json_format.MessageToDict(copy))
    return forms


def well_formed(result: DecodeResult, document: Any) -> None:
    """Records validate unless an error names them; pointers lead into the document."""
    tainted = result.tainted_ids
    for record in result.records:
        assert record.record_id in tainted or validate_record(record) == [], record
    ids = {record.record_id for record in result.records}
    for diagnostic in result.diagnostics:
        assert set(diagnostic.record_ids) <= ids
        pointer = diagnostic.location.json_pointer
        if pointer:  # the value, or the object a missing field belongs in, is in the document
            assert isinstance(resolve(document, pointer.rpartition("/")[0]), dict | list)


def resolve(document: Any, pointer: str) -> Any:
    """RFC 6901 evaluation of ``pointer`` in ``document``."""
    value = document
    for token in pointer.split("/")[1:] if pointer else ():
        token = token.replace("~1", "/").replace("~0", "~")
        value = value[int(token)] if isinstance(value, list) else value[token]
    return value


@PROPERTY
@given(records=notice_records())
def test_records_survive_encode_and_decode(records: Sequence[record_pb2.Record]) -> None:
    encoded = ADAPTER.encode(records)
    assert not encoded.diagnostics, [str(d) for d in encoded.diagnostics]
    decoded = ADAPTER.decode(encoded.payload)
    assert not decoded.has_errors, [str(d) for d in decoded.diagnostics]
    assert round_trip_form(decoded.records) == round_trip_form(records)


@PROPERTY
@given(payload=st.binary(max_size=2048))
def test_arbitrary_bytes_never_raise(payload: bytes) -> None:
    result = ADAPTER.decode(payload)
    tainted = result.tainted_ids
    assert all(r.record_id in tainted or validate_record(r) == [] for r in result.records)
    for diagnostic in result.diagnostics:
        assert diagnostic.code.startswith("NOTICE_")
        offset = diagnostic.location.byte_offset
        assert offset is None or 0 <= offset <= len(payload)


@PROPERTY
@given(document=DOCUMENTS)
def test_any_json_document_decodes_to_well_formed_results(document: Any) -> None:
    result = ADAPTER.decode(json.dumps(document).encode())
    well_formed(result, document)
    # Nothing a diagnostic says is taken from the payload.
    text = json.dumps(document)
    for diagnostic in result.diagnostics:
        for word in diagnostic.message.replace(",", " ").split():
            if set(word) <= set("qzjx") and len(word) >= 5:
                raise AssertionError(f"message quotes the payload: {diagnostic}")
    assert all(d.severity in Severity for d in result.diagnostics)
    assert text  # the document was serialisable: hypothesis builds JSON values only


@FEW
@given(records=notice_records(max_size=3))
def test_decoding_encoded_records_is_deterministic(records: Sequence[record_pb2.Record]) -> None:
    payload = ADAPTER.encode(records).payload
    assert ADAPTER.decode(payload) == ADAPTER.decode(payload)


def test_a_full_result_page_decodes_to_160_valid_records() -> None:
    result = ADAPTER.decode(result_page(160))
    assert len(result.records) == 160
    assert not result.has_errors
    assert all(validate_record(record) == [] for record in result.records)
    infos = [d for d in result.diagnostics if d.code == "NOTICE_COUNTRY_UNMAPPED"]
    assert len(infos) == 40  # every fourth notice has the non-ISO nationality 914
