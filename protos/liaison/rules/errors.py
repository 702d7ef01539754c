"""The root of every exception Liaison raises, and the grpc-free refusal of invalid input.

The whole tree is drawn in :mod:`gateway.errors`, which also maps each class to its gRPC status;
this module holds what the pure layers (these rules, the adapters) raise, so that they need no
gRPC.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["FieldViolation", "InvalidArgumentError", "LiaisonError", "SetupError"]


class LiaisonError(Exception):
    """The root of every exception class in Liaison. ``message`` is safe to show to a caller:
    it never carries record content (ids, field paths and limits only)."""

    def __init__(self, message: str = "") -> None:
        super().__init__(message)
        self.message = message


@dataclass(frozen=True, slots=True)
class FieldViolation:
    """One refused field: its path and why.

    The path of a field of a record is the path from the record, in proto field names
    (``person.birth_date.month``, ``links[2].type``), whichever RPC carried the record; a field of
    the request itself (``adapter``, ``page_size``, ``record`` when it is missing) is named as in
    the request message."""

    field: str
    description: str

    def in_record(self, record: str) -> FieldViolation:
        """The same violation in a refusal that covers several records: the path stays the path
        from the record (docs/contract.md, decision 0022), the description names which record
        (``records[2]``, ``decoded record #2``)."""
        return FieldViolation(self.field, f"{self.description} ({record})")


class SetupError(LiaisonError):
    """A configuration, key, certificate or policy is unusable: whatever needs it cannot start.
    The message names the file or setting and what is wrong with it."""


class InvalidArgumentError(LiaisonError):
    """The input is malformed; ``violations`` names each bad field."""

    def __init__(self, message: str, violations: Sequence[FieldViolation] = ()) -> None:
        super().__init__(message)
        self.violations = tuple(violations)
