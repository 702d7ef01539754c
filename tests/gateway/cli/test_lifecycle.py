"""``liaison withdraw | review | reviews`` against a real gateway: what they print, their exit
codes, and how refusals read."""

from __future__ import annotations

import json

import pytest

from gateway.server import Gateway
from liaison.rules.lifecycle import parse_period
from tests.conftest import TEST_CENTRE
from tests.gateway.cli.running import liaison, submitted
from tests.support.factories import person, store_replica

LYON = "INTERPOL-CCC-LYON"


async def test_withdraw_prints_the_tombstone_ack_and_a_second_time_says_so(
    gateway: Gateway, capsys: pytest.CaptureFixture[str]
) -> None:
    await submitted(gateway, person(f"{TEST_CENTRE}:p1"))
    target = ("--target", gateway.address)
    code, out, err = await liaison(
        capsys, *target, "withdraw", f"{TEST_CENTRE}:p1", "--reason", "cancelled", "--note", "x"
    )
    assert code == 0
    assert json.loads(out)["version"] == "2"
    assert "withdrawn as version 2" in err
    code, out, err = await liaison(
        capsys, *target, "withdraw", f"{TEST_CENTRE}:p1", "--reason", "erroneous"
    )
    assert (code, json.loads(out)["duplicate"]) == (0, True)
    assert "withdrawn already" in err
    stored = await gateway.store.get(f"{TEST_CENTRE}:p1")
    assert stored is not None
    assert stored.kind == "withdrawal"


async def test_withdraw_refusals_exit_1_and_bad_usage_exit_2(
    gateway: Gateway, capsys: pytest.CaptureFixture[str]
) -> None:
    await store_replica(gateway, person(f"{LYON}:1", centre=LYON))
    target = ("--target", gateway.address)
    code, _, err = await liaison(capsys, *target, "withdraw", f"{LYON}:1", "--reason", "cancelled")
    assert code == 1
    assert "PERMISSION_DENIED" in err or "originates at" in err
    code, _, err = await liaison(
        capsys, *target, "withdraw", f"{TEST_CENTRE}:none", "--reason", "cancelled"
    )
    assert code == 1
    assert "not found" in err
    code, _, _ = await liaison(capsys, *target, "withdraw", "X", "--reason", "expired")
    assert code == 2, "EXPIRED is the gateway's own, not a choice"


async def test_review_extends_and_reviews_lists_what_is_due(
    gateway: Gateway, capsys: pytest.CaptureFixture[str]
) -> None:
    await submitted(gateway, person(f"{TEST_CENTRE}:r1"), person(f"{TEST_CENTRE}:r2"))
    target = ("--target", gateway.address)
    code, out, _ = await liaison(capsys, *target, "reviews", "--within", "6y")
    assert code == 0
    due = [json.loads(line) for line in out.splitlines()]
    assert [d["recordId"] for d in due] == [f"{TEST_CENTRE}:r1", f"{TEST_CENTRE}:r2"]
    assert due[0]["kind"] == "RECORD_KIND_PERSON"

    code, out, _ = await liaison(
        capsys, *target, "review", f"{TEST_CENTRE}:r1", "--extend", "7y", "--note", "sought"
    )
    assert code == 0
    assert json.loads(out)["recordId"] == f"{TEST_CENTRE}:r1"
    code, out, _ = await liaison(capsys, *target, "reviews", "--within", "6y")
    assert [json.loads(line)["recordId"] for line in out.splitlines()] == [f"{TEST_CENTRE}:r2"]
    stored = await gateway.store.get(f"{TEST_CENTRE}:r1")
    assert stored is not None
    assert stored.expires_at_us >= stored.committed_at_us + parse_period("7y")
    code, _, _ = await liaison(capsys, *target, "review", f"{TEST_CENTRE}:r1", "--extend", "soon")
    assert code == 2


async def test_recipients_at_a_gateway_without_peers_is_refused_plainly(
    gateway: Gateway, capsys: pytest.CaptureFixture[str]
) -> None:
    # The ledger is the federation's (FederationAdmin): a gateway with no peers keeps none.
    # tests/federation/test_withdrawal_propagation.py reads a real one.
    await submitted(gateway, person(f"{TEST_CENTRE}:kept-here"))
    code, out, err = await liaison(
        capsys, "--target", gateway.address, "recipients", f"{TEST_CENTRE}:kept-here"
    )
    assert (code, out) == (1, "")
    assert "UNIMPLEMENTED" in err


async def test_threads_prints_each_thread_and_counts_the_overdue(
    gateway: Gateway, capsys: pytest.CaptureFixture[str]
) -> None:
    from tests.gateway.services.test_threads import request

    await store_replica(gateway, request(f"{LYON}:rfi:1", f"{LYON}:t1", LYON, TEST_CENTRE))
    code, out, err = await liaison(capsys, "--target", gateway.address, "threads", "--open")
    assert code == 0
    [thread] = [json.loads(line) for line in out.splitlines()]
    assert (thread["threadId"], thread["state"]) == (f"{LYON}:t1", "THREAD_STATE_DELIVERED")
    assert "1 thread(s), 0 overdue" in err
