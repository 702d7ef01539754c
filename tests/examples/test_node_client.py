"""The Node.js client of examples/node-client against a real gateway (``liaison serve``).

``make node-client-test`` (part of ``make test``) installs its locked packages with ``npm ci``
and runs this test; elsewhere it is skipped when they are not installed. The gateway runs as an
operator starts it, on an ephemeral loopback port with its store in a temporary directory; the
client runs under the machine's ``node``.
"""

from __future__ import annotations

import shutil
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.processes import GatewayProcess

CLIENT = Path(__file__).resolve().parents[2] / "examples" / "node-client"
NODE = shutil.which("node")

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(
        NODE is None or not (CLIENT / "node_modules").is_dir(),
        reason="needs node and examples/node-client/node_modules (make node-client-test)",
    ),
]


@pytest.fixture
def gateway_address(tmp_path: Path) -> Iterator[str]:
    gateway = GatewayProcess(tmp_path / "node.db")
    try:
        yield gateway.start()
    finally:
        gateway.terminate()


def test_the_node_client_submits_gets_searches_follows_and_reads_violations(
    gateway_address: str,
) -> None:
    assert NODE is not None
    done = subprocess.run(
        [NODE, "client.js", "--target", gateway_address, "--prefix", "NODE"],
        cwd=CLIENT,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    lines = done.stdout.splitlines()
    assert lines[0] == "submitted NODE-1 version 1 (sequence 1)"
    assert lines[1] == "got NODE-1 version 1: LOVELACE, ADA born 1815-12-10"
    assert lines[2] == "searched LOVELACE: NODE-1"
    assert lines[3] == "followed NODE-2 version 1 (sequence 2)"
    assert lines[4] == "refused INVALID_ARGUMENT: record NODE-3 is invalid: 1 field violation(s)"
    # The field violation, read from grpc-status-details-bin with the shipped google.rpc protos,
    # in the one path format: from the record.
    assert lines[5:] == ["  person.birth_date.month: must be 1 to 12, or 0 when unknown"]
