"""The running gateway's own audit log, verified on demand (``FederationAdmin.VerifyAuditLog``).

The whole log is read and checked (:func:`gateway.audit.chain.verify`), under the gateway's key
for a keyed log, and against this centre's own checkpoint with the most entries when it keeps
one: a log cut short before that checkpoint, or rewritten up to it, is reported broken. The walk
is linear in the log's size and runs in a thread on a read-only snapshot; callers that ask while
one runs share its answer, so a console refreshing in a loop cannot pile walks up.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass

from gateway.audit.chain import VerifyReport
from gateway.audit.checkpoint_book import CheckpointBook
from gateway.audit.checkpoints import anchor_of
from gateway.audit.log import AuditLog
from liaison.v1 import federation_pb2

__all__ = ["AuditStatus", "AuditVerifier"]


@dataclass(frozen=True, slots=True)
class AuditStatus:
    """One verification of the log."""

    report: VerifyReport
    """What the walk found."""
    keyed: bool
    """Whether the log is keyed (and was verified with its key)."""
    latest_checkpoint: federation_pb2.AuditCheckpoint | None
    """This centre's latest checkpoint of its own log, if any."""
    verified_at: float
    """When the walk finished (wall-clock seconds)."""


class AuditVerifier:
    """Verifies one open audit log, one walk at a time."""

    def __init__(
        self,
        audit: AuditLog,
        centre: str,
        book: CheckpointBook | None = None,
        clock: Callable[[], float] = time.time,
    ) -> None:
        """Args:
        audit: The gateway's audit log (open).
        centre: This centre's id: its checkpoints in ``book`` anchor the walk.
        book: The checkpoints kept in the log's file (open); ``None``: no anchor.
        clock: Wall-clock seconds.
        """
        self._audit = audit
        self._centre = centre
        self._book = book
        self._clock = clock
        self._running: asyncio.Task[AuditStatus] | None = None

    async def verify(self) -> AuditStatus:
        """Verify the log now, or join the walk under way.

        Raises:
            AuditLogError: the log cannot be read.
            CheckpointBookError: its checkpoints cannot be read.
        """
        if self._running is None or self._running.done():
            self._running = asyncio.ensure_future(self._walk())
        # Shielded: a caller that goes away does not cancel the walk the others wait for.
        return await asyncio.shield(self._running)

    async def _walk(self) -> AuditStatus:
        furthest = latest = None
        if self._book is not None:
            furthest = await self._book.most_entries(self._centre)
            latest = await self._book.latest(self._centre)
        anchors = [anchor_of(furthest)] if furthest is not None else []
        report = await self._audit.verify(anchors)
        return AuditStatus(report, self._audit.keyed, latest, self._clock())
