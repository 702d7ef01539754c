"""Findings: diagnostics before the records they concern exist.

The tokenizer and the field mappers run before (or while) person records are created, so they
report a ``Finding`` that says which logical record it concerns; the decoder turns each finding
into a ``Diagnostic`` naming the record ids once they are known.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass

from adapters.diagnostics import Severity


class Scope(enum.Enum):
    """Which records a finding concerns."""

    NONE = "none"
    """No record: an observation about the transaction (a skipped image record)."""
    RECORD = "record"
    """The person record built from the logical record at ``record_index``."""
    TRANSACTION = "transaction"
    """Every person record of the transaction (a damaged header or structure)."""


@dataclass(frozen=True, slots=True)
class Finding:
    """A diagnostic waiting for record ids. Messages never quote payload values."""

    severity: Severity
    code: str
    message: str
    offset: int
    """Byte offset in the payload."""
    record_index: int
    """Index of the logical record in the transaction (0 is the Type-1 record)."""
    scope: Scope


class Findings:
    """An append-only list of findings with one method per severity."""

    __slots__ = ("items",)

    def __init__(self) -> None:
        self.items: list[Finding] = []

    def error(
        self, code: str, message: str, offset: int, index: int, scope: Scope = Scope.TRANSACTION
    ) -> None:
        self.items.append(Finding(Severity.ERROR, code, message, offset, index, scope))

    def warning(
        self, code: str, message: str, offset: int, index: int, scope: Scope = Scope.RECORD
    ) -> None:
        self.items.append(Finding(Severity.WARNING, code, message, offset, index, scope))

    def info(
        self, code: str, message: str, offset: int, index: int, scope: Scope = Scope.NONE
    ) -> None:
        self.items.append(Finding(Severity.INFO, code, message, offset, index, scope))
