"""Fixtures of the security tests: one CA per test, in its temporary directory."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.security.support import Pki


@pytest.fixture
def pki(tmp_path: Path) -> Pki:
    """A fresh CA with the i2c's, Lyon's and Singapore's centre certificates."""
    return Pki(tmp_path)
