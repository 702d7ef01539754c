"""SubmitStream with its messages prepared in worker processes: failures end calls, never hang
them, and no worker outlives its gateway."""

from __future__ import annotations

import asyncio
import os
import signal
from collections.abc import AsyncIterator
from pathlib import Path

import grpc
import pytest
from grpc import aio

from gateway.config import CentreConfig, LimitsConfig
from gateway.security.gate import RecordGate
from gateway.security.visibility import NeedToKnow
from gateway.server import Gateway
from gateway.services.exchange import RecordExchangeService
from gateway.store import SqliteRecordStore
from gateway.store.feed import CommitFeed
from gateway.store.preparation import PreparedEntry
from gateway.store.preparation_pool import MessagePreparer
from liaison.v1 import exchange_pb2, exchange_pb2_grpc
from tests.conftest import make_config
from tests.support.factories import person
from tests.support.processes import GatewayProcess
from tests.support.rpc import ExchangeStub as Stub


def batch(first: int, count: int) -> exchange_pb2.SubmitStreamRequest:
    return exchange_pb2.SubmitStreamRequest(
        records=[person(f"W-{i:05d}") for i in range(first, first + count)]
    )


@pytest.fixture
async def worker_gateway(tmp_path: Path) -> AsyncIterator[Gateway]:
    """A gateway preparing every stream message, however small, in one worker process."""
    config: CentreConfig = make_config(tmp_path)
    server = Gateway(config, preparer=MessagePreparer(config.centre_id, 1, inline_below_bytes=0))
    await server.start()
    try:
        yield server
    finally:
        await server.stop(grace=0)


async def test_a_worker_killed_mid_stream_ends_the_call_unavailable(
    worker_gateway: Gateway,
) -> None:
    killed = asyncio.Event()

    async def messages() -> AsyncIterator[exchange_pb2.SubmitStreamRequest]:
        yield batch(0, 50)
        for _ in range(500):
            if await worker_gateway.store.last_sequence() == 50:
                break
            await asyncio.sleep(0.02)
        [pid] = worker_gateway.preparer.worker_pids()
        idle = cpu_ticks(pid)
        yield batch(50, 20_000)  # about a second of work for the worker
        # Killed while it prepares that message, not before it arrives: a worker that died
        # between messages is simply replaced.
        for _ in range(3000):
            if cpu_ticks(pid) >= idle + 5:
                break
            await asyncio.sleep(0.01)
        os.kill(pid, signal.SIGKILL)
        killed.set()
        await asyncio.sleep(30)  # the refusal ends the call long before

    async with aio.insecure_channel(worker_gateway.address) as channel:
        with pytest.raises(aio.AioRpcError) as caught:
            await asyncio.wait_for(Stub(channel).SubmitStream(messages()), 30)
        assert killed.is_set()
        assert caught.value.code() == grpc.StatusCode.UNAVAILABLE
        assert "worker process" in (caught.value.details() or "")
        # What came before stays; the next stream gets a fresh worker.
        again = await Stub(channel).SubmitStream(_one(batch(30_000, 20)))
    assert (again.received, again.stored) == (20, 20)
    assert await worker_gateway.store.last_sequence() == 70


def cpu_ticks(pid: int) -> int:
    """User plus system CPU time of process ``pid`` in clock ticks."""
    with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
        fields = stat.read().rsplit(")", 1)[1].split()
    return int(fields[11]) + int(fields[12])


async def _one(
    message: exchange_pb2.SubmitStreamRequest,
) -> AsyncIterator[exchange_pb2.SubmitStreamRequest]:
    yield message


async def test_a_large_malformed_message_is_refused_by_the_worker(
    worker_gateway: Gateway,
) -> None:
    async with aio.insecure_channel(worker_gateway.address) as channel:
        submit_stream = channel.stream_unary(
            "/liaison.v1.RecordExchange/SubmitStream", lambda data: data, lambda data: data
        )

        async def messages() -> AsyncIterator[bytes]:
            yield batch(0, 10).SerializeToString()
            yield b"\xff\xff\xff\x0f" + bytes(40_000)

        with pytest.raises(aio.AioRpcError) as caught:
            await submit_stream(messages())
    assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert caught.value.details() == (
        "the request is not a valid liaison.v1.SubmitStreamRequest message"
    )
    assert worker_gateway.preparer.worker_pids(), "the worker stays up"


async def test_stopping_the_gateway_ends_its_workers(worker_gateway: Gateway) -> None:
    async with aio.insecure_channel(worker_gateway.address) as channel:
        await Stub(channel).SubmitStream(_one(batch(0, 10)))
    [pid] = worker_gateway.preparer.worker_pids()
    await worker_gateway.stop(grace=0)
    assert not _alive(pid)


@pytest.mark.slow
@pytest.mark.parametrize("ending", ["SIGKILL", "SIGTERM"])
async def test_no_worker_outlives_a_gateway_process(tmp_path: Path, ending: str) -> None:
    gateway = GatewayProcess(tmp_path / "workers.db")
    address = gateway.start()
    try:
        async with aio.insecure_channel(address) as channel:
            # Large enough (about 20 KB) to be prepared in the worker process.
            response = await Stub(channel).SubmitStream(_one(batch(0, 400)))
        assert response.stored == 400
        assert gateway.process is not None
        children = _children(gateway.process.pid)
        assert children, "a stream this large starts the worker process"
        if ending == "SIGKILL":
            gateway.kill()
        else:
            assert gateway.terminate() == 0
    finally:
        gateway.kill()
    for _ in range(150):
        if not any(_alive(pid) for pid in children):
            break
        await asyncio.sleep(0.1)
    assert not any(_alive(pid) for pid in children), "orphaned worker processes"


def _children(parent: int) -> list[int]:
    found = []
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="ascii") as stat:
                fields = stat.read().rsplit(")", 1)[1].split()
        except FileNotFoundError:
            continue
        if int(fields[1]) == parent:
            found.append(int(entry))
    return found


def _alive(pid: int) -> bool:
    """Running (a zombie has ended: only its exit status waits to be collected)."""
    try:
        with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
            return stat.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


@pytest.mark.parametrize("where", [0, 1])
async def test_a_refusal_deep_in_a_fast_stream_ends_it(tmp_path: Path, where: int) -> None:
    """Messages keep arriving behind a malformed one: the call still ends, with the refusal."""
    config: CentreConfig = make_config(tmp_path)
    server = Gateway(
        config, preparer=MessagePreparer(config.centre_id, where, inline_below_bytes=0)
    )
    await server.start()
    try:
        async with aio.insecure_channel(server.address) as channel:
            submit_stream = channel.stream_unary(
                "/liaison.v1.RecordExchange/SubmitStream", lambda data: data, lambda data: data
            )

            async def messages() -> AsyncIterator[bytes]:
                yield batch(0, 10).SerializeToString()
                yield b"\xff\xff\xff\x0f"
                for number in range(1, 40):
                    yield batch(number * 10, 10).SerializeToString()

            with pytest.raises(aio.AioRpcError) as caught:
                await asyncio.wait_for(submit_stream(messages()), 20)
        assert caught.value.code() == grpc.StatusCode.INVALID_ARGUMENT
        for _ in range(100):
            if await server.store.last_sequence() == 10:
                break
            await asyncio.sleep(0.02)
        assert await server.store.last_sequence() == 10, "only the message before the refusal"
    finally:
        await server.stop(grace=0)


async def test_the_servicer_also_serves_parsed_messages(tmp_path: Path) -> None:
    """Registered with the generated helper (messages parsed by gRPC), SubmitStream still works."""
    store = SqliteRecordStore(tmp_path / "parsed.db", synchronous="normal")
    await store.open()
    feed = CommitFeed(store)
    server = aio.server()
    service = RecordExchangeService(
        store=store,
        gate=RecordGate(store, NeedToKnow("TEST-CENTRE")),
        feed=feed,
        centre_id="TEST-CENTRE",
        limits=LimitsConfig(),
    )
    exchange_pb2_grpc.add_RecordExchangeServicer_to_server(service, server)
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    try:
        async with aio.insecure_channel(f"127.0.0.1:{port}") as channel:
            response = await Stub(channel).SubmitStream(_one(batch(0, 30)))
        assert (response.received, response.stored) == (30, 30)
        assert [result.ack.sequence for result in response.results] == list(range(1, 31))
    finally:
        await server.stop(0)
        await store.close()


class _BrokenPreparer(MessagePreparer):
    """Fails every message the way a bug would, with a message quoting the record."""

    def prepare(self, data: bytes) -> asyncio.Future[list[PreparedEntry]]:
        future: asyncio.Future[list[PreparedEntry]] = asyncio.get_running_loop().create_future()
        future.set_exception(RuntimeError("Müller, born 1970-03-12"))
        return future


async def test_an_unexpected_preparation_error_is_internal_and_quotes_nothing(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    config: CentreConfig = make_config(tmp_path)
    server = Gateway(config, preparer=_BrokenPreparer(config.centre_id, 0))
    await server.start()
    try:
        async with aio.insecure_channel(server.address) as channel:
            with pytest.raises(aio.AioRpcError) as caught:
                await Stub(channel).SubmitStream(_one(batch(0, 3)))
    finally:
        await server.stop(grace=0)
    assert caught.value.code() == grpc.StatusCode.INTERNAL
    assert caught.value.details() == "the records could not be prepared"
    logged = " ".join(record.getMessage() for record in caplog.records)
    assert "RuntimeError" in logged
    assert "Müller" not in logged
