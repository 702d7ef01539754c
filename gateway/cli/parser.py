"""The ``liaison`` argument parser: the options every client command shares, and one
subcommand per command, each registered by the module of its area."""

from __future__ import annotations

import argparse
import os
from pathlib import Path
from typing import Final

from gateway.cli import (
    ingestion,
    lifecycle,
    migrate,
    operations,
    records,
    screening,
    security,
    serve,
    translation,
)
from gateway.cli.arguments import positive_float
from gateway.cli.commands import Commands
from gateway.cli.exits import EXIT_CODES_HELP
from gateway.client import DEFAULT_TIMEOUT

__all__ = ["DEFAULT_TARGET", "build_parser"]

DEFAULT_TARGET: Final = "127.0.0.1:50051"


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the ``liaison`` command (read by ``main`` and by the tests)."""
    target_default = os.environ.get("LIAISON_TARGET") or DEFAULT_TARGET
    parser = argparse.ArgumentParser(
        prog="liaison",
        description="Liaison gateway: serve a centre, or submit, read, search and follow records.",
        epilog=EXIT_CODES_HELP,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument(
        "--target",
        default=target_default,
        metavar="HOST:PORT",
        help=f"gateway to talk to (default: $LIAISON_TARGET or {DEFAULT_TARGET})",
    )
    parser.add_argument(
        "--timeout",
        type=positive_float,
        default=None,
        metavar="SECONDS",
        help=f"deadline of each call (default: {DEFAULT_TIMEOUT:g} s; none for submit and "
        "subscribe)",
    )
    _add_tls_options(parser)
    commands = Commands(
        parser.add_subparsers(title="commands", metavar="COMMAND", required=True), _common()
    )
    serve.add_commands(commands)
    migrate.add_commands(commands)
    records.add_commands(commands)
    operations.add_commands(commands)
    security.add_commands(commands)
    translation.add_commands(commands)
    ingestion.add_commands(commands)
    screening.add_commands(commands)
    lifecycle.add_commands(commands)
    return parser


def _add_tls_options(parser: argparse.ArgumentParser) -> None:
    tls = parser.add_argument_group(
        "mutual TLS (a centre with [tls] accepts nothing else; defaults from the environment)"
    )
    for flag, variable, what in (
        ("--cert", "LIAISON_CERT", "this client's certificate (PEM)"),
        ("--key", "LIAISON_KEY", "its private key (PEM)"),
        ("--ca", "LIAISON_CA", "the CA certificates to trust (PEM)"),
    ):
        tls.add_argument(
            flag,
            type=Path,
            default=os.environ.get(variable),
            metavar="PATH",
            help=f"${variable}: {what}",
        )
    tls.add_argument(
        "--server-centre",
        default=os.environ.get("LIAISON_SERVER_CENTRE"),
        metavar="ID",
        help="$LIAISON_SERVER_CENTRE: accept only this centre's certificate",
    )


def _common() -> argparse.ArgumentParser:
    """The options of every client command, so that they may also follow the command name;
    SUPPRESS leaves the values given before the command alone when they are absent after it."""
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument(
        "--target", default=argparse.SUPPRESS, metavar="HOST:PORT", help="as before the command"
    )
    common.add_argument(
        "--timeout",
        type=positive_float,
        default=argparse.SUPPRESS,
        metavar="SECONDS",
        help="as before the command",
    )
    return common
