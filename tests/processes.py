"""Gateways as separate processes, started the way operators start them (``liaison serve``)."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

_LISTENING = re.compile(r"listening on (\S+:\d+)")


class GatewayProcess:
    """A ``python -m gateway.cli serve`` child process on an ephemeral loopback port."""

    def __init__(self, db_path: Path, *, centre_id: str = "TEST-CENTRE") -> None:
        self.db_path = db_path
        self.centre_id = centre_id
        self.process: subprocess.Popen[str] | None = None
        self.address = ""

    def start(self, timeout: float = 30.0) -> str:
        """Start the process and return its ``host:port`` once it listens."""
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "gateway.cli",
                "serve",
                "--listen",
                "127.0.0.1:0",
                "--db",
                str(self.db_path),
                "--centre-id",
                self.centre_id,
            ],
            stderr=subprocess.PIPE,
            stdout=subprocess.DEVNULL,
            text=True,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
        )
        assert self.process.stderr is not None
        deadline = time.monotonic() + timeout
        seen: list[str] = []
        while time.monotonic() < deadline:
            line = self.process.stderr.readline()
            if not line:
                break
            seen.append(line)
            match = _LISTENING.search(line)
            if match:
                self.address = match.group(1)
                return self.address
        self.kill()
        raise RuntimeError("gateway did not start:\n" + "".join(seen))

    def kill(self) -> None:
        """SIGKILL: no shutdown code runs, as in a crash."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=10)

    def terminate(self, timeout: float = 15.0) -> int:
        """SIGTERM and wait for the exit code."""
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout=timeout)
