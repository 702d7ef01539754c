"""The audit log: durable group-committed appends, a chain that survives restarts, and
verification that finds edits, deletions and reorderings (files, and on both backends where the
behaviour is the log's)."""

from __future__ import annotations

import asyncio
import json
import sqlite3
from pathlib import Path

import pytest

from gateway.audit.chain import KEYED_MAC, ChainHead
from gateway.audit.keys import create_key_file, read_key_file
from gateway.audit.log import AuditLog, AuditLogError, iter_stored, read_entry, verify_file
from tests.support.audit_logs import AuditLogs


async def _fill(path: Path, count: int) -> AuditLog:
    log = AuditLog(path)
    await log.open()
    await asyncio.gather(
        *(
            log.append(
                actor="urn:liaison:client:customs-be",
                action="read",
                outcome="ok",
                record_ids=[f"r{i}"],
                detail={"method": "Get"},
            )
            for i in range(count)
        )
    )
    return log


async def test_concurrent_appends_form_one_chain(tmp_path: Path) -> None:
    path = tmp_path / "audit.db"
    log = await _fill(path, 50)
    await log.close()
    report = verify_file(path)
    assert report.ok
    assert report.checked == 50
    assert report.head == log.head
    ids = sorted(json.loads(text)["record_ids"][0] for text in iter_stored(path))
    assert ids == sorted(f"r{i}" for i in range(50))


async def test_the_chain_continues_after_a_restart(audit_logs: AuditLogs) -> None:
    await _fill_in(audit_logs, "restarted", 3)
    log = audit_logs.log("restarted")
    await log.open()
    entry = await log.append(actor="local", action="search", outcome="ok")
    await log.close()
    assert entry.sequence == 4
    assert audit_logs.verify("restarted").ok


async def test_appending_to_a_closed_log_fails_loudly(tmp_path: Path) -> None:
    log = await _fill(tmp_path / "audit.db", 1)
    await log.close()
    with pytest.raises(AuditLogError, match="closed"):
        await log.append(actor="local", action="read", outcome="ok")


async def test_an_unopenable_log_fails_at_open(tmp_path: Path) -> None:
    (tmp_path / "audit.db").mkdir()
    with pytest.raises(AuditLogError, match="cannot open"):
        await AuditLog(tmp_path / "audit.db").open()


def _tamper(path: Path, *statements: str) -> None:
    connection = sqlite3.connect(path)
    with connection:
        for statement in statements:
            connection.execute(statement)
    connection.close()


async def _fill_in(logs: AuditLogs, name: str, count: int) -> None:
    log = logs.log(name)
    await log.open()
    for i in range(count):
        await log.append(
            actor="urn:liaison:client:customs-be", action="read", outcome="ok", record_ids=[f"r{i}"]
        )
    await log.close()


async def test_tampering_with_the_log_is_found(audit_logs: AuditLogs) -> None:
    logs = audit_logs
    await _fill_in(logs, "edited", 6)
    recorded = logs.verify("edited").head
    logs.tamper(
        "edited",
        "UPDATE audit SET entry = replace(entry, '\"ok\"', '\"denied\"') WHERE position = 3",
    )
    report = logs.verify("edited")
    assert report.first_break is not None
    assert (report.first_break.position, report.first_break.sequence) == (3, 3)
    assert "edited" in report.first_break.reason

    await _fill_in(logs, "deleted", 6)
    logs.tamper("deleted", "DELETE FROM audit WHERE position = 2")
    report = logs.verify("deleted")
    assert report.first_break is not None
    assert report.first_break.position == 2
    assert "deleted" in report.first_break.reason

    await _fill_in(logs, "reordered", 6)
    logs.tamper(
        "reordered",
        "UPDATE audit SET position = -4 WHERE position = 4",
        "UPDATE audit SET position = 4 WHERE position = 5",
        "UPDATE audit SET position = 5 WHERE position = -4",
    )
    report = logs.verify("reordered")
    assert report.first_break is not None
    assert report.first_break.position == 4
    assert report.first_break.sequence == 5

    await _fill_in(logs, "truncated", 6)
    head = logs.verify("truncated").head
    logs.tamper("truncated", "DELETE FROM audit WHERE position = 6")
    assert logs.verify("truncated").ok  # a shorter chain is still a chain ...
    assert not logs.verify("truncated", expect_head=head).ok  # ... but not the recorded one
    assert recorded.sequence == 6
    assert ChainHead() != head


def test_verifying_a_missing_log_is_an_error(tmp_path: Path) -> None:
    with pytest.raises(AuditLogError, match="no audit log"):
        verify_file(tmp_path / "nothing.db")


async def _append_one(log: AuditLog) -> None:
    await log.open()
    await log.append(actor="local", action="read", outcome="ok", record_ids=["r1"])
    await log.close()


async def test_a_keyed_log_chains_macs_under_its_key(tmp_path: Path) -> None:
    path, key_path = tmp_path / "audit.db", tmp_path / "audit.key"
    create_key_file(key_path)
    await _append_one(AuditLog(path, key_path))
    await _append_one(AuditLog(path, key_path))  # the chain continues after a restart

    assert [json.loads(text)["mac"] for text in iter_stored(path)] == [KEYED_MAC] * 2
    report = verify_file(path, key=read_key_file(key_path))
    assert (report.ok, report.checked) == (True, 2)
    assert not verify_file(path).ok


async def test_a_log_is_keyed_from_its_first_entry_or_not_at_all(tmp_path: Path) -> None:
    key_path = tmp_path / "audit.key"
    create_key_file(key_path)
    unkeyed, keyed = tmp_path / "unkeyed.db", tmp_path / "keyed.db"
    await _append_one(AuditLog(unkeyed))
    await _append_one(AuditLog(keyed, key_path))

    with pytest.raises(AuditLogError, match="started without a key"):
        await AuditLog(unkeyed, key_path).open()
    with pytest.raises(AuditLogError, match=r"is keyed .* no \[audit\] key_file"):
        await AuditLog(keyed).open()
    # Refusing left both logs as they were.
    assert [len(list(iter_stored(p))) for p in (unkeyed, keyed)] == [1, 1]


async def test_an_unusable_key_file_fails_at_open(tmp_path: Path) -> None:
    key_path = tmp_path / "audit.key"
    key_path.write_text("00" * 32)
    key_path.chmod(0o644)
    log = AuditLog(tmp_path / "audit.db", key_path)
    with pytest.raises(AuditLogError, match="accessible by other users"):
        await log.open()
    assert not (tmp_path / "audit.db").exists()


async def test_commit_listeners_see_each_new_head_and_a_failing_one_stops_nothing(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    log = AuditLog(tmp_path / "audit.db")
    seen: list[ChainHead] = []

    def broken(head: ChainHead) -> None:
        raise RuntimeError("listener bug")

    log.add_commit_listener(broken)
    log.add_commit_listener(seen.append)
    await log.open()
    first = await log.append(actor="local", action="read", outcome="ok")
    second = await log.append(actor="local", action="read", outcome="ok")
    await asyncio.sleep(0)  # listeners run on the loop after the futures resolve
    await log.close()
    assert seen == [ChainHead(1, first.hash), ChainHead(2, second.hash)]
    assert "audit commit listener failed" in caplog.text
    assert read_entry(log.path, 2) == second.to_json()
    assert read_entry(log.path, 3) is None
