"""Preparing records for the store: content hashing, stamping and search keys."""

from __future__ import annotations

import pytest

from gateway.errors import ForeignRecordError, InvalidArgumentError
from gateway.store.base import DocumentKey, NameKey
from liaison.rules.indexing import index_keys, normalize_document_number, normalize_name
from liaison.rules.intake import prepare_record, prepare_replica
from liaison.v1 import record_pb2
from tests.support.factories import person, set_path, travel_document


@pytest.mark.parametrize(
    ("raw", "normalized"),
    [
        ("Müller-Lüdenscheidt", "muller ludenscheidt"),
        ("  O'BRIEN ", "o brien"),
        ("GARCÍA  MÁRQUEZ", "garcia marquez"),
        ("Straße", "strasse"),
        ("Иванова", "иванова"),
        ("--", ""),
    ],
)
def test_name_normalization(raw: str, normalized: str) -> None:
    assert normalize_name(raw) == normalized


def test_document_number_normalization() -> None:
    assert normalize_document_number("l898 902<c3") == "L898902C3"
    assert normalize_document_number("AB-12.34") == "AB1234"


def test_hash_ignores_version_and_receipt_stamps_but_not_content() -> None:
    first = prepare_record(person("P-1"), "LOCAL")
    again = prepare_record(person("P-1"), "LOCAL")
    read_back = record_pb2.Record.FromString(first.blob)
    read_back.version = 7
    resubmitted = prepare_record(read_back, "LOCAL")
    changed = prepare_record(person("P-1", given="JOAN"), "LOCAL")
    assert first.content_sha256 == again.content_sha256 == resubmitted.content_sha256
    assert changed.content_sha256 != first.content_sha256
    assert resubmitted.expected_version == 7


def test_the_originating_centre_is_part_of_the_content() -> None:
    here = prepare_record(person("p-1"), "LOCAL")
    there = prepare_record(person("p-1"), "WCO-I2C")
    assert here.content_sha256 != there.content_sha256


def test_a_forwarded_id_is_in_its_originating_centres_namespace() -> None:
    forwarded = person("P-1", centre="WCO-I2C")
    forwarded.version = 1
    with pytest.raises(InvalidArgumentError) as refused:
        prepare_replica(forwarded)
    assert [v.field for v in refused.value.violations] == ["record_id"]
    forwarded = person("INTERPOL-CCC-LYON:P-1", centre="WCO-I2C")
    forwarded.version = 1
    with pytest.raises(InvalidArgumentError):
        prepare_replica(forwarded)


def test_a_centre_mints_ids_in_its_own_namespace_or_in_none() -> None:
    assert prepare_record(person("LOCAL:P-1"), "LOCAL").record_id == "LOCAL:P-1"
    assert prepare_record(person("p-1"), "LOCAL").record_id == "p-1"
    with pytest.raises(ForeignRecordError) as refused:
        prepare_record(person("WCO-I2C:P-1"), "LOCAL")
    assert (refused.value.field, refused.value.originating_centre) == ("record_id", "WCO-I2C")
    assert "record WCO-I2C:P-1 is WCO-I2C's (record_id)" in refused.value.message


def test_a_centre_publishes_only_its_own_records() -> None:
    with pytest.raises(ForeignRecordError) as refused:
        prepare_record(person("P-1", centre="WCO-I2C"), "LOCAL")
    assert refused.value.field == "provenance.originating_centre"
    assert refused.value.originating_centre == "WCO-I2C"
    assert "only its originating centre WCO-I2C publishes" in refused.value.message
    assert "this centre (LOCAL) publishes only its own records" in refused.value.message


def test_speaking_for_another_centre_is_refused_as_such_before_anything_else() -> None:
    # Another centre's correction of an invalid record: the permission problem is the answer.
    correction = person("WCO-I2C:P-1", birth=(1975, 13, 40))
    correction.version = 3
    with pytest.raises(ForeignRecordError) as refused:
        prepare_record(correction, "LOCAL")
    assert refused.value.violation().field == "record_id"


def test_an_originating_centre_that_is_no_centre_id_is_not_echoed() -> None:
    with pytest.raises(ForeignRecordError) as refused:
        prepare_record(person("P-1", centre="not a centre <script>"), "LOCAL")
    assert refused.value.originating_centre == ""
    assert "<script>" not in refused.value.message
    assert "another centre" in refused.value.message


def test_signature_and_receipt_time_are_not_content() -> None:
    plain = prepare_record(person("P-1"), "LOCAL")
    signed = person("P-1")
    signed.provenance.signature.key_id = "LOCAL/1"
    signed.provenance.signature.signature = b"x" * 64
    signed.provenance.received_at.seconds = 1_000_000_000
    item = prepare_record(signed, "LOCAL")
    assert item.content_sha256 == plain.content_sha256
    # A client's signature is never stored: the store signs each new version itself.
    assert not record_pb2.Record.FromString(item.blob).provenance.HasField("signature")
    assert item.signature == b""


def test_a_replica_keeps_its_signature_apart_from_its_content() -> None:
    forwarded = person("WCO-I2C:P-1", centre="WCO-I2C")
    forwarded.version = 7
    forwarded.provenance.signature.key_id = "WCO-I2C/1"
    item = prepare_replica(forwarded)
    assert item.replica_version == 7
    assert record_pb2.RecordSignature.FromString(item.signature).key_id == "WCO-I2C/1"
    assert not record_pb2.Record.FromString(item.blob).provenance.HasField("signature")


def test_versions_beyond_a_signed_64_bit_integer_are_refused() -> None:
    record = person("P-1")
    record.version = 2**63
    with pytest.raises(InvalidArgumentError) as refused:
        prepare_record(record, "LOCAL")
    assert [v.field for v in refused.value.violations] == ["version"]


def test_stamps_are_written_into_the_stored_blob() -> None:
    item = prepare_record(person("P-1"), "LOCAL")
    stored = record_pb2.Record.FromString(item.blob)
    assert stored.version == 0
    assert stored.provenance.originating_centre == "LOCAL"
    assert stored.provenance.received_at.seconds > 1_700_000_000


def test_a_given_receipt_time_is_kept() -> None:
    record = person("P-1")
    record.provenance.received_at.seconds = 1_000_000_000
    stored = record_pb2.Record.FromString(prepare_record(record, "LOCAL").blob)
    assert stored.provenance.received_at.seconds == 1_000_000_000


def test_invalid_records_raise_with_every_violation() -> None:
    record = person("bad id")
    set_path(record, "person.sex", 12)
    with pytest.raises(InvalidArgumentError) as caught:
        prepare_record(record, "LOCAL")
    assert {v.field for v in caught.value.violations} == {"record_id", "person.sex"}
    assert caught.value.message == "record (invalid id) is invalid: 2 field violation(s)"
    assert "DOE" not in caught.value.message, "no personal data in messages"


def test_index_keys_of_a_person_with_alternative_dates() -> None:
    record = person("P-1", family="Dupont", birth=(1975, 3, 0))
    record.person.alternative_birth_dates.add(year=1976)
    record.person.names.add(family="DUPOND")
    record.provenance.originating_centre = "WCO-I2C"
    keys = index_keys(record)
    assert keys.kind == "person"
    assert keys.originating_centre == "WCO-I2C"
    assert keys.documents == ()
    assert set(keys.names) == {
        NameKey("dupont", 1975, 3, 0),
        NameKey("dupont", 1976, 0, 0),
        NameKey("dupond", 1975, 3, 0),
        NameKey("dupond", 1976, 0, 0),
    }


def test_index_keys_of_a_document_use_the_raw_state_when_unmapped() -> None:
    keys = index_keys(travel_document("D-1"))
    assert keys.kind == "travel_document"
    assert keys.documents == (DocumentKey("L898902C3", "UTO"),)
    assert keys.names == (NameKey("eriksson", 1974, 8, 12),)


def test_records_without_searchable_names_have_no_name_keys() -> None:
    record = record_pb2.Record(record_id="V-1")
    record.vehicle.registration_number = "AB-123-CD"
    keys = index_keys(record)
    assert (keys.kind, keys.documents, keys.names) == ("vehicle", (), ())
