"""A gateway configured with ``[audit] key_file`` keeps a keyed audit log, and refuses to start
on a log or key it cannot use."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import pytest
from grpc import aio

from gateway.audit.chain import KEYED_MAC
from gateway.audit.keys import create_key_file, read_key_file
from gateway.audit.log import iter_stored, verify_file
from gateway.config import CentreConfig
from gateway.federation.settings import FederationSettings
from gateway.server import Gateway, ServeError
from liaison.v1 import exchange_pb2, exchange_pb2_grpc
from tests.conftest import make_config
from tests.support.factories import person


def _audited(tmp_path: Path, key: Path | None) -> CentreConfig:
    settings = FederationSettings(audit_path=tmp_path / "audit.db", audit_key_path=key)
    return dataclasses.replace(make_config(tmp_path), federation=settings)


async def _submit_one(config: CentreConfig, record_id: str) -> None:
    gateway = Gateway(config)
    await gateway.start()
    try:
        async with aio.insecure_channel(gateway.address) as channel:
            stub = exchange_pb2_grpc.RecordExchangeStub(channel)
            await stub.Submit(exchange_pb2.SubmitRequest(record=person(record_id)))
    finally:
        await gateway.stop(grace=0)


async def test_a_keyed_gateway_audits_with_macs_only_its_key_verifies(tmp_path: Path) -> None:
    key = tmp_path / "audit.key"
    create_key_file(key)
    await _submit_one(_audited(tmp_path, key), "P-1")

    entries = [json.loads(text) for text in iter_stored(tmp_path / "audit.db")]
    assert [(e["action"], e["record_ids"], e["mac"]) for e in entries] == [
        ("submit", ["P-1"], KEYED_MAC)
    ]
    assert verify_file(tmp_path / "audit.db", key=read_key_file(key)).ok
    assert not verify_file(tmp_path / "audit.db").ok


async def test_an_unkeyed_log_is_not_continued_with_a_key(tmp_path: Path) -> None:
    await _submit_one(_audited(tmp_path, None), "P-1")
    key = tmp_path / "audit.key"
    create_key_file(key)

    with pytest.raises(ServeError, match=r"cannot open the audit log.*started without a key"):
        await Gateway(_audited(tmp_path, key)).start()
    assert len(list(iter_stored(tmp_path / "audit.db"))) == 1


async def test_a_key_file_others_can_read_stops_the_start(tmp_path: Path) -> None:
    key = tmp_path / "audit.key"
    key.write_text("ab" * 32)
    key.chmod(0o644)
    with pytest.raises(ServeError, match="accessible by other users"):
        await Gateway(_audited(tmp_path, key)).start()
