"""``liaison serve``: run this centre's gateway until SIGINT or SIGTERM."""

from __future__ import annotations

import argparse
import dataclasses
import os
from pathlib import Path

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
    return EXIT_OK
