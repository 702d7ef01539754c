"""Finding: a gateway restarted with a different key file went on appending, and the log then
failed verification under either key. Now it refuses to start, naming the key file and the log
and saying what to do; the log stays as it was."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest

from gateway.audit.keys import create_key_file, read_key_file
from gateway.audit.log import AuditLog, AuditLogError, iter_stored, verify_file
from gateway.config import CentreConfig
from gateway.federation.settings import FederationSettings
from gateway.server import Gateway, ServeError
from tests.conftest import make_config
from tests.support.audit_logs import stored_text, tamper, write_log


def _keys(tmp_path: Path) -> tuple[Path, Path]:
    original, other = tmp_path / "original.key", tmp_path / "other.key"
    create_key_file(original)
    create_key_file(other)
    return original, other


def _config(tmp_path: Path, log: Path, key: Path | None) -> CentreConfig:
    settings = FederationSettings(audit_path=log, audit_key_path=key)
    return dataclasses.replace(make_config(tmp_path), federation=settings)


async def test_a_gateway_with_another_key_file_refuses_to_start(tmp_path: Path) -> None:
    log = tmp_path / "audit.db"
    original, other = _keys(tmp_path)
    await write_log(log, 3, original)
    before = list(iter_stored(log))

    with pytest.raises(ServeError) as refused:
        await Gateway(_config(tmp_path, log, other)).start()
    message = str(refused.value)
    assert f"the audit key file {other} does not verify the audit log {log}" in message
    assert "its last entry (sequence 3) was written under another key" in message
    assert "Start the gateway with the key file the log was written with" in message
    assert f"archive {log}" in message

    assert list(iter_stored(log)) == before
    assert verify_file(log, key=read_key_file(original)).ok
    gateway = Gateway(_config(tmp_path, log, original))
    await gateway.start()  # the right key continues the log
    await gateway.stop(grace=0)


async def test_the_audit_log_alone_refuses_another_key(tmp_path: Path) -> None:
    log = tmp_path / "audit.db"
    original, other = _keys(tmp_path)
    await write_log(log, 2, original)
    with pytest.raises(AuditLogError, match="does not verify the audit log"):
        await AuditLog(log, other).open()
    assert len(list(iter_stored(log))) == 2


async def test_a_log_whose_last_entry_was_edited_is_not_continued(tmp_path: Path) -> None:
    log = tmp_path / "audit.db"
    await write_log(log, 3)
    edited = json.loads(stored_text(log, 3))
    edited["outcome"] = "denied"
    canonical = json.dumps(edited, sort_keys=True, separators=(",", ":"))
    tamper(log, "UPDATE audit SET entry = ? WHERE position = 3", parameters=(canonical,))

    with pytest.raises(AuditLogError) as refused:
        await AuditLog(log).open()
    assert f"the last entry (sequence 3) of the audit log {log} does not match its hash" in str(
        refused.value
    )


async def test_a_keyed_entry_appended_to_an_unkeyed_log_is_not_continued(tmp_path: Path) -> None:
    """Entries of both kinds in one log can only come from tampering."""
    unkeyed, keyed = tmp_path / "unkeyed.db", tmp_path / "keyed.db"
    original, _ = _keys(tmp_path)
    await write_log(unkeyed, 2)
    await write_log(keyed, 3, original)
    foreign = stored_text(keyed, 3)
    tamper(unkeyed, "INSERT INTO audit (position, entry) VALUES (3, ?)", parameters=(foreign,))

    with pytest.raises(AuditLogError, match="mixes keyed and unkeyed entries"):
        await AuditLog(unkeyed).open()
