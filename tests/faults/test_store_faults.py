"""Store faults (issue 12, item 4): health tells the truth about writes.

Each fault is real - a read-only database file or folder, a full file system, a deleted or
replaced database file, an SQLite error raised inside the writer's transaction - and each runs
with both writers (``[storage] writer = "process"`` and ``"thread"``). Faults that need a mount
skip, saying so, where the tests cannot mount (see :mod:`tests.faults.filesystems`).
"""

from __future__ import annotations

import contextlib
import logging
import shutil
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import grpc
import pytest
from grpc import aio
from grpc_health.v1 import health_pb2, health_pb2_grpc

from gateway.config import CentreConfig, ConfigError, ServerConfig, StorageConfig, load_config
from gateway.server import Gateway, ServeError
from gateway.services.exchange import SERVICE_NAME as EXCHANGE_SERVICE
from gateway.store.health import WriteHealth
from liaison.v1 import exchange_pb2
from tests.faults.filesystems import failing_inserts, fill, read_only, small_file_system
from tests.support.factories import person
from tests.support.polling import until
from tests.support.rpc import ExchangeStub

CENTRE = "TEST-CENTRE"
WRITERS = ["process", "thread"]
SERVING = health_pb2.HealthCheckResponse.SERVING
NOT_SERVING = health_pb2.HealthCheckResponse.NOT_SERVING


def _config(db: Path, writer: str, unhealthy_after: float = 30.0) -> CentreConfig:
    return CentreConfig(
        centre_id=CENTRE,
        server=ServerConfig(listen="127.0.0.1:0", grace_seconds=1.0),
        storage=StorageConfig(
            path=db,
            synchronous="normal",
            writer=writer,  # type: ignore[arg-type]
            unhealthy_after_seconds=unhealthy_after,
        ),
    )


@contextlib.asynccontextmanager
async def _running(config: CentreConfig) -> AsyncIterator[tuple[Gateway, aio.Channel]]:
    gateway = Gateway(config)
    await gateway.start()
    try:
        async with aio.insecure_channel(gateway.address) as channel:
            yield gateway, channel
    finally:
        await gateway.stop(grace=0)


async def _submit(channel: aio.Channel, record_id: str) -> grpc.StatusCode:
    """Submit one new record; the status code the call ended with."""
    request = exchange_pb2.SubmitRequest(record=person(f"{CENTRE}:{record_id}"))
    try:
        await ExchangeStub(channel).Submit(request, timeout=10)
    except aio.AioRpcError as error:
        return error.code()
    return grpc.StatusCode.OK


async def _health(channel: aio.Channel, service: str = "") -> int:
    stub = health_pb2_grpc.HealthStub(channel)
    response = await stub.Check(health_pb2.HealthCheckRequest(service=service), timeout=10)
    return int(response.status)


def _errors(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [
        record.getMessage()
        for record in caplog.records
        if record.name == "gateway.store.health" and record.levelno >= logging.ERROR
    ]


async def _start_and_stop(gateway: Gateway) -> None:
    """Start ``gateway``; stop it again if it started (it should have refused)."""
    await gateway.start()
    await gateway.stop(grace=0)


async def _create(db: Path, writer: str) -> None:
    """A store holding one record, closed."""
    async with _running(_config(db, writer)) as (_, channel):
        assert await _submit(channel, "first") == grpc.StatusCode.OK


# -- startup -------------------------------------------------------------------------------


@pytest.mark.parametrize("writer", WRITERS)
async def test_startup_refuses_a_read_only_database_file(tmp_path: Path, writer: str) -> None:
    db = tmp_path / "gateway.db"
    await _create(db, writer)
    gateway = Gateway(_config(db, writer))
    with read_only(db), pytest.raises(ServeError) as refused:
        await _start_and_stop(gateway)
    message = str(refused.value)
    assert str(db) in message
    assert "read-only" in message
    assert "\n" not in message


@pytest.mark.parametrize("writer", WRITERS)
async def test_startup_refuses_a_database_in_a_read_only_folder(
    tmp_path: Path, writer: str
) -> None:
    folder = tmp_path / "var"
    folder.mkdir()
    gateway = Gateway(_config(folder / "gateway.db", writer))
    with read_only(folder), pytest.raises(ServeError) as refused:
        await _start_and_stop(gateway)
    message = str(refused.value)
    assert str(folder) in message
    assert "read-only" in message or "not writable" in message


async def test_liaison_serve_refuses_a_read_only_database_in_one_line(tmp_path: Path) -> None:
    db = tmp_path / "gateway.db"
    await _create(db, "process")
    with read_only(db):
        ended = subprocess.run(  # noqa: ASYNC221 - the command ends at once, refusing to start
            [
                sys.executable,
                "-m",
                "gateway.cli",
                "serve",
                "--db",
                str(db),
                "--listen",
                "127.0.0.1:0",
            ],
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
    assert ended.returncode != 0
    assert "Traceback" not in ended.stderr
    lines = ended.stderr.strip().splitlines()
    assert len(lines) == 1, ended.stderr
    assert str(db) in lines[0]
    assert "read-only" in lines[0]


# -- failures that persist -------------------------------------------------------------------


@contextlib.contextmanager
def _fault(kind: str, db: Path) -> Iterator[None]:
    if kind == "full-disk":
        filler = fill(db.parent)
        try:
            yield
        finally:
            filler.unlink()
    else:
        with failing_inserts(db, "versions"):
            yield


@contextlib.contextmanager
def _store_folder(kind: str, tmp_path: Path) -> Iterator[Path]:
    if kind == "full-disk":
        with small_file_system(tmp_path / "small", "4m") as folder:
            yield folder
    else:
        yield tmp_path


@pytest.mark.parametrize("writer", WRITERS)
@pytest.mark.parametrize("kind", ["full-disk", "sqlite-error"])
async def test_write_failures_that_persist_turn_health_not_serving_until_a_write_succeeds(
    tmp_path: Path, writer: str, kind: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    with _store_folder(kind, tmp_path) as folder:
        db = folder / "gateway.db"
        async with _running(_config(db, writer, unhealthy_after=0.2)) as (gateway, channel):
            assert await _submit(channel, "before") == grpc.StatusCode.OK
            failures = 0
            with _fault(kind, db):

                async def failing_until_not_serving() -> bool:
                    nonlocal failures
                    code = await _submit(channel, f"during-{failures}")
                    assert code == grpc.StatusCode.UNAVAILABLE, code
                    failures += 1
                    return not gateway.health.serving()

                await until(failing_until_not_serving, within=30)
                assert failures >= 2, "one failure alone never turns health NOT_SERVING"
                [reason] = gateway.health.reasons(EXCHANGE_SERVICE)
                assert reason.startswith("store:writes: store writes unavailable: writes have")
                assert ("SQLITE_FULL" if kind == "full-disk" else "injected fault") in reason
                for service in ("", EXCHANGE_SERVICE):
                    assert await _health(channel, service) == NOT_SERVING
            assert await _submit(channel, "after") == grpc.StatusCode.OK
            assert gateway.health.serving()

            async def serving_again() -> bool:
                return bool(await _health(channel) == SERVING)

            await until(serving_again)
            assert await _health(channel, EXCHANGE_SERVICE) == SERVING
            assert await gateway.store.get(f"{CENTRE}:after") is not None
    logged = _errors(caplog)
    # Rate-limited: the first failure at once, then one line per interval (10 s) with a count.
    assert 1 <= len(logged) < failures
    assert logged[0].startswith("store transaction(s) failed and were rolled back: 1 since")


@pytest.mark.parametrize("writer", WRITERS)
async def test_a_single_failure_does_not_turn_health_not_serving(
    tmp_path: Path, writer: str
) -> None:
    db = tmp_path / "gateway.db"
    async with _running(_config(db, writer)) as (gateway, channel):
        reported: list[frozenset[str]] = []
        gateway.health.add_listener(reported.append)
        with failing_inserts(db, "versions"):
            assert await _submit(channel, "refused") == grpc.StatusCode.UNAVAILABLE
        assert await _submit(channel, "stored") == grpc.StatusCode.OK
        assert reported == []
        assert await _health(channel) == SERVING


# -- the database file deleted or replaced --------------------------------------------------


@pytest.mark.parametrize("writer", WRITERS)
@pytest.mark.parametrize("how", ["deleted", "replaced"])
async def test_a_deleted_or_replaced_database_file_stops_every_write_loudly(
    tmp_path: Path, writer: str, how: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    db = tmp_path / "gateway.db"
    async with _running(_config(db, writer)) as (gateway, channel):
        assert await _submit(channel, "first") == grpc.StatusCode.OK
        if how == "deleted":
            db.unlink()
        else:
            shutil.copyfile(db, tmp_path / "restored.db")
            (tmp_path / "restored.db").replace(db)
        codes = [await _submit(channel, f"lost-{n}") for n in range(5)]
        assert codes == [grpc.StatusCode.UNAVAILABLE] * 5
        [reason] = gateway.health.reasons()
        assert f"the database file {db} was {how}" in reason
        for service in ("", EXCHANGE_SERVICE):
            assert await _health(channel, service) == NOT_SERVING
        # Reads go on, from the file the store opened.
        assert await gateway.store.get(f"{CENTRE}:first") is not None
    logged = _errors(caplog)
    assert len(logged) == 1, logged
    assert f"the database file {db} was {how}" in logged[0]


# -- the setting -----------------------------------------------------------------------------


@pytest.mark.parametrize("value", ["0", "-1", "nan", "inf", "86401"])
def test_unhealthy_after_seconds_is_validated(tmp_path: Path, value: str) -> None:
    path = tmp_path / "centre.toml"
    path.write_text(f"[storage]\nunhealthy_after_seconds = {value}\n")
    with pytest.raises(ConfigError, match=r"\[storage\] unhealthy_after_seconds must be above 0"):
        load_config(path)


def test_unhealthy_after_seconds_defaults_to_30_and_takes_integers(tmp_path: Path) -> None:
    assert StorageConfig().unhealthy_after_seconds == 30.0
    path = tmp_path / "centre.toml"
    path.write_text("[storage]\nunhealthy_after_seconds = 5\n")
    assert load_config(path).storage.unhealthy_after_seconds == 5.0


# -- the rules, on an injected clock ---------------------------------------------------------


class _Clock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def _tracked(clock: _Clock) -> tuple[WriteHealth, list[str]]:
    health = WriteHealth(30.0, log_interval=10.0, clock=clock)
    events: list[str] = []
    health.on_unhealthy(lambda reason: events.append(f"unhealthy: {reason}"))
    health.on_recovered(lambda: events.append("recovered"))
    return health, events


def test_failures_are_logged_once_per_interval_with_a_count(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING)
    clock = _Clock()
    health, _ = _tracked(clock)
    for _ in range(500):
        health.failed("SQLITE_FULL: database or disk is full", 3)
        clock.now += 0.01  # 500 failures over 5 s
    clock.now += 5.5
    health.failed("SQLITE_FULL: database or disk is full", 1)
    logged = _errors(caplog)
    assert len(logged) == 2
    assert logged[0].startswith("store transaction(s) failed and were rolled back: 1 since")
    assert logged[1].startswith("store transaction(s) failed and were rolled back: 500 since")
    assert "501 in a row over 10.5 s" in logged[1]


def test_persistent_failures_make_writes_unhealthy_and_a_write_heals_them() -> None:
    clock = _Clock()
    health, events = _tracked(clock)
    health.failed("SQLITE_FULL: database or disk is full", 1)
    clock.now += 29.0
    health.failed("SQLITE_FULL: database or disk is full", 1)
    health.committed(wrote=False)  # only duplicates: proves nothing
    assert events == []
    clock.now += 1.0
    health.failed("SQLITE_FULL: database or disk is full", 1)
    assert events == [
        "unhealthy: writes have failed for 30.0 s (3 transaction(s) in a row, none "
        "succeeded): SQLITE_FULL: database or disk is full"
    ]
    states = [health.healthy]
    health.committed(wrote=True)
    states.append(health.healthy)
    assert events[1:] == ["recovered"]
    assert states == [False, True]
    assert health.failures == 0


def test_a_transient_failure_then_a_write_never_makes_writes_unhealthy() -> None:
    clock = _Clock()
    health, events = _tracked(clock)
    health.failed("SQLITE_BUSY: database is locked", 1)
    health.committed(wrote=True)
    clock.now += 60.0
    health.failed("SQLITE_BUSY: database is locked", 1)
    assert events == []
    assert health.healthy


def test_a_lost_store_is_unhealthy_for_good_and_said_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.WARNING)
    clock = _Clock()
    health, events = _tracked(clock)
    health.lose("the database file /x was deleted")
    health.lose("the database file /x was deleted")
    health.failed("anything", 1)
    health.committed(wrote=True)
    assert events == ["unhealthy: the database file /x was deleted"]
    assert health.lost == "the database file /x was deleted"
    assert not health.healthy
    assert len(_errors(caplog)) == 1


@pytest.mark.parametrize("value", [0.0, -1.0, float("nan"), float("inf")])
def test_write_health_refuses_a_meaningless_time(value: float) -> None:
    with pytest.raises(ValueError, match="unhealthy_after must be a positive number"):
        WriteHealth(value)
