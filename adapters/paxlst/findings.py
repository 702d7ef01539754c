"""Diagnostics of one decode, reported as they are found, naming records that get ids later.

Record ids depend on the whole message (its envelope, flight and departure), and multi-part
messages are joined into one manifest only after every part is read. So a finding names the
records it concerns as objects (a ``Record`` under construction, or a ``Subject`` standing for a
whole message or traveller), which the decode builder resolves to ids when the result is built;
a finding about a record that is not emitted in the end names nothing. Reporting at once lets the
builder's limits stop a hostile payload early (see ``adapters.collector``).

Messages name structure only (tags, qualifiers, element positions), never payload values.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from adapters.base import DecodeBuilder
from adapters.characters import FORBIDDEN_CHARACTER
from adapters.collector import Subject
from adapters.diagnostics import Location, Severity
from adapters.paxlst.lexer import Segment
from adapters.paxlst.syntax import Positions
from liaison.rules.text import describe
from liaison.v1 import record_pb2

__all__ = [
    "RELEASE_UNDEFINED",
    "Findings",
    "Subject",
    "Unmapped",
    "report_charset_problem",
    "report_forbidden",
    "report_undefined_releases",
]

RELEASE_UNDEFINED = "EDIFACT_RELEASE_UNDEFINED"
"""Warning code of release characters before characters that are not service characters."""


@dataclass(slots=True)
class _Unmapped:
    location: Location
    count: int = 1


@dataclass(slots=True)
class Findings:
    """Reports the findings of one decode to its builder, located in the payload."""

    out: DecodeBuilder
    positions: Positions

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
        self.out.add(severity, code, message, location, records=subjects)

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


def report_forbidden(
    findings: Findings, segment: Segment, subjects: Iterable[record_pb2.Record | Subject]
) -> None:
    """Report the first character of ``segment``'s values that no record's text may hold."""
    forbidden = segment.forbidden
    if forbidden is None:
        return
    findings.add(
        Severity.ERROR,
        FORBIDDEN_CHARACTER,
        f"{segment.tag}: a value {describe(forbidden)}",
        findings.at_offset(segment.forbidden_offset, segment.index),
        subjects,
    )


def report_undefined_releases(
    findings: Findings, segment: Segment, subjects: Iterable[record_pb2.Record | Subject]
) -> None:
    """Report the release characters of ``segment`` that precede no service character.

    ISO 9735 defines the release character only before a service character; before any other it
    releases nothing. It is kept as data (``M?LLER`` stays ``M?LLER``: a system that could not
    write a letter may have put a question mark there), and a warning says where: nothing is
    lost or guessed, so the records stay clean (decision 0029).
    """
    releases = segment.undefined_releases
    if not releases:
        return
    more = f" ({len(releases)} in this segment)" if len(releases) > 1 else ""
    findings.add(
        Severity.WARNING,
        RELEASE_UNDEFINED,
        f"{segment.tag}: a release character precedes a character that is not a service "
        f"character{more}; ISO 9735 gives it no meaning there, so it is kept as data",
        findings.at_offset(releases[0], segment.index),
        subjects,
    )
