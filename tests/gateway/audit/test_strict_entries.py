"""Findings: an entry with a duplicated key (``"actor"`` twice) verified clean while SQLite's
``json_extract`` read the forged actor; an extra field plus reformatting verified clean. Now an
entry must be stored as exactly its canonical JSON."""

from __future__ import annotations

import json
import sqlite3
from pathlib import Path

import pytest

from gateway.audit.chain import entry_hash
from gateway.audit.entry import AuditEntry
from gateway.audit.log import AuditLog, AuditLogError, verify_file
from gateway.cli import main
from tests.support.audit_logs import ACTOR, stored_text, tamper, write_log

FORGED_ACTOR = "urn:liaison:client:someone-else"


def _json_extract(path: Path, position: int, field: str) -> object:
    connection = sqlite3.connect(path)
    try:
        (value,) = connection.execute(
            "SELECT json_extract(entry, ?) FROM audit WHERE position = ?", (f"$.{field}", position)
        ).fetchone()
    finally:
        connection.close()
    return value


def _old_check_passes(text: str) -> bool:
    """What verification did before: parse leniently (the last duplicate wins, extra fields
    are dropped) and compare the hash of the known fields."""
    value = json.loads(text)
    known = {name: value[name] for name in AuditEntry.__dataclass_fields__ if name in value}
    entry = AuditEntry(**{**known, "record_ids": tuple(known["record_ids"])})
    return entry_hash(entry) == entry.hash


async def test_a_duplicated_actor_shows_one_actor_to_queries_and_fails_verification(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    log = tmp_path / "audit.db"
    await write_log(log, 3)
    original = stored_text(log, 2)
    forged = '{"actor":' + json.dumps(FORGED_ACTOR) + "," + original[1:]
    tamper(log, "UPDATE audit SET entry = ? WHERE position = 2", parameters=(forged,))

    # The attack: reports built with SQL see the forged actor; a lenient parser sees the real
    # one, whose hash still matches.
    assert _json_extract(log, 2, "actor") == FORGED_ACTOR
    assert json.loads(forged)["actor"] == ACTOR
    assert _old_check_passes(forged)

    report = verify_file(log)
    assert report.first_break is not None
    assert (report.first_break.position, report.first_break.sequence) == (2, 2)
    assert report.first_break.reason == "malformed entry: duplicate key 'actor'"
    assert main(["audit", "verify", str(log)]) == 1
    assert "chain broken at entry 2 (sequence 2): malformed entry: duplicate key 'actor'" in (
        capsys.readouterr().out
    )


async def test_an_extra_field_with_reformatting_fails_verification(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    log = tmp_path / "audit.db"
    await write_log(log, 3)
    value = json.loads(stored_text(log, 3))
    value["justification"] = "approved by the director"
    forged = json.dumps(value, indent=2)
    tamper(log, "UPDATE audit SET entry = ? WHERE position = 3", parameters=(forged,))

    assert _json_extract(log, 3, "justification") == "approved by the director"
    assert _old_check_passes(forged)  # the attack

    report = verify_file(log)
    assert report.first_break is not None
    assert (report.first_break.position, report.first_break.sequence) == (3, 3)
    assert report.first_break.reason == "malformed entry: unknown field(s) 'justification'"
    assert main(["audit", "verify", str(log)]) == 1
    assert "unknown field(s) 'justification'" in capsys.readouterr().out


@pytest.mark.parametrize(
    "reformat",
    [
        lambda text: json.dumps(json.loads(text), indent=1),
        lambda text: json.dumps(json.loads(text), sort_keys=True),
        lambda text: " " + text,
        lambda text: text.replace('"read"', '"\\u0072ead"'),
    ],
)
async def test_the_same_content_in_another_encoding_fails_verification(
    tmp_path: Path, reformat: object
) -> None:
    log = tmp_path / "audit.db"
    await write_log(log, 2)
    assert callable(reformat)
    forged = reformat(stored_text(log, 1))
    tamper(log, "UPDATE audit SET entry = ? WHERE position = 1", parameters=(forged,))
    assert _old_check_passes(forged)  # the attack: same content, same hash

    report = verify_file(log)
    assert report.first_break is not None
    assert report.first_break.position == 1
    assert "not in canonical form" in report.first_break.reason


async def test_a_value_stored_as_a_blob_is_reported_not_raised(tmp_path: Path) -> None:
    log = tmp_path / "audit.db"
    await write_log(log, 2)
    # A STRICT table refuses a blob; whoever can write the file can rebuild the table.
    tamper(
        log,
        "CREATE TABLE loose (position INTEGER PRIMARY KEY, entry)",
        "INSERT INTO loose SELECT position, CAST(entry AS BLOB) FROM audit",
        "DROP TABLE audit",
        "ALTER TABLE loose RENAME TO audit",
    )
    report = verify_file(log)
    assert report.first_break is not None
    assert report.first_break.reason == "malformed entry: stored as bytes, not as text"


async def test_a_gateway_does_not_continue_a_log_whose_tail_is_malformed(tmp_path: Path) -> None:
    log = tmp_path / "audit.db"
    await write_log(log, 2)
    forged = '{"actor":"x",' + stored_text(log, 2)[1:]
    tamper(log, "UPDATE audit SET entry = ? WHERE position = 2", parameters=(forged,))

    with pytest.raises(AuditLogError) as refused:
        await AuditLog(log).open()
    message = str(refused.value)
    assert f"the audit log {log} has a malformed entry at position 2" in message
    assert "duplicate key 'actor'" in message
    assert "liaison audit verify" in message
