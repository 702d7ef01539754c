"""Gateways as separate processes, started the way operators start them (``liaison serve``)."""

from __future__ import annotations

import os
import queue
import re
import signal
import subprocess
import sys
import threading
from collections.abc import Mapping
from pathlib import Path

_LISTENING = re.compile(r"listening on (\S+:\d+)")


class GatewayProcess:
    """A ``python -m gateway.cli serve`` child process on an ephemeral loopback port.

    Its stderr is drained by a thread for the life of the process (a full pipe would block the
    gateway) and kept in :attr:`output` for failure messages.
    """

    def __init__(
        self,
        db_path: Path,
        *,
        centre_id: str = "TEST-CENTRE",
        environment: Mapping[str, str] | None = None,
    ) -> None:
        self.db_path = db_path
        self.centre_id = centre_id
        self.environment = dict(environment or {})
        """Variables added to the process's environment (e.g. ``OTEL_*``)."""
        self.process: subprocess.Popen[str] | None = None
        self.address = ""
        self.output: list[str] = []
        self._lines: queue.Queue[str | None] = queue.Queue()
        self._drain: threading.Thread | None = None

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
            env={**os.environ, **self.environment, "PYTHONUNBUFFERED": "1"},
        )
        self._drain = threading.Thread(target=self._read_stderr, daemon=True)
        self._drain.start()
        while True:
            try:
                line = self._lines.get(timeout=timeout)
            except queue.Empty:
                line = None
            if line is None:
                self.kill()
                raise RuntimeError("gateway did not start:\n" + "".join(self.output))
            match = _LISTENING.search(line)
            if match:
                self.address = match.group(1)
                return self.address

    def _read_stderr(self) -> None:
        assert self.process is not None
        assert self.process.stderr is not None
        with self.process.stderr:
            for line in self.process.stderr:
                self.output.append(line)
                self._lines.put(line)
        self._lines.put(None)

    def kill(self) -> None:
        """SIGKILL: no shutdown code runs, as in a crash."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=10)
        self._join()

    def terminate(self, timeout: float = 15.0) -> int:
        """SIGTERM and wait for the exit code."""
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)
        code = self.process.wait(timeout=timeout)
        self._join()
        return code

    def _join(self) -> None:
        if self._drain is not None:
            self._drain.join(timeout=10)
