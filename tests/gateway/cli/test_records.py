"""The ``liaison`` command against a real gateway: output, errors and exit codes.

Most tests call ``main()`` in a worker thread (the gateway serves on this test's event loop);
the last ones run the installed console script as operators do, to cover signals and startup.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import json
import os
import signal
import socket
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import grpc
import pytest
from google.protobuf import json_format
from grpc import aio
from grpc_health.v1 import health_pb2

from gateway.cli import main
from gateway.cli.jsonio import record_to_json
from gateway.server import Gateway
from liaison.v1 import exchange_pb2, record_pb2
from tests.factories import person, travel_document

LIAISON = Path(sys.executable).parent / "liaison"


async def liaison(capsys: pytest.CaptureFixture[str], *argv: str) -> tuple[int, str, str]:
    """Run ``main(argv)`` off the event loop; return the exit code, stdout and stderr."""
    code = await asyncio.to_thread(main, list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def jsonl(*records: record_pb2.Record) -> str:
    return "".join(record_to_json(record) + "\n" for record in records)


def invalid_person(record_id: str) -> record_pb2.Record:
    record = person(record_id)
    record.person.birth_date.month = 13
    return record


async def submitted(gateway: Gateway, *records: record_pb2.Record) -> None:
    async with aio.insecure_channel(gateway.address) as channel:
        submit = channel.unary_unary(
            "/liaison.v1.RecordExchange/Submit",
            request_serializer=exchange_pb2.SubmitRequest.SerializeToString,
            response_deserializer=exchange_pb2.SubmitResponse.FromString,
        )
        for record in records:
            await submit(exchange_pb2.SubmitRequest(record=record))


@contextlib.contextmanager
def closed_port() -> Iterator[int]:
    """A loopback port that refuses connections: bound (so nobody else takes it), not listening."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as reserved:
        reserved.bind(("127.0.0.1", 0))
        yield reserved.getsockname()[1]


async def test_submit_reports_counts_and_each_rejected_record(
    gateway: Gateway, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "records.jsonl"
    path.write_text(jsonl(person("P-0"), invalid_person("P-1"), travel_document("D-2")))

    code, out, err = await liaison(capsys, "--target", gateway.address, "submit", str(path))
    assert code == 1
    assert out == "stored 2, duplicates 0, rejected 1\n"
    assert err.splitlines() == [
        "record #1 (P-1): person.birth_date.month: must be 1 to 12, or 0 when unknown"
    ]

    code, out, _ = await liaison(
        capsys, "submit", str(path), "--batch-size", "1", "--target", gateway.address
    )
    assert (code, out) == (1, "stored 0, duplicates 2, rejected 1\n")


async def test_submit_a_json_array_cleanly(
    gateway: Gateway, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "records.json"
    documents = [json.loads(record_to_json(person(f"P-{i}"))) for i in range(3)]
    path.write_text(json.dumps(documents, indent=2))
    code, out, err = await liaison(capsys, "--target", gateway.address, "submit", str(path))
    assert (code, out, err) == (0, "stored 3, duplicates 0, rejected 0\n", "")


async def test_submit_from_standard_input(
    gateway: Gateway, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    data = jsonl(person("P-1"), person("P-2")).encode()
    monkeypatch.setattr(sys, "stdin", io.TextIOWrapper(io.BytesIO(data)))
    code, out, _ = await liaison(capsys, "--target", gateway.address, "submit", "-")
    assert (code, out) == (0, "stored 2, duplicates 0, rejected 0\n")


async def test_submit_malformed_file_is_a_usage_error(
    gateway: Gateway, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "records.jsonl"
    path.write_text(jsonl(person("P-1")) + '{"recordId": "P-2", "person": {"sex": "SECRET"}}\n')
    code, out, err = await liaison(capsys, "--target", gateway.address, "submit", str(path))
    assert (code, out) == (2, "")
    assert err.startswith(f"liaison: error: {path}: line 2: person.sex: not a liaison.v1.Sex value")
    assert "SECRET" not in err
    assert len(err.splitlines()) == 1


async def test_get(gateway: Gateway, capsys: pytest.CaptureFixture[str]) -> None:
    await submitted(gateway, person("P-1"), person("P-1", given="JOAN"))

    code, out, err = await liaison(capsys, "--target", gateway.address, "get", "P-1")
    assert (code, err) == (0, "")
    assert len(out.splitlines()) == 1
    record = json_format.Parse(out, record_pb2.Record())
    assert (record.record_id, record.version, record.person.names[0].given) == ("P-1", 2, "JOAN")

    code, out, _ = await liaison(
        capsys, "--target", gateway.address, "get", "P-1", "--version", "1"
    )
    assert code == 0
    assert json.loads(out)["person"]["names"][0]["given"] == "JANE"


async def test_get_missing_record_exits_1(
    gateway: Gateway, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = await liaison(capsys, "--target", gateway.address, "get", "P-404")
    assert (code, out) == (1, "")
    assert err.startswith("liaison: error: ")
    assert err.endswith("(NOT_FOUND)\n")
    assert "P-404" in err


async def test_search_pages_cursor_and_all(
    gateway: Gateway, capsys: pytest.CaptureFixture[str]
) -> None:
    await submitted(
        gateway,
        *(person(f"P-{i}", family="MARTIN", birth=(1980, 1 + i, 1)) for i in range(3)),
        person("P-OTHER", family="DUPONT"),
        travel_document("D-1", family="MARTIN"),
    )
    target = ("--target", gateway.address)

    code, out, err = await liaison(
        capsys, *target, "search", "--family-name", "martin", "--kind", "person", "--page-size", "2"
    )
    assert code == 0
    hits = [json.loads(line) for line in out.splitlines()]
    assert [hit["record"]["recordId"] for hit in hits] == ["P-0", "P-1"]
    assert err.startswith("next cursor: ")
    cursor = err.removeprefix("next cursor: ").strip()

    code, out, err = await liaison(
        capsys, *target, "search", "--family-name", "martin", "--kind", "person", "--cursor", cursor
    )
    assert (code, err) == (0, "")
    assert [json.loads(line)["record"]["recordId"] for line in out.splitlines()] == ["P-2"]

    code, out, err = await liaison(
        capsys, *target, "search", "--family-name", "MARTIN", "--page-size", "1", "--all"
    )
    assert (code, err) == (0, "")
    found = [json.loads(line)["record"]["recordId"] for line in out.splitlines()]
    assert found == ["P-0", "P-1", "P-2", "D-1"]

    code, out, _ = await liaison(
        capsys, *target, "search", "--family-name", "martin", "--birth-date", "1980-02"
    )
    assert [json.loads(line)["record"]["recordId"] for line in out.splitlines()] == ["P-1"]


async def test_search_without_hits_exits_1(
    gateway: Gateway, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = await liaison(
        capsys, "--target", gateway.address, "search", "--family-name", "NOBODY"
    )
    assert (code, out, err) == (1, "", "")


async def test_refusal_prints_field_violations_indented(
    gateway: Gateway, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out, err = await liaison(
        capsys, "--target", gateway.address, "search", "--family-name", "X", "--cursor", "bogus"
    )
    assert (code, out) == (1, "")
    first, *violations = err.splitlines()
    assert first.startswith("liaison: error: ")
    assert first.endswith("(INVALID_ARGUMENT)")
    assert violations
    assert all(line.startswith("  cursor: ") for line in violations)


async def test_subscribe_with_limit_and_kind(
    gateway: Gateway, capsys: pytest.CaptureFixture[str]
) -> None:
    await submitted(gateway, person("P-1"), travel_document("D-1"), person("P-2"), person("P-3"))
    target = ("--target", gateway.address)

    code, out, _ = await liaison(capsys, *target, "subscribe", "--after", "0", "--limit", "2")
    assert code == 0
    events = [json.loads(line) for line in out.splitlines()]
    assert [event["record"]["recordId"] for event in events] == ["P-1", "D-1"]
    assert [event["metadata"]["sequence"] for event in events] == ["1", "2"]

    code, out, _ = await liaison(
        capsys, *target, "subscribe", "--after", "1", "--kind", "person", "--limit", "2"
    )
    assert code == 0
    assert [json.loads(line)["record"]["recordId"] for line in out.splitlines()] == ["P-2", "P-3"]


async def test_health(gateway: Gateway, capsys: pytest.CaptureFixture[str]) -> None:
    assert await liaison(capsys, "--target", gateway.address, "health") == (0, "SERVING\n", "")
    code, out, _ = await liaison(
        capsys, "--target", gateway.address, "health", "--service", "liaison.v1.RecordExchange"
    )
    assert (code, out) == (0, "SERVING\n")
    code, out, _ = await liaison(
        capsys, "--target", gateway.address, "health", "--service", "no.such.Service"
    )
    assert (code, out) == (1, "SERVICE_UNKNOWN\n")


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


# --- the console script in its own process -------------------------------------------------------


def child_environment() -> dict[str, str]:
    environment = {k: v for k, v in os.environ.items() if not k.startswith("LIAISON_")}
    environment["PYTHONUNBUFFERED"] = "1"
    # A child that hangs is sent SIGABRT, and then prints every thread's stack for the report.
    environment["PYTHONFAULTHANDLER"] = "1"
    return environment


async def read_until(stream: asyncio.StreamReader, marker: str) -> str:
    """Read lines until one contains ``marker`` (30 s at most); return that line."""
    seen: list[str] = []
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(30):
            while line := (await stream.readline()).decode():
                if marker in line:
                    return line
                seen.append(line)
    raise AssertionError(f"{marker!r} never came; got:\n{''.join(seen)}")


@contextlib.asynccontextmanager
async def child(*argv: str, cwd: Path | None = None) -> AsyncIterator[asyncio.subprocess.Process]:
    """``liaison argv``, killed at the end if it is still running."""
    process = await asyncio.create_subprocess_exec(
        str(LIAISON),
        *argv,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        env=child_environment(),
        cwd=cwd,
    )
    try:
        yield process
    finally:
        if process.returncode is None:
            process.kill()
            await process.wait()


@pytest.mark.slow
async def test_serve_health_and_sigterm(tmp_path: Path) -> None:
    serve = ("serve", "--listen", "127.0.0.1:0", "--db", "centre.db", "--centre-id", "CLI-TEST")
    async with child(*serve, cwd=tmp_path) as server:
        assert server.stderr is not None
        line = await read_until(server.stderr, "listening on")
        assert line.startswith("liaison: centre CLI-TEST listening on 127.0.0.1:")
        assert line.rstrip().endswith("(store centre.db)")
        address = line.split("listening on ")[1].split()[0]
        assert not address.endswith(":0")

        async with child("--target", address, "health") as probe:
            out, err = await asyncio.wait_for(probe.communicate(), timeout=30)
        assert (probe.returncode, out, err) == (0, b"SERVING\n", b"")

        server.send_signal(signal.SIGTERM)
        try:
            code = await asyncio.wait_for(server.wait(), timeout=15)
        except TimeoutError:
            server.send_signal(signal.SIGABRT)
            _, err = await server.communicate()
            pytest.fail(f"the gateway did not stop after SIGTERM:\n{err.decode()}")
        assert code == 0
    assert (tmp_path / "centre.db").exists()


@pytest.mark.slow
async def test_ctrl_c_exits_130_quietly(gateway: Gateway) -> None:
    await submitted(gateway, person("P-1"))
    async with child("--target", gateway.address, "subscribe", "--after", "0") as subscriber:
        assert subscriber.stdout is not None
        assert subscriber.stderr is not None
        first = await asyncio.wait_for(subscriber.stdout.readline(), timeout=30)
        assert json.loads(first)["record"]["recordId"] == "P-1"
        await read_until(subscriber.stderr, "caught up at sequence 1")

        subscriber.send_signal(signal.SIGINT)
        rest, err = await asyncio.wait_for(subscriber.communicate(), timeout=10)
    assert subscriber.returncode == 130
    assert (rest, err) == (b"", b"")
