"""Gateways as separate processes, started the way operators start them (``liaison serve``)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from devkit.cluster import ServeProcess


class GatewayProcess(ServeProcess):
    """A gateway with its store at ``db_path``, on an ephemeral loopback port."""

    def __init__(
        self,
        db_path: Path,
        *,
        centre_id: str = "TEST-CENTRE",
        environment: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(
            centre_id,
            ["--listen", "127.0.0.1:0", "--db", str(db_path), "--centre-id", centre_id],
            environment=environment,
        )
        self.db_path = db_path
        self.centre_id = centre_id
