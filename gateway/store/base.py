"""The storage interface the services are written against.

The services never see SQL: they hand the store :class:`WriteItem` values (already validated,
hashed, serialized and indexed) and read back :class:`StoredRecord` values. The embedded SQLite
store (:mod:`gateway.store.sqlite`) is the default; a server database implements the same
interface without touching the services.

Every write is durable before its coroutine returns: a caller acknowledges a record only after
``write`` has returned for it.
"""

from __future__ import annotations

import abc
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Protocol

from google.protobuf.timestamp_pb2 import Timestamp

from liaison.rules.errors import LiaisonError
from liaison.rules.indexing import DocumentKey, IndexKeys, NameKey
from liaison.rules.intake import WriteItem
from liaison.v1 import record_pb2

__all__ = [
    "CommitListener",
    "DocumentKey",
    "IndexKeys",
    "IngestOutcome",
    "Ingestion",
    "NameKey",
    "OriginConflict",
    "PreparationRefused",
    "PreparedWrite",
    "RecordStore",
    "RecordWithdrawn",
    "RetentionRow",
    "SearchQuery",
    "StoreClosedError",
    "StoreError",
    "StoredRecord",
    "StoredVersion",
    "VersionConflict",
    "VersionSigner",
    "WriteItem",
    "WriteOutcome",
]


class StoreError(LiaisonError):
    """The store could not complete an operation; nothing of the failed transaction was kept."""


class StoreClosedError(StoreError):
    """The store is closed (or closing) and accepts no more work."""


@dataclass(frozen=True, slots=True)
class StoredVersion:
    """The outcome of a write that stored (or had already stored) the content."""

    record_id: str
    version: int
    sequence: int
    """Commit sequence number of this version: unique, increasing in commit order, never reused."""
    committed_at_us: int
    """Commit time, microseconds since the Unix epoch (UTC)."""
    content_sha256: bytes
    duplicate: bool
    """True when the same content was already stored as ``version`` and nothing was written."""


@dataclass(frozen=True, slots=True)
class VersionConflict:
    """The outcome of a write whose ``expected_version`` was not the latest version."""

    record_id: str
    expected_version: int
    latest_version: int
    """The latest stored version (0 when the record does not exist)."""


@dataclass(frozen=True, slots=True)
class OriginConflict:
    """The outcome of a write that names another originating centre than the record's stored
    versions: a record's originating centre never changes, and only it publishes versions."""

    record_id: str
    originating_centre: str
    """The centre the stored versions originate at."""


@dataclass(frozen=True, slots=True)
class RecordWithdrawn:
    """The outcome of a write of new content for a withdrawn record: no version follows a
    tombstone (decision 0016)."""

    record_id: str
    version: int
    """The tombstone's version."""


WriteOutcome = StoredVersion | VersionConflict | OriginConflict | RecordWithdrawn


@dataclass(frozen=True, slots=True)
class RetentionRow:
    """A record's retention dates, as the lifecycle listings and the expiry read them."""

    record_id: str
    kind: str
    originating_centre: str
    review_due_us: int
    expires_at_us: int


@dataclass(frozen=True, slots=True)
class Ingestion:
    """The records decoded from one payload, to be stored together, once."""

    adapter: str
    """Name of the adapter that decoded the payload; with the hash, the idempotency key."""
    payload_sha256: bytes
    """SHA-256 of the payload (32 bytes)."""
    items: tuple[WriteItem, ...]
    """The records to store, in decode order; none may carry an ``expected_version``."""


@dataclass(frozen=True, slots=True)
class IngestOutcome:
    """What :meth:`RecordStore.ingest` did."""

    acks: tuple[StoredVersion, ...]
    """One per item, in order: the version stored, or the one that already held the content."""
    duplicate: bool
    """True when the payload had been ingested before: nothing was written, ``acks`` are the
    first ingestion's, each marked ``duplicate``."""
    ingested_at_us: int
    """When the payload was first ingested (commit time, microseconds since the Unix epoch)."""
    origin_conflict: OriginConflict | RecordWithdrawn | None = None
    """Set when a decoded record names another originating centre than its stored versions, or
    was withdrawn here (no version follows a tombstone): then nothing was stored and ``acks`` is
    empty."""


@dataclass(frozen=True, slots=True)
class StoredRecord:
    """One stored record version, as read back."""

    record_id: str
    version: int
    sequence: int
    committed_at_us: int
    content_sha256: bytes
    kind: str
    originating_centre: str
    blob: bytes
    """The serialized ``liaison.v1.Record`` with ``version`` zero and no signature."""
    latest_version: int
    """The latest version of the record at the time of reading."""
    handling_code: int = 0
    """``Handling.code`` of this version."""
    releasable_to: tuple[str, ...] = ()
    """``Handling.releasable_to`` of this version."""
    signature: bytes = b""
    """The originating centre's serialized ``RecordSignature`` of this version; empty when the
    version was stored unsigned (before signing was configured)."""
    latest_handling_code: int = 0
    """``Handling.code`` of the latest version: an old version obeys the current handling too."""
    latest_releasable_to: tuple[str, ...] = ()
    """``Handling.releasable_to`` of the latest version."""
    latest_kind: str = ""
    """The kind of the latest version: ``"withdrawal"`` when the record is withdrawn."""
    review_due_us: int = 0
    """The record's review date (microseconds since the epoch), 0 when it has none."""
    expires_at_us: int = 0
    """The record's expiry (microseconds since the epoch), 0 when it has none."""

    @property
    def withdrawn(self) -> bool:
        """Whether the record is withdrawn (its latest version is a tombstone)."""
        return self.latest_kind == "withdrawal" or self.kind == "withdrawal"

    def to_message(self) -> record_pb2.Record:
        """The record message of this version, with its version number, its originating
        centre's signature and the record's retention dates."""
        record = record_pb2.Record.FromString(self.blob)
        record.version = self.version
        if self.signature:
            record.provenance.signature.ParseFromString(self.signature)
        if self.review_due_us:
            _set_micros(record.review_due, self.review_due_us)
        if self.expires_at_us:
            _set_micros(record.expires_at, self.expires_at_us)
        return record


def _set_micros(stamp: Timestamp, micros: int) -> None:
    seconds, rest = divmod(micros, 1_000_000)
    stamp.seconds, stamp.nanos = seconds, rest * 1000


@dataclass(frozen=True, slots=True)
class SearchQuery:
    """Search criteria; every criterion given must match (AND). Only latest versions match."""

    document_number: str = ""
    """Normalised document number; empty for any."""
    issuing_state: str = ""
    """With ``document_number``: the issuing state code; empty for any."""
    family_name: str = ""
    """Normalised family name; empty for any."""
    birth_year: int = 0
    """With ``family_name``: birth year, 0 for any. Month and day refine it."""
    birth_month: int = 0
    birth_day: int = 0
    kinds: frozenset[str] = field(default_factory=frozenset)
    """Record kinds; empty for all."""
    originating_centre: str = ""
    """Originating centre id; empty for all."""
    committed_after_us: int = 0
    """Only versions committed at or after this time (microseconds), 0 for no bound."""
    committed_before_us: int = 0
    """Only versions committed before this time (microseconds), 0 for no bound."""


@dataclass(frozen=True, slots=True)
class PreparedWrite:
    """A record prepared and written by :meth:`RecordStore.prepare_and_write`."""

    outcome: WriteOutcome
    prepared_ns: tuple[int, int]
    """When its preparation started and ended (``time.time_ns()``), for the validation span."""


@dataclass(frozen=True, slots=True)
class PreparationRefused:
    """A record the preparation refused; nothing was written."""

    message: str
    violations: tuple[tuple[str, str], ...]
    """``(field path, why)`` of each refused field."""
    prepared_ns: tuple[int, int]
    foreign_centre: str | None = None
    """Set when the record was another centre's (a
    :class:`~liaison.rules.errors.ForeignRecordError`, PERMISSION_DENIED): that centre ("" when
    it is not a well-formed centre id); the one violation is the field that names it."""


class VersionSigner(Protocol):
    """Signs the versions the store numbers for this centre's own records
    (:class:`gateway.signing.RecordSigner` is one)."""

    @property
    def centre(self) -> str:
        """The centre whose records it signs."""

    def sign_version(
        self,
        record_id: str,
        version: int,
        content_sha256: bytes,
        received_at: tuple[int, int],
        signed_at: tuple[int, int],
    ) -> bytes:
        """A serialized ``RecordSignature`` of one version."""


CommitListener = Callable[[Sequence[StoredRecord]], None]
"""Called on the event loop after each commit with the new versions, in sequence order."""


class RecordStore(abc.ABC):
    """Durable storage of record versions with search and an ordered commit feed."""

    @abc.abstractmethod
    async def open(self) -> None:
        """Open (creating and migrating as needed), on the event loop that will use the store."""

    @abc.abstractmethod
    async def close(self) -> None:
        """Finish the queued writes, then release every resource. Idempotent."""

    @abc.abstractmethod
    async def write(self, items: Sequence[WriteItem]) -> list[WriteOutcome]:
        """Store the items, in order, and return one outcome per item after the commit.

        Items of one call, and of calls made concurrently, may share a transaction (group
        commit); each call returns only once everything it wrote is durable. When the transaction
        fails, nothing of it is kept and :class:`StoreError` is raised.
        """

    @abc.abstractmethod
    async def ingest(self, ingestion: Ingestion) -> IngestOutcome:
        """Store every item of ``ingestion`` and a record of its payload in one transaction.

        All or nothing: when the transaction fails, no item and no record of the payload is
        kept and :class:`StoreError` is raised. When the same adapter's payload (same SHA-256)
        was ingested before, nothing is written and the first ingestion's acks are returned.
        Items follow :meth:`write`'s rules otherwise (an item whose content is already stored
        is acknowledged as a duplicate of that version).

        Raises:
            ValueError: an item carries an ``expected_version`` (decoded records never do).
            StoreError: the transaction failed; nothing of it was stored.
        """

    @abc.abstractmethod
    async def prepare_and_write(
        self, request: bytes, centre_id: str
    ) -> PreparedWrite | PreparationRefused:
        """Prepare one Submit's request, as received (a serialized ``SubmitRequest``), where the
        store writes (:func:`gateway.store.preparation.prepare_submission`: parse, validate,
        stamp, hash, index) and write its record with the others queued.

        Whether a Submit is prepared here or by the caller is the configuration's choice
        (``[storage] preparation``); every store can do both.

        Raises:
            StoreError: the transaction failed; nothing of it was stored.
        """

    @abc.abstractmethod
    async def get(self, record_id: str, version: int = 0) -> StoredRecord | None:
        """Return the version asked for (0: the latest), or ``None`` when absent."""

    async def get_versions(self, keys: Sequence[tuple[str, int]]) -> list[StoredRecord | None]:
        """The ``(record id, version)`` versions asked for, in order; ``None`` for absent ones.

        Stores read them in one go where they can (the forwarder reads a batch at a time).
        """
        return [await self.get(record_id, version) for record_id, version in keys]

    @abc.abstractmethod
    async def search(
        self, query: SearchQuery, after_sequence: int, limit: int
    ) -> list[StoredRecord]:
        """Return up to ``limit`` latest versions matching ``query``, in increasing sequence
        order, whose sequence is greater than ``after_sequence``."""

    @abc.abstractmethod
    async def read_since(
        self,
        after_sequence: int,
        limit: int,
        kinds: frozenset[str] = frozenset(),
        originating_centres: frozenset[str] = frozenset(),
    ) -> list[StoredRecord]:
        """Return up to ``limit`` versions (every version, not only the latest) committed with a
        sequence greater than ``after_sequence``, in sequence order, optionally filtered."""

    @abc.abstractmethod
    async def read_before(self, before_sequence: int, limit: int) -> list[StoredRecord]:
        """Return up to ``limit`` versions committed with a sequence below ``before_sequence``,
        newest first."""

    @abc.abstractmethod
    async def last_sequence(self) -> int:
        """The highest committed sequence number (0 when empty)."""

    async def retention_due(
        self, *, review_before_us: int = 0, expires_before_us: int = 0, limit: int = 1000
    ) -> list[RetentionRow]:
        """Records not withdrawn whose review is due before ``review_before_us``, or (with
        ``expires_before_us``) whose expiry is before that, soonest first; at most ``limit``.
        A store that keeps no retention dates (this default) has none."""
        return []

    def add_unavailable_listener(self, listener: Callable[[str], None]) -> Callable[[], None]:
        """Register ``listener``, called on the event loop with the reason when the store's
        writes stop working (not when closed): failures that persist, or a store that refuses
        every write from now on. Returns a function that unregisters it. A store that cannot
        fail that way (this default) never calls it."""
        return lambda: None

    def add_recovered_listener(self, listener: Callable[[], None]) -> Callable[[], None]:
        """Register ``listener``, called on the event loop when writes work again after the
        unavailable listeners were told they did not; returns a function that unregisters it.
        This default never calls it."""
        return lambda: None

    def add_commit_timer(self, timer: Callable[[float], None]) -> Callable[[], None]:
        """Register ``timer``, called with each committed transaction's duration in seconds;
        returns a function that unregisters it. A store that does not time its transactions
        (this default) never calls it."""
        return lambda: None

    @abc.abstractmethod
    def add_commit_listener(self, listener: CommitListener) -> Callable[[], None]:
        """Register ``listener`` for new versions; returns a function that unregisters it."""
