"""Need-to-know: the one rule of which centre may see which record version.

A caller reads *for* a centre (a peer for itself, a client for the centre its grant's
``acts_for`` names, the local centre by default). A version is visible to a reader centre when:

* the reader is the record's originating centre - a centre always sees its own records; or
* every restriction of its handling allows the reader:

  - ``releasable_to``, when not empty, lists the reader;
  - H2 ("not to be disseminated without the permission of the provider"): the reader is the
    centre holding the record (this gateway's, which received it with the provider's
    permission), or a routing rule records the provider's permission to pass it to the reader
    (``allow_h2`` on a rule that matches the record and names the reader) - the same
    permission forwarding needs;
  - H3 (other restrictions, stated only as free text that no machine can weigh): the reader is
    the centre holding the record.

An older version obeys both its own handling and the record's current one: a record later
restricted is restricted in its history too, and a version once stricter stays so.

:class:`NeedToKnow` is consulted by :class:`gateway.security.gate.RecordGate`, the single door
every read path passes; nothing else decides visibility.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Protocol

from liaison.v1 import record_pb2

__all__ = ["H2_CODE", "H3_CODE", "HandlingFacts", "NeedToKnow", "facts_of"]

H2_CODE = record_pb2.HANDLING_CODE_H2
H3_CODE = record_pb2.HANDLING_CODE_H3

H2Permission = Callable[[str, str, str], bool]
"""``(kind, originating centre, reader centre) -> bool``: whether the provider permitted passing
H2 records of that kind to the reader (a routing rule with ``allow_h2``)."""


class HandlingFacts(Protocol):
    """What need-to-know reads of a version (a stored version carries these as columns)."""

    @property
    def kind(self) -> str: ...

    @property
    def originating_centre(self) -> str: ...

    @property
    def handling_code(self) -> int: ...

    @property
    def releasable_to(self) -> tuple[str, ...]: ...


@dataclass(frozen=True, slots=True)
class _Facts:
    kind: str
    originating_centre: str
    handling_code: int
    releasable_to: tuple[str, ...]


def facts_of(record: record_pb2.Record) -> HandlingFacts:
    """The handling facts of a record message."""
    return _Facts(
        kind=record.WhichOneof("body") or "",
        originating_centre=record.provenance.originating_centre,
        handling_code=record.handling.code,
        releasable_to=tuple(record.handling.releasable_to),
    )


class NeedToKnow:
    """Decides visibility for one holding centre (this gateway's)."""

    def __init__(self, local_centre: str, h2_permission: H2Permission | None = None) -> None:
        """Args:
        local_centre: The centre this gateway holds records for.
        h2_permission: The provider's recorded permissions to pass H2 records on; none by
            default.
        """
        self.local_centre = local_centre
        self._h2_permission = h2_permission

    def allows(self, facts: HandlingFacts, reader: str) -> bool:
        """Whether ``reader`` may see a version with these facts (its own handling only)."""
        if reader == facts.originating_centre:
            return True
        return self._handling_allows(
            facts.kind, facts.originating_centre, facts.handling_code, facts.releasable_to, reader
        )

    def allows_version(
        self,
        facts: HandlingFacts,
        latest_handling_code: int,
        latest_releasable_to: Sequence[str],
        reader: str,
    ) -> bool:
        """Whether ``reader`` may see a version, given its record's latest handling as well."""
        if reader == facts.originating_centre:
            return True
        kind, origin = facts.kind, facts.originating_centre
        return self._handling_allows(
            kind, origin, facts.handling_code, facts.releasable_to, reader
        ) and self._handling_allows(
            kind, origin, latest_handling_code, tuple(latest_releasable_to), reader
        )

    def refusal(self, facts: HandlingFacts, reader: str) -> str | None:
        """Why ``reader`` may not see a version with these facts; ``None`` when it may."""
        if reader == facts.originating_centre:
            return None
        return self._refusal(
            facts.kind, facts.originating_centre, facts.handling_code, facts.releasable_to, reader
        )

    def _handling_allows(
        self, kind: str, origin: str, code: int, releasable_to: Sequence[str], reader: str
    ) -> bool:
        return self._refusal(kind, origin, code, releasable_to, reader) is None

    def _refusal(
        self, kind: str, origin: str, code: int, releasable_to: Sequence[str], reader: str
    ) -> str | None:
        if releasable_to and reader not in releasable_to:
            return "not releasable to this centre"
        permitted = self._h2_permission is not None and self._h2_permission(kind, origin, reader)
        if code == H2_CODE and reader != self.local_centre and not permitted:
            return (
                "H2 forbids onward dissemination without the provider's permission "
                "(no matching route with allow_h2 names this centre)"
            )
        if code == H3_CODE and reader != self.local_centre:
            return "H3 restrictions are stated as free text: kept at the centre that holds it"
        return None
