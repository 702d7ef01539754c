"""How records are grouped into SubmitStream messages, for both clients."""

from __future__ import annotations

from gateway.client._channel import MAX_BATCH_BYTES
from liaison.v1 import exchange_pb2, record_pb2

__all__ = ["Batcher", "check_batch_size"]


class Batcher:
    """Groups records into stream messages of at most ``batch_size`` records, each also closed
    before it would pass :data:`MAX_BATCH_BYTES`.

    Feed it with :meth:`add`, which hands back a message when one is full, and end with
    :meth:`flush`.

    Raises:
        ValueError: ``batch_size`` is below 1.
    """

    def __init__(self, batch_size: int) -> None:
        check_batch_size(batch_size)
        self._batch_size = batch_size
        self._batch = exchange_pb2.SubmitStreamRequest()
        self._bytes = 0
        self.records = 0
        """Records added so far."""

    def add(self, record: record_pb2.Record) -> exchange_pb2.SubmitStreamRequest | None:
        """Add ``record``; return the message it closed (to send now), if any."""
        size = record.ByteSize()
        full = None
        if self._batch.records and (
            len(self._batch.records) >= self._batch_size or self._bytes + size > MAX_BATCH_BYTES
        ):
            full = self.flush()
        self._batch.records.append(record)
        self._bytes += size
        self.records += 1
        return full

    def flush(self) -> exchange_pb2.SubmitStreamRequest | None:
        """The message being filled (``None`` when empty), and start a new one."""
        if not self._batch.records:
            return None
        batch, self._batch, self._bytes = self._batch, exchange_pb2.SubmitStreamRequest(), 0
        return batch


def check_batch_size(batch_size: int) -> None:
    """Raises ValueError when ``batch_size`` is below 1."""
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, got {batch_size}")
