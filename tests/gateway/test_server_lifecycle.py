"""Starting and stopping a gateway: clear refusals, nothing left running."""

from __future__ import annotations

import asyncio
import dataclasses
import threading
import time
from pathlib import Path
from typing import Any

import grpc
import pytest
from grpc import aio

from gateway.config import CentreConfig, ServerConfig
from gateway.server import Gateway, ServeError
from gateway.store import StoreClosedError
from gateway.store.writer import THREAD_NAME
from liaison.rules.intake import prepare_record
from liaison.v1 import exchange_pb2
from tests.conftest import TEST_CENTRE, make_config
from tests.support.factories import person
from tests.support.polling import until
from tests.support.rpc import ExchangeStub


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


async def test_a_stop_counts_its_grace_from_when_it_was_asked(tmp_path: Path) -> None:
    """``liaison serve`` passes the signal's arrival: a stop whose grace is already spent ends
    the calls still running at once (UNAVAILABLE) instead of granting them a grace anew."""
    server = Gateway(make_config(tmp_path))
    await server.start()
    released = asyncio.Event()
    waiting: list[bool] = []
    original = server.store.prepare_and_write

    async def held(*args: Any, **kwargs: Any) -> Any:
        waiting.append(True)
        await released.wait()
        return await original(*args, **kwargs)

    server.store.prepare_and_write = held  # type: ignore[method-assign]
    try:
        async with aio.insecure_channel(server.address) as channel:
            call = ExchangeStub(channel).Submit(exchange_pb2.SubmitRequest(record=person("s-1")))
            running = asyncio.ensure_future(call)
            await until(lambda: bool(waiting))
            # Asked 30 s ago with a 30 s grace: nothing is left of it (a hang before).
            await server.stop(grace=30, since=time.monotonic() - 30)
            with pytest.raises(aio.AioRpcError) as ended:
                await running
        assert ended.value.code() == grpc.StatusCode.UNAVAILABLE
    finally:
        released.set()
        await server.stop(grace=0)


@pytest.mark.parametrize("failing", ["screening.close", "supervisor.stop"])
async def test_a_stop_step_that_fails_still_closes_the_store(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, failing: str
) -> None:
    server = Gateway(make_config(tmp_path))
    await server.start()

    async def broken(*args: Any, **kwargs: Any) -> None:
        raise RuntimeError("this step could not be stopped")

    owner, name = failing.split(".")
    monkeypatch.setattr(getattr(server, owner), name, broken)
    try:
        with pytest.raises(RuntimeError, match="could not be stopped"):
            await server.stop(grace=0)
        # Closed all the same (its queued writes committed): it takes no more.
        with pytest.raises(StoreClosedError):
            await server.store.write([prepare_record(person("after-stop"), TEST_CENTRE)])
    finally:
        await server.store.close()
