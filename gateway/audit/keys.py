"""The audit log's key file: 32 random bytes as hex, readable by its owner only.

Hex text rather than raw bytes, so that the key survives being pasted into a secret store and
back. The file must not be readable by group or others (as ssh insists for private keys): a key
anyone on the machine can read would let them forge entries as easily as without one.
"""

from __future__ import annotations

import os
import secrets
import stat
from pathlib import Path

from liaison.rules.errors import SetupError

__all__ = ["KEY_BYTES", "AuditKeyError", "create_key_file", "read_key_file"]

KEY_BYTES = 32
"""Key length: the HMAC-SHA256 block's worth of entropy is more than enough; less is refused."""


class AuditKeyError(SetupError):
    """The key file is missing, unreadable, too open or not a key."""


def read_key_file(path: Path) -> bytes:
    """The key in ``path``.

    Raises:
        AuditKeyError: the file cannot be read, is accessible by group or others, or does not hold
            at least ``KEY_BYTES`` bytes as hexadecimal text.
    """
    try:
        mode = path.stat().st_mode
        text = path.read_text(encoding="ascii")
    except (OSError, UnicodeDecodeError) as error:
        raise AuditKeyError(f"cannot read the audit key file {path}: {_reason(error)}") from None
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise AuditKeyError(
            f"the audit key file {path} is accessible by other users "
            f"(mode {stat.S_IMODE(mode):04o}); make it 0600"
        )
    try:
        key = bytes.fromhex(text.strip())
    except ValueError:
        raise AuditKeyError(f"the audit key file {path} does not hold hexadecimal text") from None
    if len(key) < KEY_BYTES:
        raise AuditKeyError(
            f"the audit key in {path} has {len(key)} bytes; at least {KEY_BYTES} are needed"
        )
    return key


def create_key_file(path: Path) -> None:
    """Write a new random key to ``path`` (mode 0600), never over an existing file.

    Raises:
        AuditKeyError: the file exists or cannot be written.
    """
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise AuditKeyError(f"{path} exists; a key is never overwritten") from None
    except OSError as error:
        raise AuditKeyError(f"cannot create the audit key file {path}: {_reason(error)}") from None
    with os.fdopen(descriptor, "w", encoding="ascii") as file:
        file.write(secrets.token_hex(KEY_BYTES) + "\n")


def _reason(error: BaseException) -> str:
    if isinstance(error, OSError) and error.strerror:
        return error.strerror
    return type(error).__name__
