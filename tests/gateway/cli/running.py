"""Running the ``liaison`` command in tests: in-process through ``main()``, or as the console
script in a process of its own; and what those tests share."""

from __future__ import annotations

import asyncio
import contextlib
import os
import socket
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from grpc import aio

from gateway.cli import main
from gateway.cli.jsonio import record_to_json
from gateway.server import Gateway
from liaison.v1 import exchange_pb2, record_pb2
from tests.support.factories import person

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
