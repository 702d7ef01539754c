"""Routing rules and handling: the right peers get a record, and the refusals are explained."""

from __future__ import annotations

from collections.abc import Sequence

from gateway.federation.routing import RouteDecision, RoutingRule, h2_permission
from gateway.federation.routing import route as route_facts
from gateway.security.visibility import NeedToKnow, facts_of
from liaison.v1 import record_pb2

LYON, SINGAPORE, BUENOS_AIRES, I2C = (
    "INTERPOL-CCC-LYON",
    "INTERPOL-IGCI-SINGAPORE",
    "INTERPOL-RB-BUENOSAIRES",
    "WCO-I2C",
)


def _record(
    kind: str = "person",
    code: int = record_pb2.HANDLING_CODE_H0,
    origin: str = I2C,
    releasable: tuple[str, ...] = (),
) -> record_pb2.Record:
    record = record_pb2.Record(record_id="r1")
    getattr(record, kind).SetInParent()
    record.handling.code = code  # type: ignore[assignment]
    record.handling.releasable_to.extend(releasable)
    record.provenance.originating_centre = origin
    return record


def route(
    record: record_pb2.Record,
    rules: Sequence[RoutingRule],
    *,
    local_centre: str,
    received_from: str = "",
) -> list[RouteDecision]:
    """Route a record's facts with the need-to-know the rules imply (as the gateway does)."""
    need_to_know = NeedToKnow(local_centre, h2_permission(rules))
    return route_facts(
        facts_of(record), rules, need_to_know=need_to_know, received_from=received_from
    )


def _allowed(decisions: list[RouteDecision]) -> set[str]:
    return {d.peer for d in decisions if d.allowed}


def test_rules_select_by_kind_handling_and_origin() -> None:
    rules = [
        RoutingRule(peers=(LYON,), kinds=frozenset({"notice"}), name="notices"),
        RoutingRule(peers=(SINGAPORE,), handling_codes=frozenset({"H0"}), name="open"),
        RoutingRule(peers=(BUENOS_AIRES,), originating_centres=frozenset({LYON}), name="lyon"),
    ]
    assert _allowed(route(_record("notice"), rules, local_centre=I2C)) == {LYON, SINGAPORE}
    assert _allowed(route(_record("person"), rules, local_centre=I2C)) == {SINGAPORE}
    h1 = _record("person", record_pb2.HANDLING_CODE_H1)
    assert route(h1, rules, local_centre=I2C) == []
    from_lyon = _record("person", record_pb2.HANDLING_CODE_H1, origin=LYON)
    assert _allowed(route(from_lyon, rules, local_centre=I2C)) == {BUENOS_AIRES}


def test_never_back_to_the_origin_the_sender_or_ourselves() -> None:
    rules = [RoutingRule(peers=(LYON, SINGAPORE, I2C, BUENOS_AIRES))]
    record = _record(origin=LYON)
    decisions = route(record, rules, local_centre=I2C, received_from=SINGAPORE)
    assert _allowed(decisions) == {BUENOS_AIRES}


def test_releasability_limits_the_receivers_and_is_explained() -> None:
    rules = [RoutingRule(peers=(LYON, SINGAPORE), name="all")]
    record = _record(releasable=(LYON,))
    decisions = route(record, rules, local_centre=I2C)
    assert decisions == [
        RouteDecision(LYON, True, "matched all"),
        RouteDecision(SINGAPORE, False, "handling: not releasable to this centre"),
    ]


def test_h2_needs_an_explicit_permission_rule() -> None:
    h2 = _record(code=record_pb2.HANDLING_CODE_H2)
    plain = [RoutingRule(peers=(LYON,), name="all")]
    (refusal,) = route(h2, plain, local_centre=I2C)
    assert not refusal.allowed
    assert "H2 forbids onward dissemination" in refusal.reason
    permitted = [*plain, RoutingRule(peers=(LYON,), allow_h2=True, name="h2-to-lyon")]
    # The permission recorded on one rule lets every matching rule send to that peer.
    assert route(h2, permitted, local_centre=I2C) == [RouteDecision(LYON, True, "matched all")]


def test_h2_permission_names_the_peer_and_matches_the_record() -> None:
    h2_notice = _record("notice", code=record_pb2.HANDLING_CODE_H2)
    rules = [
        RoutingRule(peers=(LYON, SINGAPORE), name="all"),
        RoutingRule(
            peers=(LYON,), kinds=frozenset({"person"}), allow_h2=True, name="h2-persons-to-lyon"
        ),
        RoutingRule(peers=(SINGAPORE,), allow_h2=True, name="h2-to-singapore"),
    ]
    # Lyon's permission covers persons only; Singapore's covers every kind.
    assert _allowed(route(h2_notice, rules, local_centre=I2C)) == {SINGAPORE}


def test_h3_is_never_forwarded_automatically() -> None:
    h3 = _record(code=record_pb2.HANDLING_CODE_H3)
    rules = [RoutingRule(peers=(LYON,), handling_codes=frozenset({"H3"}), name="h3")]
    (refusal,) = route(h3, rules, local_centre=I2C)
    assert not refusal.allowed
    assert "H3" in refusal.reason


def test_a_peer_listed_twice_gets_one_decision() -> None:
    rules = [RoutingRule(peers=(LYON, LYON)), RoutingRule(peers=(LYON,))]
    assert len(route(_record(), rules, local_centre=I2C)) == 1
