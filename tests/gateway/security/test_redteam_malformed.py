"""Red team: malformed and out-of-range inputs that end in UNKNOWN with a Python exception's name.

Every method of a real mutual-TLS gateway (the i2c) was sent garbage bytes and boundary values by
an operator client and by its peer Lyon. Liaison's own services answer garbage with
INVALID_ARGUMENT; what follows does not: the status is UNKNOWN and its details name the Python
exception that escaped (``Unexpected <class 'OverflowError'>: ...``), which tells an attacker
about the implementation and tells the caller nothing about what to fix.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator
from pathlib import Path

import grpc
import pytest
from grpc import aio

from gateway.audit.checkpoints import statement_of
from gateway.security.policy import Grant
from gateway.server import Gateway
from liaison.v1 import exchange_pb2, exchange_pb2_grpc, federation_pb2, federation_pb2_grpc
from tests.support.mtls import LYON, Pki, audit_entries, channel, tls_gateway
from tests.support.polling import until

OPERATOR = "operator"
GRANTS = (Grant((f"urn:liaison:client:{OPERATOR}",), ("liaison.v1.*",)),)
GARBAGE = b"\xff\xff\xff"
"""Not a protobuf message of any type (field number 0x7fff... with an invalid wire type)."""


@pytest.fixture
async def gateway(tmp_path: Path, pki: Pki) -> AsyncIterator[Gateway]:
    async with tls_gateway(tmp_path, pki, GRANTS) as started:
        yield started


def _refused_cleanly(error: aio.AioRpcError) -> None:
    assert error.code() not in (grpc.StatusCode.UNKNOWN, grpc.StatusCode.INTERNAL), (
        error.code(),
        error.details(),
    )
    assert "<class" not in (error.details() or "")


@pytest.mark.parametrize(
    ("method", "streaming"),
    [
        ("/grpc.health.v1.Health/Check", False),
        ("/grpc.health.v1.Health/List", False),
        ("/grpc.health.v1.Health/Watch", True),
    ],
)
async def test_garbage_to_health_is_an_invalid_argument(
    gateway: Gateway, pki: Pki, method: str, streaming: bool
) -> None:
    """WRONG: Health is registered with the generated helper, whose deserializer raises on bytes
    that are not a request message: the caller gets UNKNOWN "Unexpected <class
    'google.protobuf.message.DecodeError'>: Error parsing message with type
    'grpc.health.v1.HealthCheckRequest'" (any identity may call Health, no grant needed).

    RIGHT: as for Liaison's own services (``gateway.services.registration``): INVALID_ARGUMENT
    saying the request is not a valid message, with no exception name.
    """
    async with channel(gateway, pki, pki.client(OPERATOR)) as opened:
        with pytest.raises(aio.AioRpcError) as refused:
            await _send_garbage(opened, method, streaming)
    _refused_cleanly(refused.value)


async def _send_garbage(opened: aio.Channel, method: str, streaming: bool) -> None:
    if streaming:
        async for _ in opened.unary_stream(method, bytes, bytes)(GARBAGE, timeout=5):
            pass
    else:
        await opened.unary_unary(method, bytes, bytes)(GARBAGE, timeout=5)


@pytest.mark.parametrize("protocol", ["v1", "v1alpha"])
async def test_garbage_to_reflection_is_an_invalid_argument(
    gateway: Gateway, pki: Pki, protocol: str
) -> None:
    """WRONG: reflection (any identity, no grant needed) answers a garbage request message with
    UNKNOWN "Unexpected <class 'google.protobuf.message.DecodeError'>: ...".

    RIGHT: INVALID_ARGUMENT, with no exception name, over either reflection protocol.
    """
    method = f"/grpc.reflection.{protocol}.ServerReflection/ServerReflectionInfo"
    async with channel(gateway, pki, pki.client(OPERATOR)) as opened:
        with pytest.raises(aio.AioRpcError) as refused:
            async for _ in opened.stream_stream(method, bytes, bytes)(iter([GARBAGE]), timeout=5):
                pass
    _refused_cleanly(refused.value)


@pytest.mark.parametrize("field", ["committed_after", "committed_before"])
async def test_a_search_time_out_of_range_is_an_invalid_argument(
    gateway: Gateway, pki: Pki, field: str
) -> None:
    """WRONG: a Search whose ``committed_after`` (or ``committed_before``) has
    ``seconds = -2**62`` - a valid Timestamp on the wire - is turned into microseconds that no
    SQLite integer holds; the bind raises and the caller gets UNKNOWN "Unexpected <class
    'OverflowError'>: Python int too large to convert to SQLite INTEGER". (Large positive
    values are clamped; large negative ones are not.)

    RIGHT: INVALID_ARGUMENT naming the field (a time before 0001-01-01 or after 9999-12-31 is
    no commit time), or the value clamped like the positive ones.
    """
    request = exchange_pb2.SearchRequest(family_name="DOE")
    getattr(request, field).seconds = -(2**62)
    async with channel(gateway, pki, pki.client(OPERATOR)) as opened:
        with pytest.raises(aio.AioRpcError) as refused:
            async for _ in exchange_pb2_grpc.RecordExchangeStub(opened).Search(request):
                pass
    _refused_cleanly(refused.value)


def _lyon_checkpoint(pki: Pki, seconds: int, entries: int = 5) -> federation_pb2.AuditCheckpoint:
    checkpoint = federation_pb2.AuditCheckpoint(
        centre=LYON, entries=entries, head_hash="a" * 64, key_id=pki.keys[LYON].spec.key_id
    )
    checkpoint.time.seconds = seconds
    checkpoint.signature = pki.keys[LYON].signer().sign_statement(statement_of(checkpoint))
    return checkpoint


@pytest.mark.parametrize(
    ("seconds", "entries"),
    [
        pytest.param(2**62, 5, id="time-beyond-any-datetime"),
        pytest.param(-(2**62), 5, id="time-before-any-datetime"),
        pytest.param(253_402_300_800, 5, id="year-10000"),
        pytest.param(None, 2**64 - 1, id="entries-beyond-int64"),
    ],
)
async def test_a_checkpoint_out_of_range_is_an_invalid_argument_and_audited_as_such(
    gateway: Gateway, pki: Pki, seconds: int | None, entries: int
) -> None:
    """WRONG: ``Federation.KeepCheckpoint`` with a checkpoint time no ``datetime`` can hold
    (checked before the signature, so no valid signature is needed) fails inside the key ring
    with OSError/ValueError, and one with ``entries`` above 2**63-1 (signed by the peer) fails
    in the SQLite bind with OverflowError: UNKNOWN "Unexpected <class 'OSError'>: [Errno 75]
    Value too large for defined data type" and the like, audited as ``keep-checkpoint failed``.

    RIGHT: INVALID_ARGUMENT naming ``checkpoint.time`` or ``checkpoint.entries`` (as for the
    other malformed fields), audited with the outcome ``invalid-argument``.
    """
    checkpoint = _lyon_checkpoint(
        pki, int(time.time()) if seconds is None else seconds, entries=entries
    )
    async with channel(gateway, pki, pki.lyon) as opened:
        with pytest.raises(aio.AioRpcError) as refused:
            await federation_pb2_grpc.FederationStub(opened).KeepCheckpoint(
                federation_pb2.KeepCheckpointRequest(checkpoint=checkpoint)
            )
    _refused_cleanly(refused.value)
    assert refused.value.code() == grpc.StatusCode.INVALID_ARGUMENT

    # A refusal's status goes out as the call is aborted; its entry follows within a commit.
    def audited() -> list[dict[str, object]]:
        return [e for e in audit_entries(gateway) if e["action"] == "keep-checkpoint"]

    await until(lambda: bool(audited()), within=5)
    [entry] = audited()
    assert entry["outcome"] == "invalid-argument"
