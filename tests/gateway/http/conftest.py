"""A gateway serving HTTP on loopback (plaintext: every caller is ``local``), and a client."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import httpx
import pytest

from gateway.config import CentreConfig, HttpConfig
from gateway.server import Gateway
from tests.conftest import make_config


@pytest.fixture
def gateway_config(tmp_path: Path) -> CentreConfig:
    """The default test configuration, with an HTTP listener on an ephemeral port."""
    return replace(make_config(tmp_path), http=HttpConfig("127.0.0.1:0"))


@pytest.fixture
async def http(gateway: Gateway) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client of the ``gateway`` fixture."""
    async with httpx.AsyncClient(base_url=f"http://{gateway.http_address}", timeout=20) as client:
        yield client
