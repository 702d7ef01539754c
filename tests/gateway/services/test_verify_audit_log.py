"""``FederationAdmin.VerifyAuditLog`` on a real gateway over mutual TLS: granted like any RPC,
audited, intact on a fresh log, broken where someone edited it, and refused on a gateway that
keeps no audit log; served on a standalone gateway (no peers, no TLS) that keeps one, and not
on one that keeps none."""

from __future__ import annotations

from pathlib import Path

import grpc
import pytest
from grpc import aio

from gateway.config import CentreConfig, ServerConfig, StorageConfig
from gateway.federation.settings import FederationSettings
from gateway.security.policy import Grant
from gateway.server import Gateway
from liaison.v1 import federation_pb2, federation_pb2_grpc
from tests.support.audit_logs import tamper
from tests.support.mtls import Pki, audit_entries, channel, tls_gateway
from tests.support.signing import centre_key, peer

OPERATORS = [Grant(("urn:liaison:client:operator",), ("liaison.v1.FederationAdmin/*",))]


@pytest.fixture
def pki(tmp_path: Path) -> Pki:
    return Pki(tmp_path)


async def test_a_fresh_log_is_intact_and_the_call_is_audited(tmp_path: Path, pki: Pki) -> None:
    async with tls_gateway(tmp_path, pki, OPERATORS) as gateway:
        async with channel(gateway, pki, pki.client("operator")) as opened:
            stub = federation_pb2_grpc.FederationAdminStub(opened)
            first = await stub.VerifyAuditLog(federation_pb2.VerifyAuditLogRequest())
            second = await stub.VerifyAuditLog(federation_pb2.VerifyAuditLogRequest())
        entries = audit_entries(gateway)
    assert first.intact
    assert not first.HasField("first_break")
    assert first.entries == first.head_sequence >= 0
    assert len(first.head_hash) == 64
    # The first call is in the log the second one verified.
    assert second.entries > first.entries
    assert second.verified_at.ToNanoseconds() >= first.verified_at.ToNanoseconds() > 0
    audited = [e for e in entries if e["action"] == "verify-audit-log"]
    assert [(e["actor"], e["outcome"]) for e in audited] == [
        ("urn:liaison:client:operator", "ok"),
        ("urn:liaison:client:operator", "ok"),
    ]


async def test_an_edited_log_is_reported_broken_where_it_breaks(tmp_path: Path, pki: Pki) -> None:
    async with (
        tls_gateway(tmp_path, pki, OPERATORS) as gateway,
        channel(gateway, pki, pki.client("operator")) as opened,
    ):
        stub = federation_pb2_grpc.FederationAdminStub(opened)
        await stub.VerifyAuditLog(federation_pb2.VerifyAuditLogRequest())
        audit = gateway.audit
        assert audit is not None
        tamper(
            audit.path,
            "UPDATE audit SET entry = replace(entry, '\"ok\"', '\"no\"') WHERE position = 1",
        )
        answer = await stub.VerifyAuditLog(federation_pb2.VerifyAuditLogRequest())
    assert not answer.intact
    assert answer.first_break.position == 1
    assert "edited" in answer.first_break.reason
    assert answer.head_sequence == 0


async def test_a_caller_without_the_grant_is_refused(tmp_path: Path, pki: Pki) -> None:
    async with (
        tls_gateway(tmp_path, pki, OPERATORS) as gateway,
        channel(gateway, pki, pki.client("customs-1")) as opened,
    ):
        stub = federation_pb2_grpc.FederationAdminStub(opened)
        with pytest.raises(aio.AioRpcError) as refused:
            await stub.VerifyAuditLog(federation_pb2.VerifyAuditLogRequest())
    assert refused.value.code() == grpc.StatusCode.PERMISSION_DENIED


async def test_a_gateway_without_an_audit_log_says_so(tmp_path: Path) -> None:
    # Plaintext on loopback with a peer: FederationAdmin is served, no audit log is kept.
    config = CentreConfig(
        centre_id="WCO-I2C",
        server=ServerConfig(listen="127.0.0.1:0", grace_seconds=1.0),
        storage=StorageConfig(path=tmp_path / "i2c.db", synchronous="normal", writer="thread"),
        federation=FederationSettings(
            peers=(peer(centre_key(tmp_path, "INTERPOL-CCC-LYON"), "127.0.0.1:9"),),
        ),
    )
    gateway = Gateway(config)
    await gateway.start()
    try:
        async with aio.insecure_channel(gateway.address) as opened:
            stub = federation_pb2_grpc.FederationAdminStub(opened)
            with pytest.raises(aio.AioRpcError) as refused:
                await stub.VerifyAuditLog(federation_pb2.VerifyAuditLogRequest())
    finally:
        await gateway.stop(grace=0)
    assert refused.value.code() == grpc.StatusCode.FAILED_PRECONDITION
    assert "no audit log" in (refused.value.details() or "")


def _standalone(tmp_path: Path, *, audit: bool) -> CentreConfig:
    """Plaintext on loopback, no peers, no routes, no TLS; an audit log or none."""
    return CentreConfig(
        centre_id="WCO-I2C",
        server=ServerConfig(listen="127.0.0.1:0", grace_seconds=1.0),
        storage=StorageConfig(path=tmp_path / "i2c.db", synchronous="normal", writer="thread"),
        federation=FederationSettings(audit_path=tmp_path / "audit.db" if audit else None),
    )


async def test_a_standalone_gateway_with_an_audit_log_verifies_it(tmp_path: Path) -> None:
    gateway = Gateway(_standalone(tmp_path, audit=True))
    await gateway.start()
    try:
        async with aio.insecure_channel(gateway.address) as opened:
            stub = federation_pb2_grpc.FederationAdminStub(opened)
            status = await stub.VerifyAuditLog(federation_pb2.VerifyAuditLogRequest())
            # The rest of FederationAdmin answers soundly without peers: nothing was forwarded.
            deliveries = await stub.ListDeliveries(federation_pb2.ListDeliveriesRequest())
            replayed = await stub.ReplayDeadLetters(federation_pb2.ReplayDeadLettersRequest())
            await stub.ListCheckpoints(federation_pb2.ListCheckpointsRequest())
        entries = audit_entries(gateway)
    finally:
        await gateway.stop(grace=0)
    assert status.intact
    assert (list(deliveries.deliveries), list(replayed.requeued)) == ([], [])
    verified = [e for e in entries if e["action"] == "verify-audit-log"]
    assert [(e["actor"], e["outcome"]) for e in verified] == [("local", "ok")]


async def test_a_standalone_gateway_without_an_audit_log_does_not_serve_federation_admin(
    tmp_path: Path,
) -> None:
    gateway = Gateway(_standalone(tmp_path, audit=False))
    await gateway.start()
    try:
        async with aio.insecure_channel(gateway.address) as opened:
            stub = federation_pb2_grpc.FederationAdminStub(opened)
            with pytest.raises(aio.AioRpcError) as refused:
                await stub.VerifyAuditLog(federation_pb2.VerifyAuditLogRequest())
    finally:
        await gateway.stop(grace=0)
    assert refused.value.code() == grpc.StatusCode.UNIMPLEMENTED
