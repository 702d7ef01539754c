"""The visibility gate: the one door through which every read of a stored record passes.

Services never read records from the store themselves: they ask the gate, which knows who is
calling (:func:`gateway.security.authorization.current_caller`, or an explicit reader centre for
background work such as forwarding) and applies :class:`~gateway.security.visibility.NeedToKnow`
to every version before it leaves. A version the reader may not see is *absent* to that reader,
everywhere and in every detail:

* ``get`` answers ``None`` for it exactly as for a record that does not exist;
* ``search`` pages over visible matches only: a hidden match moves no cursor, sets no
  ``has_more`` and fills no page;
* ``feed_filter`` and ``last_visible_sequence`` let a subscription deliver, and report as caught
  up, only what its reader may see;
* an older version obeys the record's current handling as well as its own.

It also serves no content the lifecycle has taken away (decision 0016): every version of a
withdrawn record is served as its tombstone (``get``), is absent where content is what is asked
for (``get_versions``: Export, forwarding) and is not delivered to subscribers (the tombstone
is); a record past its ``expires_at`` is treated alike (as withdrawn with reason EXPIRED) even
before the expiry task has written its tombstone. The clock is injectable.

The RPC enumeration test (``tests/gateway/security/test_rpc_enumeration.py``) checks that
every RPC of every service is declared in :mod:`gateway.security.access` as reading through this
gate or as revealing no record, so a new RPC cannot skip it unnoticed.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from gateway.security.authorization import current_caller
from gateway.security.visibility import NeedToKnow
from gateway.store.base import RecordStore, SearchQuery, StoredRecord
from gateway.store.feed import FeedReader
from liaison.rules.lifecycle import TOMBSTONE_KIND, tombstone_of
from liaison.v1 import record_pb2

__all__ = ["RecordGate", "SearchPage"]

_FIRST_SCAN = 64
_MAX_SCAN = 1024


@dataclass(frozen=True, slots=True)
class SearchPage:
    """One page of visible matches."""

    records: list[StoredRecord]
    """At most ``page_size`` visible latest versions, in sequence order."""
    has_more: bool
    """Whether a further visible match exists."""


class RecordGate:
    """Reads the store on behalf of a reader centre, showing only what it may see."""

    def __init__(
        self,
        store: RecordStore,
        need_to_know: NeedToKnow,
        clock: Callable[[], int] | None = None,
    ) -> None:
        """Read ``store`` under ``need_to_know``; ``clock`` gives the time expiry is judged at
        (microseconds since the epoch; the wall clock by default)."""
        self._store = store
        self._need_to_know = need_to_know
        self.clock: Callable[[], int] = clock if clock is not None else _wall_clock_us
        self._withdrawn: set[str] = set()
        self._last_visible: dict[str, int] = {}
        store.add_commit_listener(self._on_commit)
        self.on_hidden: Callable[[Sequence[str]], None] | None = None
        """Told the ids of records kept from the current caller (for the audit log)."""

    @property
    def local_centre(self) -> str:
        return self._need_to_know.local_centre

    @property
    def need_to_know(self) -> NeedToKnow:
        return self._need_to_know

    def reader(self) -> str:
        """The centre the current call reads for (the local centre without a policy)."""
        caller = current_caller()
        return caller.centre if caller is not None else self._need_to_know.local_centre

    def visible(self, stored: StoredRecord, reader: str | None = None) -> bool:
        """Whether ``reader`` (default: the current caller's centre) may see ``stored``."""
        centre = self.reader() if reader is None else reader
        return self._need_to_know.allows_version(
            stored, stored.latest_handling_code, stored.latest_releasable_to, centre
        )

    def withdrawn(self, stored: StoredRecord) -> bool:
        """Whether ``stored``'s record is withdrawn (here, or as far as this gateway knows)."""
        return stored.withdrawn or stored.record_id in self._withdrawn

    def expired(self, stored: StoredRecord) -> bool:
        """Whether ``stored``'s record is past its expiry by the gate's clock."""
        return 0 < stored.expires_at_us <= self.clock()

    def serves_content(self, stored: StoredRecord) -> bool:
        """Whether the content of ``stored`` may be served: its record is neither withdrawn nor
        expired (a tombstone itself is served: it has no content)."""
        if stored.kind == TOMBSTONE_KIND:
            return True
        return not self.withdrawn(stored) and not self.expired(stored)

    async def get(
        self, record_id: str, version: int = 0, reader: str | None = None
    ) -> StoredRecord | None:
        """The version asked for (0: the latest), or ``None`` when absent *or hidden*.

        A version of a withdrawn or expired record is answered as its tombstone: the version's
        metadata, the withdrawal instead of the content, no signature.
        """
        stored = await self._store.get(record_id, version)
        if stored is None:
            return None
        if not self.visible(stored, reader):
            self._hidden([record_id], reader)
            return None
        if self.serves_content(stored):
            return stored
        return await self._as_tombstone(stored)

    async def _as_tombstone(self, stored: StoredRecord) -> StoredRecord:
        tombstone: record_pb2.Record | None = None
        if self.withdrawn(stored):
            latest = await self._store.get(stored.record_id)
            if latest is not None and latest.kind == TOMBSTONE_KIND:
                tombstone = record_pb2.Record.FromString(latest.blob)
        if tombstone is None:
            tombstone = tombstone_of(
                stored.to_message(),
                record_pb2.WITHDRAWAL_REASON_EXPIRED,
                "",
                stored.expires_at_us or self.clock(),
            )
            tombstone.withdrawal.withdrawn_version = stored.latest_version
        return dataclasses.replace(
            stored,
            blob=tombstone.SerializeToString(deterministic=True),
            signature=b"",
            review_due_us=0,
            expires_at_us=0,
        )

    async def get_versions(
        self, keys: Sequence[tuple[str, int]], reader: str | None = None, *, content: bool = True
    ) -> list[StoredRecord | None]:
        """The versions asked for, in order; ``None`` for absent or hidden ones, and (unless
        ``content`` is false: the caller wants metadata only) for versions whose content is no
        longer served (withdrawn or expired records)."""
        centre = self.reader() if reader is None else reader
        found = await self._store.get_versions(keys)
        shown = [s if s is not None and self.visible(s, centre) else None for s in found]
        hidden = [k[0] for k, s, v in zip(keys, found, shown, strict=True) if s and v is None]
        if hidden:
            self._hidden(hidden, reader)
        if not content:
            return shown
        # Content is what these callers want (Export encodes it, forwarding sends it): a
        # withdrawn or expired record has none to give.
        return [s if s is not None and self.serves_content(s) else None for s in shown]

    async def search(
        self, query: SearchQuery, after_sequence: int, page_size: int, reader: str | None = None
    ) -> SearchPage:
        """Up to ``page_size`` visible matches after ``after_sequence``, and whether more exist.

        Hidden matches are skipped while the page is filled, so the page, its end and
        ``has_more`` are what they would be if the hidden records did not exist.
        """
        centre = self.reader() if reader is None else reader
        wanted = page_size + 1
        visible: list[StoredRecord] = []
        position = after_sequence
        scan = min(max(wanted, _FIRST_SCAN), _MAX_SCAN)
        while len(visible) < wanted:
            batch = await self._store.search(query, position, scan)
            hidden: list[str] = []
            for stored in batch:
                if not self.serves_content(stored):
                    continue  # expired: it matched on content no longer served
                if self.visible(stored, centre):
                    visible.append(stored)
                elif len(visible) < wanted:
                    hidden.append(stored.record_id)
            if hidden:
                self._hidden(hidden, reader)
            if len(batch) < scan:
                break
            position = batch[-1].sequence
            scan = _MAX_SCAN
        return SearchPage(visible[:page_size], has_more=len(visible) > page_size)

    def feed_filter(self, reader: str | None = None) -> Callable[[StoredRecord], bool]:
        """The predicate a subscription of ``reader`` (default: the current caller's centre)
        filters committed versions with."""
        return self.feed_reader(reader).visible

    def feed_reader(self, reader: str | None = None) -> FeedReader:
        """A subscription's reader (default: the current caller's centre), as the commit feed
        filters for it: subscriptions of one reader centre are shown the same versions, so the
        feed filters once for all of them; what is hidden is audited for each stream's caller
        (when ``reader`` is not given)."""
        centre = self.reader() if reader is None else reader
        allows_version = self._need_to_know.allows_version

        def allows(stored: StoredRecord) -> bool:
            return allows_version(
                stored, stored.latest_handling_code, stored.latest_releasable_to, centre
            )

        def hidden(record_ids: Sequence[str]) -> None:
            self._hidden(record_ids, reader)

        # Visibility depends on the reader's centre alone (NeedToKnow.allows_version), and what
        # is served on no one's (serves_content): the centre is the whole key.
        return FeedReader(("centre", centre), self.serves_content, allows, hidden)

    async def last_visible_sequence(self, reader: str | None = None) -> int:
        """The sequence of the last committed version ``reader`` may see (0 when none): where a
        subscription "from now on" is caught up, without counting commits the reader may not
        see."""
        centre = self.reader() if reader is None else reader
        known = self._last_visible.get(centre)
        if known is None:
            found = await self._scan_back(centre)
            # Commits made during the scan were seen by the listener: keep the later one.
            known = self._last_visible[centre] = max(found, self._last_visible.get(centre, 0))
        return known

    async def _scan_back(self, centre: str) -> int:
        """Walk the versions back from the newest to the first one ``centre`` may see (once per
        reader centre: afterwards the commit listener keeps it current)."""
        self._last_visible.setdefault(centre, 0)
        before = await self._store.last_sequence() + 1
        while before > 1:
            batch = await self._store.read_before(before, _MAX_SCAN)
            for stored in batch:
                if self.visible(stored, centre):
                    return stored.sequence
            if len(batch) < _MAX_SCAN:
                return 0
            before = batch[-1].sequence
        return 0

    def _hidden(self, record_ids: Sequence[str], reader: str | None) -> None:
        # Only what was kept from a caller is audited; background readers (forwarding, which
        # names its reader) account for their own refusals.
        if reader is None and self.on_hidden is not None:
            self.on_hidden(record_ids)

    def _on_commit(self, records: Sequence[StoredRecord]) -> None:
        for stored in records:
            if stored.kind == TOMBSTONE_KIND:
                self._withdrawn.add(stored.record_id)
        if any(stored.version > 1 for stored in records):
            # A new version may restrict the versions before it (they obey the latest handling):
            # what each reader saw last is found again when next asked.
            self._last_visible.clear()
            return
        for centre, last in self._last_visible.items():
            for stored in records:
                if stored.sequence > last and self.visible(stored, centre):
                    last = stored.sequence
            self._last_visible[centre] = last


def _wall_clock_us() -> int:
    return time.time_ns() // 1000
