"""Red team: what the audit log misses, gets wrong, or lets a caller write into it.

Attacked through a real mutual-TLS gateway (the i2c) by an operator client and by its peer Lyon;
the entries are read back from the gateway's audit log file.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from grpc import aio

from gateway.audit.checkpoints import statement_of
from gateway.security.policy import Grant
from gateway.server import Gateway
from liaison.v1 import (
    exchange_pb2,
    exchange_pb2_grpc,
    federation_pb2,
    federation_pb2_grpc,
)
from tests.gateway.security.test_origin_authority import deliver, signed
from tests.support.factories import person, store_replica
from tests.support.mtls import LYON, SINGAPORE, Pki, audit_entries, channel, tls_gateway
from tests.support.polling import until

OPERATOR, PARTNER = "operator", "lyon-partner"
OPERATOR_URI = f"urn:liaison:client:{OPERATOR}"
GRANTS = (
    Grant((OPERATOR_URI,), ("liaison.v1.*",)),
    Grant((f"urn:liaison:client:{PARTNER}",), ("liaison.v1.RecordExchange/*",), acts_for=LYON),
)
GARBAGE = b"\xff\xff\xff"


@pytest.fixture
async def gateway(tmp_path: Path, pki: Pki) -> AsyncIterator[Gateway]:
    async with tls_gateway(tmp_path, pki, GRANTS) as started:
        yield started


@pytest.mark.parametrize(
    ("method", "action"),
    [
        ("/liaison.v1.RecordExchange/Get", "read"),
        ("/liaison.v1.RecordExchange/Submit", "submit"),
        ("/liaison.v1.Translation/Export", "export"),
    ],
)
async def test_a_malformed_request_is_audited_as_invalid(
    gateway: Gateway, pki: Pki, method: str, action: str
) -> None:
    """WRONG: a Get, Submit or Export whose bytes are not a request message is refused with
    INVALID_ARGUMENT but leaves no audit entry at all: the record guard's audit wrapper reads
    the record ids of the refused request from the ``MalformedRequest`` placeholder, which has
    none (AttributeError), so the entry is never written. Search, Subscribe, Ingest and the
    others are audited as ``invalid-argument``; these three let a caller probe unseen.

    RIGHT: one entry under the method's action with the outcome ``invalid-argument`` (and no
    record ids), like every other refused call.
    """
    async with channel(gateway, pki, pki.client(OPERATOR)) as opened:
        with pytest.raises(aio.AioRpcError):
            await opened.unary_unary(method, bytes, bytes)(GARBAGE, timeout=5)

    def audited() -> bool:
        return any(
            (entry["actor"], entry["action"], entry["outcome"])
            == (OPERATOR_URI, action, "invalid-argument")
            for entry in audit_entries(gateway)
        )

    await until(audited, within=2)


async def test_a_refused_stream_submission_is_audited_with_its_record(
    gateway: Gateway, pki: Pki
) -> None:
    """WRONG: an attempt to publish a new version of another centre's record through
    SubmitStream is refused for that record (PERMISSION_DENIED "record lyon-3 originates at
    INTERPOL-CCC-LYON") but audited as ``submit ok`` with no record id: the log shows a
    successful, empty submission. The same attempt through Submit is audited as
    ``submit permission-denied ['lyon-3']``.

    RIGHT: the refused record appears in the audit log with its refusal (its id, and an
    outcome that is not ``ok``), as Submit and Deliver record theirs.
    """
    await store_replica(gateway, person(f"{LYON}:3", centre=LYON))
    async with channel(gateway, pki, pki.client(OPERATOR)) as opened:
        response = await exchange_pb2_grpc.RecordExchangeStub(opened).SubmitStream(
            iter([exchange_pb2.SubmitStreamRequest(records=[person(f"{LYON}:3", family="MINE")])])
        )
    assert response.results[0].error.code != 0

    def audited() -> bool:
        return any(
            f"{LYON}:3" in entry["record_ids"] and entry["outcome"] != "ok"
            for entry in audit_entries(gateway)
            if entry["actor"] == OPERATOR_URI
        )

    await until(audited, within=2)


async def test_refused_deliveries_write_no_caller_chosen_text_into_the_log(
    gateway: Gateway, pki: Pki
) -> None:
    """WRONG: ``Federation.Deliver`` audits the ids of the records it refuses exactly as the
    peer sent them: a record whose "id" is 125,000 characters of terminal escape sequences
    (refused as an invalid id) is copied whole into the ``receive refused`` entry. A peer can
    write any text - control characters, megabytes per call, personal data - into the audit log,
    whereas the record guard echoes only well-formed ids "since they could be anything".

    RIGHT: only well-formed record ids are audited (a refused invalid one is counted or
    replaced, never copied).
    """
    junk = signed(person("placeholder"), 1, pki.keys[LYON])
    junk.record_id = "\x07\x1b[2J" * 25_000
    [result] = await deliver(gateway, pki, junk)
    assert result.error.code != 0
    written = [entry for entry in audit_entries(gateway) if entry["action"] == "receive"]
    assert written
    for entry in written:
        for record_id in entry["record_ids"]:
            assert len(record_id) <= 128
            assert record_id.isprintable()


async def test_the_checkpoints_a_peer_lists_by_default_keep_the_furthest_one(
    gateway: Gateway, pki: Pki
) -> None:
    """WRONG: a peer lists the checkpoints it keeps newest first, 100 per centre by default
    (``ListCheckpoints``, ``liaison audit checkpoints``), and the operator guide's procedure
    verifies the log against that list. A centre whose operators cut its log short (from 500
    entries to below 100) only has to let its gateway deposit 100 checkpoints of the shortened
    log - ``checkpoint_entries = 1``, or a few restarts - and the checkpoint at 500 entries,
    the one evidence of the cut, is no longer in the list: the verification passes. The peer
    only logs a warning.

    RIGHT: the default answer always includes the checkpoint with the most entries the peer
    keeps for that centre (and any two that conflict), however many came after it, so that the
    documented procedure catches the cut.
    """
    async with channel(gateway, pki, pki.lyon) as lyon:
        federation = federation_pb2_grpc.FederationStub(lyon)
        for entries, head in [(500, "f"), *((n, "a") for n in range(1, 101))]:
            await federation.KeepCheckpoint(
                federation_pb2.KeepCheckpointRequest(checkpoint=_checkpoint(pki, entries, head))
            )
    async with channel(gateway, pki, pki.client(OPERATOR)) as opened:
        listed = await federation_pb2_grpc.FederationAdminStub(opened).ListCheckpoints(
            federation_pb2.ListCheckpointsRequest(centre=LYON)
        )
    assert max(checkpoint.entries for checkpoint in listed.checkpoints) == 500


def _checkpoint(pki: Pki, entries: int, head: str) -> federation_pb2.AuditCheckpoint:
    """Lyon's genuine signed checkpoint of a log with ``entries`` entries."""
    checkpoint = federation_pb2.AuditCheckpoint(
        centre=LYON,
        entries=entries,
        head_hash=(head + f"{entries:x}").rjust(64, "0"),
        key_id=pki.keys[LYON].spec.key_id,
    )
    checkpoint.time.seconds = int(time.time())
    checkpoint.signature = pki.keys[LYON].signer().sign_statement(statement_of(checkpoint))
    return checkpoint


HIDDEN_BACKLOG = 1200


async def test_one_subscription_cannot_flood_the_log_with_denials(
    gateway: Gateway, pki: Pki
) -> None:
    """WRONG: a Subscribe from sequence 0 by a client acting for Lyon, over a store of 1,200
    versions releasable only to Singapore, appends 1,200 audit entries - one ``deny`` per hidden
    version, each an asyncio task and a durable (``synchronous = FULL``) row - and returns at
    once. Any reader can repeat it: the log (and the disk) grows by the size of the store per
    call, and real entries drown. Search, over the same hidden matches, audits them in a few
    entries (one per scanned batch).

    RIGHT: the denials of one call are audited together, as Search does (a bounded number of
    entries per call, each listing the ids it kept back), however many versions were hidden.
    """
    hidden = []
    for number in range(HIDDEN_BACKLOG):
        record = person(f"sg-only-{number}")
        record.handling.releasable_to.append(SINGAPORE)
        hidden.append(record)
    async with channel(gateway, pki, pki.client(OPERATOR)) as opened:
        exchange = exchange_pb2_grpc.RecordExchangeStub(opened)
        for start in range(0, HIDDEN_BACKLOG, 400):
            await exchange.SubmitStream(
                iter([exchange_pb2.SubmitStreamRequest(records=hidden[start : start + 400])])
            )
    before = len(audit_entries(gateway))
    async with channel(gateway, pki, pki.client(PARTNER)) as opened:
        subscription = exchange_pb2_grpc.RecordExchangeStub(opened).Subscribe(
            exchange_pb2.SubscribeRequest(after_sequence=0)
        )
        first = await subscription.read()
        assert isinstance(first, exchange_pb2.SubscribeResponse)
        assert first.HasField("caught_up")
        subscription.cancel()

    def subscription_audited() -> bool:
        return any(e["action"] == "subscribe" for e in audit_entries(gateway)[before:])

    await until(subscription_audited, within=5)
    denials = [e for e in audit_entries(gateway)[before:] if e["action"] == "deny"]
    assert sum(len(e["record_ids"]) for e in denials) == HIDDEN_BACKLOG
    assert len(denials) <= 10
