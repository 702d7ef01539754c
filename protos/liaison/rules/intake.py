"""From a submitted record to what the store writes: validate, hash, stamp, serialize, index.

The content hash is taken over the canonically re-serialized record with ``version`` zeroed and
``provenance.received_at`` and ``provenance.signature`` left out, so that resubmitting the same
record - as first sent, or as read back from the gateway with its stamps and signature - is
recognised as a duplicate. The same hash is what the originating centre signs for each version
(:mod:`gateway.signing`).

Two intakes share these steps: a centre's own records (:func:`prepare_record`: Submit,
SubmitStream, Ingest), which must originate at this centre, and other centres' versions
forwarded by a peer (:func:`prepare_replica`), which keep their origin, version and signature.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from google.protobuf.message import DecodeError

from liaison.rules.errors import FieldViolation, ForeignRecordError, InvalidArgumentError
from liaison.rules.ids import CENTRE_ID_PATTERN, RECORD_ID_PATTERN, in_namespace, namespace_of
from liaison.rules.indexing import IndexKeys, index_keys
from liaison.rules.lifecycle import request_thread_violations, reserved_id_violations
from liaison.rules.validation import validate_record
from liaison.v1 import record_pb2

__all__ = [
    "WriteItem",
    "namespace_records",
    "prepare_record",
    "prepare_replica",
    "prepare_serialized",
]


@dataclass(frozen=True, slots=True)
class WriteItem:
    """One validated record to store."""

    record_id: str
    """The record's id."""
    content_sha256: bytes
    """SHA-256 of the record's canonical content; equal hashes mean a duplicate."""
    blob: bytes
    """The serialized ``liaison.v1.Record``, ``version`` zero (the store keeps versions apart)."""
    keys: IndexKeys
    """Search columns."""
    expected_version: int = 0
    """Non-zero: the version the submitter last saw; a conflict when the latest differs."""
    replica_version: int = 0
    """Non-zero: store the content as exactly this version, as its originating centre numbered
    it (federation). A duplicate when the content is stored already; a conflict when the record
    holds other content under that version. The head moves only forward."""
    signature: bytes = b""
    """With ``replica_version``: the originating centre's serialized ``RecordSignature`` of
    that version, verified by the caller, stored as received. Empty for this centre's own
    records, which the store signs as it numbers them (when it has a signer)."""
    received_at: tuple[int, int] = (0, 0)
    """``provenance.received_at`` as (seconds, nanos): the signature covers it too, so that a
    relay cannot change when the originating centre received the record."""
    review_due_us: int = 0
    """``Record.review_due`` as given (microseconds since the epoch), 0 when absent: lifecycle
    metadata, kept out of the content hash and the blob; the store keeps it per record."""
    expires_at_us: int = 0
    """``Record.expires_at`` as given, 0 when absent (as ``review_due_us``)."""
    moves_retention: bool = False
    """Whether the dates given replace those of a record already stored here. Only
    ``ExtendRetention`` sets it for this centre's records: the dates given with a later version
    or a resubmission are ignored (a first version's are kept), so that nothing else extends a
    record past the extension's limits or brings an expired one back. A replica's dates are the
    origin's (``Federation.Deliver`` keeps only the origin's for a record held here)."""


def prepare_record(
    record: record_pb2.Record,
    centre_id: str,
    *,
    screening_hit: bool = False,
    tombstone: bool = False,
    thread_receipt: bool = False,
) -> WriteItem:
    """Turn one of this centre's records into a :class:`WriteItem`, stamping provenance the
    gateway owns (the originating centre when empty, the receipt time).

    ``record`` is modified in place (its version is cleared and provenance stamped): callers pass
    the request's own message, which is not used afterwards. A signature it carries (a record read
    back and resubmitted) is dropped: the store signs each new version itself.

    A ``ScreeningHit`` is refused unless ``screening_hit`` says the caller is the screening
    desk (its hits, and Decide's new versions of them): a client or an adapter that could write
    one could forge an analyst's NO_MATCH and silence an alert.

    Only the gateway's own withdrawal path passes ``tombstone=True``: a ``withdrawal`` body
    submitted by a caller is refused (RecordExchange/Withdraw builds tombstones). Likewise only
    the gateway's thread book passes ``thread_receipt=True`` (a ``ThreadReceipt`` states what
    happened to a request here; a client that could write one could fake a read or an answer).

    Raises:
        ForeignRecordError: the record is another centre's - its id in another centre's
            namespace, or its provenance naming another originating centre (a centre publishes
            only its own records; other centres' records arrive by federation). Checked first:
            whatever else is wrong with it, speaking for another centre is refused as such.
        InvalidArgumentError: with one violation per refused field, including a hit from
            elsewhere than the desk.
    """
    _refuse_foreign(record, centre_id)
    violations = validate_record(record)
    if not screening_hit and record.WhichOneof("body") == "screening_hit":
        violations.append(
            FieldViolation(
                "screening_hit",
                "hit records are written by the screening desk; decide on a hit with "
                "Screening.Decide",
            )
        )
    if not tombstone and record.WhichOneof("body") == "withdrawal":
        violations.append(
            FieldViolation("withdrawal", "is written by RecordExchange/Withdraw, not submitted")
        )
    if not thread_receipt and record.WhichOneof("body") == "receipt":
        violations.append(
            FieldViolation("receipt", "is written by the gateway as a request is handled here")
        )
    violations += request_thread_violations(record, centre_id)
    violations += reserved_id_violations(
        record.record_id,
        centre_id,
        hit=screening_hit or tombstone,
        receipt=thread_receipt or tombstone,
    )
    _refuse(record, violations)
    expected_version = record.version
    record.version = 0
    provenance = record.provenance
    if not provenance.originating_centre:
        provenance.originating_centre = centre_id
    provenance.ClearField("signature")
    return _item(record, expected_version=expected_version)


def prepare_replica(record: record_pb2.Record) -> WriteItem:
    """Turn a version forwarded by a peer into a :class:`WriteItem` that stores it as exactly
    the version its originating centre gave it, with that centre's signature (serialized in
    ``WriteItem.signature``, for the caller to verify against the item's content hash before
    writing it).

    ``record`` is modified in place (version and signature are moved into the item).

    Raises:
        InvalidArgumentError: the record is invalid, or names no version or originating centre.
    """
    violations = validate_record(record)
    if record.version < 1:
        violations.append(
            FieldViolation("version", "a forwarded record carries the version its origin stored")
        )
    origin = record.provenance.originating_centre
    if not origin:
        violations.append(
            FieldViolation("provenance.originating_centre", "a forwarded record names its origin")
        )
    elif namespace_of(record.record_id) != origin:
        violations.append(
            FieldViolation(
                "record_id",
                f"a forwarded record's id is in its originating centre's namespace ({origin}:...)",
            )
        )
    if origin:
        violations += request_thread_violations(record, origin)
    _refuse(record, violations)
    version = record.version
    record.version = 0
    # Only the signature's own fields are kept: nothing a relay adds travels on.
    record.provenance.signature.DiscardUnknownFields()
    signature = record.provenance.signature.SerializeToString(deterministic=True)
    record.provenance.ClearField("signature")
    return _item(record, replica_version=version, signature=signature)


def _refuse_foreign(record: record_pb2.Record, centre_id: str) -> None:
    """Refuse a record of another centre (:class:`ForeignRecordError`), naming that centre."""
    namespace = namespace_of(record.record_id)
    if namespace is not None and namespace != centre_id:
        field, owner = "record_id", namespace
    else:
        origin = record.provenance.originating_centre
        if not origin or origin == centre_id:
            return
        field = "provenance.originating_centre"
        # Only a well-formed centre id is echoed: the field could hold anything at all.
        owner = origin if CENTRE_ID_PATTERN.fullmatch(origin) else ""
    well_formed = RECORD_ID_PATTERN.fullmatch(record.record_id)
    shown = record.record_id if well_formed else "(invalid id)"
    whose = owner or "another centre"
    raise ForeignRecordError(
        f"record {shown} is {whose}'s ({field}): only its originating centre {whose} publishes "
        f"versions of it, this centre ({centre_id}) publishes only its own records (ids "
        f"{centre_id}:... or naming no centre); {whose}'s records arrive here by federation",
        field,
        owner,
    )


def _refuse(record: record_pb2.Record, violations: list[FieldViolation]) -> None:
    if violations:
        # Only a well-formed id is echoed: a malformed one could be huge, or anything at all.
        well_formed = RECORD_ID_PATTERN.fullmatch(record.record_id)
        shown = record.record_id if well_formed else "(invalid id)"
        raise InvalidArgumentError(
            f"record {shown} is invalid: {len(violations)} field violation(s)", violations
        )


def _item(
    record: record_pb2.Record,
    *,
    expected_version: int = 0,
    replica_version: int = 0,
    signature: bytes = b"",
) -> WriteItem:
    """Hash, stamp the receipt time when unset, serialize and index a checked record whose
    version and signature are cleared."""
    provenance = record.provenance
    # received_at is receipt metadata, not content: a record read back from the gateway (stamped)
    # and resubmitted unchanged must hash like the original submission (unstamped).
    received_at = None
    if provenance.HasField("received_at"):
        received_at = (provenance.received_at.seconds, provenance.received_at.nanos)
        provenance.ClearField("received_at")
    # Retention dates are lifecycle metadata too: an unchanged record resubmitted with other
    # dates is the same content (the store moves the dates, decision 0016).
    review_due_us = _take_micros(record, "review_due")
    expires_at_us = _take_micros(record, "expires_at")
    content_sha256 = hashlib.sha256(record.SerializeToString(deterministic=True)).digest()
    if received_at is None:
        received_at = divmod(time.time_ns(), 1_000_000_000)
    provenance.received_at.seconds, provenance.received_at.nanos = received_at
    blob = record.SerializeToString(deterministic=True)
    seconds, nanos = received_at
    return WriteItem(
        record_id=record.record_id,
        content_sha256=content_sha256,
        blob=blob,
        keys=index_keys(record),
        expected_version=expected_version,
        replica_version=replica_version,
        signature=signature,
        received_at=(int(seconds), int(nanos)),
        review_due_us=review_due_us,
        expires_at_us=expires_at_us,
    )


def _take_micros(record: record_pb2.Record, name: Literal["review_due", "expires_at"]) -> int:
    """A timestamp field of ``record`` in microseconds (0 when unset), cleared."""
    if not record.HasField(name):
        return 0
    stamp = getattr(record, name)
    micros = max(int(stamp.seconds) * 1_000_000 + int(stamp.nanos) // 1000, 1)
    record.ClearField(name)
    return micros


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


def namespace_records(records: Sequence[record_pb2.Record], centre_id: str) -> dict[str, str]:
    """Put a payload's records in ``centre_id``'s namespace, in place, with every reference
    between them (links, manifest travellers) following.

    The ids an adapter derives from its source (a hash of an MRZ, an INTERPOL entity id) are the
    same at every centre that reads the same source: minted in the reading centre's namespace,
    two centres' readings of one passport are two records that never collide.

    Returns:
        Old id -> new id, for every record whose id changed.
    """
    renamed = {
        record.record_id: in_namespace(record.record_id, centre_id)
        for record in records
        if namespace_of(record.record_id) != centre_id
    }
    if not renamed:
        return renamed
    for record in records:
        record.record_id = renamed.get(record.record_id, record.record_id)
        for link in record.links:
            link.target_record_id = renamed.get(link.target_record_id, link.target_record_id)
        if record.WhichOneof("body") == "passenger_manifest":
            for traveller in record.passenger_manifest.travellers:
                traveller.person_record_id = renamed.get(
                    traveller.person_record_id, traveller.person_record_id
                )
                traveller.document_record_ids[:] = [
                    renamed.get(value, value) for value in traveller.document_record_ids
                ]
    return renamed
