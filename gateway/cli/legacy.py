"""What the commands on legacy files share: reading the file, running an adapter here, and
summarising diagnostics.

Diagnostics are summarised on stderr one per line - severity, code, location and the adapter's
message, which by the adapter contract names what is wrong and where, never a value of the
payload.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable
from pathlib import Path

from adapters import Adapter, AdapterRegistry, DecodeResult, Diagnostic
from gateway.cli.exits import RefusedError, UsageError

__all__ = ["decoded", "read_payload", "source_reference", "summarise", "warn_about_plugins"]


def read_payload(path: str) -> bytes:
    """The bytes of the file ``path`` (``-``: standard input).

    Raises:
        UsageError: The file cannot be read.
    """
    if path == "-":
        return sys.stdin.buffer.read()
    try:
        return Path(path).read_bytes()
    except OSError as error:
        raise UsageError(f"cannot read {path}: {error.strerror}") from None


def source_reference(path: str) -> str:
    """What provenance calls the file ``path``: its name (nothing for standard input)."""
    return "" if path == "-" else Path(path).name


def decoded(adapter: Adapter, payload: bytes, reference: str) -> DecodeResult:
    """``payload`` decoded by ``adapter``, here.

    Raises:
        RefusedError: The adapter raised (a defect of it: decode must not).
    """
    try:
        return adapter.decode(payload, source_reference=reference)
    except Exception as error:
        # Its message could quote the input: only the type is shown.
        raise RefusedError(
            f"adapter {adapter.name!r} failed on this input ({type(error).__name__})"
        ) from None


def summarise(diagnostics: Iterable[Diagnostic]) -> None:
    """Print the diagnostics on stderr, one per line."""
    for diagnostic in diagnostics:
        print(diagnostic, file=sys.stderr)


def warn_about_plugins(registry: AdapterRegistry) -> None:
    """Warn on stderr about each adapter plugin that did not load."""
    for problem in registry.problems:
        print(
            f"liaison: warning: adapter plugin not loaded: {problem.entry_point}: {problem.reason}",
            file=sys.stderr,
        )
