"""The gateway traced by the official ``opentelemetry-instrumentation-grpc`` aio interceptor.

For the benchmark's ``official`` variants only: everything is as ``liaison serve`` (the same
``OTEL_*`` settings, exporters, privacy allowlist, Liaison's own child spans and metrics) except
the server interceptor, which is the official one.

    python -m bench.official_gateway --listen 127.0.0.1:0 --db /tmp/bench.db
"""

from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path
from typing import Any

from opentelemetry.instrumentation.grpc import aio_server_interceptor

from gateway.config import CentreConfig, ServerConfig, StorageConfig
from gateway.server import run
from gateway.telemetry import Telemetry, resolve_settings


class _OfficialTelemetry(Telemetry):
    """Liaison's telemetry with the official server interceptor."""

    def server_interceptors(self, server_address: str = "", server_port: int = 0) -> list[Any]:
        if self.tracer_provider is None:
            return []
        # The instrumentation package ships no type hints.
        interceptor: Any = aio_server_interceptor(  # type: ignore[no-untyped-call]
            tracer_provider=self.tracer_provider
        )
        return [interceptor]


def main(argv: list[str] | None = None) -> int:
    """Serve until SIGTERM, like ``liaison serve``."""
    parser = argparse.ArgumentParser(prog="python -m bench.official_gateway")
    parser.add_argument("--listen", required=True)
    parser.add_argument("--db", type=Path, required=True)
    parser.add_argument("--centre-id", default="LOCAL")
    args = parser.parse_args(argv)
    config = CentreConfig(
        centre_id=args.centre_id,
        server=ServerConfig(listen=args.listen),
        storage=StorageConfig(path=args.db),
    )
    telemetry = _OfficialTelemetry.from_settings(
        resolve_settings(config.telemetry, os.environ), config.centre_id
    )
    try:
        run(config, telemetry=telemetry)
    finally:
        telemetry.shutdown()
    return 0


if __name__ == "__main__":
    sys.exit(main())
