"""A gateway serving HTTP (and so the console) on loopback, as the local operator."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from gateway.config import CentreConfig, HttpConfig
from tests.conftest import make_config


@pytest.fixture
def gateway_config(tmp_path: Path) -> CentreConfig:
    """The default test configuration, with an HTTP listener on an ephemeral port."""
    return replace(make_config(tmp_path), http=HttpConfig("127.0.0.1:0"))
