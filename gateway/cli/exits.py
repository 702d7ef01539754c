"""Exit codes of the ``liaison`` command, the errors that choose them, and how they are shown.

Errors are reported as one line on stderr, ``liaison: error: ...``, followed by the refused
fields, indented, when the gateway named them.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence
from typing import Final

from liaison.rules.errors import LiaisonError

__all__ = [
    "EXIT_CODES_HELP",
    "EXIT_INTERRUPTED",
    "EXIT_OK",
    "EXIT_REFUSED",
    "EXIT_UNREACHABLE",
    "EXIT_USAGE",
    "RefusedError",
    "UsageError",
    "report",
]

EXIT_OK: Final = 0
EXIT_REFUSED: Final = 1
EXIT_USAGE: Final = 2
EXIT_UNREACHABLE: Final = 3
EXIT_INTERRUPTED: Final = 130

EXIT_CODES_HELP: Final = """\
exit codes:
  0    success
  1    refused or nothing found (NOT_FOUND, INVALID_ARGUMENT, rejected records,
       no search hit, not SERVING)
  2    usage error (bad arguments, unreadable file, malformed JSON, bad configuration,
       a gateway that cannot start)
  3    gateway unreachable, TLS handshake refused, or deadline exceeded
  130  interrupted"""


class UsageError(LiaisonError):
    """A problem with what the user asked for, found after argument parsing (exit code 2)."""


class RefusedError(LiaisonError):
    """The command cannot do what was asked, for a reason its message explains (exit code 1).

    Attributes:
        violations: ``(field, description)`` pairs of what was refused, printed indented.
    """

    def __init__(self, message: str, violations: Sequence[tuple[str, str]] = ()) -> None:
        super().__init__(message)
        self.violations = list(violations)


def report(message: str, code: int, violations: Sequence[tuple[str, str]] = ()) -> int:
    """Print ``message`` (and the refused fields) as the command's error; return ``code``."""
    print(f"liaison: error: {message}", file=sys.stderr)
    for field, description in violations:
        print(f"  {field}: {description}", file=sys.stderr)
    return code
