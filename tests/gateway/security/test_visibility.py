"""Need-to-know: the one rule of which centre may see which version."""

from __future__ import annotations

from gateway.federation.routing import RoutingRule, h2_permission
from gateway.security.visibility import NeedToKnow, facts_of
from liaison.v1 import record_pb2
from tests.support.factories import person

I2C, LYON, SINGAPORE = "WCO-I2C", "INTERPOL-CCC-LYON", "INTERPOL-IGCI-SINGAPORE"
RULES = (RoutingRule(peers=(LYON,), kinds=frozenset({"person"}), allow_h2=True),)
NEED_TO_KNOW = NeedToKnow(I2C, h2_permission(RULES))


def _record(
    *, origin: str = I2C, code: int = 0, releasable: tuple[str, ...] = (), kind: str = "person"
) -> record_pb2.Record:
    record = person("r")
    if kind != "person":
        record.ClearField("person")
        record.travel_document.document_number = "X1"
    record.provenance.originating_centre = origin
    record.handling.code = code  # type: ignore[assignment]
    record.handling.releasable_to.extend(releasable)
    return record


def _sees(reader: str, **handling: object) -> bool:
    return NEED_TO_KNOW.allows(facts_of(_record(**handling)), reader)  # type: ignore[arg-type]


def test_releasability_lists_who_may_see_and_the_origin_always_sees() -> None:
    assert _sees(LYON)
    assert _sees(LYON, releasable=(LYON,))
    assert not _sees(SINGAPORE, releasable=(LYON,))
    assert _sees(I2C, origin=I2C, releasable=(LYON,))
    assert _sees(LYON, origin=LYON, releasable=(SINGAPORE,))


def test_h2_needs_the_providers_recorded_permission_except_for_the_holder() -> None:
    h2 = record_pb2.HANDLING_CODE_H2
    assert _sees(I2C, code=h2, origin=SINGAPORE)  # the holding centre
    assert _sees(LYON, code=h2)  # a route with allow_h2 names Lyon for persons
    assert not _sees(LYON, code=h2, kind="travel_document")  # ... for persons only
    assert not _sees(SINGAPORE, code=h2)


def test_h3_stays_at_the_holding_centre() -> None:
    h3 = record_pb2.HANDLING_CODE_H3
    assert _sees(I2C, code=h3, origin=LYON)
    assert not _sees(SINGAPORE, code=h3, origin=LYON)
    assert _sees(LYON, code=h3, origin=LYON)  # its own


def test_an_older_version_obeys_the_current_handling_and_its_own() -> None:
    open_facts = facts_of(_record())
    restricted = facts_of(_record(releasable=(SINGAPORE,)))
    # An open old version of a record restricted since: hidden from Lyon.
    assert not NEED_TO_KNOW.allows_version(open_facts, 0, (SINGAPORE,), LYON)
    # A restricted old version of a record open since: still hidden from Lyon.
    assert not NEED_TO_KNOW.allows_version(restricted, 0, (), LYON)
    assert NEED_TO_KNOW.allows_version(open_facts, 0, (), LYON)


def test_refusals_say_which_handling_forbids() -> None:
    assert NEED_TO_KNOW.refusal(facts_of(_record(releasable=(LYON,))), SINGAPORE) == (
        "not releasable to this centre"
    )
    h2 = facts_of(_record(code=record_pb2.HANDLING_CODE_H2))
    assert "H2" in (NEED_TO_KNOW.refusal(h2, SINGAPORE) or "")
    assert NEED_TO_KNOW.refusal(h2, LYON) is None
