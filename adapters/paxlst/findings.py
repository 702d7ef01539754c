"""Diagnostics of one decode, collected before the records they concern have their ids.

Record ids depend on the whole message (its envelope, flight and departure), and multi-part
messages are joined into one manifest only after every part is read. So a finding names the
records it concerns as objects (a ``Record`` under construction, or a whole message), and the
names are resolved to ids when the records are emitted. A finding about a record that is not
emitted in the end names nothing.

Messages name structure only (tags, qualifiers, element positions), never payload values.
"""

from __future__ import annotations

import abc
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from adapters.base import DecodeBuilder
from adapters.diagnostics import Location, Severity
from adapters.paxlst.lexer import Segment
from adapters.paxlst.syntax import Positions
from liaison.v1 import record_pb2

__all__ = ["Findings", "Subject", "Unmapped", "report_charset_problem"]


class Subject(abc.ABC):
    """Something a finding can be about, resolved to record ids when records are emitted."""

    @abc.abstractmethod
    def records(self) -> Iterable[record_pb2.Record]:
        """The records this subject stands for."""


@dataclass(slots=True)
class _Pending:
    severity: Severity
    code: str
    message: str
    location: Location
    subjects: tuple[record_pb2.Record | Subject, ...]


@dataclass(slots=True)
class _Unmapped:
    location: Location
    count: int = 1


@dataclass(slots=True)
class Findings:
    """The findings of one decode, in the order they were made."""

    positions: Positions
    _pending: list[_Pending] = field(default_factory=list)

    def at(self, segment: Segment) -> Location:
        """The location of a segment."""
        return self.positions.location(segment.offset, segment.index)

    def at_offset(self, offset: int, segment_index: int | None) -> Location:
        """The location of a text offset."""
        return self.positions.location(offset, segment_index)

    def add(
        self,
        severity: Severity,
        code: str,
        message: str,
        location: Location,
        subjects: Iterable[record_pb2.Record | Subject] = (),
    ) -> None:
        self._pending.append(_Pending(severity, code, message, location, tuple(subjects)))

    def error(
        self,
        code: str,
        message: str,
        segment: Segment,
        subjects: Iterable[record_pb2.Record | Subject] = (),
    ) -> None:
        self.add(Severity.ERROR, code, message, self.at(segment), subjects)

    def warning(self, code: str, message: str, segment: Segment) -> None:
        self.add(Severity.WARNING, code, message, self.at(segment))

    def info(self, code: str, message: str, segment: Segment) -> None:
        self.add(Severity.INFO, code, message, self.at(segment))

    def emit(
        self,
        out: DecodeBuilder,
        is_emitted: Callable[[record_pb2.Record], bool],
    ) -> None:
        """Hand every finding to ``out``, naming the emitted records it concerns."""
        for pending in self._pending:
            ids: list[str] = []
            for subject in pending.subjects:
                records = [subject] if isinstance(subject, record_pb2.Record) else subject.records()
                ids.extend(r.record_id for r in records if is_emitted(r))
            out.add(
                pending.severity,
                pending.code,
                pending.message,
                pending.location,
                records=dict.fromkeys(ids),
            )


@dataclass(slots=True)
class Unmapped:
    """Data the contract has no field for, counted per kind and reported once per message.

    PAXLST carries some data (the reporting party's address, baggage measurements, contact
    numbers of travellers...) that ``liaison.v1`` does not model. Reporting each occurrence
    would bury the real findings of a 500-traveller list, so each kind is reported once with
    its first location and a count.
    """

    _kinds: dict[str, _Unmapped] = field(default_factory=dict)

    def note(self, what: str, location: Callable[[], Location]) -> None:
        entry = self._kinds.get(what)
        if entry is None:
            self._kinds[what] = _Unmapped(location())
        else:
            entry.count += 1

    def report(self, findings: Findings) -> None:
        for what, entry in self._kinds.items():
            times = "once" if entry.count == 1 else f"{entry.count} times"
            findings.add(
                Severity.INFO,
                "PAXLST_NOT_MAPPED",
                f"{what} ({times} in this message) has no field in the contract; not kept",
                entry.location,
            )
        self._kinds.clear()


def report_charset_problem(
    findings: Findings, segment: Segment, subjects: Sequence[Subject]
) -> None:
    """Report the characters of ``segment`` its declared character set does not allow."""
    if segment.charset_problem == "EDIFACT_INVALID_ENCODING":
        what = "bytes that are not valid in the interchange's character set (UNB S001)"
    else:
        what = "characters outside the seven-bit repertoire its syntax identifier declares"
    findings.add(
        Severity.ERROR,
        segment.charset_problem,
        f"{segment.tag} holds {what}; its values were read as well as possible",
        findings.at_offset(segment.charset_problem_offset, segment.index),
        subjects,
    )
