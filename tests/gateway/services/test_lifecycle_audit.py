"""Every lifecycle step is in the audit chain (issue 15): withdrawal, extension, review
listing and expiry, and the chain still verifies (``liaison audit verify``)."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

from google.protobuf.duration_pb2 import Duration
from grpc import aio

from gateway.audit.log import iter_stored, verify_file
from gateway.federation.settings import FederationSettings
from gateway.server import Gateway
from liaison.rules.lifecycle import parse_period
from liaison.v1 import exchange_pb2, record_pb2
from tests.conftest import TEST_CENTRE, make_config
from tests.support.factories import person
from tests.support.rpc import ExchangeStub


async def test_withdrawal_extension_and_expiry_are_audited_and_the_chain_verifies(
    tmp_path: Path,
) -> None:
    settings = FederationSettings(audit_path=tmp_path / "audit.db")
    gateway = Gateway(dataclasses.replace(make_config(tmp_path), federation=settings))
    await gateway.start()
    now = gateway.clock()
    gateway.clock = lambda: now
    try:
        async with aio.insecure_channel(gateway.address) as channel:
            exchange = ExchangeStub(channel)
            for name in ("w", "x", "e"):
                record = person(f"{TEST_CENTRE}:{name}")
                await exchange.Submit(exchange_pb2.SubmitRequest(record=record))
            await exchange.Withdraw(
                exchange_pb2.WithdrawRequest(
                    record_id=f"{TEST_CENTRE}:w", reason=record_pb2.WITHDRAWAL_REASON_CANCELLED
                )
            )
            await exchange.ExtendRetention(
                exchange_pb2.ExtendRetentionRequest(
                    record_id=f"{TEST_CENTRE}:x", extend_by=Duration(seconds=7 * 365 * 86400)
                )
            )
            await exchange.ListReviews(exchange_pb2.ListReviewsRequest())
            later = now + parse_period("5y") + parse_period("1d")
            gateway.clock = lambda: later
            report = await gateway.keeper.sweep()
            assert report.expired == (f"{TEST_CENTRE}:e",)
    finally:
        await gateway.stop(grace=0)
    entries = [json.loads(text) for text in iter_stored(tmp_path / "audit.db")]
    actions = [(e["action"], e["outcome"], e["record_ids"]) for e in entries]
    assert ("withdraw", "ok", [f"{TEST_CENTRE}:w"]) in actions
    assert ("extend-retention", "ok", [f"{TEST_CENTRE}:x"]) in actions
    assert ("list-reviews", "ok", []) in actions
    assert ("expire", "ok", [f"{TEST_CENTRE}:e"]) in actions
    assert verify_file(tmp_path / "audit.db").ok
