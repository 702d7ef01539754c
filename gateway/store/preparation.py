"""Preparing what clients submit for the store: one step, wherever it runs.

Every record a client submits goes through the same intake (:mod:`liaison.rules.intake`:
validate, stamp, hash, serialize, index) into the one item format the store writes
(:class:`~liaison.rules.intake.WriteItem`, which crosses process boundaries as
:func:`gateway.store.wire.item_to_wire` tuples). Requests arrive as the bytes gRPC received and
are parsed once, where they are prepared:

* a ``Submit`` (:func:`prepare_submission`) in the store's writer - its thread or its process -
  with ``[storage] preparation = "writer"`` (the default: decision 0013), or on the event loop
  with ``"inline"``;
* a ``SubmitStream`` message (:func:`prepare_message`) in a pool of worker processes
  (:class:`MessagePreparer`, ``[server] preparation_workers``), so that the Python work per
  record (about 60 µs) overlaps with the event loop and the writer instead of sharing their GIL,
  or on the event loop for small messages and without workers (decision 0009).
"""

from __future__ import annotations

import time
from typing import Any, NamedTuple

from google.protobuf.message import DecodeError

from gateway.store.base import PreparationRefused, WriteItem
from gateway.store.wire import item_from_wire, item_to_wire
from liaison.rules.errors import FieldViolation, ForeignRecordError, InvalidArgumentError
from liaison.rules.ids import RECORD_ID_PATTERN
from liaison.rules.intake import prepare_record
from liaison.v1 import exchange_pb2

__all__ = [
    "ItemRow",
    "PreparedEntry",
    "Refused",
    "prepare_message",
    "prepare_submission",
    "write_item",
]


ItemRow = tuple[Any, ...]
"""A prepared record, as :func:`gateway.store.wire.item_to_wire` encodes it."""


class Refused(NamedTuple):
    """A record of a message that its preparation refused."""

    record_id: str
    """Its id when well-formed (for the audit log), else empty."""
    error: bytes
    """Its serialized ``RecordError``."""


PreparedEntry = ItemRow | Refused
"""One record of a message: its :data:`ItemRow`, or its refusal."""

_INVALID_ARGUMENT = 3
"""google.rpc.Code INVALID_ARGUMENT."""

_PERMISSION_DENIED = 7
"""google.rpc.Code PERMISSION_DENIED."""

_MALFORMED = "the request is not a valid liaison.v1.SubmitStreamRequest message"


def prepare_submission(data: bytes, centre_id: str) -> WriteItem | PreparationRefused:
    """Parse one ``SubmitRequest`` (as received) and prepare its record.

    Returns:
        The item, or the refusal with its field violations (paths from the record; ``record``
        when there is none), timed for the validation span.
    """
    started = time.time_ns()
    try:
        try:
            request = exchange_pb2.SubmitRequest.FromString(data)
        except DecodeError:
            raise InvalidArgumentError(
                "the request is not a valid liaison.v1.SubmitRequest message"
            ) from None
        if not request.HasField("record"):
            raise InvalidArgumentError("a record is required", [FieldViolation("", "is required")])
        return prepare_record(request.record, centre_id)
    except InvalidArgumentError as refusal:
        return PreparationRefused(
            refusal.message,
            tuple((v.field, v.description) for v in refusal.violations),
            (started, time.time_ns()),
        )
    except ForeignRecordError as foreign:
        violation = foreign.violation()
        return PreparationRefused(
            foreign.message,
            ((violation.field, violation.description),),
            (started, time.time_ns()),
            foreign_centre=foreign.originating_centre,
        )


def prepare_message(data: bytes, centre_id: str) -> list[PreparedEntry]:
    """Parse one ``SubmitStreamRequest`` and prepare each of its records, in order.

    Raises:
        InvalidArgumentError: ``data`` is not a ``SubmitStreamRequest`` message.
    """
    try:
        message = exchange_pb2.SubmitStreamRequest.FromString(data)
    except DecodeError:
        raise InvalidArgumentError(_MALFORMED) from None
    entries: list[PreparedEntry] = []
    for record in message.records:
        try:
            item = prepare_record(record, centre_id)
        except (InvalidArgumentError, ForeignRecordError) as error:
            well_formed = RECORD_ID_PATTERN.fullmatch(record.record_id) is not None
            shown = record.record_id if well_formed else ""
            entries.append(Refused(shown, _record_error(error)))
            continue
        entries.append(item_to_wire(item))
    return entries


def write_item(row: ItemRow) -> WriteItem:
    """The store's :class:`WriteItem` for a prepared record."""
    return item_from_wire(row)


def _record_error(error: InvalidArgumentError | ForeignRecordError) -> bytes:
    """A refused record's serialized ``RecordError`` (google.rpc code 3, INVALID_ARGUMENT; 7,
    PERMISSION_DENIED, for another centre's record), made here without gRPC: the store's writer
    process loads nothing of the server."""
    violations: tuple[FieldViolation, ...]
    if isinstance(error, ForeignRecordError):
        code, violations = _PERMISSION_DENIED, (error.violation(),)
    else:
        code, violations = _INVALID_ARGUMENT, error.violations
    result = exchange_pb2.RecordError(code=code, message=error.message)
    for violation in violations:
        result.field_violations.add(field=violation.field, description=violation.description)
    return result.SerializeToString()
