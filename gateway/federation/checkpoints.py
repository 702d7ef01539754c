"""Audit checkpoints between centres: taking this centre's, and keeping its peers'.

:class:`Checkpointer` signs a checkpoint of this centre's audit log (entry count, head hash,
time) whenever the log has grown by ``[audit] checkpoint_entries`` entries, or
``checkpoint_seconds`` after the last one if it has grown at all, keeps it in the log's file, and
deposits it with every peer (``Federation.KeepCheckpoint``). A peer that missed one is sent the
latest again at the next round: each checkpoint covers every entry before it, so only the
latest matters. At start it refuses a log that no longer reaches this centre's own last
checkpoint, and at stop it takes a last one.

:class:`CheckpointDesk` is the receiving side: it keeps a peer's checkpoint only when the caller
is the verified centre the checkpoint names and the signature verifies with that centre's keys,
and lists what it keeps (``FederationAdmin.ListCheckpoints``), so that the peer's operators can
later verify their log against copies they cannot alter (``liaison audit verify
--checkpoint``).
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import logging
import time
from collections.abc import Callable, Mapping
from typing import Protocol

from gateway.audit.chain import ChainHead
from gateway.audit.checkpoint_book import CheckpointBook
from gateway.audit.checkpoints import (
    CheckpointError,
    describe,
    sign_checkpoint,
    verify_checkpoint,
)
from gateway.audit.entry import EntryFormatError, parse_entry
from gateway.audit.log import AuditLog
from gateway.audit.settings import CheckpointPolicy
from gateway.errors import (
    FailedPreconditionError,
    FieldViolation,
    InvalidArgumentError,
    PermissionDeniedError,
)
from gateway.security.authorization import Caller
from gateway.security.certs import CENTRE_URI_PREFIX
from gateway.signing import KeyRing, RecordSigner
from gateway.supervision import HealthBoard, Supervised, Supervisor
from liaison.rules.errors import SetupError
from liaison.v1 import federation_pb2

__all__ = [
    "DEFAULT_LIST_LIMIT",
    "AuditCheckpoints",
    "CheckpointDesk",
    "CheckpointPeer",
    "CheckpointRefusedError",
    "CheckpointStartError",
    "Checkpointer",
    "required_desk",
]

logger = logging.getLogger(__name__)

DEFAULT_LIST_LIMIT = 100
"""Checkpoints per centre that ListCheckpoints returns when the request gives no limit."""
_MAX_LIST_LIMIT = 10_000
_KEEP_METHOD = "/liaison.v1.Federation/KeepCheckpoint"
_TASK = "audit:checkpoints"
_SERVICES = (federation_pb2.DESCRIPTOR.services_by_name["FederationAdmin"].full_name,)


class CheckpointPeer(Protocol):
    """Somewhere to deposit this centre's checkpoints (``GrpcPeerLink`` is one)."""

    async def keep_checkpoint(self, checkpoint: federation_pb2.AuditCheckpoint) -> int:
        """Deposit ``checkpoint``; return how many of this centre's checkpoints the peer keeps.
        Raise on any failure (the next round sends it again)."""
        ...


class CheckpointStartError(SetupError):
    """The audit log does not reach this centre's own last checkpoint: it was cut short or
    rewritten, and must not be continued."""


class CheckpointRefusedError(PermissionDeniedError):
    """A checkpoint deposited by a caller that may not deposit it, or whose signature does not
    verify."""


class Checkpointer:
    """Takes this centre's checkpoints and deposits them with its peers; see the module."""

    def __init__(
        self,
        *,
        audit: AuditLog,
        book: CheckpointBook,
        signer: RecordSigner,
        key_ring: KeyRing,
        peers: Mapping[str, CheckpointPeer],
        policy: CheckpointPolicy | None = None,
        clock: Callable[[], float] = time.time,
        send_timeout: float = 10.0,
        supervisor: Supervisor | None = None,
    ) -> None:
        """Prepare; nothing runs before :meth:`start`.

        Args:
            audit: This centre's audit log (open).
            book: Where checkpoints are kept (open), in the log's file.
            signer: This centre's record-signing key: it signs the checkpoints.
            key_ring: The keys peers verify with; each checkpoint is checked against it before
                it is sent, so that a key peers would refuse is reported here.
            peers: Peer centre id -> where to deposit its checkpoints.
            policy: When to take checkpoints (``[audit]``).
            clock: Wall-clock seconds (``time.time``): the checkpoints' time.
            send_timeout: Seconds one deposit may take.
            supervisor: Runs the rounds (a round that raises is logged, restarted with backoff
                and shown on the supervisor's health board); by default one of its own.
        """
        self._supervisor = supervisor if supervisor is not None else Supervisor(HealthBoard())
        self._owns_supervisor = supervisor is None
        self._audit = audit
        self._book = book
        self._signer = signer
        self._key_ring = key_ring
        self._peers = dict(peers)
        self._policy = policy if policy is not None else CheckpointPolicy()
        self._clock = clock
        self._send_timeout = send_timeout
        self._latest: federation_pb2.AuditCheckpoint | None = None
        self._deposited: dict[str, int] = {}
        self._due = asyncio.Event()
        self._round = asyncio.Lock()
        self._running = False

    @property
    def latest(self) -> federation_pb2.AuditCheckpoint | None:
        """The last checkpoint taken (or found at start)."""
        return self._latest

    def deposited(self, peer: str) -> int:
        """The entry count of the last checkpoint ``peer`` acknowledged (0: none yet)."""
        return self._deposited.get(peer, 0)

    async def start(self) -> None:
        """Check the log against this centre's last checkpoint, then checkpoint at the policy's
        pace (a first round right away unless the log is empty).

        Raises:
            CheckpointStartError: the log does not reach its last checkpoint with its hash.
        """
        own = await self._book.most_entries(self._signer.centre)
        if own is not None:
            await self._check_reaches(own)
            self._latest = await self._book.latest(self._signer.centre)
        self._audit.add_commit_listener(self._committed)
        if self._audit.head.sequence > 0:
            self._due.set()  # entries to anchor, or a checkpoint to deposit again: a round now
        self._running = True
        self._supervisor.spawn(_TASK, self._run, _SERVICES)

    async def _check_reaches(self, own: federation_pb2.AuditCheckpoint) -> None:
        path = self._audit.location
        stored = await self._audit.stored_entry(own.entries)
        hash_there = ""
        with contextlib.suppress(EntryFormatError):
            hash_there = parse_entry(stored).hash if stored is not None else ""
        if self._audit.head.sequence < own.entries or hash_there != own.head_hash:
            what = (
                "it ends before"
                if self._audit.head.sequence < own.entries
                else f"its entry {own.entries} differs from"
            )
            raise CheckpointStartError(
                f"the audit log {path} has {self._audit.head.sequence} entries and {what} "
                f"{describe(own)} at {own.entries} entries: it was cut short or rewritten. Run "
                f"`{self._audit.verify_command}` with the checkpoints your peers keep, archive the "
                "log for the auditors and start a new one."
            )

    def _committed(self, head: ChainHead) -> None:
        latest = self._latest.entries if self._latest is not None else 0
        if head.sequence - latest >= self._policy.every_entries:
            self._due.set()

    async def _run(self, handle: Supervised) -> None:
        # A round that raises (the audit file cannot be written) ends the task: the supervisor
        # logs it, shows it on health and restarts it with backoff - with a round at once.
        if handle.restarts:
            self._due.set()
        while True:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self._policy.every_seconds):
                    await self._due.wait()
            self._due.clear()
            await self.checkpoint()
            handle.progress()

    async def checkpoint(self) -> federation_pb2.AuditCheckpoint | None:
        """One round: take a checkpoint if the log has grown since the last, then deposit the
        latest with every peer that has not acknowledged it.

        Returns:
            The latest checkpoint; ``None`` while the log is empty or its checkpoints cannot be
            verified with the centre's own listed keys.
        """
        async with self._round:
            head = self._audit.head
            latest = self._latest
            if head.sequence > 0 and (latest is None or latest.entries != head.sequence):
                moment = dt.datetime.fromtimestamp(self._clock(), dt.UTC)
                taken = sign_checkpoint(self._signer, head, moment)
                try:
                    verify_checkpoint(taken, self._key_ring, now=moment)
                except CheckpointError as error:
                    logger.error(
                        "audit checkpoint not taken: peers would refuse it (%s); check [signing]",
                        error,
                    )
                    return None
                await self._book.keep(taken, kept_at=self._clock())
                self._latest = latest = taken
            if latest is not None:
                await self._deposit(latest)
            return latest

    async def _deposit(self, checkpoint: federation_pb2.AuditCheckpoint) -> None:
        lagging = [p for p in self._peers if self._deposited.get(p) != checkpoint.entries]
        results = await asyncio.gather(
            *(self._deposit_with(peer, checkpoint) for peer in lagging), return_exceptions=True
        )
        for peer, result in zip(lagging, results, strict=True):
            if isinstance(result, BaseException):
                logger.warning(
                    "audit checkpoint at %d entries not kept by %s yet: %s",
                    checkpoint.entries,
                    peer,
                    result or type(result).__name__,
                )
            else:
                self._deposited[peer] = checkpoint.entries

    async def _deposit_with(self, peer: str, checkpoint: federation_pb2.AuditCheckpoint) -> None:
        async with asyncio.timeout(self._send_timeout):
            await self._peers[peer].keep_checkpoint(checkpoint)

    async def stop(self) -> None:
        """Stop the rounds, then take and deposit a last checkpoint (within the send timeout),
        so that the entries written before a shutdown are anchored too."""
        if not self._running:
            return
        self._running = False
        await self._supervisor.cancel([_TASK])
        if self._owns_supervisor:
            await self._supervisor.stop()
        try:
            async with asyncio.timeout(self._send_timeout):
                await self.checkpoint()
        except Exception as error:
            logger.warning("last audit checkpoint not completed: %s", error)


class CheckpointDesk:
    """Keeps the checkpoints peers deposit, and lists what this centre keeps."""

    def __init__(
        self,
        *,
        centre: str,
        book: CheckpointBook,
        key_ring: KeyRing,
        audit: AuditLog | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        """Args:
        centre: This centre's id (it never keeps checkpoints in its own name for others).
        book: Where they are kept (open).
        key_ring: The peers' signing keys.
        audit: Where refused deposits are audited.
        clock: Wall-clock seconds: when a checkpoint was kept, and the "now" of signatures.
        """
        self._centre = centre
        self._book = book
        self._key_ring = key_ring
        self._audit = audit
        self._clock = clock

    async def keep(self, checkpoint: federation_pb2.AuditCheckpoint, caller: Caller | None) -> int:
        """Keep a peer's checkpoint.

        Returns:
            How many checkpoints of that centre are kept now.

        Raises:
            CheckpointRefusedError: the caller is not the verified centre the checkpoint names,
                or the signature does not verify (audited).
            InvalidArgumentError: a malformed field (named).
        """
        depositor = caller.identity if caller is not None else ""
        if not depositor.startswith(CENTRE_URI_PREFIX) or depositor == (
            CENTRE_URI_PREFIX + self._centre
        ):
            await self._refused(depositor, "depositor")
            raise CheckpointRefusedError(
                "only a peer centre, verified by mutual TLS, may deposit its audit checkpoints"
            )
        centre = depositor.removeprefix(CENTRE_URI_PREFIX)
        if checkpoint.centre != centre:
            await self._refused(depositor, "centre")
            raise CheckpointRefusedError(
                f"{centre} may deposit its own audit checkpoints only, not {checkpoint.centre!r}'s"
            )
        now = dt.datetime.fromtimestamp(self._clock(), dt.UTC)
        try:
            verify_checkpoint(checkpoint, self._key_ring, now=now)
        except CheckpointError as error:
            if not error.field:
                await self._refused(depositor, "signature")
                raise CheckpointRefusedError(f"checkpoint refused: {error}") from None
            raise InvalidArgumentError(
                f"malformed checkpoint: {error}",
                [FieldViolation(f"checkpoint.{error.field}", str(error))],
            ) from None
        await self._note_regression(checkpoint)
        return await self._book.keep(checkpoint, kept_at=self._clock())

    async def _note_regression(self, checkpoint: federation_pb2.AuditCheckpoint) -> None:
        """Keep it all the same - both signed checkpoints are the evidence - but say so, in the
        log and in the audit log."""
        furthest = await self._book.most_entries(checkpoint.centre)
        if furthest is None:
            return
        if checkpoint.entries < furthest.entries or (
            checkpoint.entries == furthest.entries and checkpoint.head_hash != furthest.head_hash
        ):
            await self._refused(f"{CENTRE_URI_PREFIX}{checkpoint.centre}", "contradiction")
        if checkpoint.entries < furthest.entries:
            logger.warning(
                "%s deposited an audit checkpoint at %d entries after one at %d: its audit log "
                "was cut short or started anew",
                checkpoint.centre,
                checkpoint.entries,
                furthest.entries,
            )
        elif checkpoint.entries == furthest.entries and (
            checkpoint.head_hash != furthest.head_hash
        ):
            logger.warning(
                "%s deposited two audit checkpoints at %d entries with different hashes: its "
                "audit log was rewritten",
                checkpoint.centre,
                checkpoint.entries,
            )

    async def _refused(self, depositor: str, reason: str) -> None:
        if self._audit is not None:
            await self._audit.append(
                actor=depositor or "(no identity)",
                action="deny",
                outcome="denied",
                detail={"method": _KEEP_METHOD, "reason": f"checkpoint {reason}"},
            )

    async def newest(self, centre: str, limit: int) -> list[federation_pb2.AuditCheckpoint]:
        """The kept checkpoints (this centre's own too), newest first, at most ``limit`` per
        centre (0: ``DEFAULT_LIST_LIMIT``), of ``centre`` only when given."""
        newest = await self._book.newest(centre, min(limit or DEFAULT_LIST_LIMIT, _MAX_LIST_LIMIT))
        # The furthest-reaching checkpoint of each centre always comes too: a log cut short and
        # then checkpointed again and again must not push the one that proves the cut out of
        # the answer.
        centres = [centre] if centre else sorted({c.centre for c in newest})
        listed = {(c.centre, c.entries, c.head_hash) for c in newest}
        for name in centres:
            furthest = await self._book.most_entries(name)
            if furthest is not None and (name, furthest.entries, furthest.head_hash) not in listed:
                newest.append(furthest)
        return newest


class AuditCheckpoints:
    """A centre's checkpoint duties in one piece, as the gateway runs them: the book in the
    audit log's file, the desk that keeps peers' checkpoints, and - when the centre has a
    signing key - the checkpointer that takes and deposits its own.

    Open after the audit log, close before it; give :attr:`desk` to the Federation and
    FederationAdmin services (their ``checkpoints`` attribute).
    """

    def __init__(
        self,
        *,
        centre: str,
        audit: AuditLog,
        key_ring: KeyRing,
        signer: RecordSigner | None,
        peers: Mapping[str, CheckpointPeer],
        policy: CheckpointPolicy | None = None,
        clock: Callable[[], float] = time.time,
        supervisor: Supervisor | None = None,
    ) -> None:
        """Args:
        centre: This centre's id.
        audit: Its audit log.
        key_ring: Its own and its peers' signing keys.
        signer: Its signing key; ``None``: it keeps peers' checkpoints but takes none.
        peers: Peer centre id -> where to deposit this centre's checkpoints.
        policy: When to take them (``[audit]``).
        clock: Wall-clock seconds.
        supervisor: Runs the checkpoint rounds (the gateway's).
        """
        self.book = CheckpointBook(audit.path)
        self.desk = CheckpointDesk(
            centre=centre, book=self.book, key_ring=key_ring, audit=audit, clock=clock
        )
        self.checkpointer = (
            Checkpointer(
                audit=audit,
                book=self.book,
                signer=signer,
                key_ring=key_ring,
                peers=peers,
                policy=policy,
                clock=clock,
                supervisor=supervisor,
            )
            if signer is not None
            else None
        )

    async def open(self) -> None:
        """Open the book and start checkpointing.

        Raises:
            CheckpointBookError: the book cannot be opened.
            CheckpointStartError: the log does not reach this centre's last checkpoint.
        """
        await self.book.open()
        if self.checkpointer is not None:
            try:
                await self.checkpointer.start()
            except BaseException:
                await self.book.close()
                raise

    async def close(self) -> None:
        """Take a last checkpoint, stop, and close the book."""
        if self.checkpointer is not None:
            await self.checkpointer.stop()
        await self.book.close()


def required_desk(desk: CheckpointDesk | None) -> CheckpointDesk:
    """``desk``, or the refusal for a centre that keeps no checkpoints.

    Raises:
        FailedPreconditionError: ``desk`` is ``None``.
    """
    if desk is None:
        raise FailedPreconditionError(
            "this centre keeps no audit checkpoints: it has no signing keys to verify them with"
        )
    return desk
