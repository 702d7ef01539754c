"""How a command area adds its subcommands to the ``liaison`` parser."""

from __future__ import annotations

import argparse

from gateway.cli.exits import EXIT_CODES_HELP

__all__ = ["Commands"]


class Commands:
    """Adds subcommands to the ``liaison`` parser.

    Args:
        subparsers: The parser's subcommands.
        common: The parent parser of the options every client command takes after its name.
    """

    def __init__(
        self,
        subparsers: argparse._SubParsersAction[argparse.ArgumentParser],
        common: argparse.ArgumentParser,
    ) -> None:
        self._subparsers = subparsers
        self._common = common

    def __call__(
        self,
        name: str,
        help_: str,
        *,
        client: bool = True,
        description: str | None = None,
        exit_codes: bool = True,
    ) -> argparse.ArgumentParser:
        """Add the subcommand ``name``.

        Args:
            name: The command's name.
            help_: One line for ``liaison --help``; also its description unless one is given.
            client: It calls a gateway (and takes ``--target`` and ``--timeout`` after its name).
            description: The command's own ``--help`` text.
            exit_codes: Its help ends with the common exit codes (commands with their own
                meaning of them say so in their description).
        """
        if not exit_codes:
            return self._subparsers.add_parser(
                name,
                help=help_,
                description=description,
                parents=[self._common] if client else [],
            )
        return self._subparsers.add_parser(
            name,
            help=help_,
            description=description or help_,
            parents=[self._common] if client else [],
            epilog=EXIT_CODES_HELP,
            formatter_class=argparse.RawDescriptionHelpFormatter,
        )
