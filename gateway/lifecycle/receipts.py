"""Thread receipts: what an addressed centre's gateway sends back about a request it received.

A receipt (``ThreadReceipt`` body, kind ``receipt``) is a record of the addressed centre: one per
request, each state change (delivered, read, answered) its next version carrying every time
reached so far. Being a record it is stored (so the addressed centre's read time survives a
restart), signed, audited, forwarded to the requesting centre like any record and followed by its
Subscribe clients; the requester's thread book reads the states from it. Pure: no store.
"""

from __future__ import annotations

import hashlib

from google.protobuf.timestamp_pb2 import Timestamp

from liaison.rules.ids import RECORD_ID_PATTERN
from liaison.v1 import record_pb2

__all__ = ["RECEIPT_KIND", "ReceiptTimes", "receipt_id", "receipt_record", "receipt_times"]

RECEIPT_KIND = "receipt"
"""The kind (body name) of a thread receipt."""

ReceiptTimes = tuple[int, int, int]
"""``(delivered_at, read_at, answered_at)`` in microseconds since the epoch (0: not reached)."""


def receipt_id(centre_id: str, request_record_id: str) -> str:
    """The id of ``centre_id``'s receipt of a request: readable when it fits a record id, else
    a digest of the request's id (in ``centre_id``'s namespace either way)."""
    readable = f"{centre_id}:receipt:{request_record_id}"
    if RECORD_ID_PATTERN.fullmatch(readable):
        return readable
    digest = hashlib.sha256(request_record_id.encode()).hexdigest()[:32]
    return f"{centre_id}:receipt:{digest}"


def receipt_record(
    centre_id: str,
    *,
    thread_id: str,
    request_record_id: str,
    requesting_centre: str,
    times: ReceiptTimes,
    reply_record_ids: list[str],
) -> record_pb2.Record:
    """The receipt ``centre_id`` sends ``requesting_centre`` for the times reached so far.

    Restricted (H1) and releasable to the requesting centre only; it holds ids and times, no
    personal data, so it may go wherever the request came from.
    """
    record = record_pb2.Record(record_id=receipt_id(centre_id, request_record_id))
    record.handling.code = record_pb2.HANDLING_CODE_H1
    record.handling.releasable_to.append(requesting_centre)
    receipt = record.receipt
    receipt.thread_id = thread_id
    receipt.request_record_id = request_record_id
    receipt.requesting_centre = requesting_centre
    for name, micros in zip(("delivered_at", "read_at", "answered_at"), times, strict=True):
        if micros:
            stamp = getattr(receipt, name)
            stamp.seconds, rest = divmod(micros, 1_000_000)
            stamp.nanos = rest * 1000
    receipt.reply_record_ids.extend(reply_record_ids)
    return record


def receipt_times(receipt: record_pb2.Record) -> ReceiptTimes:
    """The times a receipt record states."""
    body = receipt.receipt
    return (
        _micros(body.delivered_at) if body.HasField("delivered_at") else 0,
        _micros(body.read_at) if body.HasField("read_at") else 0,
        _micros(body.answered_at) if body.HasField("answered_at") else 0,
    )


def _micros(stamp: Timestamp) -> int:
    return stamp.seconds * 1_000_000 + stamp.nanos // 1000
