"""Authorisation: which verified identities may call which RPCs, and which records they may see.

Identities come from verified certificates (``urn:liaison:centre:<ID>`` for peer centres,
``urn:liaison:client:<name>`` for agency services) or are ``local`` for plaintext loopback
callers when the centre runs without TLS (``make run``).

A ``Policy`` is a list of grants; anything not granted is denied. Patterns are shell-style
(``fnmatch``, case-sensitive) over the identity and over the method as
``package.Service/Method`` (``liaison.v1.RecordExchange/Get``, ``liaison.v1.Translation/*``).

Each identity also *acts for* a centre — a peer centre for itself, a client for the centre it
belongs to (the local centre unless a grant says otherwise). Records are visible to an
identity when its centre is the record's originating centre or is listed in
``Handling.releasable_to`` (an empty list means no restriction).
"""

from __future__ import annotations

import fnmatch
from collections.abc import Sequence
from dataclasses import dataclass

from gateway.security.certs import CENTRE_URI_PREFIX
from liaison.v1 import record_pb2

__all__ = ["LOCAL_IDENTITY", "Grant", "Policy", "may_see"]

LOCAL_IDENTITY = "local"
"""The identity of a plaintext caller on loopback."""


@dataclass(frozen=True, slots=True)
class Grant:
    """``identities`` may call ``methods``; clients matched here act for ``acts_for``."""

    identities: tuple[str, ...]
    """Identity patterns (``urn:liaison:client:customs-*``)."""
    methods: tuple[str, ...]
    """Method patterns (``liaison.v1.RecordExchange/*``)."""
    acts_for: str = ""
    """The centre id these identities read for; empty = the local centre."""


@dataclass(frozen=True, slots=True)
class Policy:
    """Grants; everything else is denied."""

    grants: tuple[Grant, ...] = ()

    def allows(self, identity: str, method: str) -> bool:
        """May ``identity`` call ``method`` (``/pkg.Service/Method`` or ``pkg.Service/Method``)?"""
        name = method.removeprefix("/")
        return any(
            _any_match(identity, grant.identities) and _any_match(name, grant.methods)
            for grant in self.grants
        )

    def centre_of(self, identity: str, local_centre: str) -> str:
        """The centre an identity reads for."""
        if identity.startswith(CENTRE_URI_PREFIX):
            return identity.removeprefix(CENTRE_URI_PREFIX)
        for grant in self.grants:
            if grant.acts_for and _any_match(identity, grant.identities):
                return grant.acts_for
        return local_centre


def may_see(record: record_pb2.Record, centre: str) -> bool:
    """Whether a caller acting for ``centre`` may receive or read ``record``."""
    releasable = record.handling.releasable_to
    return not releasable or centre in releasable or centre == record.provenance.originating_centre


def _any_match(value: str, patterns: Sequence[str]) -> bool:
    return any(fnmatch.fnmatchcase(value, pattern) for pattern in patterns)
