"""How a client command reaches its gateway, and what it says when it cannot: unreachable, too
slow, or a TLS handshake refused."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import grpc
import pytest
from grpc import aio
from grpc_health.v1 import health_pb2

from gateway.security.certs import CertificateAuthority, IssuedCertificate
from tests.gateway.cli.running import closed_port, liaison
from tests.support.mtls import I2C, LYON, Pki, tls_gateway


async def test_unreachable_gateway_exits_3(capsys: pytest.CaptureFixture[str]) -> None:
    with closed_port() as port:
        target = f"127.0.0.1:{port}"
        # Long enough for the five attempts (at most 1.5 s of backoff) to end in UNAVAILABLE.
        code, out, err = await liaison(capsys, "--target", target, "--timeout", "5", "get", "P-1")
    assert (code, out) == (3, "")
    assert err.startswith(f"liaison: error: cannot reach the gateway at {target}: ")
    assert len(err.splitlines()) == 1


@contextlib.asynccontextmanager
async def silent_health_server() -> AsyncIterator[str]:
    """A server whose health check never answers in time."""

    async def check(request: Any, context: Any) -> Any:
        await asyncio.sleep(5)
        return health_pb2.HealthCheckResponse(status=health_pb2.HealthCheckResponse.SERVING)

    server = aio.server()
    handler = grpc.unary_unary_rpc_method_handler(
        check,
        request_deserializer=health_pb2.HealthCheckRequest.FromString,
        response_serializer=health_pb2.HealthCheckResponse.SerializeToString,
    )
    server.add_generic_rpc_handlers(
        [grpc.method_handlers_generic_handler("grpc.health.v1.Health", {"Check": handler})]
    )
    port = server.add_insecure_port("127.0.0.1:0")
    await server.start()
    try:
        yield f"127.0.0.1:{port}"
    finally:
        await server.stop(0)


async def test_deadline_exceeded_exits_3(capsys: pytest.CaptureFixture[str]) -> None:
    async with silent_health_server() as address:
        code, out, err = await liaison(capsys, "--target", address, "--timeout", "0.2", "health")
    assert (code, out) == (3, "")
    assert err == f"liaison: error: the gateway at {address} did not answer before the deadline\n"


async def test_a_refused_tls_handshake_is_one_line_naming_the_cause_and_the_option(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pki = Pki(tmp_path)
    stranger = CertificateAuthority.create(tmp_path / "stranger")
    mine = pki.client("customs-a")
    theirs = stranger.issue_client("customs-a")

    def tls(issued: IssuedCertificate, ca: Path, centre: str = I2C) -> list[str]:
        return [
            *("--cert", str(issued.certificate), "--key", str(issued.private_key)),
            *("--ca", str(ca), "--server-centre", centre),
        ]

    cases = [
        ([], "closed the connection at once", "(--cert, --key and --ca, or $LIAISON_CERT,"),
        (tls(theirs, pki.ca.certificate_path), "did not accept this client's", "(--cert or"),
        (tls(mine, stranger.certificate_path), "does not trust the certificate", "(--ca or"),
        (tls(mine, pki.ca.certificate_path, LYON), f"not carry centre {LYON}'s", "--server-"),
    ]
    async with tls_gateway(tmp_path, pki, []) as gateway:
        code, out, _ = await liaison(
            capsys, *tls(mine, pki.ca.certificate_path), "--target", gateway.address, "health"
        )
        assert (code, out) == (0, "SERVING\n")
        for options, cause, where in cases:
            code, out, err = await liaison(capsys, *options, "--target", gateway.address, "health")
            assert (code, out) == (3, ""), options
            assert err.startswith("liaison: error: "), err
            assert f"the gateway at {gateway.address} " in err, err
            assert cause in err, err
            assert where in err, err
            assert len(err.splitlines()) == 1, err
