"""Red team: need-to-know, grants and publishing on the Screening service.

Attacked through a real mutual-TLS gateway (the i2c), by a partner client acting for Lyon, a
partner client acting for Singapore, Lyon's own centre certificate, and the i2c's operator.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import grpc
import pytest
from grpc import aio

from gateway.federation.routing import RoutingRule
from gateway.security.policy import Grant
from gateway.server import Gateway
from liaison.v1 import (
    exchange_pb2,
    exchange_pb2_grpc,
    record_pb2,
    screening_hit_pb2,
    screening_pb2,
    screening_pb2_grpc,
)
from tests.support.factories import store_replica
from tests.support.mtls import (
    I2C,
    LYON,
    SINGAPORE,
    Pki,
    audit_entries,
    channel,
    tls_gateway,
)
from tests.support.polling import until
from tests.support.screening_records import red_notice, screened, traveller

OPERATOR, PARTNER, SG_PARTNER = "operator", "lyon-partner", "singapore-partner"
FEEDER = "manifest-feeder"
SCREENING = "liaison.v1.Screening/*"
GRANTS = (
    Grant((f"urn:liaison:client:{OPERATOR}",), ("liaison.v1.*",)),
    Grant(
        (f"urn:liaison:client:{PARTNER}",),
        ("liaison.v1.RecordExchange/*", SCREENING),
        acts_for=LYON,
    ),
    Grant(
        (f"urn:liaison:client:{SG_PARTNER}",),
        ("liaison.v1.RecordExchange/*", SCREENING),
        acts_for=SINGAPORE,
    ),
    # A manifest feeder of this centre: it submits records, and screens nothing.
    Grant((f"urn:liaison:client:{FEEDER}",), ("liaison.v1.RecordExchange/*",)),
    # Peer centres may screen and list hits here (they read for themselves).
    Grant(("urn:liaison:centre:*",), (SCREENING,)),
)
# The i2c passes its hits - H2 ones included - to Singapore; nothing else goes at H2.
ROUTES = (
    RoutingRule(peers=(SINGAPORE,), kinds=frozenset({"screening_hit"}), allow_h2=True, name="hits"),
)
H2 = record_pb2.HANDLING_CODE_H2


@pytest.fixture
async def gateway(tmp_path: Path, pki: Pki) -> AsyncIterator[Gateway]:
    async with tls_gateway(
        tmp_path, pki, GRANTS, peers=(LYON, SINGAPORE), routes=ROUTES
    ) as started:
        yield started


async def _submit(gateway: Gateway, pki: Pki, *records: record_pb2.Record) -> None:
    async with channel(gateway, pki, pki.client(OPERATOR)) as opened:
        stub = exchange_pb2_grpc.RecordExchangeStub(opened)
        for record in records:
            await stub.Submit(exchange_pb2.SubmitRequest(record=record))
    await screened(gateway)


async def _screen(
    gateway: Gateway, pki: Pki, client: str, *subjects: record_pb2.Record
) -> screening_pb2.ScreenResponse:
    async with channel(gateway, pki, pki.client(client)) as opened:
        return await screening_pb2_grpc.ScreeningStub(opened).Screen(
            screening_pb2.ScreenRequest(subjects=subjects)
        )


async def _hits(gateway: Gateway, pki: Pki, client: str, page_size: int = 0) -> list[str]:
    """Every hit id ``client`` lists, page by page; checks the pages are never empty."""
    found: list[str] = []
    cursor = ""
    async with channel(gateway, pki, pki.client(client)) as opened:
        stub = screening_pb2_grpc.ScreeningStub(opened)
        while True:
            page = await stub.ListHits(
                screening_pb2.ListHitsRequest(page_size=page_size, cursor=cursor)
            )
            if cursor or page.hits:
                assert page.hits or not page.has_more, "an empty page that says there is more"
            found.extend(hit.record_id for hit in page.hits)
            if not page.has_more:
                return found
            cursor = page.next_cursor


def _notice(
    record_id: str, family: str, given: str, *, releasable_to: tuple[str, ...] = (), code: int = 0
) -> record_pb2.Record:
    record = red_notice(record_id, family, given, releasable_to=releasable_to)
    record.handling.code = code  # type: ignore[assignment]
    return record


async def test_screen_redacts_hits_on_entries_hidden_from_the_caller_and_audits_them(
    gateway: Gateway, pki: Pki
) -> None:
    """HELD: a hit on an entry releasable only to Singapore, or at H2 without the provider's
    permission, tells a caller acting for Lyon only that there is one (list, band, centre); the
    entry is audited as kept from it."""
    await _submit(
        gateway,
        pki,
        _notice(f"{I2C}:notice:sg", "KOVALENKO", "DMYTRO", releasable_to=(SINGAPORE,)),
        _notice(f"{I2C}:notice:h2", "KOVALENKO", "DMYTRO", code=H2),
    )
    response = await _screen(gateway, pki, PARTNER, traveller("", "KOVALENKO", "DMYTRO"))
    assert len(response.hits) == 2
    for hit in response.hits:
        assert (hit.entry_record_id, hit.entry_version, hit.score) == ("", 0, 0.0)
        assert not hit.explanation
        assert hit.entry_centre == I2C
    assert not response.entries

    def denied_ids() -> set[str]:
        return {
            record_id
            for entry in audit_entries(gateway)
            if entry["action"] == "deny" and entry["actor"].endswith(PARTNER)
            for record_id in entry["record_ids"]
        }

    # Denials are queued to the log and committed within a commit or two (guard._log_soon).
    expected = {f"{I2C}:notice:sg", f"{I2C}:notice:h2"}
    await until(lambda: denied_ids() >= expected)
    assert denied_ids() == expected
    # The operator sees both in full.
    full = await _screen(gateway, pki, OPERATOR, traveller("", "KOVALENKO", "DMYTRO"))
    assert {hit.entry_record_id for hit in full.hits} == {f"{I2C}:notice:sg", f"{I2C}:notice:h2"}


async def test_the_order_of_hits_does_not_rank_a_redacted_hit_among_visible_ones(
    gateway: Gateway, pki: Pki
) -> None:
    """WRONG: Screen returns each subject's hits strongest first, redacted ones included, so a
    redacted hit's place between two visible hits bounds its score (a caller acting for Lyon
    learns the hidden entry scores between 0.93 and 0.99) - more than its band says.

    RIGHT: visible hits come first, strongest first; redacted hits after them, in an order
    that does not depend on their scores."""
    await _submit(
        gateway,
        pki,
        # Visible, exact: the strongest.
        _notice(f"{I2C}:notice:a-exact", "KOVALENKO", "DMYTRO"),
        # Hidden, one typo: in the middle.
        _notice(f"{I2C}:notice:b-hidden", "KOVALENKA", "DMYTRO", releasable_to=(SINGAPORE,)),
        # Visible, two words differ: the weakest.
        _notice(f"{I2C}:notice:c-weak", "KOVALENKO", "DMITRI"),
    )
    full = await _screen(gateway, pki, OPERATOR, traveller("", "KOVALENKO", "DMYTRO"))
    ranked = [hit.entry_record_id for hit in full.hits]
    assert ranked[1] == f"{I2C}:notice:b-hidden", f"the attack needs it in the middle: {ranked}"
    partner = await _screen(gateway, pki, PARTNER, traveller("", "KOVALENKO", "DMYTRO"))
    assert [hit.entry_record_id for hit in partner.hits] == [
        f"{I2C}:notice:a-exact",
        f"{I2C}:notice:c-weak",
        "",
    ]


async def test_list_hits_pages_over_visible_hits_only(gateway: Gateway, pki: Pki) -> None:
    """HELD: hits handled for Singapore only (their subject is) fill no page, move no cursor
    and set no ``has_more`` for a caller acting for Lyon, whatever the page size."""
    await _submit(gateway, pki, _notice(f"{I2C}:notice:1", "IVANOV", "SERGEI"))
    hidden = traveller(f"{I2C}:pax:hidden")
    hidden.handling.releasable_to.append(SINGAPORE)
    await _submit(
        gateway,
        pki,
        traveller(f"{I2C}:pax:1"),
        hidden,
        traveller(f"{I2C}:pax:2"),
    )
    every = await _hits(gateway, pki, OPERATOR)
    assert len(every) >= 3
    lyon = await _hits(gateway, pki, PARTNER)
    for size in (1, 2, 3):
        assert await _hits(gateway, pki, PARTNER, size) == lyon
    assert len(lyon) == len(every) - 1, "all but the hidden traveller's hit"


async def test_decide_answers_alike_for_hidden_visible_and_absent_hits(
    gateway: Gateway, pki: Pki
) -> None:
    """Decide by a caller acting for another centre, on a hit it may not see, on one it may
    see and on an absent id: the same status, message and details, byte for byte once the id
    is swapped (after the fix of the test below: PERMISSION_DENIED before anything is read;
    before it, NOT_FOUND for the hidden and the absent and a write for the visible)."""
    await _submit(gateway, pki, _notice(f"{I2C}:notice:1", "IVANOV", "SERGEI"))
    hidden = traveller(f"{I2C}:pax:hidden")
    hidden.handling.releasable_to.append(SINGAPORE)
    await _submit(gateway, pki, hidden, traveller(f"{I2C}:pax:seen"))
    every = await _hits(gateway, pki, OPERATOR)
    (seen_id,) = await _hits(gateway, pki, PARTNER)
    (hidden_id,) = set(every) - {seen_id}
    absent_id = f"{I2C}:hit:{'0' * 32}"
    answers = set()
    for target in (hidden_id, seen_id, absent_id):
        async with channel(gateway, pki, pki.client(PARTNER)) as opened:
            with pytest.raises(aio.AioRpcError) as caught:
                await screening_pb2_grpc.ScreeningStub(opened).Decide(_decide(target))
        error = caught.value
        trailers: list[Any] = list(error.trailing_metadata() or ())
        details = b"".join(
            value
            for key, value in trailers
            if key == "grpc-status-details-bin" and isinstance(value, bytes)
        )
        answers.add(
            (
                error.code(),
                (error.details() or "").replace(target, "ID"),
                details.replace(target.encode(), b"ID"),
            )
        )
    assert len(answers) == 1, answers
    assert next(iter(answers))[0] == grpc.StatusCode.PERMISSION_DENIED


def _decide(hit_id: str) -> screening_pb2.DecideRequest:
    return screening_pb2.DecideRequest(
        hit_record_id=hit_id,
        decision=screening_hit_pb2.SCREENING_DECISION_KIND_NO_MATCH,
        note="not him",
    )


async def test_a_caller_acting_for_another_centre_cannot_decide_this_centres_hits(
    gateway: Gateway, pki: Pki
) -> None:
    """WRONG: Decide writes a new version of one of this centre's hit records, signed with
    this centre's key, for any caller who may see the hit - a client acting for Lyon, or
    Lyon's own centre certificate with a Screening grant. Its NO_MATCH then suppresses the pair
    in every later screening here: another centre silences this centre's alerts.

    RIGHT: as Submit does, Decide refuses a caller acting for another centre with
    PERMISSION_DENIED (before reading anything, so the answer is the same whatever the hit);
    the hit stays undecided and the pair unsuppressed."""
    await _submit(gateway, pki, _notice(f"{I2C}:notice:1", "IVANOV", "SERGEI"))
    await _submit(gateway, pki, traveller(f"{I2C}:pax:1"))
    (hit_id,) = await _hits(gateway, pki, PARTNER)
    for issued in (pki.client(PARTNER), pki.client(SG_PARTNER), pki.lyon):
        async with channel(gateway, pki, issued) as opened:
            stub = screening_pb2_grpc.ScreeningStub(opened)
            with pytest.raises(aio.AioRpcError) as caught:
                await stub.Decide(_decide(hit_id))
            assert caught.value.code() == grpc.StatusCode.PERMISSION_DENIED
            with pytest.raises(aio.AioRpcError) as absent:
                await stub.Decide(_decide(f"{I2C}:hit:{'0' * 32}"))
            assert (absent.value.code(), absent.value.details()) == (
                caught.value.code(),
                caught.value.details(),
            )
    stored = await gateway.store.get(hit_id)
    assert stored is not None
    assert stored.version == 1
    assert not gateway.screening.suppressed()
    again = await _screen(gateway, pki, OPERATOR, traveller(""))
    assert [hit.entry_record_id for hit in again.hits] == [f"{I2C}:notice:1"]


async def test_a_hit_on_an_h2_entry_does_not_carry_the_entry_past_the_providers_permission(
    gateway: Gateway, pki: Pki
) -> None:
    """WRONG: Lyon's H2 notice came to the i2c with Lyon's permission for the i2c alone (no
    rule here passes Lyon's H2 notices on). A traveller matches it, and the stored hit is an
    i2c record at H2; the i2c's own rule passes its H2 *hits* to Singapore, so a caller acting
    for Singapore - which may not see the notice - reads the hit: the notice's record id and
    the explanation, whose details are the notice's names and birth date.

    RIGHT: a hit is visible only where its entry and its subject are: a reader who may not see
    the H2 entry does not see the hit either (and it is not forwarded to Singapore)."""
    notice = red_notice(f"{LYON}:notice:h2", "KOVALENKO", "DMYTRO")
    notice.handling.code = H2
    notice.provenance.originating_centre = LYON
    await store_replica(gateway, notice)
    await _submit(gateway, pki, traveller(f"{I2C}:pax:1", "KOVALENKO", "DMYTRO"))
    assert len(await _hits(gateway, pki, OPERATOR)) == 1
    seen = await _screen(gateway, pki, SG_PARTNER, traveller("", "KOVALENKO", "DMYTRO"))
    assert [hit.entry_record_id for hit in seen.hits] == [""], "the entry is hidden from SG"
    assert await _hits(gateway, pki, SG_PARTNER) == []


async def test_a_hit_on_an_entry_releasable_to_nobody_in_common_stays_with_this_centre(
    gateway: Gateway, pki: Pki
) -> None:
    """HELD: subject releasable to Lyon only, entry to Singapore only: the hit is this centre's
    alone; neither partner lists it."""
    await _submit(
        gateway, pki, _notice(f"{I2C}:notice:sg", "IVANOV", "SERGEI", releasable_to=(SINGAPORE,))
    )
    subject = traveller(f"{I2C}:pax:lyon")
    subject.handling.releasable_to.append(LYON)
    await _submit(gateway, pki, subject)
    (hit_id,) = await _hits(gateway, pki, OPERATOR)
    stored = await gateway.store.get(hit_id)
    assert stored is not None
    assert list(stored.to_message().handling.releasable_to) == [I2C]
    assert await _hits(gateway, pki, PARTNER) == []
    assert await _hits(gateway, pki, SG_PARTNER) == []


async def test_a_hit_follows_its_entry_when_the_entry_is_later_restricted(
    gateway: Gateway, pki: Pki
) -> None:
    """WRONG: a notice releasable to everyone gives a hit Lyon may read. The notice is then
    restricted to Singapore: Lyon may no longer see any version of it (old versions obey the
    current handling) - yet the stored hit, whose explanation names the notice's words and
    birth date, stays readable by a caller acting for Lyon.

    RIGHT: a hit obeys the current handling of its entry and subject as well as its own."""
    notice_id = f"{I2C}:notice:later"
    await _submit(gateway, pki, _notice(notice_id, "IVANOV", "SERGEI"))
    await _submit(gateway, pki, traveller(f"{I2C}:pax:1"))
    assert len(await _hits(gateway, pki, PARTNER)) == 1
    restricted = _notice(notice_id, "IVANOV", "SERGEI", releasable_to=(SINGAPORE,))
    restricted.version = 1
    await _submit(gateway, pki, restricted)
    assert await _hits(gateway, pki, PARTNER) == []
    assert len(await _hits(gateway, pki, OPERATOR)) == 1, "this centre still reads its hit"
    # Restricted to one more centre: the hit follows again, as a new version.
    wider = _notice(notice_id, "IVANOV", "SERGEI", releasable_to=(SINGAPORE, LYON))
    wider.version = 2
    await _submit(gateway, pki, wider)
    assert len(await _hits(gateway, pki, PARTNER)) == 1


async def test_the_centre_that_issued_a_restricted_entry_may_read_the_hits_on_it(
    gateway: Gateway, pki: Pki
) -> None:
    """WRONG (found with the fix above): Lyon's notice, releasable to the i2c only, gave a hit
    releasable to the i2c only - the intersection of the lists leaves out the entry's own
    origin, so the centre that issued the notice never received the hit on it.

    RIGHT: the hit is handed to every known centre that may see both records, the entry's
    origin included; an unrestricted hit stays unrestricted."""
    notice = red_notice(f"{LYON}:notice:for-i2c", "KOVALENKO", "DMYTRO", releasable_to=(I2C,))
    notice.provenance.originating_centre = LYON
    await store_replica(gateway, notice)
    await _submit(gateway, pki, _notice(f"{I2C}:notice:open", "IVANOV", "SERGEI"))
    await _submit(
        gateway,
        pki,
        traveller(f"{I2C}:pax:1", "KOVALENKO", "DMYTRO"),
        traveller(f"{I2C}:pax:2"),
    )
    handling = {}
    for hit_id in await _hits(gateway, pki, OPERATOR):
        stored = await gateway.store.get(hit_id)
        assert stored is not None
        hit = stored.to_message()
        handling[hit.screening_hit.entry_record_id] = list(hit.handling.releasable_to)
    assert handling == {f"{LYON}:notice:for-i2c": [LYON, I2C], f"{I2C}:notice:open": []}
    assert len(await _hits(gateway, pki, PARTNER)) == 2
    assert len(await _hits(gateway, pki, SG_PARTNER)) == 1


async def test_a_client_without_screening_grants_cannot_forge_a_decision_through_submit(
    gateway: Gateway, pki: Pki
) -> None:
    """WRONG: a client granted RecordExchange only (a manifest feeder) submitted a
    ``ScreeningHit`` record of its own making - decision NO_MATCH on a traveller and a notice -
    and the desk took it as an analyst's decision: the pair was suppressed, and the real
    traveller on the next manifest (same name, birth date) gave no hit, to Screen either.

    RIGHT: hit records are written by the screening desk and decided through Decide (a
    Screening grant); Submit refuses them (INVALID_ARGUMENT naming the body), so nothing is
    suppressed."""
    notice_id = f"{I2C}:notice:1"
    await _submit(gateway, pki, _notice(notice_id, "IVANOV", "SERGEI"))
    forged = record_pb2.Record(record_id=f"{I2C}:hit:forged")
    hit = forged.screening_hit
    hit.subject_record_id, hit.subject_version = f"{I2C}:pax:decoy", 1
    hit.entry_record_id, hit.entry_version = notice_id, 1
    hit.list, hit.score, hit.entry_centre = "notices", 0.99, I2C
    hit.band = screening_hit_pb2.SCREENING_BAND_HIT
    hit.decision.kind = screening_hit_pb2.SCREENING_DECISION_KIND_NO_MATCH
    async with channel(gateway, pki, pki.client(FEEDER)) as opened:
        stub = exchange_pb2_grpc.RecordExchangeStub(opened)
        await stub.Submit(exchange_pb2.SubmitRequest(record=traveller(f"{I2C}:pax:decoy")))
        with pytest.raises(aio.AioRpcError) as refused:
            await stub.Submit(exchange_pb2.SubmitRequest(record=forged))
    assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    await screened(gateway)
    assert not gateway.screening.suppressed()
    again = await _screen(gateway, pki, OPERATOR, traveller(""))
    assert [h.entry_record_id for h in again.hits] == [notice_id]
