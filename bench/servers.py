"""Server subprocesses: start one, learn its port from its startup line, stop it cleanly.

Each server runs in its own process so that the server's CPU and memory are its own (RSS is read
from ``/proc/<pid>/status``) and the load generator's Python does not share its interpreter.
Servers are started in a new session, so a Ctrl-C in the terminal reaches only the benchmark,
which then stops them in order (SIGTERM, wait, SIGKILL on timeout).
"""

from __future__ import annotations

import asyncio
import os
import re
import shutil
import signal
import sys
import tempfile
from collections import deque
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path

from bench.records import BENCH_CENTRE
from bench.signing import write_signing_config
from bench.subscribers import write_subscribers_config

__all__ = [
    "REPO_ROOT",
    "ServerFailedError",
    "ServerProcess",
    "kill_leftovers",
    "read_cpu_seconds",
    "read_rss_kib",
    "running_server",
    "server_argv",
]

REPO_ROOT = Path(__file__).resolve().parent.parent
"""Servers run from the repository root so that ``-m bench.echo_server`` imports."""

HOST = "127.0.0.1"
"""The only address the benchmark listens on or connects to."""

# Both servers announce "... listening on 127.0.0.1:PORT ..." once bound; only loopback matches.
_PORT_LINE = re.compile(rb"listening on 127\.0\.0\.1:(\d+)")
_TAIL_LINES = 40

_live: set[asyncio.subprocess.Process] = set()
"""Started and not yet reaped, for :func:`kill_leftovers`."""


class ServerFailedError(RuntimeError):
    """A server did not start, or died while measured; the message ends with its last output."""


def server_argv(kind: str, workdir: Path, config: Path | None = None) -> list[str]:
    """The command line of a ``kind`` server ("echo", "gateway", "gateway-unscreened",
    "gateway-signed", "gateway-subscribers", "gateway-sdk", "gateway-http", "official" or
    "gateway-postgresql") keeping its files in workdir; "gateway-postgresql" serves the centre
    file ``config`` (a replica on PostgreSQL, bench/postgresql.py)."""
    if kind == "echo":
        return [sys.executable, "-m", "bench.echo_server", "--listen", f"{HOST}:0"]
    if kind == "gateway":
        serve = [sys.executable, "-m", "gateway.cli", "serve", "--centre-id", BENCH_CENTRE]
        return [*serve, "--listen", f"{HOST}:0", "--db", str(workdir / "bench.db")]
    if kind == "gateway-unscreened":
        # The gateway with automatic screening off (the submit scenario, comparable with the
        # rounds before screening existed; the screened scenario runs the default "gateway").
        config = workdir / "unscreened.toml"
        config.write_text(
            f'[centre]\nid = "{BENCH_CENTRE}"\n\n[screening]\nscreen_on_commit = []\n',
            encoding="utf-8",
        )
        serve = [sys.executable, "-m", "gateway.cli", "serve", "--config", str(config)]
        return [*serve, "--listen", f"{HOST}:0", "--db", str(workdir / "bench.db")]
    if kind == "gateway-signed":
        # The same gateway signing every version it stores (the signing scenario).
        config = write_signing_config(workdir, BENCH_CENTRE)
        serve = [sys.executable, "-m", "gateway.cli", "serve", "--config", str(config)]
        return [*serve, "--listen", f"{HOST}:0", "--db", str(workdir / "bench.db")]
    if kind == "gateway-subscribers":
        # The default gateway, with room for the subscribers scenario's streams.
        config = write_subscribers_config(workdir, BENCH_CENTRE)
        serve = [sys.executable, "-m", "gateway.cli", "serve", "--config", str(config)]
        return [*serve, "--listen", f"{HOST}:0", "--db", str(workdir / "bench.db")]
    if kind == "gateway-sdk":
        # The gateway on the stock OpenTelemetry SDK pipeline (telemetry scenario).
        config = workdir / "centre.toml"
        config.write_text(
            f'[centre]\nid = "{BENCH_CENTRE}"\n\n[telemetry]\npipeline = "sdk"\n',
            encoding="utf-8",
        )
        serve = [sys.executable, "-m", "gateway.cli", "serve", "--config", str(config)]
        return [*serve, "--listen", f"{HOST}:0", "--db", str(workdir / "bench.db")]
    if kind == "gateway-http":
        # The unscreened gateway with its HTTP listener on loopback (the http scenario): the
        # same Submit over gRPC and over Connect JSON, on one server.
        config = workdir / "http.toml"
        config.write_text(
            f'[centre]\nid = "{BENCH_CENTRE}"\n\n[screening]\nscreen_on_commit = []\n\n'
            f'[http]\nlisten = "{HOST}:0"\n',
            encoding="utf-8",
        )
        serve = [sys.executable, "-m", "gateway.cli", "serve", "--config", str(config)]
        return [*serve, "--listen", f"{HOST}:0", "--db", str(workdir / "bench.db")]
    if kind == "gateway-postgresql":
        if config is None:
            raise ValueError("a gateway-postgresql server needs its centre file")
        return [sys.executable, "-m", "gateway.cli", "serve", "--config", str(config)]
    if kind == "official":
        # The gateway with the official OpenTelemetry gRPC interceptor (telemetry scenario).
        serve = [sys.executable, "-m", "bench.official_gateway", "--centre-id", BENCH_CENTRE]
        return [*serve, "--listen", f"{HOST}:0", "--db", str(workdir / "bench.db")]
    raise ValueError(f"unknown server kind {kind!r}")


@dataclass(slots=True)
class ServerProcess:
    """A running server."""

    kind: str
    process: asyncio.subprocess.Process
    port: int
    output: deque[str] = field(default_factory=lambda: deque(maxlen=_TAIL_LINES))
    """The server's last lines of stdout and stderr, for error messages."""
    exit_code: int | None = None
    """Set once stopped: 0 for a clean exit, negative for the signal that ended it."""
    killed: bool = False
    """True when the server ignored SIGTERM for too long and was killed."""

    @property
    def pid(self) -> int:
        """Process id, for ``/proc/<pid>``."""
        return self.process.pid

    @property
    def address(self) -> str:
        """The ``host:port`` to connect to."""
        return f"{HOST}:{self.port}"

    def check_alive(self) -> None:
        """Raise :class:`ServerFailedError` when the process has exited."""
        if self.process.returncode is not None:
            raise ServerFailedError(
                f"{self.kind} server exited with {self.process.returncode} while measured"
                + _format_tail(self.output)
            )


def _format_tail(lines: deque[str]) -> str:
    if not lines:
        return " (no output)"
    return "; its last output:\n    " + "\n    ".join(lines)


async def _wait_for_port(process: asyncio.subprocess.Process, output: deque[str]) -> int:
    assert process.stdout is not None
    while True:
        line = await process.stdout.readline()
        if not line:
            await process.wait()
            raise ServerFailedError(
                f"server exited with {process.returncode} before listening" + _format_tail(output)
            )
        output.append(line.decode(errors="replace").rstrip())
        match = _PORT_LINE.search(line)
        if match:
            return int(match.group(1))


async def _drain(process: asyncio.subprocess.Process, output: deque[str]) -> None:
    # Keep reading so that a talkative server never blocks on a full pipe.
    assert process.stdout is not None
    while line := await process.stdout.readline():
        output.append(line.decode(errors="replace").rstrip())


async def _stop(process: asyncio.subprocess.Process, patience_s: float) -> bool:
    """SIGTERM, wait up to ``patience_s`` seconds, then SIGKILL; True when it had to kill."""
    killed = False
    if process.returncode is None:
        with suppress(ProcessLookupError):
            process.send_signal(signal.SIGTERM)
        try:
            await asyncio.wait_for(process.wait(), patience_s)
        except TimeoutError:
            killed = True
            with suppress(ProcessLookupError):
                process.kill()
            await process.wait()
    _live.discard(process)
    return killed


@asynccontextmanager
async def running_server(
    kind: str,
    *,
    scratch: Path,
    startup_timeout: float = 60.0,
    stop_timeout: float = 15.0,
    environment: Mapping[str, str] | None = None,
    config: Path | None = None,
) -> AsyncIterator[ServerProcess]:
    """Start a fresh ``kind`` server, yield it once it listens, and always stop it afterwards.

    ``environment`` adds variables to the server's environment (the telemetry scenario's
    ``OTEL_*``).

    The server's files (the gateway's database) live in a new folder under ``scratch`` that is
    removed after the server has stopped.
    """
    workdir = Path(tempfile.mkdtemp(prefix=f"{kind}-", dir=scratch))
    argv: Sequence[str] = server_argv(kind, workdir, config)
    output: deque[str] = deque(maxlen=_TAIL_LINES)
    # Unbuffered, so that the startup line arrives as soon as it is printed.
    env = {**os.environ, **(environment or {}), "PYTHONUNBUFFERED": "1"}
    process = await asyncio.create_subprocess_exec(
        *argv,
        stdin=asyncio.subprocess.DEVNULL,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
        cwd=REPO_ROOT,
        env=env,
        start_new_session=True,
    )
    _live.add(process)
    drain: asyncio.Task[None] | None = None
    server = ServerProcess(kind=kind, process=process, port=0, output=output)
    try:
        try:
            server.port = await asyncio.wait_for(_wait_for_port(process, output), startup_timeout)
        except TimeoutError:
            raise ServerFailedError(
                f"{kind} server printed no 'listening on {HOST}:PORT' line within "
                f"{startup_timeout:.0f} s" + _format_tail(output)
            ) from None
        drain = asyncio.create_task(_drain(process, output))
        yield server
    finally:
        server.killed = await _stop(process, stop_timeout)
        server.exit_code = process.returncode
        if drain is not None:
            # The pipe closes when the process exits; give the drain a moment to see the end.
            with suppress(TimeoutError, asyncio.CancelledError):
                await asyncio.wait_for(drain, 2.0)
        shutil.rmtree(workdir, ignore_errors=True)


def kill_leftovers() -> None:
    """SIGKILL any server still running: the last resort when the event loop was torn down."""
    for process in list(_live):
        if process.returncode is None:
            with suppress(ProcessLookupError):
                os.kill(process.pid, signal.SIGKILL)
    _live.clear()


def read_rss_kib(pid: int) -> tuple[int, int]:
    """(VmRSS, VmHWM) in KiB of process ``pid`` and its descendants (the gateway's worker
    processes), summed: resident memory now and the sum of each process's peak so far."""
    rss = hwm = 0
    for process in _with_descendants(pid):
        values: dict[str, int] = {}
        try:
            with open(f"/proc/{process}/status", encoding="ascii") as status:
                for line in status:
                    key, _, rest = line.partition(":")
                    if key in ("VmRSS", "VmHWM"):
                        values[key] = int(rest.split()[0])
        except (FileNotFoundError, ProcessLookupError):
            if process == pid:
                raise
            continue  # a child that ended meanwhile
        rss += values.get("VmRSS", 0)
        hwm += values.get("VmHWM", 0)
    return rss, hwm


_CLOCK_TICKS = os.sysconf("SC_CLK_TCK")


def _stat_fields(pid: int) -> list[str]:
    """The fields of ``/proc/PID/stat`` from field 3 (state) on."""
    with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
        text = stat.read()
    # The command name may contain spaces and parentheses; the fields after the last ")" are
    # positional from field 3: ppid (field 4) is at 1, utime (14) and stime (15) at 11 and 12.
    return text[text.rindex(")") + 2 :].split()


def _with_descendants(pid: int) -> list[int]:
    """``pid`` and every live process below it (the gateway's preparation workers)."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            parent = int(_stat_fields(int(entry))[1])
        except (FileNotFoundError, ProcessLookupError, ValueError, IndexError):
            continue
        children.setdefault(parent, []).append(int(entry))
    found = [pid]
    for process in found:  # grows while iterating: a breadth-first walk
        found += children.get(process, [])
    return found


def read_cpu_seconds(pid: int) -> float:
    """User plus system CPU time of process ``pid`` and its live descendants (all threads), in
    seconds: the gateway's work includes its preparation worker processes."""
    total = 0
    for process in _with_descendants(pid):
        try:
            fields = _stat_fields(process)
        except (FileNotFoundError, ProcessLookupError):
            if process == pid:
                raise
            continue
        total += int(fields[11]) + int(fields[12])
    return total / _CLOCK_TICKS
