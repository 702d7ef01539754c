"""Gr. 5, the documents: DOC (IG 4.21), DTM 36/182 (4.22), LOC 91 (4.23); records and links."""

from __future__ import annotations

import pytest

from adapters.diagnostics import Severity
from liaison.v1 import common_pb2, record_pb2, travel_document_pb2
from tests.adapters.paxlst.builders import (
    bodies,
    codes,
    decode,
    documents,
    manifest,
    only,
    passenger_list,
    tainted_bodies,
)


@pytest.mark.parametrize(
    ("code", "document_type"),
    [
        ("P", travel_document_pb2.DOCUMENT_TYPE_PASSPORT),
        ("V", travel_document_pb2.DOCUMENT_TYPE_VISA),
        ("I", travel_document_pb2.DOCUMENT_TYPE_IDENTITY_CARD),
        ("ID", travel_document_pb2.DOCUMENT_TYPE_IDENTITY_CARD),
        ("AC", travel_document_pb2.DOCUMENT_TYPE_CREW_MEMBER_CERTIFICATE),
        ("F", travel_document_pb2.DOCUMENT_TYPE_OTHER),
        ("IN", travel_document_pb2.DOCUMENT_TYPE_OTHER),
    ],
)
def test_document_name_codes(code: str, document_type: int) -> None:
    result = decode(passenger_list("NAD+FL+++DOE", f"DOC+{code}:110:111+MB140241"))
    (document,) = documents(result)
    assert (document.document_code, document.document_type) == (code, document_type)
    assert document.document_number == "MB140241"
    assert result.diagnostics == ()


def test_dates_and_place_of_issue() -> None:
    """Expiry near the interchange date (UNB 27 November 2025), issue date in the past."""
    result = decode(
        passenger_list(
            "NAD+FL+++DOE", "DOC+P+1", "DTM+36:351120", "DTM+182:151121", "LOC+91+CAN:::OTTAWA"
        )
    )
    (document,) = documents(result)
    assert (document.expiry_date.year, document.expiry_date.month) == (2035, 11)
    assert (document.issue_date.year, document.issue_date.day) == (2015, 21)
    assert document.issuing_state.code == "CAN"
    assert document.issue_place.country.code == "CAN"
    assert document.issue_place.name == "OTTAWA"


def test_expired_document_resolves_to_the_past() -> None:
    result = decode(passenger_list("NAD+FL+++DOE", "DOC+P+1", "DTM+36:190101"))
    assert documents(result)[0].expiry_date.year == 2019


def test_document_date_and_location_problems() -> None:
    result = decode(
        passenger_list(
            "NAD+FL+++DOE",
            "DOC+P+1",
            "DTM+36:351120",
            "DTM+36:361120",
            "DTM+5:361120",
            "LOC+91+CAN",
            "LOC+91+USA",
            "LOC+17+X",
        )
    )
    assert codes(result) == [
        "PAXLST_DUPLICATE",
        "PAXLST_CODE",
        "PAXLST_DUPLICATE",
        "PAXLST_CODE",
    ]


def test_document_without_number_is_an_error_about_the_traveller() -> None:
    result = decode(passenger_list("NAD+FL+++DOE", "DOC+P"))
    assert only(result, "PAXLST_MISSING_DATA").severity is Severity.ERROR
    assert tainted_bodies(result) == ["person", "travel_document"]


def test_bad_expiry_date_is_an_error_about_the_traveller() -> None:
    result = decode(passenger_list("NAD+FL+++DOE", "DOC+P+1", "DTM+36:351320"))
    assert only(result, "PAXLST_DATE").severity is Severity.ERROR
    assert tainted_bodies(result) == ["person", "travel_document"]


def test_records_ids_and_links() -> None:
    """The manifest lists each traveller's person and documents, by id and by typed link; each
    document links its holder and carries the traveller's data as its holder's."""
    result = decode(
        passenger_list(
            "NAD+FL+++DOE:JOHN",
            "ATT+2++M",
            "DTM+329:640217",
            "NAT+2+CAN",
            "DOC+P+1",
            "DOC+V+2",
            "NAD+FM+++ROE:JANE",
        )
    )
    (manifest_record,) = bodies(result, "passenger_manifest")
    person_records = bodies(result, "person")
    document_records = bodies(result, "travel_document")
    assert [r.WhichOneof("body") for r in result.records] == [
        "passenger_manifest",
        "person",
        "travel_document",
        "travel_document",
        "person",
    ]
    first, second = manifest(result).travellers
    assert first.person_record_id == person_records[0].record_id
    assert list(first.document_record_ids) == [r.record_id for r in document_records]
    assert second.person_record_id == person_records[1].record_id
    assert not second.document_record_ids
    assert [(link.type, link.target_record_id) for link in manifest_record.links] == [
        (record_pb2.LINK_TYPE_TRAVELLER, person_records[0].record_id),
        (record_pb2.LINK_TYPE_DOCUMENT, document_records[0].record_id),
        (record_pb2.LINK_TYPE_DOCUMENT, document_records[1].record_id),
        (record_pb2.LINK_TYPE_TRAVELLER, person_records[1].record_id),
    ]
    for record in document_records:
        (link,) = record.links
        assert (link.type, link.target_record_id) == (
            record_pb2.LINK_TYPE_HOLDER,
            person_records[0].record_id,
        )
        document = record.travel_document
        assert document.holder_name.family == "DOE"
        assert document.holder_nationality.code == "CAN"
        assert document.holder_birth_date.year == 1964
        assert document.holder_sex == common_pb2.SEX_MALE
    ids = [r.record_id for r in result.records]
    assert len(set(ids)) == len(ids)
    assert all(record_id.startswith("paxlst-") for record_id in ids)


def test_ids_are_stable_and_hold_no_personal_data() -> None:
    payload = passenger_list("NAD+FL+++UNIQUESURNAME", "DOC+P+UNIQUENUMBER")
    first, second = decode(payload), decode(payload)
    assert [r.record_id for r in first.records] == [r.record_id for r in second.records]
    assert not any("UNIQUE" in r.record_id for r in first.records)
