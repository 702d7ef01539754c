"""Honest answers after a commit (issue 12, item 3).

A call whose records were committed but whose audit entry could not be written (the audit log's
disk full) used to end UNKNOWN "Unexpected <class 'AuditLogError'>": the caller was told it failed
although its records were stored, and the project's client does not retry UNKNOWN. Now it ends
UNAVAILABLE saying the records are stored and the call may be retried, and the retry is answered
with the original acknowledgement (a duplicate) and audited - for Submit, SubmitStream, Ingest and
Federation.Deliver. The audit log fails for real: an SQLite error raised inside its transaction
(a trigger in the log's file), or a full file system where the tests can mount one.
"""

from __future__ import annotations

import contextlib
import json
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import grpc
import pytest
from grpc import aio

from gateway.audit.log import iter_stored
from gateway.client import AsyncLiaisonClient
from gateway.config import CentreConfig, ServerConfig, StorageConfig
from gateway.federation.settings import FederationSettings
from gateway.server import Gateway
from liaison.v1 import exchange_pb2, federation_pb2, federation_pb2_grpc, translation_pb2
from tests.faults.filesystems import failing_inserts, fill, small_file_system
from tests.gateway.security.test_origin_authority import signed
from tests.support.factories import person
from tests.support.mtls import LYON, Pki, channel, tls_gateway
from tests.support.rpc import ExchangeStub, TranslationStub
from tests.support.translation_adapters import lines, lines_registry

CENTRE = "TEST-CENTRE"
STORED_RETRY = "the records are stored"


def _config(root: Path, audit: Path) -> CentreConfig:
    return CentreConfig(
        centre_id=CENTRE,
        server=ServerConfig(listen="127.0.0.1:0", grace_seconds=1.0),
        storage=StorageConfig(path=root / "gateway.db", synchronous="normal"),
        federation=FederationSettings(audit_path=audit),
    )


@contextlib.asynccontextmanager
async def _audited(root: Path, audit: Path | None = None) -> AsyncIterator[tuple[Gateway, Path]]:
    audit = audit or root / "audit.db"
    gateway = Gateway(_config(root, audit), registry=lines_registry())
    await gateway.start()
    try:
        yield gateway, audit
    finally:
        await gateway.stop(grace=0)


def _entries(audit: Path, action: str) -> list[dict[str, object]]:
    found = [json.loads(text) for text in iter_stored(audit)]
    return [entry for entry in found if entry["action"] == action]


def _refusal(error: aio.AioRpcError) -> None:
    """``error`` says the records are stored and the call may be retried, as UNAVAILABLE."""
    assert error.code() == grpc.StatusCode.UNAVAILABLE
    details = error.details() or ""
    assert STORED_RETRY in details
    assert "retry" in details or "resend" in details


@contextlib.contextmanager
def _audit_fails(audit: Path) -> Iterator[None]:
    with failing_inserts(audit, "audit"):
        yield


def _record(number: int) -> exchange_pb2.SubmitRequest:
    return exchange_pb2.SubmitRequest(record=person(f"{CENTRE}:p-{number}"))


async def test_a_stored_but_unaudited_submit_is_unavailable_and_its_retry_gets_the_original_ack(
    tmp_path: Path,
) -> None:
    async with _audited(tmp_path) as (gateway, audit), aio.insecure_channel(gateway.address) as ch:
        stub = ExchangeStub(ch)
        with _audit_fails(audit), pytest.raises(aio.AioRpcError) as refused:
            await stub.Submit(_record(1), timeout=10)
        _refusal(refused.value)
        stored = await gateway.store.get(f"{CENTRE}:p-1")
        assert stored is not None, "the commit succeeded: the record is stored"
        retried = await stub.Submit(_record(1), timeout=10)
    ack = retried.ack
    assert ack.duplicate
    assert (ack.version, ack.sequence, ack.content_sha256) == (
        stored.version,
        stored.sequence,
        stored.content_sha256,
    )
    assert ack.committed_at.seconds * 1_000_000 + ack.committed_at.nanos // 1000 == (
        stored.committed_at_us
    )
    [entry] = _entries(audit, "submit")
    assert (entry["outcome"], entry["record_ids"]) == ("duplicate", [f"{CENTRE}:p-1"])


async def test_the_projects_client_retries_and_is_told_the_record_is_stored(
    tmp_path: Path,
) -> None:
    async with _audited(tmp_path) as (gateway, audit):
        # The first attempt's entry (outcome ok) fails; the retry's (outcome duplicate) is kept.
        only_first = (
            "json_extract(NEW.entry, '$.action') = 'submit' "
            "AND json_extract(NEW.entry, '$.outcome') = 'ok'"
        )
        with failing_inserts(audit, "audit", when=only_first):
            async with AsyncLiaisonClient(gateway.address) as client:
                ack = await client.submit(_record(2).record)
        assert ack.duplicate
        stored = await gateway.store.get(f"{CENTRE}:p-2")
        assert stored is not None
        assert (ack.version, ack.sequence) == (stored.version, stored.sequence)
        assert [e["outcome"] for e in _entries(audit, "submit")] == ["duplicate"]


async def test_a_full_audit_disk_gets_the_same_honest_answer(tmp_path: Path) -> None:
    with small_file_system(tmp_path / "audit", "2m") as folder:
        async with _audited(tmp_path, folder / "audit.db") as (gateway, _):
            async with aio.insecure_channel(gateway.address) as ch:
                stub = ExchangeStub(ch)
                await stub.Submit(_record(0), timeout=10)
                filler = fill(folder)
                with pytest.raises(aio.AioRpcError) as refused:
                    await stub.Submit(_record(3), timeout=10)
                _refusal(refused.value)
                filler.unlink()
                retried = await stub.Submit(_record(3), timeout=10)
            assert retried.ack.duplicate
            assert await gateway.store.get(f"{CENTRE}:p-3") is not None


async def test_a_stored_but_unaudited_submit_stream_is_unavailable_and_its_retry_gets_the_acks(
    tmp_path: Path,
) -> None:
    async def stream() -> AsyncIterator[exchange_pb2.SubmitStreamRequest]:
        yield exchange_pb2.SubmitStreamRequest(
            records=[person(f"{CENTRE}:s-{n}") for n in range(3)]
        )

    async with _audited(tmp_path) as (gateway, audit), aio.insecure_channel(gateway.address) as ch:
        stub = ExchangeStub(ch)
        with _audit_fails(audit), pytest.raises(aio.AioRpcError) as refused:
            await stub.SubmitStream(stream(), timeout=10)
        _refusal(refused.value)
        stored = [await gateway.store.get(f"{CENTRE}:s-{n}") for n in range(3)]
        retried = await stub.SubmitStream(stream(), timeout=10)
    assert [r.ack.duplicate for r in retried.results] == [True] * 3
    assert [r.ack.sequence for r in retried.results] == [s.sequence for s in stored if s]
    assert [e["outcome"] for e in _entries(audit, "submit")] == ["ok"]


async def test_a_stored_but_unaudited_ingest_is_unavailable_and_its_retry_gets_the_acks(
    tmp_path: Path,
) -> None:
    payload = lines("DOE;JANE;1975-03-12", "ROE;RICHARD;1980-11-02")
    request = translation_pb2.IngestRequest(adapter="lines", payload=payload)
    async with _audited(tmp_path) as (gateway, audit), aio.insecure_channel(gateway.address) as ch:
        stub = TranslationStub(ch)
        with _audit_fails(audit), pytest.raises(aio.AioRpcError) as refused:
            await stub.Ingest(request, timeout=10)
        _refusal(refused.value)
        assert await gateway.store.last_sequence() == 2, "both records were committed"
        retried = await stub.Ingest(request, timeout=10)
    assert retried.duplicate
    assert [(a.sequence, a.duplicate) for a in retried.acks] == [(1, True), (2, True)]
    assert [e["outcome"] for e in _entries(audit, "ingest")] == ["duplicate"]


async def test_a_stored_but_unaudited_delivery_is_unavailable_and_the_resend_is_acknowledged(
    tmp_path: Path,
    pki: Pki,
) -> None:
    async with tls_gateway(tmp_path, pki, ()) as gateway:
        audit = gateway.audit
        assert audit is not None
        records = [signed(person(f"{LYON}:d-{n}"), 1, pki.keys[LYON]) for n in range(2)]
        request = federation_pb2.DeliverRequest(
            records=[federation_pb2.ForwardedRecord(record=r) for r in records]
        )
        async with channel(gateway, pki, pki.lyon) as lyon:
            stub = federation_pb2_grpc.FederationStub(lyon)
            with _audit_fails(audit.path), pytest.raises(aio.AioRpcError) as refused:
                await stub.Deliver(request, timeout=10)
            _refusal(refused.value)
            assert await gateway.store.get(f"{LYON}:d-1") is not None
            resent = await stub.Deliver(request, timeout=10)
        assert [(r.ack.version, r.ack.duplicate) for r in resent.results] == [(1, True)] * 2
        receipts = _entries(audit.path, "receive")
        assert [(e["outcome"], e["record_ids"]) for e in receipts] == [
            ("ok", [f"{LYON}:d-0", f"{LYON}:d-1"])
        ]


async def test_a_read_whose_audit_entry_fails_returns_nothing_and_is_unavailable(
    tmp_path: Path,
) -> None:
    async with _audited(tmp_path) as (gateway, audit), aio.insecure_channel(gateway.address) as ch:
        stub = ExchangeStub(ch)
        await stub.Submit(_record(4), timeout=10)
        with _audit_fails(audit), pytest.raises(aio.AioRpcError) as refused:
            await stub.Get(exchange_pb2.GetRequest(record_id=f"{CENTRE}:p-4"), timeout=10)
    assert refused.value.code() == grpc.StatusCode.UNAVAILABLE
    assert STORED_RETRY not in (refused.value.details() or "")
