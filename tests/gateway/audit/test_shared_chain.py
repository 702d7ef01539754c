"""One audit chain in PostgreSQL appended by several replicas at once (logs, and gateways on one
database): it verifies as one keyed chain, and a replica with another key neither opens on it
nor chains onto it."""

from __future__ import annotations

import asyncio
import json
from pathlib import Path

import pytest
from grpc import aio

from gateway.audit.keys import create_key_file, read_key_file
from gateway.audit.log import AuditLogError
from gateway.audit.postgresql_log import PostgresAuditLog
from gateway.audit.postgresql_read import iter_stored_in_database
from gateway.cli import main
from gateway.config import CentreConfig, ServerConfig, StorageConfig
from gateway.federation.settings import FederationSettings
from gateway.server import Gateway
from liaison.v1 import exchange_pb2
from tests.support.audit_logs import AuditLogs
from tests.support.rpc import ExchangeStub


@pytest.fixture(params=("postgresql",))
def audit_logs(request: pytest.FixtureRequest, tmp_path: Path) -> AuditLogs:
    """Sharing is what PostgreSQL adds: these tests run on it alone."""
    return AuditLogs("postgresql", tmp_path, request.getfixturevalue("postgresql_database"))


async def test_replicas_appending_at_once_make_one_verifiable_keyed_chain(
    audit_logs: AuditLogs, tmp_path: Path
) -> None:
    key_path = tmp_path / "audit.key"
    create_key_file(key_path)
    replicas = [audit_logs.log("shared", key_path) for _ in range(3)]
    for replica in replicas:
        await replica.open()

    async def burst(index: int) -> None:
        log = replicas[index % 3]
        await asyncio.gather(
            *(
                log.append(
                    actor=f"urn:liaison:client:replica-{index % 3}",
                    action="read",
                    outcome="ok",
                    record_ids=[f"r{index}-{n}"],
                )
                for n in range(20)
            )
        )

    await asyncio.gather(*(burst(i) for i in range(30)))
    for replica in replicas:
        await replica.close()
    report = audit_logs.verify("shared", key=read_key_file(key_path))
    assert report.ok, report.first_break
    assert report.checked == 600
    stored = [
        json.loads(str(e))
        for e in iter_stored_in_database(audit_logs.dsn, audit_logs.schema("shared"))
    ]
    assert [e["sequence"] for e in stored] == list(range(1, 601))
    assert {e["actor"] for e in stored} == {f"urn:liaison:client:replica-{n}" for n in range(3)}
    # Every replica's head is somewhere in the one chain; the last one's is its end.
    assert max(r.head.sequence for r in replicas) == 600


async def test_a_replica_with_another_key_is_refused(audit_logs: AuditLogs, tmp_path: Path) -> None:
    key_path = tmp_path / "audit.key"
    create_key_file(key_path)
    other_key = tmp_path / "other.key"
    create_key_file(other_key)
    first = audit_logs.log("keyed", key_path)
    await first.open()
    await first.append(actor="local", action="read", outcome="ok")
    with pytest.raises(AuditLogError, match="does not verify"):
        await audit_logs.log("keyed", other_key).open()
    await first.close()


async def test_a_replica_does_not_chain_onto_an_entry_it_cannot_vouch_for(
    audit_logs: AuditLogs, tmp_path: Path
) -> None:
    key_path = tmp_path / "audit.key"
    create_key_file(key_path)
    one, two = audit_logs.log("vouch", key_path), audit_logs.log("vouch", key_path)
    await one.open()
    await two.open()
    await one.append(actor="local", action="read", outcome="ok")
    audit_logs.tamper(
        "vouch",
        "UPDATE audit SET entry = replace(entry, '\"ok\"', '\"denied\"') WHERE position = 1",
    )
    # ``two`` has not seen entry 1: it must check it before chaining, and refuse.
    with pytest.raises(AuditLogError, match=r"edited|does not verify"):
        await two.append(actor="local", action="read", outcome="ok")
    await one.close()
    await two.close()


async def test_liaison_audit_verify_reads_the_chain_of_a_centre_on_postgresql(
    audit_logs: AuditLogs,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    log = audit_logs.log("cli")
    await log.open()
    for n in range(3):
        await log.append(actor="local", action="read", outcome="ok", record_ids=[f"r{n}"])
    await log.close()
    centre = tmp_path / "centre.toml"
    centre.write_text(
        f'[centre]\nid = "WCO-I2C"\n[storage]\nbackend = "postgresql"\n'
        f'schema = "{audit_logs.schema("cli")}"\n',
        encoding="utf-8",
    )
    monkeypatch.setenv("LIAISON_STORAGE_DSN", audit_logs.dsn)
    assert main(["audit", "verify", "--config", str(centre)]) == 0
    assert "3 entries, chain intact" in capsys.readouterr().out
    audit_logs.tamper("cli", "DELETE FROM audit WHERE position = 2")
    assert main(["audit", "verify", "--config", str(centre)]) == 1
    assert "chain broken at entry 2" in capsys.readouterr().out


async def test_two_gateways_on_one_database_audit_into_one_chain(
    audit_logs: AuditLogs, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("LIAISON_STORAGE_DSN", audit_logs.dsn)
    key_path = tmp_path / "audit.key"
    create_key_file(key_path)
    schema = audit_logs.schema("gateways")
    replicas = []
    for name in ("a", "b"):
        config = CentreConfig(
            centre_id="WCO-I2C",
            server=ServerConfig(listen="127.0.0.1:0", grace_seconds=1.0),
            storage=StorageConfig(backend="postgresql", schema=schema, path=tmp_path / name),
            federation=FederationSettings(
                audit_path=tmp_path / f"{name}.audit.db", audit_key_path=key_path
            ),
        )
        replica = Gateway(config)
        await replica.start()
        replicas.append(replica)
    try:
        for replica in replicas:
            assert isinstance(replica.audit, PostgresAuditLog)
            async with aio.insecure_channel(replica.address) as channel:
                stub = ExchangeStub(channel)
                for n in range(3):
                    request = exchange_pb2.GetRequest(record_id=f"WCO-I2C:nothing-{n}")
                    with pytest.raises(aio.AioRpcError):
                        await stub.Get(request)
    finally:
        for replica in replicas:
            await replica.stop()
    report = audit_logs.verify("gateways", key=read_key_file(key_path))
    assert report.ok, report.first_break
    assert report.checked >= 6  # every Get is audited, on whichever replica it was


async def test_a_live_replica_verifies_the_chain_in_the_database(
    audit_logs: AuditLogs, tmp_path: Path
) -> None:
    # VerifyAuditLog (the console's audit view) asks the open log; on PostgreSQL that is the one
    # chain every replica appends to, not a file beside the replica.
    key_path = tmp_path / "audit.key"
    create_key_file(key_path)
    first, second = audit_logs.log("live", key_path), audit_logs.log("live", key_path)
    await first.open()
    await second.open()
    try:
        for n, log in enumerate((first, second, first)):
            await log.append(actor="urn:t", action="read", outcome="ok", record_ids=[f"r{n}"])
        report = await second.verify()
        assert report.ok, report.first_break
        assert report.checked == 3
    finally:
        await first.close()
        await second.close()
