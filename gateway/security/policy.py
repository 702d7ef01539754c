"""Authorisation: which verified identities may call which RPCs, and which records they may see.

Identities come from verified certificates (``urn:liaison:centre:<ID>`` for peer centres,
``urn:liaison:client:<name>`` for agency services, see :mod:`gateway.security.identity`) or are
``local`` for plaintext loopback callers when the centre runs without TLS (``make run``).

A ``Policy`` is a list of grants; anything not granted is denied. Patterns are shell-style
(``fnmatch``, case-sensitive) over the identity and over the method as
``package.Service/Method`` (``liaison.v1.RecordExchange/Get``, ``liaison.v1.Translation/*``).
No pattern matches the empty identity, not even ``*``.

The Federation service (``liaison.v1.Federation/*``: receiving peers' records) is not the grants'
to give: only the centres named as the policy's ``peers`` may call it, and a client identity
never, whatever the grants say. The ``local`` identity (plaintext loopback, where centres of a
test network on one machine forward to each other without certificates) calls it as the grants
say.

Each identity also *acts for* a centre - a centre for itself, a client for the centre named by
the ``acts_for`` of the grant that allows the method it calls (the local centre when that grant
names none). Two grants that could allow the same client identity the same method while acting
for different centres are refused when the policy is built (:class:`PolicyError`), so that the
answer never depends on the order of the grants. Records are visible to an identity when its
centre is the record's originating centre or is listed in ``Handling.releasable_to`` (an empty
list means no restriction).
"""

from __future__ import annotations

import fnmatch
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import combinations

from gateway.security.certs import CLIENT_URI_PREFIX
from gateway.security.globs import common_match
from gateway.security.identity import LOCAL, IdentityError, parse_identity
from liaison.rules.errors import SetupError
from liaison.v1 import federation_pb2

__all__ = [
    "FEDERATION_SERVICE_NAME",
    "LOCAL_IDENTITY",
    "Admission",
    "Grant",
    "Policy",
    "PolicyError",
    "grant_conflicts",
]

LOCAL_IDENTITY = LOCAL.uri
"""The identity of a plaintext caller on loopback."""

FEDERATION_SERVICE_NAME = federation_pb2.DESCRIPTOR.services_by_name["Federation"].full_name
"""The service only peer centres may call."""

_FEDERATION_PREFIX = FEDERATION_SERVICE_NAME + "/"
# Any client identity (a name starts with a letter or digit): where acts_for matters.
_ANY_CLIENT = CLIENT_URI_PREFIX + "[A-Za-z0-9]*"


class PolicyError(SetupError, ValueError):
    """The grants contradict each other; the message names them and an example."""


@dataclass(frozen=True, slots=True)
class Grant:
    """``identities`` may call ``methods``; clients matched here act for ``acts_for``."""

    identities: tuple[str, ...]
    """Identity patterns (``urn:liaison:client:customs-*``)."""
    methods: tuple[str, ...]
    """Method patterns (``liaison.v1.RecordExchange/*``)."""
    acts_for: str = ""
    """The centre id these identities read for when calling these methods; empty = the local
    centre."""


@dataclass(frozen=True, slots=True)
class Admission:
    """Why a call is allowed."""

    acts_for: str
    """The centre the caller reads for in this call; empty = the local centre."""


@dataclass(frozen=True, slots=True)
class Policy:
    """Grants, and the peer centres; everything else is denied.

    Raises:
        PolicyError: two grants conflict (see :func:`grant_conflicts`).
    """

    grants: tuple[Grant, ...] = ()
    """What identities may call."""
    peers: frozenset[str] | None = None
    """The centre ids that alone may call the Federation service. A centre always passes its
    ``[[peers]]`` (possibly none); ``None`` is for a policy built by hand without a centre's
    settings, where grants decide - still for centre identities only."""

    def __post_init__(self) -> None:
        conflicts = grant_conflicts(self.grants)
        if conflicts:
            raise PolicyError("grants " + "; ".join(conflicts))

    def admit(self, identity: str, method: str) -> Admission | None:
        """Whether ``identity`` may call ``method`` (``/pkg.Service/Method`` or
        ``pkg.Service/Method``), and for which centre; ``None`` when it may not."""
        name = method.removeprefix("/")
        try:
            caller = parse_identity(identity)
        except IdentityError:
            return None  # the empty identity included: no pattern matches it
        if name.startswith(_FEDERATION_PREFIX) and caller.kind != "local":
            if caller.kind != "centre":
                return None
            if self.peers is not None:
                return Admission(caller.name) if caller.name in self.peers else None
        for grant in self.grants:
            if _any_match(identity, grant.identities) and _any_match(name, grant.methods):
                return Admission(caller.name if caller.kind == "centre" else grant.acts_for)
        return None

    def allows(self, identity: str, method: str) -> bool:
        """May ``identity`` call ``method`` (``/pkg.Service/Method`` or ``pkg.Service/Method``)?"""
        return self.admit(identity, method) is not None

    def centre_of(self, identity: str, local_centre: str, method: str | None = None) -> str:
        """The centre ``identity`` reads for when calling ``method``.

        A centre reads for itself. A client reads for the ``acts_for`` of the grant that allows
        ``method`` (the local centre when it names none, or when no grant allows the method).
        Without a method, the client's grants must all agree.

        Raises:
            IdentityError: ``identity`` is no valid identity.
            ValueError: no method was given and the client's grants name different centres.
        """
        caller = parse_identity(identity)
        if caller.kind == "centre":
            return caller.name
        if method is not None:
            admission = self.admit(identity, method)
            return admission.acts_for or local_centre if admission else local_centre
        centres = {
            grant.acts_for or local_centre
            for grant in self.grants
            if _any_match(identity, grant.identities)
        }
        if len(centres) > 1:
            raise ValueError(
                f"{identity} reads for {', '.join(sorted(centres))} depending on the method"
            )
        return centres.pop() if centres else local_centre


def grant_conflicts(grants: Sequence[Grant]) -> list[str]:
    """The pairs of grants that could allow one client the same method for different centres.

    The rule is exact for the patterns as written: grants #i and #j conflict when their
    ``acts_for`` differ (as written: an empty one and the local centre's id count as different)
    and there is a client identity (``urn:liaison:client:...``) that an identity pattern of each
    matches, and a method that a method pattern of each matches. Centre identities always act for
    themselves, so grants may overlap on them freely. Each message names both grants (``#i and
    #j``, counting from 1) and an example of an identity and a method they share.
    """
    found: list[str] = []
    for (i, first), (j, second) in combinations(enumerate(grants, start=1), 2):
        if first.acts_for == second.acts_for:
            continue
        identity = _shared(first.identities, second.identities, _ANY_CLIENT)
        method = _shared(first.methods, second.methods)
        if identity is None or method is None:
            continue
        found.append(
            f"#{i} and #{j} both allow {identity!r} to call {method!r} but act for "
            f"{_centre_text(first.acts_for)} and {_centre_text(second.acts_for)}: make their "
            "identities or methods disjoint, or give them the same acts_for"
        )
    return found


def _shared(first: Sequence[str], second: Sequence[str], *within: str) -> str | None:
    for a in first:
        for b in second:
            example = common_match((a, b, *within))
            if example is not None:
                return example
    return None


def _centre_text(acts_for: str) -> str:
    return acts_for or "the local centre"


def _any_match(value: str, patterns: Sequence[str]) -> bool:
    return any(fnmatch.fnmatchcase(value, pattern) for pattern in patterns)
