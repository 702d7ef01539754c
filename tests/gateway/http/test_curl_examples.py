"""The curl examples of docs/http.md and the README, run as written against a real gateway."""

from __future__ import annotations

import asyncio
import json
import re
import shlex
import shutil
from pathlib import Path

import pytest

from gateway.server import Gateway
from tests.support import grpcweb

ROOT = Path(__file__).resolve().parents[3]
_BLOCK = re.compile(r"```sh\n(.*?)```", re.DOTALL)


def _commands(document: Path) -> list[list[str]]:
    commands = []
    for block in _BLOCK.findall(document.read_text(encoding="utf-8")):
        joined = block.replace("\\\n", " ")
        for line in joined.splitlines():
            line = line.split("  #")[0].strip()
            if line.startswith("curl") and "..." not in line and "Subscribe" not in line:
                commands.append(shlex.split(line))
    return commands


@pytest.mark.skipif(shutil.which("curl") is None, reason="curl is not installed")
async def test_the_documented_curl_calls_succeed(gateway: Gateway) -> None:
    commands = _commands(ROOT / "docs" / "http.md") + _commands(ROOT / "README.md")
    assert len(commands) >= 5
    for command in commands:
        argv = [part.replace("localhost:8080", gateway.http_address) for part in command]
        process = await asyncio.create_subprocess_exec(
            *argv, "--fail-with-body", stdout=asyncio.subprocess.PIPE
        )
        output, _ = await process.communicate()
        assert process.returncode == 0, (command, output)
        if "content-type: application/grpc-web-text" in command:
            # gRPC-Web: base64 frames, the status in the trailers frame at the end.
            _, trailers, _ = grpcweb.parse(output, text=True)
            assert trailers["grpc-status"] == "0", (command, trailers)
            continue
        for line in output.decode().splitlines():
            answer = json.loads(line)  # every answer, and every NDJSON line, is JSON
            assert "code" not in answer or answer["code"] == "ok"
