"""Replicas of one centre on one PostgreSQL database, as ``liaison serve`` processes.

Used by ``make demo-replicas`` (examples/replicas) and by the failover tests: each replica has
its own home (centre file, local files) and its own port, and all of them share the database's
schema - the records, the feed and its sequences (docs/operator-guide.md, "Replicas on
PostgreSQL").
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

from devkit.cluster import ServeProcess

__all__ = ["ReplicaProcess", "replica_addresses", "write_replica"]


def _q(value: str | Path) -> str:
    # JSON string syntax is valid TOML basic-string syntax for the characters used here.
    return json.dumps(str(value))


def write_replica(
    home: Path, centre_id: str, *, dsn: str, schema: str, pool_size: int = 4, extra: str = ""
) -> Path:
    """Write replica ``home``'s centre file (plaintext on a loopback port of its own); return it.

    ``dsn`` carries no password (the centre file refuses one): in production it comes from
    ``password_file``, ``PGPASSFILE`` or ``LIAISON_STORAGE_DSN``. ``extra`` is appended (more
    TOML tables).
    """
    home.mkdir(parents=True, exist_ok=True)
    path = home / "centre.toml"
    lines = [
        "[centre]",
        f"id = {_q(centre_id)}",
        "",
        "[server]",
        'listen = "127.0.0.1:0"',
        "grace_seconds = 2.0",
        "",
        "[storage]",
        'backend = "postgresql"',
        f"dsn = {_q(dsn)}",
        f"schema = {_q(schema)}",
        f"pool_size = {pool_size}",
    ]
    path.write_text("\n".join(lines) + "\n" + (f"\n{extra}" if extra else ""), encoding="utf-8")
    return path


class ReplicaProcess(ServeProcess):
    """One replica: ``liaison serve --config HOME/centre.toml``; restartable after a kill."""

    def __init__(
        self, name: str, config: Path, *, environment: Mapping[str, str] | None = None
    ) -> None:
        super().__init__(name, ["--config", str(config)], environment=environment)
        self.config = config


def replica_addresses(replicas: list[ReplicaProcess]) -> str:
    """The gRPC target listing every replica, for a ``round_robin`` channel:
    ``ipv4:127.0.0.1:5001,127.0.0.1:5002``."""
    return "ipv4:" + ",".join(replica.address for replica in replicas)
