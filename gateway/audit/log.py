"""The audit log on disk: an append-only SQLite file with a hash chain, written by one thread.

The log is a file of its own (``<store>.audit.db`` by default), not a table of the record store:
auditors copy, archive and verify it without the records, and its writes (reads are audited too)
never queue behind record commits. Appends are group-committed like record writes: callers on
the event loop await their entry, the writer thread chains every entry queued so far, commits
them in one transaction with ``synchronous = FULL`` and resolves the callers together.

Each row keeps the entry's JSON exactly as hashed; ``verify_file`` reads the rows in stored order
and checks the chain (see :mod:`gateway.audit.chain`). With a key file the entries are keyed
(HMAC-SHA256); a log is keyed from its first entry or not at all, so opening an existing log
with the other setting is refused rather than mixing the two.

Opening an existing log also checks that its last entry is well-formed and verifies - under the
configured key, for a keyed log - before anything is appended: a gateway started with another
key file (or on a log whose tail was edited) would otherwise chain new entries onto an entry it
cannot vouch for, and the log would then fail verification under either key. The error names the
key file and the log and says what to do.
"""

from __future__ import annotations

import asyncio
import logging
import queue
import sqlite3
import threading
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

from gateway.audit.chain import (
    Anchor,
    AuditEntry,
    ChainHead,
    VerifyReport,
    entry_hash,
    next_entry,
    verify,
)
from gateway.audit.entry import EntryFormatError, parse_entry
from gateway.audit.keys import AuditKeyError, read_key_file
from gateway.errors import AuditError

__all__ = ["AuditLog", "AuditLogError", "iter_stored", "read_entry", "verify_file"]

logger = logging.getLogger(__name__)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS audit (
    position INTEGER PRIMARY KEY,
    entry TEXT NOT NULL
) STRICT;
"""
_MAX_BATCH = 1024
_T = TypeVar("_T")


class AuditLogError(AuditError):
    """The audit log cannot be opened or written. Audited actions must then fail, not proceed."""


@dataclass(frozen=True, slots=True)
class _Append:
    actor: str
    action: str
    outcome: str
    record_ids: tuple[str, ...]
    detail: Mapping[str, str | int]
    future: asyncio.Future[AuditEntry]


class AuditLog:
    """Append-only, hash-chained, durable. Open with :meth:`open`, close with :meth:`close`."""

    def __init__(self, path: Path, key_path: Path | None = None) -> None:
        """A log at ``path``, keyed with the key in ``key_path`` when given (read at open)."""
        self.path = path
        self.key_path = key_path
        self._key: bytes | None = None
        self._queue: queue.SimpleQueue[_Append | None] = queue.SimpleQueue()
        self._thread: threading.Thread | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._closed = False
        self._head = ChainHead()
        self._listeners: list[Callable[[ChainHead], None]] = []

    @property
    def location(self) -> str:
        """Where the log is, for messages (the file; a PostgreSQL log names its schema)."""
        return str(self.path)

    @property
    def verify_command(self) -> str:
        """The command that verifies this log, for messages."""
        return f"liaison audit verify {self.location}"

    async def stored_entry(self, sequence: int) -> object | None:
        """The stored entry at ``sequence`` (its position); ``None`` when there is none.

        Raises:
            AuditLogError: the log cannot be read.
        """
        return await asyncio.to_thread(read_entry, self.path, sequence)

    @property
    def head(self) -> ChainHead:
        """The last committed entry's sequence and hash."""
        return self._head

    @property
    def keyed(self) -> bool:
        """Whether entries are keyed (HMAC-SHA256 under the key file)."""
        return self.key_path is not None

    async def verify(self, anchors: Iterable[Anchor] = ()) -> VerifyReport:
        """Verify the log as stored now (under this log's key), in a thread: a read-only
        snapshot, so appends go on meanwhile. See :func:`verify_file`."""
        return await asyncio.to_thread(verify_file, self.path, key=self._key, anchors=anchors)

    def add_commit_listener(self, listener: Callable[[ChainHead], None]) -> None:
        """Call ``listener`` with the new head, on the event loop, after each commit (e.g. to
        take a checkpoint every N entries). It must not block."""
        self._listeners.append(listener)

    async def open(self) -> None:
        """Open (creating if needed) and start the writer thread.

        Raises:
            AuditLogError: the log or its key cannot be read, or the log's entries are keyed and
                no key is configured, or the other way round.
        """
        if self.key_path is not None:
            try:
                self._key = read_key_file(self.key_path)
            except AuditKeyError as error:
                raise AuditLogError(str(error)) from None
        self._loop = asyncio.get_running_loop()
        ready: asyncio.Future[None] = self._loop.create_future()
        self._thread = threading.Thread(
            target=self._main, args=(ready,), name="liaison-audit-writer", daemon=False
        )
        self._thread.start()
        await ready

    async def append(
        self,
        *,
        actor: str,
        action: str,
        outcome: str,
        record_ids: Iterable[str] = (),
        detail: Mapping[str, str | int] | None = None,
    ) -> AuditEntry:
        """Append one entry and return it once it is durable."""
        if self._closed or self._loop is None:
            raise AuditLogError("the audit log is closed")
        future: asyncio.Future[AuditEntry] = self._loop.create_future()
        self._queue.put(
            _Append(actor, action, outcome, tuple(record_ids), dict(detail or {}), future)
        )
        return await future

    async def close(self) -> None:
        """Commit everything queued, then stop the thread."""
        if self._closed:
            return
        self._closed = True
        self._queue.put(None)
        if self._thread is not None:
            await asyncio.to_thread(self._thread.join)

    def _main(self, ready: asyncio.Future[None]) -> None:
        assert self._loop is not None
        try:
            connection = _connect(self.path)
        except (sqlite3.Error, OSError) as error:
            failure = AuditLogError(f"cannot open the audit log {self.path}: {error}")
            self._loop.call_soon_threadsafe(_fail_future, ready, failure)
            return
        try:
            self._head = self._continuable_head(connection)
        except (sqlite3.Error, AuditLogError) as error:
            connection.close()
            failure = (
                error
                if isinstance(error, AuditLogError)
                else AuditLogError(f"cannot read the audit log {self.path}: {error}")
            )
            self._loop.call_soon_threadsafe(_fail_future, ready, failure)
            return
        self._loop.call_soon_threadsafe(_resolve_future, ready, None)
        try:
            self._serve(connection)
        finally:
            connection.close()

    def _continuable_head(self, connection: sqlite3.Connection) -> ChainHead:
        """The head new entries chain onto, once the existing log is shown to be continuable
        with this log's key (or without one).

        Raises:
            AuditLogError: keyed and unkeyed mixed, or the last entry is malformed or does not
                verify (under another key, or edited).
        """
        first = _row(connection, "SELECT position, entry FROM audit ORDER BY position LIMIT 1")
        last = _row(connection, "SELECT position, entry FROM audit ORDER BY position DESC LIMIT 1")
        return self._continue_from(first, last)

    def _continue_from(
        self, first: tuple[int, object] | None, last: tuple[int, object] | None
    ) -> ChainHead:
        """The head to chain onto after the stored ``last`` entry (position and stored value),
        once shown continuable: keyed as this log is (checked against ``first`` too, when
        given), well-formed, and verifying under this log's key. Shared by every backend.

        Raises:
            AuditLogError: keyed and unkeyed mixed, or the last entry is malformed or does not
                verify (under another key, or edited).
        """
        if last is None:
            return ChainHead()
        if first is not None:
            mismatch = _keying_mismatch(self._parsed(first), keyed=self._key is not None)
            if mismatch:
                raise AuditLogError(f"the audit log {self.location} {mismatch}")
        entry = self._parsed(last)
        if bool(entry.mac) != (self._key is not None):
            raise AuditLogError(
                f"the audit log {self.location} mixes keyed and unkeyed entries (its last entry, "
                f"sequence {entry.sequence}, is {'' if entry.mac else 'not '}keyed): it was "
                f"tampered with. Run `{self.verify_command}`, archive the log for the "
                "auditors and start a new one."
            )
        if entry.mac and not _verifies(entry, self._key):
            raise AuditLogError(
                f"the audit key file {self.key_path} does not verify the audit log "
                f"{self.location}: "
                f"its last entry (sequence {entry.sequence}) was written under another key, or "
                "edited. Start the gateway with the key file the log was written with; if that "
                f"key is lost, archive {self.location} for the auditors and start a new log. "
                f"`{self.verify_command} --key-file FILE` tells whether a key fits."
            )
        if not _verifies(entry, self._key):
            raise AuditLogError(
                f"the last entry (sequence {entry.sequence}) of the audit log {self.location} does "
                f"not match its hash: the log was edited. Run `{self.verify_command}`, "
                "archive the log for the auditors and start a new one."
            )
        return ChainHead(entry.sequence, entry.hash)

    def _parsed(self, row: tuple[int, object]) -> AuditEntry:
        position, text = row
        try:
            return parse_entry(text)
        except EntryFormatError as error:
            raise AuditLogError(
                f"the audit log {self.location} has a malformed entry at position {position} "
                f"({error}): run `{self.verify_command}`, archive the log for the "
                "auditors and start a new one"
            ) from None

    def _serve(self, connection: sqlite3.Connection) -> None:
        assert self._loop is not None
        while True:
            first = self._queue.get()
            batch = [first] if first is not None else []
            stopping = first is None
            while not stopping and len(batch) < _MAX_BATCH:
                try:
                    more = self._queue.get_nowait()
                except queue.Empty:
                    break
                if more is None:
                    stopping = True
                else:
                    batch.append(more)
            if batch:
                self._commit(connection, [b for b in batch if b is not None])
            if stopping:
                self._drain_refused()
                return

    def _commit(self, connection: sqlite3.Connection, batch: list[_Append]) -> None:
        assert self._loop is not None
        head = self._head
        entries: list[AuditEntry] = []
        for item in batch:
            entry = next_entry(
                head,
                actor=item.actor,
                action=item.action,
                outcome=item.outcome,
                record_ids=item.record_ids,
                detail=item.detail,
                key=self._key,
            )
            entries.append(entry)
            head = ChainHead(entry.sequence, entry.hash)
        try:
            with connection:
                connection.executemany(
                    "INSERT INTO audit (position, entry) VALUES (?, ?)",
                    [(e.sequence, e.to_json()) for e in entries],
                )
        except sqlite3.Error as error:
            logger.error("audit log write failed: %s", error)
            failure = AuditLogError(f"the audit log could not be written: {error}")
            for item in batch:
                self._loop.call_soon_threadsafe(_fail_future, item.future, failure)
            return
        self._head = head
        pairs = [(item.future, entry) for item, entry in zip(batch, entries, strict=True)]
        self._loop.call_soon_threadsafe(_resolve_all, pairs)
        if self._listeners:
            self._loop.call_soon_threadsafe(self._notify, head)

    def _notify(self, head: ChainHead) -> None:
        for listener in self._listeners:
            try:
                listener(head)
            except Exception:
                # A listener's bug must not stop the log; the entries are committed already.
                logger.exception("audit commit listener failed")

    def _drain_refused(self) -> None:
        assert self._loop is not None
        while True:
            try:
                item = self._queue.get_nowait()
            except queue.Empty:
                return
            if item is not None:
                closed = AuditLogError("the audit log is closed")
                self._loop.call_soon_threadsafe(_fail_future, item.future, closed)


def _connect(path: Path) -> sqlite3.Connection:
    path.parent.mkdir(parents=True, exist_ok=True)
    connection = sqlite3.connect(path, isolation_level="DEFERRED", check_same_thread=False)
    connection.execute("PRAGMA journal_mode = WAL")
    connection.execute("PRAGMA synchronous = FULL")
    connection.executescript(_SCHEMA)
    return connection


def _row(connection: sqlite3.Connection, query: str) -> tuple[int, object] | None:
    row = connection.execute(query).fetchone()
    return None if row is None else (row[0], row[1])


def _verifies(entry: AuditEntry, key: bytes | None) -> bool:
    return entry_hash(entry, key) == entry.hash


def _keying_mismatch(first: AuditEntry, *, keyed: bool) -> str:
    """Why a log starting with ``first`` cannot be continued with (``keyed``) or without a key;
    empty when it can."""
    if first.mac and not keyed:
        return "is keyed (HMAC-SHA256) but no [audit] key_file is configured"
    if keyed and not first.mac:
        return (
            "was started without a key; a log is keyed from its first entry: archive it and "
            "start a new one, or remove [audit] key_file"
        )
    return ""


def _resolve_future(future: asyncio.Future[None], value: None) -> None:
    if not future.done():
        future.set_result(value)


def _fail_future(future: asyncio.Future[_T], error: BaseException) -> None:
    if not future.done():
        future.set_exception(error)


def _resolve_all(pairs: list[tuple[asyncio.Future[AuditEntry], AuditEntry]]) -> None:
    for future, entry in pairs:
        if not future.done():
            future.set_result(entry)


def iter_stored(path: Path) -> Iterator[str]:
    """The stored entries of the log at ``path``, in stored order, read-only.

    Raises:
        AuditLogError: the file is not a readable audit log, or holds an entry that is not text.
    """
    for position, value in _rows(path):
        if not isinstance(value, str):
            raise AuditLogError(
                f"the entry at position {position} of {path} is stored as "
                f"{type(value).__name__}, not as text"
            )
        yield value


def _rows(path: Path) -> Iterator[tuple[int, object]]:
    """Positions and stored values as SQLite returns them (text, unless someone stored
    something else: verification reports that instead of failing on it)."""
    connection = _read_only(path)
    try:
        yield from connection.execute("SELECT position, entry FROM audit ORDER BY position")
    except sqlite3.Error as error:
        raise AuditLogError(f"cannot read the audit log {path}: {error}") from None
    finally:
        connection.close()


def read_entry(path: Path, sequence: int) -> object | None:
    """The stored entry at ``sequence`` (its position) in the log at ``path``; ``None`` when
    there is none."""
    connection = _read_only(path)
    try:
        row = connection.execute(
            "SELECT entry FROM audit WHERE position = ?", (sequence,)
        ).fetchone()
    except sqlite3.Error as error:
        raise AuditLogError(f"cannot read the audit log {path}: {error}") from None
    finally:
        connection.close()
    return None if row is None else row[0]


def _read_only(path: Path) -> sqlite3.Connection:
    if not path.exists():
        raise AuditLogError(f"no audit log at {path}")
    try:
        return sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    except sqlite3.Error as error:
        raise AuditLogError(f"cannot read the audit log {path}: {error}") from None


def verify_file(
    path: Path,
    *,
    expect_head: ChainHead | None = None,
    key: bytes | None = None,
    anchors: Iterable[Anchor] = (),
) -> VerifyReport:
    """Verify the log at ``path`` (a keyed log with its ``key``), and that it reaches every
    anchor with the anchor's hash (see :func:`gateway.audit.chain.verify`)."""
    stored = (value for _, value in _rows(path))
    return verify(stored, expect_head=expect_head, key=key, anchors=anchors)
