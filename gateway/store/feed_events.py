"""Subscribe responses as bytes: each version serialized once, batches spliced without parsing.

A version's ``SubscribeResponse`` is the same bytes whoever receives it, so the feed serializes
it once (:class:`SerializedEvent`) and hands the bytes to every stream; the services' response
serializers send them as they are.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from gateway.store.base import StoredRecord
from liaison.v1 import exchange_pb2

__all__ = ["SerializedEvent", "batch_event", "record_metadata", "single_event"]


@dataclass(frozen=True, slots=True)
class SerializedEvent:
    """A ``SubscribeResponse`` carrying one version, serialized once for every subscriber.

    The services' response serializers send ``data`` as it is; the record guard reads the audited
    ids from ``record_ids``.
    """

    data: bytes
    record_ids: tuple[str, ...]


def single_event(record: StoredRecord) -> SerializedEvent:
    """``record`` as the ``SubscribeResponse`` that carries it alone."""
    response = exchange_pb2.SubscribeResponse(
        record_event=exchange_pb2.RecordEvent(
            record=record.to_message(), metadata=record_metadata(record)
        )
    )
    return SerializedEvent(response.SerializeToString(), (record.record_id,))


def batch_event(events: Sequence[SerializedEvent]) -> SerializedEvent:
    """One ``SubscribeResponse`` carrying ``events`` in ``record_events``, spliced from their
    serialized single-version responses without parsing them again.

    A single-version response is ``record_event`` (field 1) holding the ``RecordEvent``: byte
    for byte one element of ``RecordEvents.events`` (also field 1). The batch is therefore their
    concatenation, wrapped as ``record_events`` (field 3, length-delimited).
    """
    inner = b"".join(event.data for event in events)
    data = _RECORD_EVENTS_TAG + _varint(len(inner)) + inner
    return SerializedEvent(data, tuple(i for event in events for i in event.record_ids))


def record_metadata(stored: StoredRecord) -> exchange_pb2.RecordMetadata:
    """The ``RecordMetadata`` of a stored version (sequence, hash, latest version, commit time)."""
    metadata = exchange_pb2.RecordMetadata(
        sequence=stored.sequence,
        content_sha256=stored.content_sha256,
        latest_version=stored.latest_version,
    )
    metadata.committed_at.seconds, micros = divmod(stored.committed_at_us, 1_000_000)
    metadata.committed_at.nanos = micros * 1000
    return metadata


_RECORD_EVENTS_TAG = bytes([(3 << 3) | 2])
"""``SubscribeResponse.record_events``: field 3, wire type 2 (length-delimited)."""


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        low = value & 0x7F
        value >>= 7
        if value:
            out.append(low | 0x80)
        else:
            out.append(low)
            return bytes(out)
