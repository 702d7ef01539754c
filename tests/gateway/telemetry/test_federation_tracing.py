"""One trace across two centres: a Submit at the sender, the forward to the peer, and the
record's arrival there, with the sender's trace id in the receiver's spans."""

from __future__ import annotations

import contextlib
import dataclasses
import sqlite3
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from opentelemetry.trace import SpanKind

from devkit.cluster import free_port
from gateway.client import AsyncLiaisonClient
from gateway.config import CentreConfig
from gateway.federation.outbox import Backoff
from gateway.federation.routing import RoutingRule
from gateway.federation.settings import FederationSettings
from gateway.server import Gateway
from gateway.telemetry import attributes as attr
from gateway.telemetry.names import FEDERATION_FORWARD_SPAN, FEDERATION_RECEIVE_SPAN
from tests.conftest import make_config
from tests.gateway.telemetry.conftest import Recorded, recording
from tests.gateway.telemetry.spans import named
from tests.support.factories import person
from tests.support.polling import until
from tests.support.signing import CentreKey, centre_key, peer, signing_settings

SENDER, RECEIVER = "TRACE-SENDER", "TRACE-RECEIVER"


@pytest.fixture
async def pair(
    tmp_path: Path, pipeline: str
) -> AsyncIterator[tuple[Gateway, Gateway, Recorded, Recorded]]:
    ports = {SENDER: free_port(), RECEIVER: free_port()}
    recordings = {
        SENDER: recording(pipeline=pipeline),
        RECEIVER: recording(pipeline=pipeline),
    }
    keys = {centre: centre_key(tmp_path, centre) for centre in ports}
    gateways = {}
    for centre, other in ((SENDER, RECEIVER), (RECEIVER, SENDER)):
        base = make_config(tmp_path / centre)
        routes = (RoutingRule(peers=(RECEIVER,)),) if centre == SENDER else ()
        config = dataclasses.replace(
            base,
            centre_id=centre,
            server=dataclasses.replace(base.server, listen=f"127.0.0.1:{ports[centre]}"),
            federation=FederationSettings(
                signing=signing_settings(keys[centre]),
                peers=(peer(keys[other], f"127.0.0.1:{ports[other]}"),),
                routes=routes,
                backoff=Backoff(initial_seconds=0.02, max_seconds=0.1),
            ),
        )
        gateways[centre] = Gateway(config, telemetry=recordings[centre].telemetry)
    for gateway in gateways.values():
        await gateway.start()
    try:
        yield gateways[SENDER], gateways[RECEIVER], recordings[SENDER], recordings[RECEIVER]
    finally:
        for gateway in gateways.values():
            await gateway.stop(grace=0)
        for recorded in recordings.values():
            recorded.telemetry.shutdown()


async def test_a_forwarded_record_continues_its_submission_trace(
    pair: tuple[Gateway, Gateway, Recorded, Recorded],
) -> None:
    sender, _receiver, sent, received = pair
    client = AsyncLiaisonClient(
        sender.address, interceptors=sent.telemetry.aio_client_interceptors(sender.address)
    )
    async with client:
        await client.submit(person(f"{SENDER}:traced-1", family="TRACEDFAMILY"))
        await client.submit(person(f"{SENDER}:traced-2"))

    def both_received() -> bool:
        # The receiver's span ends before the sender's (which ends when the answer is back).
        arrived = named(received.spans.get_finished_spans(), FEDERATION_RECEIVE_SPAN)
        forwarded = named(sent.spans.get_finished_spans(), FEDERATION_FORWARD_SPAN)
        return len(arrived) == 2 and len(forwarded) == 2

    await until(both_received)
    client_spans = [
        s
        for s in sent.spans.get_finished_spans()
        if s.kind is SpanKind.CLIENT and s.name.endswith("/Submit")
    ]
    forwards = named(sent.spans.get_finished_spans(), FEDERATION_FORWARD_SPAN)
    receives = named(received.spans.get_finished_spans(), FEDERATION_RECEIVE_SPAN)
    submit_traces = {s.context.trace_id for s in client_spans if s.context is not None}
    assert len(submit_traces) == 2
    assert {s.context.trace_id for s in forwards if s.context is not None} == submit_traces
    assert {s.context.trace_id for s in receives if s.context is not None} == submit_traces
    forward_ids = {s.context.span_id for s in forwards if s.context is not None}
    assert {s.parent.span_id for s in receives if s.parent is not None} == forward_ids
    assert all((s.attributes or {})[attr.PEER_CENTRE] == RECEIVER for s in forwards)
    assert all((s.attributes or {})[attr.DELIVERY_OUTCOME] == "delivered" for s in receives)
    assert all(s.kind is SpanKind.CONSUMER for s in receives)
    # The receive span links to the Deliver call that carried it.
    assert all(len(s.links) == 1 for s in receives)
    for span in [*forwards, *receives]:
        assert "TRACEDFAMILY" not in str(span.to_json())


def _sender_config(
    tmp_path: Path, ports: dict[str, int], keys: dict[str, CentreKey]
) -> CentreConfig:
    base = make_config(tmp_path / SENDER)
    return dataclasses.replace(
        base,
        centre_id=SENDER,
        server=dataclasses.replace(base.server, listen=f"127.0.0.1:{ports[SENDER]}"),
        federation=FederationSettings(
            signing=signing_settings(keys[SENDER]),
            peers=(peer(keys[RECEIVER], f"127.0.0.1:{ports[RECEIVER]}"),),
            routes=(RoutingRule(peers=(RECEIVER,)),),
            backoff=Backoff(initial_seconds=0.02, max_seconds=0.1),
        ),
    )


def _queued_trace_contexts(config: CentreConfig) -> list[str]:
    outbox = config.storage.path.with_name(config.storage.path.name + ".outbox.db")
    if not outbox.exists():
        return []
    with contextlib.closing(sqlite3.connect(outbox)) as connection:
        return [row[0] for row in connection.execute("SELECT trace_context FROM deliveries")]


async def test_the_trace_survives_a_restart_of_the_sender_while_the_record_is_queued(
    tmp_path: Path, pipeline: str
) -> None:
    """The submission's context is kept with the queued delivery, not only in memory: a record
    forwarded after the sender restarted still continues its submission's trace."""
    ports = {SENDER: free_port(), RECEIVER: free_port()}
    keys = {centre: centre_key(tmp_path, centre) for centre in ports}
    config = _sender_config(tmp_path, ports, keys)
    before, after, received = (recording(pipeline=pipeline) for _ in range(3))
    first = Gateway(config, telemetry=before.telemetry)
    await first.start()
    try:
        client = AsyncLiaisonClient(
            first.address, interceptors=before.telemetry.aio_client_interceptors(first.address)
        )
        async with client:
            await client.submit(person(f"{SENDER}:queued-1"))
        # Routed while the receiver is down: queued with the submission's context.
        await until(lambda: len(_queued_trace_contexts(config)) == 1)
    finally:
        await first.stop(grace=0)
    [submit_span] = [s for s in before.spans.get_finished_spans() if s.kind is SpanKind.CLIENT]
    assert submit_span.context is not None
    [queued_context] = _queued_trace_contexts(config)
    assert f"{submit_span.context.trace_id:032x}" in queued_context

    receiver_base = make_config(tmp_path / RECEIVER)
    receiver = Gateway(
        dataclasses.replace(
            receiver_base,
            centre_id=RECEIVER,
            server=dataclasses.replace(receiver_base.server, listen=f"127.0.0.1:{ports[RECEIVER]}"),
            federation=FederationSettings(
                signing=signing_settings(keys[RECEIVER]),
                peers=(peer(keys[SENDER], f"127.0.0.1:{ports[SENDER]}"),),
            ),
        ),
        telemetry=received.telemetry,
    )
    restarted = Gateway(config, telemetry=after.telemetry)
    await receiver.start()
    await restarted.start()
    try:
        await until(
            lambda: len(named(received.spans.get_finished_spans(), FEDERATION_RECEIVE_SPAN)) == 1
        )
    finally:
        await restarted.stop(grace=0)
        await receiver.stop(grace=0)
        for recorded in (before, after, received):
            recorded.telemetry.shutdown()
    [arrival] = named(received.spans.get_finished_spans(), FEDERATION_RECEIVE_SPAN)
    assert arrival.context is not None
    assert arrival.context.trace_id == submit_span.context.trace_id
