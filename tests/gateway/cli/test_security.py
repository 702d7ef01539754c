"""``liaison certs`` and ``liaison audit verify`` through the CLI's entry point."""

from __future__ import annotations

import asyncio
import sqlite3
from pathlib import Path

import pytest
from cryptography import x509

from gateway.audit.log import AuditLog
from gateway.cli import main


def test_certs_creates_a_ca_once_and_issues_certificates(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pki = tmp_path / "pki"
    assert main(["certs", str(pki), "--centre", "WCO-I2C", "--client", "customs-be"]) == 0
    out = capsys.readouterr().out
    assert "created CA" in out
    assert (pki / "centres" / "WCO-I2C.pem").exists()
    assert (pki / "clients" / "customs-be-key.pem").exists()
    ca = x509.load_pem_x509_certificate((pki / "ca.pem").read_bytes())
    assert main(["certs", str(pki), "--centre", "INTERPOL-CCC-LYON", "--host", "gw.lyon"]) == 0
    assert "created CA" not in capsys.readouterr().out
    lyon = x509.load_pem_x509_certificate((pki / "centres" / "INTERPOL-CCC-LYON.pem").read_bytes())
    lyon.verify_directly_issued_by(ca)
    names = lyon.extensions.get_extension_for_class(x509.SubjectAlternativeName).value
    assert "gw.lyon" in names.get_values_for_type(x509.DNSName)


def test_certs_needs_something_to_issue(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["certs", str(tmp_path)]) == 2
    assert "--centre or --client" in capsys.readouterr().err
    assert main(["certs", str(tmp_path), "--client", "../x"]) == 2
    assert "plain identifier" in capsys.readouterr().err


def _write_log(path: Path, count: int, key_path: Path | None = None) -> None:
    async def fill() -> None:
        log = AuditLog(path, key_path)
        await log.open()
        for index in range(count):
            await log.append(actor="local", action="read", outcome="ok", record_ids=[f"r{index}"])
        await log.close()

    asyncio.run(fill())


def test_audit_verify_reports_an_intact_chain_and_its_head(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "audit.db"
    _write_log(path, 4)
    assert main(["audit", "verify", str(path)]) == 0
    out = capsys.readouterr().out
    assert "4 entries, chain intact" in out
    head = out.strip().rsplit("head ", 1)[1]
    assert main(["audit", "verify", str(path), "--expect-head", head]) == 0
    capsys.readouterr()

    connection = sqlite3.connect(path)
    with connection:
        connection.execute("DELETE FROM audit WHERE position = 4")
    connection.close()
    assert main(["audit", "verify", str(path), "--expect-head", head]) == 1
    assert "cut off the end" in capsys.readouterr().out


@pytest.mark.parametrize(
    ("statement", "position", "words"),
    [
        ("UPDATE audit SET entry = replace(entry, 'r1', 'r9') WHERE position = 2", 2, "edited"),
        ("DELETE FROM audit WHERE position = 3", 3, "deleted"),
        ("UPDATE audit SET position = 9 WHERE position = 1", 1, "deleted"),
    ],
)
def test_audit_verify_reports_the_first_bad_entry(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    statement: str,
    position: int,
    words: str,
) -> None:
    path = tmp_path / "audit.db"
    _write_log(path, 5)
    connection = sqlite3.connect(path)
    with connection:
        connection.execute(statement)
    connection.close()
    assert main(["audit", "verify", str(path)]) == 1
    out = capsys.readouterr().out
    assert f"chain broken at entry {position}" in out
    assert words in out


def test_audit_verify_usage_errors(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["audit", "verify", str(tmp_path / "none.db")]) == 2
    assert "no audit log" in capsys.readouterr().err
    _write_log(tmp_path / "a.db", 1)
    assert main(["audit", "verify", str(tmp_path / "a.db"), "--expect-head", "x"]) == 2


def test_audit_keygen_and_a_keyed_log_verified_with_its_key(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    key = tmp_path / "secrets" / "audit.key"
    assert main(["audit", "keygen", str(key)]) == 0
    assert "created audit key" in capsys.readouterr().out
    assert main(["audit", "keygen", str(key)]) == 2
    assert "never overwritten" in capsys.readouterr().err
    path = tmp_path / "audit.db"
    _write_log(path, 3, key)

    assert main(["audit", "verify", str(path), "--key-file", str(key)]) == 0
    assert "3 entries, chain intact" in capsys.readouterr().out
    assert main(["audit", "verify", str(path)]) == 1
    assert "give the key" in capsys.readouterr().out

    other = tmp_path / "other.key"
    assert main(["audit", "keygen", str(other)]) == 0
    capsys.readouterr()
    assert main(["audit", "verify", str(path), "--key-file", str(other)]) == 1
    assert "not this key" in capsys.readouterr().out

    key.chmod(0o644)
    assert main(["audit", "verify", str(path), "--key-file", str(key)]) == 2
    assert "accessible by other users" in capsys.readouterr().err
