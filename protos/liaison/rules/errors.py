"""The root of every exception Liaison raises, and the grpc-free refusal of invalid input.

The whole tree is drawn in :mod:`gateway.errors`, which also maps each class to its gRPC status;
this module holds what the pure layers (these rules, the adapters) raise, so that they need no
gRPC.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

__all__ = [
    "FieldViolation",
    "ForeignRecordError",
    "InvalidArgumentError",
    "LiaisonError",
    "SetupError",
]


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


class ForeignRecordError(LiaisonError):
    """A centre's caller spoke for a record another centre originates - its id in that centre's
    namespace, or its provenance naming that centre: only the originating centre publishes
    versions of its records (they reach other centres by federation). A permission problem,
    PERMISSION_DENIED, not a malformed request: the same record is valid at its own centre."""

    def __init__(self, message: str, field: str, originating_centre: str) -> None:
        super().__init__(message)
        self.field = field
        """The field that names the other centre (``record_id`` or
        ``provenance.originating_centre``)."""
        self.originating_centre = originating_centre
        """The centre the record belongs to (a well-formed centre id, or empty)."""

    def violation(self) -> FieldViolation:
        """The refused field, for the answers that list fields (a stream's per-record error)."""
        whose = self.originating_centre or "another centre"
        return FieldViolation(
            self.field, f"is {whose}'s: only the originating centre publishes versions of it"
        )
