"""From a submitted record to what the store writes: validate, hash, stamp, serialize, index.

The content hash is taken over the canonically re-serialized record with ``version`` zeroed and
``provenance.received_at`` left out, so that resubmitting the same record - as first sent, or as
read back from the gateway with its stamps - is recognised as a duplicate.
"""

from __future__ import annotations

import hashlib
import time

from google.protobuf.message import DecodeError

from gateway.errors import InvalidArgumentError
from gateway.indexing import index_keys
from gateway.store.base import WriteItem
from gateway.validation import RECORD_ID_PATTERN, validate_record
from liaison.v1 import record_pb2

__all__ = ["prepare_record", "prepare_serialized"]


def prepare_record(record: record_pb2.Record, centre_id: str) -> WriteItem:
    """Turn ``record`` into a :class:`WriteItem`, stamping provenance the gateway owns.

    ``record`` is modified in place (its version is cleared and provenance stamped): callers pass
    the request's own message, which is not used afterwards.

    Raises:
        InvalidArgumentError: with one violation per refused field.
    """
    violations = validate_record(record)
    if violations:
        # Only a well-formed id is echoed: a malformed one could be huge, or anything at all.
        well_formed = RECORD_ID_PATTERN.fullmatch(record.record_id)
        shown = record.record_id if well_formed else "(invalid id)"
        raise InvalidArgumentError(
            f"record {shown} is invalid: {len(violations)} field violation(s)", violations
        )
    expected_version = record.version
    record.version = 0
    provenance = record.provenance
    if not provenance.originating_centre:
        provenance.originating_centre = centre_id
    # received_at is receipt metadata, not content: a record read back from the gateway (stamped)
    # and resubmitted unchanged must hash like the original submission (unstamped).
    received_at = None
    if provenance.HasField("received_at"):
        received_at = (provenance.received_at.seconds, provenance.received_at.nanos)
        provenance.ClearField("received_at")
    content_sha256 = hashlib.sha256(record.SerializeToString(deterministic=True)).digest()
    if received_at is None:
        received_at = divmod(time.time_ns(), 1_000_000_000)
    provenance.received_at.seconds, provenance.received_at.nanos = received_at
    blob = record.SerializeToString(deterministic=True)
    return WriteItem(
        record_id=record.record_id,
        content_sha256=content_sha256,
        blob=blob,
        keys=index_keys(record),
        expected_version=expected_version,
    )


def prepare_serialized(record: bytes, centre_id: str) -> WriteItem:
    """:func:`prepare_record` for a serialized record (the store's writer process runs it).

    Raises:
        InvalidArgumentError: with one violation per refused field, or for bytes that are not
            a record.
    """
    try:
        message = record_pb2.Record.FromString(record)
    except DecodeError as error:
        raise InvalidArgumentError("the record is not a valid liaison.v1.Record message") from error
    return prepare_record(message, centre_id)
