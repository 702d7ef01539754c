"""The feed publisher (gateway/store/postgresql/publication.py): every version once, in order,
one hand-over per commit; notifications wait while the writer has transactions in flight."""

from __future__ import annotations

from collections.abc import Sequence

from gateway.store.base import StoredRecord
from gateway.store.postgresql.publication import FeedPublisher


def _record(sequence: int, committed_at_us: int) -> StoredRecord:
    return StoredRecord(
        f"r{sequence}", 1, sequence, committed_at_us, b"\0" * 32, "person", "XX", b"", 1
    )


class Table:
    """The versions table as the publisher reads it, counting the reads."""

    def __init__(self, records: Sequence[StoredRecord]) -> None:
        self.records = list(records)
        self.reads = 0

    async def read_since(self, after: int, limit: int) -> list[StoredRecord]:
        self.reads += 1
        return [r for r in self.records if r.sequence > after][:limit]


class Heard:
    def __init__(self) -> None:
        self.calls: list[list[int]] = []

    def __call__(self, records: Sequence[StoredRecord]) -> None:
        self.calls.append([r.sequence for r in records])


async def test_what_is_read_from_the_table_is_handed_over_one_commit_at_a_time() -> None:
    # Sequences 1-2 committed at time 10, 3 at 11 (two transactions the writer has not
    # published yet), then the writer's own commit 4-5 at 12.
    table = Table([_record(1, 10), _record(2, 10), _record(3, 11), _record(4, 12), _record(5, 12)])
    heard = Heard()
    publisher = FeedPublisher(table.read_since, heard, 0)
    await publisher.committed([_record(4, 12), _record(5, 12)])
    assert heard.calls == [[1, 2], [3], [4, 5]]
    assert publisher.published == 5


async def test_notifications_wait_while_the_writer_has_transactions_in_flight() -> None:
    table = Table([_record(1, 10), _record(2, 11)])
    heard = Heard()
    publisher = FeedPublisher(table.read_since, heard, 0)
    publisher.own_commit_started()
    await publisher.woken(1)  # this replica's own NOTIFY, heard before its writer published
    assert table.reads == 0
    await publisher.committed([_record(1, 10)])
    assert not publisher.own_commit_ended()  # only its own commit was notified: nothing to read
    assert heard.calls == [[1]]

    publisher.own_commit_started()
    await publisher.woken(2)  # another replica's commit, while the writer is busy
    assert table.reads == 0
    assert publisher.own_commit_ended()  # the writer is idle: read it now
    await publisher.woken()
    assert heard.calls == [[1], [2]]
