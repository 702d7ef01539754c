"""Red team of issue 15: lifecycle audit entries (withdrawal, thread state changes) cannot be
edited or deleted in the log file unnoticed - ``liaison audit verify`` (``verify_file``)
names the first break."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest
from grpc import aio

from gateway.audit.log import iter_stored, verify_file
from gateway.federation.settings import FederationSettings
from gateway.server import Gateway
from liaison.v1 import exchange_pb2, record_pb2
from tests.conftest import TEST_CENTRE, make_config
from tests.gateway.services.test_threads import LYON, request
from tests.support.audit_logs import tamper
from tests.support.factories import person
from tests.support.rpc import ExchangeStub


async def _lifecycle_log(root: Path) -> tuple[Path, dict[str, int]]:
    """A gateway's audit log after a withdrawal and a request; the position of each lifecycle
    action's first entry."""
    path = root / "audit.db"
    settings = FederationSettings(audit_path=path)
    gateway = Gateway(dataclasses.replace(make_config(root), federation=settings))
    await gateway.start()
    try:
        async with aio.insecure_channel(gateway.address) as channel:
            exchange = ExchangeStub(channel)
            await exchange.Submit(exchange_pb2.SubmitRequest(record=person(f"{TEST_CENTRE}:w")))
            await exchange.Withdraw(
                exchange_pb2.WithdrawRequest(
                    record_id=f"{TEST_CENTRE}:w", reason=record_pb2.WITHDRAWAL_REASON_CANCELLED
                )
            )
            asked = request(f"{TEST_CENTRE}:rfi:a", f"{TEST_CENTRE}:t-a", TEST_CENTRE, LYON)
            await exchange.Submit(exchange_pb2.SubmitRequest(record=asked))
            assert gateway.keeper.threads is not None
            await gateway.keeper.threads.flush()
            # A last entry after them: deleting the newest entry is truncation, a matter for
            # checkpoints (tests/gateway/audit/test_truncation.py), not for the chain alone.
            await exchange.ListReviews(exchange_pb2.ListReviewsRequest())
    finally:
        await gateway.stop(grace=0)
    positions: dict[str, int] = {}
    for position, text in enumerate(iter_stored(path), start=1):
        positions.setdefault(json.loads(text)["action"], position)
    assert {"withdraw", "thread-state"} <= set(positions), positions
    assert verify_file(path).ok
    return path, positions


@pytest.mark.parametrize("action", ["withdraw", "thread-state"])
@pytest.mark.parametrize("how", ["edited", "deleted"])
async def test_a_tampered_lifecycle_entry_breaks_the_chain(
    tmp_path: Path, action: str, how: str
) -> None:
    path, positions = await _lifecycle_log(tmp_path)
    position = positions[action]
    if how == "edited":
        tamper(
            path,
            "UPDATE audit SET entry = replace(entry, '\"ok\"', '\"denied\"') "
            f"WHERE position = {position}",
        )
    else:
        tamper(path, f"DELETE FROM audit WHERE position = {position}")
    report = verify_file(path)
    assert not report.ok
    assert report.first_break is not None
    assert report.first_break.position == position
