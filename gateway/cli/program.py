"""``main``: parse the arguments, run the command, and turn what it raised into an exit code
and one line on stderr."""

from __future__ import annotations

import gc
import os
import sys
from collections.abc import Sequence

from gateway.cli.connection import ClientTelemetry, unreachable_message
from gateway.cli.exits import (
    EXIT_INTERRUPTED,
    EXIT_OK,
    EXIT_REFUSED,
    EXIT_UNREACHABLE,
    EXIT_USAGE,
    RefusedError,
    UsageError,
    report,
)
from gateway.cli.parser import build_parser
from gateway.client import ClientError, GatewayUnavailableError
from gateway.config import ConfigError
from gateway.telemetry.settings import TelemetryConfigError

__all__ = ["main", "run"]


def main(argv: Sequence[str] | None = None) -> int:
    """Run the ``liaison`` command.

    Args:
        argv: The arguments, without the program name; ``sys.argv[1:]`` when ``None``.

    Returns:
        The exit code (see ``gateway.cli``).
    """
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exit_:
        # argparse exits by itself for --help (0) and usage errors (2); return the code instead
        # so that main() can be called in-process.
        return exit_.code if isinstance(exit_.code, int) else EXIT_USAGE
    args.client_telemetry = ClientTelemetry()
    try:
        code: int = args.run(args)
    except (UsageError, ConfigError, TelemetryConfigError) as error:
        return report(str(error), EXIT_USAGE)
    except RefusedError as error:
        return report(str(error), EXIT_REFUSED, error.violations)
    except GatewayUnavailableError as error:
        return report(unreachable_message(error, args.target), EXIT_UNREACHABLE)
    except ClientError as error:
        return report(str(error), EXIT_REFUSED, error.field_violations)
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    except BrokenPipeError:
        # The reader went away (``| head``): stop quietly, and keep Python from complaining
        # again when it flushes stdout at exit.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_OK
    finally:
        args.client_telemetry.shutdown()
    return code


def run() -> int:
    """The program's entry point (the ``liaison`` console script, ``python -m gateway.cli``):
    :func:`main` on ``sys.argv``, then the heap frozen, so that the interpreter's exit does not
    collect it.

    The collection at exit took 0.2 s on a quiet machine and 1.5 to 5 s at load 8 to 10 - after
    ``liaison subscribe`` had handled Ctrl-C and returned in 10 ms - and a subscriber once missed
    a 10 s limit for it. It has nothing to save: the command has ended, its output is written
    and its telemetry shut down. Frozen, the objects are not scanned; atexit handlers, the
    flush of the standard streams and the rest of the interpreter's exit still run. (Not in
    :func:`main`: called in-process, by tests, it must leave the caller's heap alone.)

    Returns:
        The exit code.
    """
    code = main()
    gc.freeze()
    return code
