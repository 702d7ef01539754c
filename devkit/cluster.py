"""Several centres on one machine: certificates, TOML files and ``liaison serve`` processes.

Used by ``liaison demo`` and by the federation tests, which both need real gateways in separate
processes talking mutual TLS over loopback, started exactly as operators start them.
"""

from __future__ import annotations

import datetime as dt
import json
import os
import queue
import re
import signal
import socket
import subprocess
import sys
import threading
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from gateway.audit.keys import create_key_file
from gateway.security.certs import CertificateAuthority
from gateway.signing import SigningKeySpec, create_centre_signing_key

__all__ = [
    "CentrePlan",
    "CentreProcess",
    "Route",
    "ServeProcess",
    "audit_key_path",
    "free_port",
    "write_cluster",
]

_LISTENING = re.compile(r"listening on (\S+:\d+)")


@dataclass(frozen=True, slots=True)
class Route:
    """A ``[[routes]]`` entry."""

    peers: tuple[str, ...]
    name: str = ""
    kinds: tuple[str, ...] = ()
    handling: tuple[str, ...] = ()
    originating_centres: tuple[str, ...] = ()
    allow_h2: bool = False


@dataclass(frozen=True, slots=True)
class CentrePlan:
    """One centre of the cluster."""

    centre_id: str
    port: int
    routes: tuple[Route, ...] = ()
    peers: tuple[str, ...] = ()
    """Centre ids this centre forwards to and accepts deliveries from."""
    clients: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    """Client certificate name -> method patterns it is granted."""
    acts_for: Mapping[str, str] = field(default_factory=dict)
    """Client certificate name -> the centre it reads for (default: this centre)."""
    delivery: Mapping[str, float] = field(default_factory=dict)
    """``[delivery]`` settings (max_attempts, initial_backoff_seconds, ...)."""
    tls: bool = True
    """False: plaintext on loopback (no ``[tls]``, no grants) - for comparisons in benchmarks."""
    screen_on_commit: tuple[str, ...] | None = None
    """``[screening] screen_on_commit``: the kinds screened when committed (``()`` screens
    nothing); the gateway's default when ``None``."""


def free_port() -> int:
    """A loopback port free right now (a centre's address must be known before it starts)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def write_cluster(directory: Path, plans: Sequence[CentrePlan]) -> dict[str, Path]:
    """Issue certificates and write one TOML file per centre; returns the files by centre id."""
    pki = directory / "pki"
    authority = (
        CertificateAuthority.load(pki)
        if (pki / "ca.pem").exists()
        else CertificateAuthority.create(pki)
    )
    ports = {plan.centre_id: plan.port for plan in plans}
    keys = {plan.centre_id: _signing_key(pki / "signing", plan.centre_id) for plan in plans}
    configs: dict[str, Path] = {}
    for plan in plans:
        authority.issue_centre(plan.centre_id)
        for client in plan.clients:
            if not (pki / "clients" / f"{client}.pem").exists():
                authority.issue_client(client)
        home = directory / plan.centre_id
        home.mkdir(parents=True, exist_ok=True)
        key = audit_key_path(directory, plan.centre_id)
        if plan.tls and not key.exists():
            create_key_file(key)
        path = home / "centre.toml"
        path.write_text(_toml(plan, pki, ports, keys), encoding="utf-8")
        configs[plan.centre_id] = path
    return configs


def _signing_key(directory: Path, centre_id: str) -> tuple[SigningKeySpec, Path]:
    """The centre's signing key in a cluster directory, made on first use (its id and validity
    kept beside it, so that a cluster written again keeps its keys)."""
    sidecar = directory / f"{centre_id}.json"
    if sidecar.exists():
        kept = json.loads(sidecar.read_text(encoding="utf-8"))
        spec = SigningKeySpec(
            key_id=kept["id"],
            public_key=Path(kept["public_key"]),
            not_before=dt.datetime.fromisoformat(kept["not_before"]),
            not_after=dt.datetime.fromisoformat(kept["not_after"]),
        )
        return spec, Path(kept["private_key"])
    spec, private = create_centre_signing_key(directory, centre_id)
    sidecar.write_text(
        json.dumps(
            {
                "id": spec.key_id,
                "public_key": str(spec.public_key),
                "private_key": str(private),
                "not_before": spec.not_before.isoformat(),
                "not_after": spec.not_after.isoformat(),
            }
        ),
        encoding="utf-8",
    )
    return spec, private


def _key_lines(table: str, spec: SigningKeySpec) -> list[str]:
    return [
        "",
        f"[[{table}]]",
        f"id = {_q(spec.key_id)}",
        f"public_key = {_q(spec.public_key)}",
        f"not_before = {spec.not_before.strftime('%Y-%m-%dT%H:%M:%SZ')}",
        f"not_after = {spec.not_after.strftime('%Y-%m-%dT%H:%M:%SZ')}",
    ]


def audit_key_path(directory: Path, centre_id: str) -> Path:
    """The key of a centre's audit log in a cluster written by :func:`write_cluster` (centres with
    TLS keep keyed logs, as production centres should)."""
    return directory / centre_id / "secrets" / "audit.key"


def _q(value: str | Path) -> str:
    # JSON string syntax is valid TOML basic-string syntax for the characters used here.
    return json.dumps(str(value))


def _list(values: Sequence[str]) -> str:
    return "[" + ", ".join(_q(v) for v in values) + "]"


def _toml(
    plan: CentrePlan,
    pki: Path,
    ports: Mapping[str, int],
    keys: Mapping[str, tuple[SigningKeySpec, Path]],
) -> str:
    centre = plan.centre_id
    lines = [
        "[centre]",
        f"id = {_q(centre)}",
        "",
        "[server]",
        f'listen = "127.0.0.1:{plan.port}"',
        "grace_seconds = 2.0",
        "",
        "[storage]",
        f"path = {_q('var/' + centre.lower() + '.db')}",
        "",
        "[audit]",
        f"path = {_q('var/' + centre.lower() + '.audit.db')}",
    ]
    if plan.tls:
        lines.append("key_file = " + _q("secrets/audit.key"))
        lines += [
            "",
            "[tls]",
            f"certificate = {_q(pki / 'centres' / (centre + '.pem'))}",
            f"private_key = {_q(pki / 'centres' / (centre + '-key.pem'))}",
            f"trusted_cas = {_q(pki / 'ca.pem')}",
        ]
    own, private = keys[centre]
    lines += ["", "[signing]", f"key_id = {_q(own.key_id)}", f"private_key = {_q(private)}"]
    lines += _key_lines("signing.keys", own)
    for peer in plan.peers:
        lines += ["", "[[peers]]", f"centre = {_q(peer)}", f'address = "127.0.0.1:{ports[peer]}"']
        lines += _key_lines("peers.signing_keys", keys[peer][0])
    for route in plan.routes:
        lines += ["", "[[routes]]", f"peers = {_list(route.peers)}"]
        if route.name:
            lines.append(f"name = {_q(route.name)}")
        if route.kinds:
            lines.append(f"kinds = {_list(route.kinds)}")
        if route.handling:
            lines.append(f"handling = {_list(route.handling)}")
        if route.originating_centres:
            lines.append(f"originating_centres = {_list(route.originating_centres)}")
        if route.allow_h2:
            lines.append("allow_h2 = true")
    if plan.screen_on_commit is not None:
        lines += ["", "[screening]", f"screen_on_commit = {_list(plan.screen_on_commit)}"]
    if plan.delivery:
        lines += ["", "[delivery]"]
        for key, value in plan.delivery.items():
            number = int(value) if key == "max_attempts" else float(value)
            lines.append(f"{key} = {number}")
    for client, methods in plan.clients.items() if plan.tls else ():
        lines += [
            "",
            "[[grants]]",
            f"identities = {_list(['urn:liaison:client:' + client])}",
            f"methods = {_list(methods)}",
        ]
        if client in plan.acts_for:
            lines.append(f"acts_for = {_q(plan.acts_for[client])}")
    return "\n".join(lines) + "\n"


class ServeProcess:
    """``python -m gateway.cli serve ARGS`` as a child process, started the way operators do.

    Its output is drained by a thread for the life of the process (a full pipe would block the
    gateway) and kept in :attr:`output` for diagnosis.
    """

    def __init__(
        self,
        name: str,
        serve_args: Sequence[str],
        *,
        environment: Mapping[str, str] | None = None,
    ) -> None:
        self.name = name
        self.serve_args = list(serve_args)
        self.environment = dict(environment or {})
        """Variables added to the process's environment (e.g. ``OTEL_*``)."""
        self.process: subprocess.Popen[str] | None = None
        self.address = ""
        self.output: list[str] = []
        self._lines: queue.Queue[str | None] = queue.Queue()
        self._drain: threading.Thread | None = None

    def start(self, timeout: float = 30.0) -> str:
        """Start and return ``host:port`` once it listens."""
        self._lines = queue.Queue()
        # The command is this interpreter running our own module; only its arguments vary.
        self.process = subprocess.Popen(  # noqa: S603
            [sys.executable, "-m", "gateway.cli", "serve", *self.serve_args],
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            env={**os.environ, **self.environment, "PYTHONUNBUFFERED": "1"},
            start_new_session=True,  # Ctrl-C in a terminal reaches the parent only
        )
        self._drain = threading.Thread(target=self._read, daemon=True)
        self._drain.start()
        while True:
            try:
                line = self._lines.get(timeout=timeout)
            except queue.Empty:
                line = None
            if line is None:
                self.kill()
                raise RuntimeError(f"{self.name} did not start:\n" + "".join(self.output[-40:]))
            match = _LISTENING.search(line)
            if match:
                self.address = match.group(1)
                return self.address

    def _read(self) -> None:
        assert self.process is not None
        assert self.process.stdout is not None
        with self.process.stdout:
            for line in self.process.stdout:
                self.output.append(line)
                self._lines.put(line)
        self._lines.put(None)

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def kill(self) -> None:
        """SIGKILL: no shutdown code runs, as in a crash."""
        if self.running:
            assert self.process is not None
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=10)
        self._join()

    def terminate(self, timeout: float = 15.0) -> int:
        """SIGTERM, then the exit code (SIGKILL after ``timeout``)."""
        assert self.process is not None
        if self.running:
            self.process.send_signal(signal.SIGTERM)
        try:
            code = self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.kill()
            code = -9
        self._join()
        return code

    def _join(self) -> None:
        if self._drain is not None:
            self._drain.join(timeout=10)


class CentreProcess(ServeProcess):
    """A centre served from its TOML file (``serve --config FILE``)."""

    def __init__(self, centre_id: str, config: Path) -> None:
        super().__init__(centre_id, ["--config", str(config)])
        self.centre_id = centre_id
        self.config = config
