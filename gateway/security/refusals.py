"""Audited refusals: one entry per refused call, in one shape, with nothing a caller chose left raw.

Every refusal is appended as ``action`` ``deny``, ``outcome`` ``denied``, with ``detail.reason``
saying why (``policy``, ``not-a-peer``, ``unknown-method``, ``stream-limit``, or how a
certificate failed to name an identity) and ``detail.method`` the method called - made printable
and short by :func:`audit_text`, since an unknown method's name is whatever the caller sent.
"""

from __future__ import annotations

import logging
from typing import Any

import grpc

from gateway.audit.log import AuditLog, AuditLogError
from gateway.security.identity import Identity, IdentityError
from gateway.security.tls import caller_identity

__all__ = ["NO_IDENTITY_ACTOR", "Refusals", "audit_text"]

_log = logging.getLogger(__name__)

NO_IDENTITY_ACTOR = "(no identity)"
"""The audit actor of a caller whose certificate names no valid identity."""

_MAX_AUDITED_TEXT = 128


def audit_text(text: str) -> str:
    """``text`` that a caller chose, made fit for an audit entry or a log line: printable ASCII
    only (anything else becomes ``?``), at most 128 characters (then ``...``)."""
    shown = "".join(c if " " <= c <= "~" else "?" for c in text[:_MAX_AUDITED_TEXT])
    return shown + "..." if len(text) > _MAX_AUDITED_TEXT else shown


class Refusals:
    """Identifies callers and audits refusals (nothing is audited without a log)."""

    def __init__(self, audit: AuditLog | None) -> None:
        self._audit = audit

    async def identify(self, context: grpc.aio.ServicerContext[Any, Any], method: str) -> Identity:
        """The caller's verified identity; a caller without a valid one is refused with
        UNAUTHENTICATED, and audited, here."""
        try:
            return caller_identity(context)
        except IdentityError as error:
            # The fingerprint tells the operator which certificate to revoke or reissue; the
            # names it carries are not echoed (they are what was wrong).
            seen = {"certificate_sha256": error.certificate_sha256, "peer": context.peer()}
            await self.record(
                NO_IDENTITY_ACTOR, method, error.reason, **{k: v for k, v in seen.items() if v}
            )
            await context.abort(grpc.StatusCode.UNAUTHENTICATED, f"{error}: call refused")
            raise  # context.abort raises; this keeps the type checker and readers sure of it

    async def record(self, actor: str, method: str, reason: str, **extra: str | int) -> None:
        """Append the refusal of ``actor``'s call of ``method`` for ``reason``. When the log
        cannot take the entry, the call is refused all the same (never answered UNKNOWN); the
        audit log logged its own failure."""
        if self._audit is None:
            return
        try:
            await self._audit.append(
                actor=actor,
                action="deny",
                outcome="denied",
                detail={"method": audit_text(method), "reason": reason, **extra},
            )
        except AuditLogError:
            _log.error("audit entry of a refused call not written (reason %s)", reason)
