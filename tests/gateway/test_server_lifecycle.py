"""Starting and stopping a gateway: clear refusals, nothing left running."""

from __future__ import annotations

import dataclasses
import threading
from pathlib import Path

import pytest

from gateway.config import CentreConfig, ServerConfig
from gateway.server import Gateway, ServeError
from gateway.store.writer import THREAD_NAME
from tests.conftest import make_config


def writer_threads() -> int:
    return sum(thread.name == THREAD_NAME for thread in threading.enumerate())


async def test_a_port_in_use_is_refused_and_the_store_is_closed(
    gateway: Gateway, tmp_path: Path
) -> None:
    before = writer_threads()
    config: CentreConfig = make_config(tmp_path / "second")
    config = dataclasses.replace(config, server=ServerConfig(listen=gateway.address))
    (tmp_path / "second").mkdir()
    second = Gateway(config)
    with pytest.raises(ServeError, match=f"cannot listen on {gateway.address}"):
        await second.start()
    assert writer_threads() == before, "the failed gateway's store must be closed"


async def test_an_unusable_store_is_refused(tmp_path: Path) -> None:
    config = make_config(tmp_path)
    (tmp_path / "gateway.db").mkdir()  # a folder where the database file should be
    with pytest.raises(ServeError, match="cannot open the store"):
        await Gateway(config).start()


async def test_stop_is_idempotent(tmp_path: Path) -> None:
    # Counted against the threads before: another test of the same worker process may still
    # be closing its own store.
    before = writer_threads()
    server = Gateway(make_config(tmp_path))
    await server.start()
    await server.stop(grace=0)
    await server.stop(grace=0)
    assert writer_threads() == before


async def test_plaintext_off_loopback_is_refused_and_nothing_is_left_open(tmp_path: Path) -> None:
    before = writer_threads()
    config = make_config(tmp_path)
    config = dataclasses.replace(config, server=ServerConfig(listen="0.0.0.0:0"))
    with pytest.raises(
        ServeError, match=r"plaintext is only served on loopback.*configure \[tls\]"
    ):
        await Gateway(config).start()
    assert writer_threads() == before


async def test_unreadable_tls_material_is_refused(tmp_path: Path) -> None:
    from gateway.federation.settings import FederationSettings
    from gateway.security.tls import TlsConfig

    missing = tmp_path / "missing.pem"
    before = writer_threads()
    config = dataclasses.replace(
        make_config(tmp_path),
        federation=FederationSettings(tls=TlsConfig(missing, missing, missing)),
    )
    with pytest.raises(ServeError, match=r"cannot read .*missing\.pem"):
        await Gateway(config).start()
    assert writer_threads() == before
