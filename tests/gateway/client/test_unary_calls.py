"""Every unary method, through both clients: the same request on the wire, the same result.

A scripted server answers every unary RPC the clients call with a canned response and keeps the
requests it got; each method is called once through each client.
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
from collections.abc import AsyncIterator
from datetime import timedelta
from typing import Any

import grpc
from google.protobuf.message import Message
from grpc import aio
from grpc_health.v1 import health_pb2

from gateway.client import AsyncLiaisonClient, LiaisonClient
from gateway.client import _calls as calls
from liaison.v1 import (
    exchange_pb2,
    federation_pb2,
    record_pb2,
    screening_hit_pb2,
    screening_pb2,
    translation_pb2,
)
from tests.support.factories import person

Context = aio.ServicerContext[Any, Any]

DELIVERY = federation_pb2.DeliveryStatus(record_id="R-1", version=2, peer="LYON", attempts=3)
CHECKPOINT = federation_pb2.AuditCheckpoint(centre="WCO-I2C", entries=12)

# method name, positional and keyword arguments, the RPC, its canned response, the expected result
CASES: list[tuple[str, tuple[Any, ...], dict[str, Any], calls.Method[Any, Any], Message, Any]] = [
    (
        "submit",
        (person("P-1"),),
        {},
        calls.SUBMIT,
        exchange_pb2.SubmitResponse(ack=exchange_pb2.SubmitAck(record_id="P-1", version=1)),
        exchange_pb2.SubmitAck(record_id="P-1", version=1),
    ),
    (
        "get",
        ("P-1", 2),
        {},
        calls.GET,
        exchange_pb2.GetResponse(record=person("P-1")),
        exchange_pb2.GetResponse(record=person("P-1")),
    ),
    (
        "health",
        ("liaison.v1.RecordExchange",),
        {},
        calls.CHECK,
        health_pb2.HealthCheckResponse(status=health_pb2.HealthCheckResponse.NOT_SERVING),
        "NOT_SERVING",
    ),
    (
        "list_adapters",
        (),
        {},
        calls.LIST_ADAPTERS,
        translation_pb2.ListAdaptersResponse(adapters=[translation_pb2.AdapterInfo(name="x")]),
        [translation_pb2.AdapterInfo(name="x")],
    ),
    (
        "translate",
        ("lines", b"Doe;Jane;1975\n"),
        {"source_reference": "batch-7"},
        calls.TRANSLATE,
        translation_pb2.TranslateResponse(records=[person("P-1")]),
        translation_pb2.TranslateResponse(records=[person("P-1")]),
    ),
    (
        "ingest",
        ("lines", b"Doe;Jane;1975\n"),
        {
            "source_reference": "batch-7",
            "handling": record_pb2.Handling(purpose="border control"),
            "accept_partial": True,
        },
        calls.INGEST,
        translation_pb2.IngestResponse(skipped_record_ids=["P-2"]),
        translation_pb2.IngestResponse(skipped_record_ids=["P-2"]),
    ),
    (
        "export",
        ("lines",),
        {
            "record_refs": ["P-1", translation_pb2.RecordRef(record_id="P-2", version=3)],
            "records": [person("P-3")],
        },
        calls.EXPORT,
        translation_pb2.ExportResponse(payload=b"Doe;Jane;1975\n", media_type="text/plain"),
        translation_pb2.ExportResponse(payload=b"Doe;Jane;1975\n", media_type="text/plain"),
    ),
    (
        "deliveries",
        (),
        {
            "record_id": "R-1",
            "peer": "LYON",
            "states": [federation_pb2.DELIVERY_STATE_FAILED],
            "limit": 5,
        },
        calls.LIST_DELIVERIES,
        federation_pb2.ListDeliveriesResponse(deliveries=[DELIVERY]),
        [DELIVERY],
    ),
    (
        "replay_dead_letters",
        (),
        {"peer": "LYON", "record_ids": ["R-1"]},
        calls.REPLAY_DEAD_LETTERS,
        federation_pb2.ReplayDeadLettersResponse(requeued=[DELIVERY]),
        [DELIVERY],
    ),
    (
        "checkpoints",
        (),
        {"centre": "WCO-I2C", "limit": 3},
        calls.LIST_CHECKPOINTS,
        federation_pb2.ListCheckpointsResponse(checkpoints=[CHECKPOINT]),
        [CHECKPOINT],
    ),
    (
        "keep_checkpoint",
        (CHECKPOINT,),
        {},
        calls.KEEP_CHECKPOINT,
        federation_pb2.KeepCheckpointResponse(kept=4),
        4,
    ),
    (
        "screen",
        ([person("P-1")],),
        {"lists": ["sltd"]},
        calls.SCREEN,
        screening_pb2.ScreenResponse(subjects=[person("P-1")]),
        screening_pb2.ScreenResponse(subjects=[person("P-1")]),
    ),
    (
        "decide",
        ("H-1", screening_hit_pb2.SCREENING_DECISION_KIND_UNSURE, "look again"),
        {"expected_version": 2},
        calls.DECIDE,
        screening_pb2.DecideResponse(ack=exchange_pb2.SubmitAck(record_id="H-1", version=3)),
        screening_pb2.DecideResponse(ack=exchange_pb2.SubmitAck(record_id="H-1", version=3)),
    ),
    (
        "withdraw",
        ("P-1", record_pb2.WITHDRAWAL_REASON_CANCELLED, "closed"),
        {},
        calls.WITHDRAW,
        exchange_pb2.WithdrawResponse(ack=exchange_pb2.SubmitAck(record_id="P-1", version=4)),
        exchange_pb2.SubmitAck(record_id="P-1", version=4),
    ),
    (
        "extend_retention",
        ("P-1", timedelta(days=365)),
        {"note": "still sought"},
        calls.EXTEND_RETENTION,
        exchange_pb2.ExtendRetentionResponse(retention=exchange_pb2.Retention(record_id="P-1")),
        exchange_pb2.Retention(record_id="P-1"),
    ),
    (
        "reviews",
        (timedelta(days=30),),
        {"page_size": 5},
        calls.LIST_REVIEWS,
        exchange_pb2.ListReviewsResponse(reviews=[exchange_pb2.Retention(record_id="P-1")]),
        [exchange_pb2.Retention(record_id="P-1")],
    ),
    (
        "threads",
        (True,),
        {},
        calls.LIST_THREADS,
        exchange_pb2.ListThreadsResponse(threads=[exchange_pb2.Thread(thread_id="T-1")]),
        [exchange_pb2.Thread(thread_id="T-1")],
    ),
]


@contextlib.asynccontextmanager
async def canned_server(requests: dict[str, list[Any]]) -> AsyncIterator[str]:
    """A server answering each case's RPC with its canned response; yields its address."""
    services: dict[str, dict[str, grpc.RpcMethodHandler[Any, Any]]] = {}
    for _, _, _, method, response, _ in CASES:

        async def answer(
            request: Message,
            context: Context,
            *,
            path: str = method.path,
            canned: Message = response,
        ) -> Message:
            requests.setdefault(path, []).append(request)
            return canned

        service, name = method.path.strip("/").split("/")
        services.setdefault(service, {})[name] = grpc.unary_unary_rpc_method_handler(
            answer,
            request_deserializer=method.request_type.FromString,
            response_serializer=type(response).SerializeToString,
        )
    server = aio.server()
    server.add_generic_rpc_handlers(
        [grpc.method_handlers_generic_handler(s, handlers) for s, handlers in services.items()]
    )
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    try:
        yield f"127.0.0.1:{port}"
    finally:
        await server.stop(0)


def test_every_unary_method_is_covered() -> None:
    unary = {
        name
        for name, method in inspect.getmembers(AsyncLiaisonClient, inspect.iscoroutinefunction)
        if not name.startswith("_")
    } - {"close", "submit_many"}  # closing is no call; submit_many streams
    assert unary == {case[0] for case in CASES}


async def test_both_clients_send_the_same_requests_and_read_the_same_results() -> None:
    requests: dict[str, list[Any]] = {}
    async with canned_server(requests) as address:

        def blocking() -> list[Any]:
            with LiaisonClient(address) as client:
                return [getattr(client, name)(*args, **kwargs) for name, args, kwargs, *_ in CASES]

        async with AsyncLiaisonClient(address) as client:
            asynchronous = [
                await getattr(client, name)(*args, **kwargs) for name, args, kwargs, *_ in CASES
            ]
        results = await asyncio.to_thread(blocking)

    for (name, _, _, method, _, expected), from_async, from_blocking in zip(
        CASES, asynchronous, results, strict=True
    ):
        assert from_async == expected, name
        assert from_blocking == expected, name
        first, second = requests[method.path]
        assert first == second, name

    get, _ = requests[calls.GET.path]
    assert get == exchange_pb2.GetRequest(record_id="P-1", version=2)
    ingest, _ = requests[calls.INGEST.path]
    assert (ingest.accept_partial, ingest.handling.purpose) == (True, "border control")
    export, _ = requests[calls.EXPORT.path]
    assert [(r.record_id, r.version) for r in export.record_refs] == [("P-1", 0), ("P-2", 3)]
    deliveries, _ = requests[calls.LIST_DELIVERIES.path]
    assert list(deliveries.states) == [federation_pb2.DELIVERY_STATE_FAILED]
    screen, _ = requests[calls.SCREEN.path]
    assert (list(screen.lists), screen.adapter, screen.payload) == (["sltd"], "", b"")
    decide, _ = requests[calls.DECIDE.path]
    assert decide == screening_pb2.DecideRequest(
        hit_record_id="H-1",
        decision=screening_hit_pb2.SCREENING_DECISION_KIND_UNSURE,
        note="look again",
        expected_version=2,
    )
