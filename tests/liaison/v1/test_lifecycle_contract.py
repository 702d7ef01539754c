"""Validation of the lifecycle bodies and dates (issue 15): tombstones, requests, replies."""

from __future__ import annotations

from liaison.rules.validation import validate_record
from liaison.v1 import record_pb2


def _fields(record: record_pb2.Record) -> set[str]:
    return {violation.field for violation in validate_record(record)}


def _tombstone(**withdrawal: object) -> record_pb2.Record:
    record = record_pb2.Record(record_id="LOCAL:n1")
    record.withdrawal.CopyFrom(record_pb2.Withdrawal(**withdrawal))  # type: ignore[arg-type]
    return record


def test_a_complete_tombstone_is_valid() -> None:
    record = _tombstone(
        reason=record_pb2.WITHDRAWAL_REASON_CANCELLED,
        withdrawn_kind=record_pb2.RECORD_KIND_NOTICE,
        withdrawn_version=2,
    )
    record.withdrawal.withdrawn_at.seconds = 1_800_000_000
    assert validate_record(record) == []


def test_a_tombstone_needs_a_reason_a_time_and_the_kind_it_withdrew() -> None:
    assert _fields(_tombstone()) == {
        "withdrawal.reason",
        "withdrawal.withdrawn_at",
        "withdrawal.withdrawn_kind",
    }


def test_reason_other_needs_a_note() -> None:
    record = _tombstone(
        reason=record_pb2.WITHDRAWAL_REASON_OTHER, withdrawn_kind=record_pb2.RECORD_KIND_PERSON
    )
    record.withdrawal.withdrawn_at.seconds = 1
    assert _fields(record) == {"withdrawal.note"}


def test_an_unknown_reason_is_refused() -> None:
    record = _tombstone(reason=99, withdrawn_kind=record_pb2.RECORD_KIND_PERSON)
    record.withdrawal.withdrawn_at.seconds = 1
    assert _fields(record) == {"withdrawal.reason"}


def test_a_request_names_its_thread_subject_body_and_addressees() -> None:
    record = record_pb2.Record(record_id="WCO-I2C:rfi:1")
    record.request.SetInParent()
    assert _fields(record) == {
        "request.thread_id",
        "request.subject",
        "request.body",
        "handling.releasable_to",
    }
    record.request.thread_id = "WCO-I2C:thread:1"
    record.request.subject = "traveller on AF123"
    record.request.body = "Is this the person of your notice?"
    record.request.linked_record_ids.append("bad id")
    record.handling.releasable_to.append("INTERPOL-CCC-LYON")
    assert _fields(record) == {"request.linked_record_ids[0]"}


def test_a_reply_names_its_thread_and_has_a_body() -> None:
    record = record_pb2.Record(record_id="INTERPOL-CCC-LYON:reply:1")
    record.reply.thread_id = "WCO-I2C:thread:1"
    assert _fields(record) == {"reply.body"}
    record.reply.body = "Yes."
    assert validate_record(record) == []


def test_review_must_not_fall_after_expiry() -> None:
    record = _tombstone(
        reason=record_pb2.WITHDRAWAL_REASON_CANCELLED, withdrawn_kind=record_pb2.RECORD_KIND_NOTICE
    )
    record.withdrawal.withdrawn_at.seconds = 1
    record.review_due.seconds = 200
    record.expires_at.seconds = 100
    assert _fields(record) == {"review_due"}
    record.expires_at.seconds = 200
    assert validate_record(record) == []
