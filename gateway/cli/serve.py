"""``liaison serve``: run this centre's gateway until SIGINT or SIGTERM."""

from __future__ import annotations

import argparse
import dataclasses
import logging
import os
import sys
from pathlib import Path
from typing import NoReturn

from gateway.cli.arguments import centre_id, listen_address
from gateway.cli.commands import Commands
from gateway.cli.exits import EXIT_OK, UsageError
from gateway.config import load_config

__all__ = ["add_commands"]


def add_commands(command: Commands) -> None:
    """Add ``serve``."""
    serve = command("serve", "run this centre's gateway until SIGINT or SIGTERM", client=False)
    serve.add_argument(
        "--config", type=Path, metavar="PATH", help="centre TOML file (default: $LIAISON_CONFIG)"
    )
    serve.add_argument("--listen", type=listen_address, metavar="HOST:PORT", help="port 0: any")
    serve.add_argument("--db", type=Path, metavar="PATH", help="SQLite database file")
    serve.add_argument("--centre-id", type=centre_id, metavar="ID", help="this centre's id")
    serve.set_defaults(run=_serve)


def _serve(args: argparse.Namespace) -> int:
    environment_path = os.environ.get("LIAISON_CONFIG")
    config = load_config(args.config or (Path(environment_path) if environment_path else None))
    if args.listen is not None:
        config = dataclasses.replace(
            config, server=dataclasses.replace(config.server, listen=args.listen)
        )
    if args.db is not None:
        config = dataclasses.replace(
            config, storage=dataclasses.replace(config.storage, path=args.db)
        )
    if args.centre_id is not None:
        config = dataclasses.replace(config, centre_id=args.centre_id)
    # Imported here: the client commands must not pay for loading the server and its store.
    from gateway.server import ServeError, run

    try:
        run(config)
    except ServeError as error:
        raise UsageError(str(error)) from None
    _end_process(EXIT_OK)


def _end_process(code: int) -> NoReturn:
    """End the process now that the gateway has stopped and its telemetry is flushed.

    Everything durable is closed by then, within the grace; the interpreter's own finalisation
    (collecting the whole heap, tearing modules down, gRPC core's shutdown) took another 0.4 to
    1 s on a loaded machine, past the grace + 1 s the operator guide promises, and has nothing
    left to save.
    """
    logging.shutdown()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)
