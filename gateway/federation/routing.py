"""Which peers a committed record goes to, and which peers its handling forbids.

A centre's routing rules say which records (by kind, handling code and originating centre) go
to which peers. A rule *matching* a record is not enough to send it: the record's handling has
the last word —

* ``Handling.releasable_to``, when not empty, lists the only centres that may receive it;
* handling code H2 ("not to be disseminated without the permission of the provider") stops
  forwarding unless the matching rule carries an explicit ``allow_h2`` permission.

Records never go back to the centre they came from or to the centre itself. Every refusal is
returned as a decision (not silently dropped) so that it can be audited.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from liaison.v1 import record_pb2

__all__ = ["HANDLING_LABELS", "RouteDecision", "RoutingRule", "route"]

HANDLING_LABELS = {
    record_pb2.HANDLING_CODE_UNSPECIFIED: "unspecified",
    record_pb2.HANDLING_CODE_H0: "H0",
    record_pb2.HANDLING_CODE_H1: "H1",
    record_pb2.HANDLING_CODE_H2: "H2",
    record_pb2.HANDLING_CODE_H3: "H3",
}
"""Handling codes as routing rules name them."""


@dataclass(frozen=True, slots=True)
class RoutingRule:
    """Send records matching every given criterion to ``peers``; an empty criterion matches all."""

    peers: tuple[str, ...]
    """Centre ids of the peers to send to."""
    kinds: frozenset[str] = frozenset()
    """Record kinds (body names: ``person``, ``travel_document``, ``notice`` ...)."""
    handling_codes: frozenset[str] = frozenset()
    """``H0`` ... ``H3`` or ``unspecified``."""
    originating_centres: frozenset[str] = frozenset()
    """Centre ids the record must come from."""
    allow_h2: bool = False
    """Explicit permission (from the provider) to forward H2 records this rule matches."""
    name: str = ""
    """A label for logs and audit entries."""

    def matches(self, kind: str, handling_code: str, originating_centre: str) -> bool:
        return (
            (not self.kinds or kind in self.kinds)
            and (not self.handling_codes or handling_code in self.handling_codes)
            and (not self.originating_centres or originating_centre in self.originating_centres)
        )


@dataclass(frozen=True, slots=True)
class RouteDecision:
    """Whether a record goes to one peer, and why."""

    peer: str
    allowed: bool
    reason: str
    """The rule that sends it, or what forbids it."""


def route(
    record: record_pb2.Record,
    rules: Sequence[RoutingRule],
    *,
    local_centre: str,
    received_from: str = "",
) -> list[RouteDecision]:
    """The decisions for every peer some rule matches, in the order peers first appear.

    A peer allowed by any matching rule is allowed; a peer every matching rule was refused for
    gets one refusal with the first reason.
    """
    kind = record.WhichOneof("body") or ""
    handling = record.handling
    code = HANDLING_LABELS.get(handling.code, "unspecified")
    origin = record.provenance.originating_centre
    releasable = frozenset(handling.releasable_to)
    excluded = {local_centre, origin, received_from} - {""}
    decisions: dict[str, RouteDecision] = {}
    for rule in rules:
        if not rule.matches(kind, code, origin):
            continue
        for peer in _unique(rule.peers):
            if peer in excluded:
                continue
            decision = _decide(peer, rule, code, releasable)
            current = decisions.get(peer)
            if current is None or (decision.allowed and not current.allowed):
                decisions[peer] = decision
    return list(decisions.values())


def _decide(peer: str, rule: RoutingRule, code: str, releasable: frozenset[str]) -> RouteDecision:
    label = rule.name or "a routing rule"
    if releasable and peer not in releasable:
        return RouteDecision(peer, False, "handling: not releasable to this centre")
    if code == "H2" and not rule.allow_h2:
        return RouteDecision(
            peer, False, f"handling: H2 forbids onward dissemination ({label} has no allow_h2)"
        )
    return RouteDecision(peer, True, f"matched {label}")


def _unique(peers: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(peers))
