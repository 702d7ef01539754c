"""``make demo-replicas`` runs two replicas of the i2c on one PostgreSQL database and kills one
under load; it must pass wherever the PostgreSQL tests run, so CI runs it too."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]

pytestmark = [pytest.mark.slow, pytest.mark.timeout(300)]


def test_the_replicas_demo_passes(postgresql_database: str, tmp_path: Path) -> None:
    result = subprocess.run(
        [
            sys.executable,
            str(ROOT / "examples" / "replicas" / "run.py"),
            "--dsn",
            postgresql_database,
            "--records",
            "1200",
        ],
        capture_output=True,
        text=True,
        # devkit/ is not installed: the demo runs from the repository root (as `make demo`).
        env={**os.environ, "PYTHONPATH": str(ROOT)},
        timeout=290,
        check=False,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    out = result.stdout
    assert "== Demo passed" in out
    assert "WRONG" not in out
    assert "replica-1 killed (SIGKILL) after" in out
    assert "resumes on replica-2" in out
    assert "the subscriber saw sequences 1..1200, in order, none twice" in out
    assert "nothing lost, nothing duplicated: 1200 acknowledged, 1200 delivered once each" in out
    assert "duplicate of sequence" in out
    assert out.count("exited with 0") == 2
