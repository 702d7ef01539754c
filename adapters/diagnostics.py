"""Diagnostics: what an adapter found in a payload, with a stable code and a precise location.

Diagnostics name *where* something is wrong and *what kind* of wrong it is. Their messages may
quote structure (a segment tag, a field number, an expected length) but never the personal
values of the payload: diagnostics travel into logs and traces, which must stay free of names,
dates of birth and document numbers.
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field

from liaison.v1 import translation_pb2


class Severity(enum.IntEnum):
    """How serious a diagnostic is. Values equal ``liaison.v1.DiagnosticSeverity`` numbers."""

    INFO = 1
    WARNING = 2
    ERROR = 3

    @property
    def label(self) -> str:
        """Lower-case name, as the CLI and logs print it."""
        return self.name.lower()


@dataclass(frozen=True, slots=True)
class Location:
    """Where in a payload a diagnostic points; whatever applies to the format is set.

    ``line`` and ``column`` are 1-based (0 = not applicable); ``byte_offset`` and
    ``segment_index`` are 0-based; ``json_pointer`` is an RFC 6901 pointer.
    """

    line: int = 0
    column: int = 0
    byte_offset: int | None = None
    segment_index: int | None = None
    json_pointer: str = ""

    def to_proto(self) -> translation_pb2.SourceLocation:
        message = translation_pb2.SourceLocation(
            line=self.line, column=self.column, json_pointer=self.json_pointer
        )
        if self.byte_offset is not None:
            message.byte_offset = self.byte_offset
        if self.segment_index is not None:
            message.segment_index = self.segment_index
        return message

    @classmethod
    def from_proto(cls, message: translation_pb2.SourceLocation) -> Location:
        return cls(
            line=message.line,
            column=message.column,
            byte_offset=message.byte_offset if message.HasField("byte_offset") else None,
            segment_index=message.segment_index if message.HasField("segment_index") else None,
            json_pointer=message.json_pointer,
        )

    def __str__(self) -> str:
        parts: list[str] = []
        if self.line:
            parts.append(f"line {self.line}")
        if self.column:
            parts.append(f"column {self.column}")
        if self.segment_index is not None:
            parts.append(f"segment {self.segment_index}")
        if self.byte_offset is not None:
            parts.append(f"byte {self.byte_offset}")
        if self.json_pointer:
            parts.append(f"at {self.json_pointer}")
        return ", ".join(parts) if parts else "payload"


@dataclass(frozen=True, slots=True)
class Diagnostic:
    """A finding about a payload.

    ``code`` is stable and upper-case (``MRZ_CHECK_DIGIT``); tools and tests match on it, never on
    ``message``. ``record_ids`` names the records the finding concerns: a record named by an
    error diagnostic is *tainted* and is not stored by Ingest.
    """

    severity: Severity
    code: str
    message: str
    location: Location = field(default_factory=Location)
    record_ids: tuple[str, ...] = ()

    def to_proto(self) -> translation_pb2.Diagnostic:
        return translation_pb2.Diagnostic(
            severity=int(self.severity),  # type: ignore[arg-type]
            code=self.code,
            message=self.message,
            location=self.location.to_proto(),
            record_ids=self.record_ids,
        )

    @classmethod
    def from_proto(cls, message: translation_pb2.Diagnostic) -> Diagnostic:
        return cls(
            severity=Severity(message.severity),
            code=message.code,
            message=message.message,
            location=Location.from_proto(message.location),
            record_ids=tuple(message.record_ids),
        )

    def __str__(self) -> str:
        return f"{self.severity.label} {self.code} ({self.location}): {self.message}"
