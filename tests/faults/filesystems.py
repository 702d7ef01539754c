"""Real storage faults for the fault tests: small and read-only file systems, read-only files,
and SQLite failures injected through the database itself.

Mounting needs root (CAP_SYS_ADMIN); a fault that needs a mount is skipped, with the reason, where
the tests cannot mount. As root, ``chmod`` does not stop writes, so a read-only file or folder is
then a read-only bind mount; as another user it is a ``chmod``.
"""

from __future__ import annotations

import contextlib
import os
import sqlite3
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

__all__ = [
    "failing_inserts",
    "fill",
    "read_only",
    "small_file_system",
]


def _run(*command: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(command, capture_output=True, text=True, check=False)


def _need_root(what: str) -> None:
    if os.geteuid() != 0:
        pytest.skip(f"{what} needs a mount, and only root can mount here")


@contextlib.contextmanager
def small_file_system(where: Path, size: str = "2m") -> Iterator[Path]:
    """A tmpfs of ``size`` mounted at ``where`` (created), unmounted after."""
    _need_root("a small file system")
    where.mkdir(parents=True, exist_ok=True)
    mounted = _run("mount", "-t", "tmpfs", "-o", f"size={size}", "tmpfs", str(where))
    if mounted.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {mounted.stderr.strip()}")
    try:
        yield where
    finally:
        # Lazy: a writer process that still holds a file open must not leave the mount behind.
        _run("umount", "-l", str(where))


def fill(folder: Path) -> Path:
    """Write a filler file in ``folder`` until its file system is full; returns the file (delete
    it to free the space)."""
    filler = folder / "filler"
    descriptor = os.open(filler, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        for size in (1 << 16, 1 << 12, 1):  # what no longer fits a chunk, in smaller ones
            with contextlib.suppress(OSError):
                while os.write(descriptor, b"\0" * size):
                    pass
    finally:
        os.close(descriptor)
    return filler


@contextlib.contextmanager
def read_only(path: Path) -> Iterator[None]:
    """``path`` (a file or a folder) cannot be written while in the block."""
    if os.geteuid() != 0:
        mode = path.stat().st_mode
        path.chmod(0o555 if path.is_dir() else 0o444)
        try:
            yield
        finally:
            path.chmod(mode)
        return
    bound = _run("mount", "--bind", str(path), str(path))
    if bound.returncode != 0:
        pytest.skip(f"running as root, a read-only {path.name} needs a bind mount: {bound.stderr}")
    try:
        remounted = _run("mount", "-o", "remount,ro,bind", str(path))
        if remounted.returncode != 0:
            pytest.skip(f"cannot remount {path.name} read-only: {remounted.stderr.strip()}")
        yield
    finally:
        _run("umount", str(path))


@contextlib.contextmanager
def failing_inserts(database: Path, table: str, when: str = "1") -> Iterator[None]:
    """Every insert into ``table`` of the SQLite file ``database`` fails (when ``when``, an SQL
    condition on ``NEW``, holds), with a real SQLite error raised by a trigger in the file: the
    fault every connection to it, in any process, meets; dropped after the block."""
    connection = sqlite3.connect(database, isolation_level=None)
    try:
        connection.execute("PRAGMA busy_timeout = 5000")
        connection.execute(
            f"CREATE TRIGGER fault_injected BEFORE INSERT ON {table} WHEN {when} "
            "BEGIN SELECT RAISE(ABORT, 'injected fault: writes fail'); END"
        )
        try:
            yield
        finally:
            connection.execute("DROP TRIGGER fault_injected")
    finally:
        connection.close()
