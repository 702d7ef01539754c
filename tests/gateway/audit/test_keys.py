"""The audit key file: created random and private, read only when private and long enough."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from gateway.audit.keys import KEY_BYTES, AuditKeyError, create_key_file, read_key_file


def test_a_created_key_is_private_random_and_reads_back(tmp_path: Path) -> None:
    first, second = tmp_path / "keys" / "a.key", tmp_path / "keys" / "b.key"
    create_key_file(first)
    create_key_file(second)
    assert stat.S_IMODE(first.stat().st_mode) == 0o600
    key = read_key_file(first)
    assert len(key) == KEY_BYTES
    assert key != read_key_file(second)


def test_an_existing_file_is_never_overwritten(tmp_path: Path) -> None:
    path = tmp_path / "audit.key"
    create_key_file(path)
    before = path.read_text()
    with pytest.raises(AuditKeyError, match="never overwritten"):
        create_key_file(path)
    assert path.read_text() == before


def _key_file(path: Path, text: str, mode: int = 0o600) -> Path:
    path.write_text(text)
    os.chmod(path, mode)
    return path


@pytest.mark.parametrize("mode", [0o640, 0o604, 0o660, 0o644])
def test_a_key_others_may_read_is_refused(tmp_path: Path, mode: int) -> None:
    path = _key_file(tmp_path / "audit.key", "ab" * KEY_BYTES, mode)
    with pytest.raises(AuditKeyError, match=f"mode {mode:04o}.*0600"):
        read_key_file(path)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("ab" * (KEY_BYTES - 1), f"{KEY_BYTES - 1} bytes; at least {KEY_BYTES}"),
        ("not hex at all", "hexadecimal"),
        ("", "0 bytes"),
    ],
)
def test_a_file_without_a_long_enough_hex_key_is_refused(
    tmp_path: Path, text: str, message: str
) -> None:
    with pytest.raises(AuditKeyError, match=message):
        read_key_file(_key_file(tmp_path / "audit.key", text))


def test_surrounding_whitespace_is_allowed(tmp_path: Path) -> None:
    path = _key_file(tmp_path / "audit.key", "  " + "0f" * KEY_BYTES + "\n\n")
    assert read_key_file(path) == bytes([15]) * KEY_BYTES


def test_a_missing_key_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(AuditKeyError, match=r"cannot read the audit key file .*missing\.key"):
        read_key_file(tmp_path / "missing.key")
