"""Findings: diagnostics reported as they are found, naming person records built later.

The tokenizer and the mappers run before (or while) person records are created, so a finding
says which logical record it concerns (``Scope``) and is handed to the decode builder at once,
naming the person record lazily (a ``Subject`` resolved when the result is built). Reporting at
once lets the builder's limits stop a hostile transaction early.

A transaction-scope error (a damaged Type-1 header or record structure) makes the whole
transaction invalid: no person record is built from it (``Findings.transaction_invalid``).
"""

from __future__ import annotations

import enum
from collections.abc import Iterable

from adapters.base import DecodeBuilder
from adapters.collector import Concerned, Subject
from adapters.diagnostics import Location, Severity
from liaison.v1 import record_pb2

__all__ = ["Findings", "Scope"]


class Scope(enum.Enum):
    """Which records a finding concerns."""

    NONE = "none"
    """No record: an observation about the transaction (a skipped image record)."""
    RECORD = "record"
    """The person record built from the logical record at ``record_index``."""
    TRANSACTION = "transaction"
    """Every person record of the transaction (a damaged header or structure)."""


class _PersonAt(Subject):
    """The person record built from one logical record, once it exists."""

    def __init__(self, people: dict[int, record_pb2.Record], index: int) -> None:
        self._people = people
        self._index = index

    def records(self) -> Iterable[record_pb2.Record]:
        person = self._people.get(self._index)
        return () if person is None else (person,)


class Findings:
    """Reports findings to the builder with their byte offsets and logical record indexes.

    Messages never quote payload values.
    """

    __slots__ = ("_out", "people", "transaction_invalid")

    def __init__(self, out: DecodeBuilder) -> None:
        self._out = out
        self.people: dict[int, record_pb2.Record] = {}
        """The person record built from each Type-2 record, by logical record index."""
        self.transaction_invalid = False
        """Set by the first transaction-scope error: no person record is built."""

    def _report(
        self, severity: Severity, code: str, message: str, offset: int, index: int, scope: Scope
    ) -> None:
        if scope is Scope.TRANSACTION:
            named: tuple[Concerned, ...] = (self._out.every_record,)
            if severity is Severity.ERROR:
                self.transaction_invalid = True
        elif scope is Scope.RECORD:
            named = (_PersonAt(self.people, index),)
        else:
            named = ()
        location = Location(byte_offset=offset, segment_index=index)
        self._out.add(severity, code, message, location, records=named)

    def error(
        self, code: str, message: str, offset: int, index: int, scope: Scope = Scope.TRANSACTION
    ) -> None:
        self._report(Severity.ERROR, code, message, offset, index, scope)

    def warning(
        self, code: str, message: str, offset: int, index: int, scope: Scope = Scope.RECORD
    ) -> None:
        self._report(Severity.WARNING, code, message, offset, index, scope)

    def info(
        self, code: str, message: str, offset: int, index: int, scope: Scope = Scope.NONE
    ) -> None:
        self._report(Severity.INFO, code, message, offset, index, scope)
