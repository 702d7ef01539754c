"""Which peers a committed record goes to, and which peers its handling forbids.

A centre's routing rules say which records (by kind, handling code and originating centre) go
to which peers. A rule *matching* a record is not enough to send it: need-to-know
(:mod:`gateway.security.visibility`) has the last word, the same rule every reader obeys —

* ``Handling.releasable_to``, when not empty, lists the only centres that may receive it;
* H2 ("not to be disseminated without the permission of the provider") goes only where a rule
  records the provider's permission (``allow_h2``, on a rule that matches it and names the peer);
* H3 (restrictions stated as free text) is never forwarded automatically.

Records never go back to the centre they came from or to the centre itself. Every refusal is
returned as a decision (not silently dropped) so that it can be audited.

Request/reply threads are addressed, whatever the rules say (:func:`thread_addressees`): a
request goes to the centres it addresses, a reply and a thread receipt to the requesting centre
- need-to-know still has the last word.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from gateway.security.visibility import HandlingFacts, NeedToKnow
from liaison.rules.ids import namespace_of
from liaison.v1 import record_pb2

__all__ = [
    "HANDLING_LABELS",
    "THREAD_ADDRESSED_KINDS",
    "RouteDecision",
    "RoutingRule",
    "h2_permission",
    "route",
    "thread_addressees",
]

THREAD_ADDRESSED_KINDS = frozenset({"request", "reply", "receipt"})
"""The kinds that go where their thread says (:func:`thread_addressees`), besides the rules."""

HANDLING_LABELS: dict[int, str] = {
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


def h2_permission(rules: Sequence[RoutingRule]) -> Callable[[str, str, str], bool]:
    """The provider permissions to pass H2 records on that the rules record (``allow_h2``):
    what :class:`~gateway.security.visibility.NeedToKnow` consults, so that readers and
    forwarding obey one rule."""
    permitting = tuple(rule for rule in rules if rule.allow_h2)

    def permitted(kind: str, origin: str, centre: str) -> bool:
        return any(centre in rule.peers and rule.matches(kind, "H2", origin) for rule in permitting)

    return permitted


def route(
    facts: HandlingFacts,
    rules: Sequence[RoutingRule],
    *,
    need_to_know: NeedToKnow,
    received_from: str = "",
) -> list[RouteDecision]:
    """The decisions for every peer some rule matches, in the order peers first appear.

    ``facts`` are the version's kind, origin and handling (a stored version carries them, so
    routing never parses a record). A matched peer is sent the version only when need-to-know
    lets that centre see it; otherwise it gets one refusal saying which handling forbids it.
    """
    code = HANDLING_LABELS.get(facts.handling_code, "unspecified")
    origin = facts.originating_centre
    excluded = {need_to_know.local_centre, origin, received_from} - {""}
    decisions: dict[str, RouteDecision] = {}
    for rule in rules:
        if not rule.matches(facts.kind, code, origin):
            continue
        for peer in _unique(rule.peers):
            if peer in excluded or peer in decisions:
                continue
            refusal = need_to_know.refusal(facts, peer)
            label = rule.name or "a routing rule"
            decisions[peer] = (
                RouteDecision(peer, True, f"matched {label}")
                if refusal is None
                else RouteDecision(peer, False, f"handling: {refusal}")
            )
    return list(decisions.values())


def thread_addressees(record: record_pb2.Record) -> tuple[str, ...]:
    """The centres a thread record is addressed to: a request's ``handling.releasable_to``, the
    requesting centre of a receipt, and of a reply the centre whose namespace holds its thread id
    (a thread id is minted by the requesting centre); ``()`` for any other record."""
    body = record.WhichOneof("body")
    if body == "request":
        return tuple(_unique(record.handling.releasable_to))
    if body == "receipt":
        return (record.receipt.requesting_centre,)
    if body == "reply":
        centre = namespace_of(record.reply.thread_id)
        return (centre,) if centre else ()
    return ()


def _unique(peers: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(peers))
