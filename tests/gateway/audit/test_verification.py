"""The running gateway's own audit log, verified on demand (``AuditVerifier``): intact, broken
where it breaks, anchored on this centre's furthest checkpoint, and one walk for callers that
ask together."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

from gateway.audit.checkpoint_book import CheckpointBook
from gateway.audit.log import AuditLog
from gateway.audit.verification import AuditVerifier
from tests.support.audit_logs import CENTRE, SigningCentre, tamper, write_log


async def _opened(path: Path) -> AuditLog:
    log = AuditLog(path)
    await log.open()
    return log


async def test_an_untouched_log_is_intact(tmp_path: Path) -> None:
    path = tmp_path / "audit.db"
    head = await write_log(path, 5)
    log = await _opened(path)
    try:
        status = await AuditVerifier(log, CENTRE, clock=lambda: 1234.5).verify()
    finally:
        await log.close()
    assert status.report.ok
    assert (status.report.checked, status.report.head) == (5, head)
    assert (status.keyed, status.latest_checkpoint, status.verified_at) == (False, None, 1234.5)


async def test_an_edited_entry_is_where_the_chain_breaks(tmp_path: Path) -> None:
    path = tmp_path / "audit.db"
    await write_log(path, 5)
    tamper(path, "UPDATE audit SET entry = replace(entry, '\"r2\"', '\"r9\"') WHERE position = 3")
    log = await _opened(path)
    try:
        status = await AuditVerifier(log, CENTRE).verify()
    finally:
        await log.close()
    assert not status.report.ok
    assert status.report.first_break is not None
    assert (status.report.first_break.position, status.report.head.sequence) == (3, 2)
    assert "edited" in status.report.first_break.reason


async def test_a_log_cut_short_before_its_own_checkpoint_is_broken(tmp_path: Path) -> None:
    path = tmp_path / "audit.db"
    head = await write_log(path, 6)
    centre = SigningCentre(tmp_path)
    book = CheckpointBook(path)
    await book.open()
    try:
        await book.keep(centre.checkpoint(head), kept_at=1.0)
        tamper(path, "DELETE FROM audit WHERE position > 4")
        log = await _opened(path)
        try:
            status = await AuditVerifier(log, CENTRE, book).verify()
        finally:
            await log.close()
    finally:
        await book.close()
    # A shorter chain verifies on its own; only the checkpoint shows what is missing.
    assert not status.report.ok
    assert status.report.first_break is not None
    assert "cut off the end" in status.report.first_break.reason
    assert status.latest_checkpoint is not None
    assert status.latest_checkpoint.entries == 6


async def test_the_log_reaching_its_checkpoint_is_anchored(tmp_path: Path) -> None:
    path = tmp_path / "audit.db"
    head = await write_log(path, 3)
    centre = SigningCentre(tmp_path)
    book = CheckpointBook(path)
    await book.open()
    try:
        await book.keep(centre.checkpoint(head), kept_at=1.0)
        log = await _opened(path)
        try:
            await log.append(actor="local", action="read", outcome="ok")
            status = await AuditVerifier(log, CENTRE, book).verify()
        finally:
            await log.close()
    finally:
        await book.close()
    assert status.report.ok
    assert (status.report.checked, status.report.anchored) == (4, 1)


async def test_callers_asking_together_share_one_walk(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "audit.db"
    await write_log(path, 2)
    log = await _opened(path)
    walks = 0
    release = asyncio.Event()
    verify = log.verify

    async def counted(*args: object, **kwargs: object) -> object:
        nonlocal walks
        walks += 1
        await release.wait()
        return await verify()

    monkeypatch.setattr(log, "verify", counted)
    verifier = AuditVerifier(log, CENTRE)
    try:
        callers = [asyncio.ensure_future(verifier.verify()) for _ in range(3)]
        await asyncio.sleep(0)
        # One caller leaving does not cancel the walk the others wait for.
        callers[0].cancel()
        release.set()
        statuses = await asyncio.gather(*callers[1:])
        assert walks == 1
        assert all(status.report.ok for status in statuses)
        # Once it is over, the next call walks again.
        await verifier.verify()
        assert walks == 2
    finally:
        await log.close()
