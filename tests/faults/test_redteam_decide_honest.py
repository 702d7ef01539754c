"""Red team: an analyst's decision stored but not audited (audit log failing) is answered
honestly, and its retry records no second decision."""

from __future__ import annotations

from pathlib import Path

import pytest
from grpc import aio

from liaison.v1 import exchange_pb2, screening_hit_pb2, screening_pb2
from tests.faults.test_honest_answers import CENTRE, _audit_fails, _audited, _entries, _refusal
from tests.support.rpc import ExchangeStub, ScreeningStub
from tests.support.screening_records import red_notice, screened, traveller

NO_MATCH = screening_hit_pb2.SCREENING_DECISION_KIND_NO_MATCH


@pytest.mark.parametrize("expected_version", [1, 0], ids=["expecting-1", "latest"])
async def test_a_stored_but_unaudited_decision_is_unavailable_and_its_retry_is_the_same_version(
    tmp_path: Path, expected_version: int
) -> None:
    """WRONG: the retry of a Decide whose decision was stored (version 2) but whose audit entry
    failed was refused ABORTED ("moved to version 2 meanwhile") when it expected version 1, and
    stored a second, identical decision (version 3, another decided_at) when it did not.

    RIGHT: the first answer says the decision is stored and may be retried; the retry is
    answered with the stored version 2 (a duplicate acknowledgement) and audited."""
    async with _audited(tmp_path) as (gateway, audit), aio.insecure_channel(gateway.address) as ch:
        exchange = ExchangeStub(ch)
        await exchange.Submit(exchange_pb2.SubmitRequest(record=red_notice(f"{CENTRE}:notice:1")))
        await exchange.Submit(exchange_pb2.SubmitRequest(record=traveller(f"{CENTRE}:pax:1")))
        await screened(gateway)
        screening = ScreeningStub(ch)
        (hit,) = (await screening.ListHits(screening_pb2.ListHitsRequest())).hits
        request = screening_pb2.DecideRequest(
            hit_record_id=hit.record_id,
            decision=NO_MATCH,
            note="other man",
            expected_version=expected_version,
        )
        with _audit_fails(audit), pytest.raises(aio.AioRpcError) as refused:
            await screening.Decide(request, timeout=10)
        _refusal(refused.value)
        stored = await gateway.store.get(hit.record_id)
        assert stored is not None
        assert stored.version == 2, "the decision was committed"
        retried = await screening.Decide(request, timeout=10)
        assert (retried.ack.version, retried.ack.duplicate) == (2, True)
        assert retried.hit.screening_hit.decision.kind == NO_MATCH
        latest = await gateway.store.get(hit.record_id)
        assert latest is not None
        assert latest.version == 2
    assert [entry["outcome"] for entry in _entries(audit, "decide")] == ["duplicate"]
