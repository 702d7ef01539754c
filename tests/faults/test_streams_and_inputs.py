"""Faults of issue 12 around streams and input: Subscribe fan-out and slow subscribers, Subscribe
at shutdown, shutdown with an unreachable OTLP collector, status codes of undecodable and
oversized requests, and the bounded cost of hostile payloads.

Each test reproduces the fault as the issue reported it (a real gateway on a loopback port, a real
SQLite store, a real closed port for the collector) and checks the fixed behaviour.
"""

from __future__ import annotations

import dataclasses
import socket
import time
from collections.abc import AsyncIterator
from pathlib import Path

import grpc
import pytest
from google.protobuf import descriptor_pool
from grpc import aio
from grpc_reflection.v1alpha import reflection_pb2, reflection_pb2_grpc

from devkit.cluster import ServeProcess
from gateway.client import AsyncLiaisonClient
from gateway.federation.routing import RoutingRule
from gateway.federation.settings import FederationSettings, PeerConfig
from gateway.server import Gateway
from gateway.store import SqliteRecordStore, StoredRecord
from gateway.store.feed import CaughtUpMarker, CommitFeed
from liaison.rules.intake import prepare_record
from liaison.v1 import exchange_pb2, federation_pb2, record_pb2, translation_pb2
from tests.conftest import make_config
from tests.support.factories import person
from tests.support.rpc import ExchangeStub, violations_of

PEER = "PEER-CENTRE"

# -- Subscribe fan-out ----------------------------------------------------------------------------


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SqliteRecordStore]:
    opened = SqliteRecordStore(tmp_path / "feed.db", synchronous="normal")
    await opened.open()
    try:
        yield opened
    finally:
        await opened.close()


async def write_people(store: SqliteRecordStore, start: int, count: int) -> None:
    """One commit of ``count`` new people."""
    items = [prepare_record(person(f"P-{i}"), "LOCAL") for i in range(start, start + count)]
    await store.write(items)


class CountingStore:
    """Counts the feed's reads of the store (a live subscriber should cause none)."""

    def __init__(self, store: SqliteRecordStore) -> None:
        self._store = store
        self.reads = 0

    def __getattr__(self, name: str) -> object:
        return getattr(self._store, name)

    async def read_since(self, *args: object, **kwargs: object) -> list[StoredRecord]:
        self.reads += 1
        return await self._store.read_since(*args, **kwargs)  # type: ignore[arg-type]


async def caught_up(stream: AsyncIterator[StoredRecord | CaughtUpMarker]) -> None:
    assert isinstance(await anext(stream), CaughtUpMarker)


async def test_live_subscribers_share_one_filtering_pass_per_commit_and_no_store_read(
    store: SqliteRecordStore,
) -> None:
    counting = CountingStore(store)
    feed = CommitFeed(counting, window=4)  # type: ignore[arg-type]
    await feed.start()
    checked = {"all": 0, "vehicles": 0}

    def counted(name: str):  # type: ignore[no-untyped-def]
        def visible(_: StoredRecord) -> bool:
            checked[name] += 1
            return True

        return visible

    everything = feed.stream(0, visible=counted("all"))
    vehicles = feed.stream(0, kinds=frozenset({"vehicle"}), visible=counted("vehicles"))
    await caught_up(everything)
    await caught_up(vehicles)
    reads_when_live = counting.reads
    for start in range(0, 30, 10):  # three commits of ten, more than the window holds
        await write_people(store, start, 10)
    received = [(await anext(everything)).sequence for _ in range(30)]
    assert received == list(range(1, 31))
    # Once per version for the subscriber that takes it, never for the one whose kinds exclude
    # it, and not again on delivery; the versions came from the commits, not from the store.
    assert checked == {"all": 30, "vehicles": 0}
    assert counting.reads == reads_when_live
    await everything.aclose()  # type: ignore[attr-defined]
    await vehicles.aclose()  # type: ignore[attr-defined]
    assert feed.subscribers == 0


async def test_a_subscriber_slower_than_its_buffer_falls_back_and_misses_nothing(
    store: SqliteRecordStore,
) -> None:
    feed = CommitFeed(store, window=16, buffer=8)
    await feed.start()
    slow = feed.stream(0, visible=lambda _: True)
    fast = feed.stream(0, visible=lambda _: True)
    await caught_up(slow)
    await caught_up(fast)
    fast_received: list[int] = []
    for start in range(0, 100, 5):
        await write_people(store, start, 5)
        # The fast subscriber keeps up; the slow one reads nothing meanwhile.
        for _ in range(5):
            fast_received.append((await anext(fast)).sequence)
    assert fast_received == list(range(1, 101))
    assert feed.fallbacks == 1  # the slow one left the live set once, holding nothing since
    slow_received = [(await anext(slow)).sequence for _ in range(100)]
    # From the window and the store, in order, each once.
    assert slow_received == list(range(1, 101))
    await write_people(store, 100, 1)  # and it is live again
    assert (await anext(slow)).sequence == 101
    await slow.aclose()  # type: ignore[attr-defined]
    await fast.aclose()  # type: ignore[attr-defined]


async def test_a_buffered_version_restricted_by_a_later_one_is_not_delivered(
    store: SqliteRecordStore,
) -> None:
    feed = CommitFeed(store)
    await feed.start()
    # Stands in for a handling change: a version is hidden once its record has a newer one.
    stream = feed.stream(0, visible=lambda record: record.latest_version == 1)
    await caught_up(stream)
    await write_people(store, 1, 1)  # P-1 version 1: matched and buffered, not yet read
    await store.write(
        [prepare_record(person("P-1", family="CHANGED"), "LOCAL")]
    )  # version 2 hides version 1
    await write_people(store, 2, 1)
    delivered = await anext(stream)
    assert isinstance(delivered, StoredRecord)
    assert delivered.record_id == "P-2"
    await stream.aclose()  # type: ignore[attr-defined]


# -- Subscribe at shutdown ------------------------------------------------------------------------


async def test_subscribe_ends_with_unavailable_when_the_gateway_stops(
    gateway: Gateway, exchange: ExchangeStub
) -> None:
    call = exchange.Subscribe(exchange_pb2.SubscribeRequest())
    marker = await call.read()
    assert isinstance(marker, exchange_pb2.SubscribeResponse)
    assert marker.HasField("caught_up")
    await gateway.stop(grace=2)
    with pytest.raises(aio.AioRpcError) as ended:
        await call.read()
    assert ended.value.code() == grpc.StatusCode.UNAVAILABLE
    assert "shutting down" in (ended.value.details() or "")


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def test_the_client_resumes_a_subscription_across_a_restart(tmp_path: Path) -> None:
    base = make_config(tmp_path)
    config = dataclasses.replace(
        base, server=dataclasses.replace(base.server, listen=f"127.0.0.1:{free_port()}")
    )
    first = Gateway(config)
    await first.start()
    second: Gateway | None = None
    try:
        async with AsyncLiaisonClient(first.address) as client:
            await client.submit(person("P-1"))
            await client.submit(person("P-2"))
            events = client.subscribe(after_sequence=0)
            seen: list[str] = []
            async for response in events:
                if response.HasField("record_event"):
                    seen.append(response.record_event.record.record_id)
                if len(seen) == 2:
                    break
            await first.stop(grace=2)
            # The stream ended UNAVAILABLE: the client resumes after sequence 2 against the
            # gateway that comes back on the same address and store.
            second = Gateway(config)
            await second.start()
            await client.submit(person("P-3"))
            async for response in events:
                if response.HasField("record_event"):
                    seen.append(response.record_event.record.record_id)
                    break
            await events.aclose()
        assert seen == ["P-1", "P-2", "P-3"]
    finally:
        await first.stop(grace=0)
        if second is not None:
            await second.stop(grace=0)


# -- Shutdown with an unreachable collector -------------------------------------------------------

GRACE_SECONDS = 1.0


@pytest.mark.parametrize("pipeline", ["fast", "sdk"])
def test_shutdown_stays_within_its_grace_when_the_collector_is_unreachable(
    tmp_path: Path, pipeline: str
) -> None:
    collector = free_port()  # nothing listens there: every export is refused and retried
    config = tmp_path / "centre.toml"
    config.write_text(
        "\n".join(
            [
                "[centre]",
                'id = "TEST-CENTRE"',
                "[server]",
                'listen = "127.0.0.1:0"',
                f"grace_seconds = {GRACE_SECONDS}",
                "[storage]",
                f'path = "{tmp_path / "gateway.db"}"',
                "[telemetry]",
                'exporter = "otlp"',
                f'endpoint = "http://127.0.0.1:{collector}"',
                f'pipeline = "{pipeline}"',
                "",
            ]
        ),
        encoding="utf-8",
    )
    serving = ServeProcess("TEST-CENTRE", ["--config", str(config)])
    address = serving.start()
    with grpc.insecure_channel(address) as opened:
        submit = opened.unary_unary(
            "/liaison.v1.RecordExchange/Submit",
            request_serializer=exchange_pb2.SubmitRequest.SerializeToString,
            response_deserializer=exchange_pb2.SubmitResponse.FromString,
        )
        for i in range(5):  # spans and measurements waiting for the last export
            submit(exchange_pb2.SubmitRequest(record=person(f"P-{i}")), timeout=10)
    started = time.monotonic()
    code = serving.terminate(timeout=30)
    elapsed = time.monotonic() - started
    assert code == 0, "".join(serving.output[-20:])
    # A correctness bound, generous for a loaded machine (the issue measured 13 s for 5 s of
    # grace); the design bound is the grace plus one second.
    assert elapsed < GRACE_SECONDS + 3, f"{elapsed:.1f} s"
    assert any(
        "were dropped so that shutdown stays within its grace" in line for line in serving.output
    )


# -- Status codes ---------------------------------------------------------------------------------

CORRUPT = b"\xff\xff\xff\x0f not a protobuf message"


@pytest.fixture
async def federated(tmp_path: Path) -> AsyncIterator[Gateway]:
    """A gateway serving every service it can: exchange, translation, federation and its
    administration (a peer that answers nothing), health and reflection."""
    base = make_config(tmp_path)
    config = dataclasses.replace(
        base,
        federation=FederationSettings(
            peers=(PeerConfig(PEER, f"127.0.0.1:{free_port()}"),),
            routes=(RoutingRule(peers=(PEER,)),),
        ),
    )
    started = Gateway(config)
    await started.start()
    try:
        yield started
    finally:
        await started.stop(grace=0)


async def served_methods(opened: aio.Channel) -> list[tuple[str, str, bool, bool]]:
    """Every method of every service the server lists through reflection: (service, method,
    client streaming, server streaming), from the descriptors it serves."""
    stub = reflection_pb2_grpc.ServerReflectionStub(opened)

    async def ask() -> AsyncIterator[reflection_pb2.ServerReflectionRequest]:
        yield reflection_pb2.ServerReflectionRequest(list_services="")

    listed = await anext(aiter(stub.ServerReflectionInfo(ask())))
    pool = descriptor_pool.Default()
    methods = []
    for service in listed.list_services_response.service:
        # grpcio-reflection has no v1 module: v1 has v1alpha's methods under another package.
        name = service.name.replace("grpc.reflection.v1.", "grpc.reflection.v1alpha.")
        descriptor = pool.FindServiceByName(name)
        methods += [
            (service.name, m.name, m.client_streaming, m.server_streaming)
            for m in descriptor.methods
        ]
    return methods


async def call_with(
    opened: aio.Channel, method: str, client_streaming: bool, server_streaming: bool, data: bytes
) -> grpc.StatusCode:
    """Send ``data`` as the (only) request message; the status the call ends with."""
    try:
        if client_streaming and server_streaming:
            async for _ in opened.stream_stream(method, None, None)(iter([data]), timeout=10):
                pass
        elif client_streaming:
            await opened.stream_unary(method, None, None)(iter([data]), timeout=10)
        elif server_streaming:
            async for _ in opened.unary_stream(method, None, None)(data, timeout=10):
                pass
        else:
            await opened.unary_unary(method, None, None)(data, timeout=10)
    except aio.AioRpcError as error:
        return error.code()
    return grpc.StatusCode.OK


async def test_undecodable_bytes_to_every_method_of_every_service_are_invalid_argument(
    federated: Gateway,
) -> None:
    async with aio.insecure_channel(federated.address) as opened:
        methods = await served_methods(opened)
        services = {service for service, *_ in methods}
        assert {
            "liaison.v1.RecordExchange",
            "liaison.v1.Translation",
            "liaison.v1.Federation",
            "liaison.v1.FederationAdmin",
            "grpc.health.v1.Health",
            "grpc.reflection.v1.ServerReflection",
            "grpc.reflection.v1alpha.ServerReflection",
        } <= services
        codes = {
            f"{service}/{name}": await call_with(
                opened, f"/{service}/{name}", client, server, CORRUPT
            )
            for service, name, client, server in methods
        }
    wrong = {
        method: code for method, code in codes.items() if code != grpc.StatusCode.INVALID_ARGUMENT
    }
    assert wrong == {}


def oversized_requests() -> dict[str, tuple[bool, bytes]]:
    """Requests with a repeated filter far over any sensible size, within the message limit:
    method -> (server streaming, request bytes)."""
    many_ids = [f"P-{i}" for i in range(100_000)]
    return {
        "/liaison.v1.FederationAdmin/ListDeliveries": (
            False,
            federation_pb2.ListDeliveriesRequest(
                states=[federation_pb2.DELIVERY_STATE_QUEUED] * 800_000
            ).SerializeToString(),
        ),
        "/liaison.v1.FederationAdmin/ReplayDeadLetters": (
            False,
            federation_pb2.ReplayDeadLettersRequest(record_ids=many_ids).SerializeToString(),
        ),
        "/liaison.v1.RecordExchange/Search": (
            True,
            exchange_pb2.SearchRequest(
                family_name="DOE", kinds=[record_pb2.RECORD_KIND_PERSON] * 800_000
            ).SerializeToString(),
        ),
        "/liaison.v1.RecordExchange/Subscribe": (
            True,
            exchange_pb2.SubscribeRequest(
                kinds=[record_pb2.RECORD_KIND_PERSON] * 800_000
            ).SerializeToString(),
        ),
        "/liaison.v1.RecordExchange/Subscribe ": (
            True,
            exchange_pb2.SubscribeRequest(
                originating_centres=["TEST-CENTRE"] * 100_000
            ).SerializeToString(),
        ),
        "/liaison.v1.Translation/Export": (
            False,
            translation_pb2.ExportRequest(
                adapter="icao-mrz",
                record_refs=[translation_pb2.RecordRef(record_id=i) for i in many_ids],
            ).SerializeToString(),
        ),
    }


async def test_oversized_repeated_filters_are_refused_naming_the_limit(
    federated: Gateway,
) -> None:
    answers = {}
    async with aio.insecure_channel(federated.address) as opened:
        for method, (server_streaming, request) in oversized_requests().items():
            try:
                if server_streaming:
                    async for _ in opened.unary_stream(method.strip(), None, None)(
                        request, timeout=30
                    ):
                        break  # Subscribe: its first answer (a marker) means it was accepted
                else:
                    await opened.unary_unary(method.strip(), None, None)(request, timeout=30)
            except aio.AioRpcError as error:
                answers[method] = (error.code(), error.details() or "")
            else:
                answers[method] = (grpc.StatusCode.OK, "")
    refused = (grpc.StatusCode.INVALID_ARGUMENT, grpc.StatusCode.RESOURCE_EXHAUSTED)
    wrong = {
        method: answer
        for method, answer in answers.items()
        if answer[0] not in refused or not any(c.isdigit() for c in answer[1])
    }
    assert wrong == {}, "\n".join(f"{m}: {c.name} {d[:120]}" for m, (c, d) in wrong.items())


async def test_a_search_cursor_with_non_ascii_digits_is_invalid_argument(
    exchange: ExchangeStub,
) -> None:
    # Arabic-Indic digits: str.isdigit() accepts them, int() of the whole cursor would not.
    request = exchange_pb2.SearchRequest(family_name="DOE", cursor="v1.\u0661\u0662.abcdef")
    with pytest.raises(aio.AioRpcError) as refused:
        async for _ in exchange.Search(request):
            pass
    assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT
    assert list(violations_of(refused.value)) == ["cursor"]
