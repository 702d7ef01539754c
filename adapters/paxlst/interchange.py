"""The interchange envelope (ISO 9735): UNB/UNZ, UNG/UNE, UNH/UNT around the PAXLST messages.

The reader walks the segments once. Service segments open and close the interchange, groups
and messages and their control counts are checked: UNT 0074 counts the segments of its message
including UNH and UNT, UNE 0060 the messages of its group, UNZ 0036 the groups (or, without
groups, the messages) of the interchange. A wrong count or reference is a warning with the
location of the trailer: the data is still there and is still read. A message without its UNT,
or segments outside any message, are errors about the records read from them, since something
may be missing.

Everything between UNH and UNT is handed to a ``MessageParser``.
"""

from __future__ import annotations

import datetime
from collections.abc import Iterator
from dataclasses import dataclass

from adapters.diagnostics import Location, Severity
from adapters.paxlst import codes
from adapters.paxlst.dates import reference_date
from adapters.paxlst.findings import (
    Findings,
    report_charset_problem,
    report_forbidden,
    report_undefined_releases,
)
from adapters.paxlst.lexer import EMPTY_SEGMENT, TRAILING_RELEASE, Lexeme, LexProblem, Segment
from adapters.paxlst.message import MessageParser
from adapters.paxlst.parsed import ParsedMessage
from adapters.paxlst.values import number
from liaison.v1 import manifest_pb2

__all__ = ["read_interchange"]


@dataclass(slots=True)
class _OpenMessage:
    start: Segment
    """The UNH, or the first segment of a message that has none."""
    parser: MessageParser | None
    """None for a message that is not PAXLST (skipped)."""
    has_header: bool


def read_interchange(
    lexemes: Iterator[Lexeme], findings: Findings, today: datetime.date, text_length: int
) -> list[ParsedMessage]:
    """Read the messages of an interchange; ``today`` resolves two-digit years without UNB.

    ``lexemes`` is consumed as it goes, so that no list of every segment is ever held.
    """
    reader = _Reader(findings, today, text_length)
    reader.read(lexemes)
    return reader.messages


class _Reader:
    def __init__(self, findings: Findings, today: datetime.date, text_length: int) -> None:
        self.findings = findings
        self.reference = today
        self.text_length = text_length
        self.envelope = manifest_pb2.EdifactEnvelope()
        self.messages: list[ParsedMessage] = []
        self.open: _OpenMessage | None = None
        self.unb: Segment | None = None
        self.ung: Segment | None = None
        self.groups = 0
        self.group_messages = 0
        self.all_messages = 0
        self.unz: Segment | None = None
        self.first: Segment | None = None
        self.last: Segment | None = None
        self.handlers = {
            "UNB": self._unb,
            "UNG": self._ung,
            "UNE": self._une,
            "UNH": self._unh,
            "UNT": self._unt,
            "UNZ": self._unz,
        }

    def read(self, lexemes: Iterator[Lexeme]) -> None:
        # One lexeme of look-ahead: a segment's handler may look at the segment right after it
        # (a LOC+92 followed by its DTM); a problem in between means none follows directly.
        current = next(lexemes, None)
        for following in lexemes:
            if not self._take(current, following):
                break
            current = following
        else:
            if current is not None:
                self._take(current, None)
        self._end()

    def _take(self, lexeme: Lexeme | None, following: Lexeme | None) -> bool:
        """Read one lexeme; False when the interchange is over (segments after UNZ)."""
        if isinstance(lexeme, LexProblem):
            self._problem(lexeme)
            return True
        if lexeme is None:
            return True
        return self._segment(lexeme, following if isinstance(following, Segment) else None)

    def _segment(self, segment: Segment, following: Segment | None) -> bool:
        findings = self.findings
        if self.first is None:
            self.first = segment
            if segment.tag != "UNB":
                findings.warning(
                    "EDIFACT_MISSING_SEGMENT",
                    "the interchange has no UNB header: sender, recipient and date are unknown",
                    segment,
                )
        self.last = segment
        if self.unz is not None:
            findings.warning(
                "EDIFACT_TRAILING_DATA",
                "segments after the UNZ interchange trailer; ignored",
                segment,
            )
            return False
        handler = self.handlers.get(segment.tag)
        if handler is not None:
            handler(segment)
        else:
            current = self.open
            if current is None:
                current = self._implicit_message(segment)
            if current.parser is not None:
                current.parser.feed(segment, following)
                return True
        if segment.charset_problem:
            report_charset_problem(findings, segment, ())
        if segment.forbidden is not None:
            # Envelope values (UNB, UNG) go into every manifest of the interchange.
            report_forbidden(findings, segment, [findings.out.every_record])
        if segment.undefined_releases:
            report_undefined_releases(findings, segment, ())
        return True

    # --- below the segments ---

    def _problem(self, problem: LexProblem) -> None:
        location = self.findings.at_offset(problem.offset, problem.segment_index)
        current = self.open
        message = current.parser.message if current and current.parser else None
        if problem.code in (EMPTY_SEGMENT, TRAILING_RELEASE) or (
            problem.code == "EDIFACT_SEGMENT_TAG" and current is None
        ):
            self.findings.add(Severity.WARNING, problem.code, problem.message, location)
            return
        # Inside a message something was lost: the message's records cannot be trusted whole.
        self.findings.add(
            Severity.ERROR, problem.code, problem.message, location, [message] if message else ()
        )

    # --- interchange and groups ---

    def _unb(self, segment: Segment) -> None:
        if self.unb is not None or self.all_messages:
            self.findings.warning(
                "EDIFACT_UNEXPECTED_SEGMENT",
                "a second UNB, or a UNB after messages: only one interchange is read; ignored",
                segment,
            )
            return
        self.unb = segment
        envelope = self.envelope
        envelope.syntax_identifier = segment.joined(0)
        envelope.sender = segment.joined(1)
        envelope.recipient = segment.joined(2)
        envelope.prepared_at = segment.joined(3)
        envelope.interchange_reference = segment.value(4)
        if not envelope.interchange_reference:
            self.findings.warning(
                "EDIFACT_MISSING_DATA", "UNB: no interchange control reference (0020)", segment
            )
        reference = reference_date(segment.value(3))
        if reference is None:
            self.findings.warning(
                "EDIFACT_DATE",
                "UNB: the date of preparation (S004 0017) is not a date; two-digit years are "
                "resolved against the current date",
                segment,
            )
        else:
            self.reference = reference
        if segment.value(10) == "1":
            self.findings.warning(
                "EDIFACT_TEST_INDICATOR",
                "UNB: the interchange is marked as a test (0035 = 1)",
                segment,
            )

    def _ung(self, segment: Segment) -> None:
        self._close_message(None, segment)
        if self.ung is not None:
            self.findings.warning(
                "EDIFACT_MISSING_SEGMENT", "a UNG opens a group before the UNE of the last", segment
            )
        self.ung = segment
        self.groups += 1
        self.group_messages = 0
        if self.groups == 1:
            self.envelope.group_sender = segment.joined(1)
            self.envelope.group_recipient = segment.joined(2)

    def _une(self, segment: Segment) -> None:
        self._close_message(None, segment)
        ung = self.ung
        if ung is None:
            self.findings.warning(
                "EDIFACT_UNEXPECTED_SEGMENT", "a UNE without a UNG; ignored", segment
            )
            return
        self._check_count(segment, "UNE", "messages in the group", self.group_messages)
        self._check_reference(segment, "UNE 0048", ung.value(4), "UNG")
        self.ung = None

    def _unz(self, segment: Segment) -> None:
        self._close_message(None, segment)
        if self.ung is not None:
            self.findings.warning(
                "EDIFACT_MISSING_SEGMENT", "the last group has no UNE trailer", segment
            )
            self.ung = None
        if self.groups:
            self._check_count(segment, "UNZ", "groups in the interchange", self.groups)
        else:
            self._check_count(segment, "UNZ", "messages in the interchange", self.all_messages)
        if self.unb is not None:
            self._check_reference(segment, "UNZ 0020", self.unb.value(4), "UNB")
        self.unz = segment

    def _check_count(self, segment: Segment, tag: str, what: str, actual: int) -> None:
        declared = segment.value(0)
        if number(declared) == actual:
            return
        self.findings.warning(
            "EDIFACT_MESSAGE_COUNT",
            f"{tag}: the control count is not the number of {what} ({actual})",
            segment,
        )

    def _check_reference(self, segment: Segment, where: str, expected: str, header: str) -> None:
        if segment.value(1) != expected:
            self.findings.warning(
                "EDIFACT_REFERENCE_MISMATCH",
                f"{where}: the control reference differs from the {header}'s",
                segment,
            )

    # --- messages ---

    def _unh(self, segment: Segment) -> None:
        self._close_message(None, segment)
        self.all_messages += 1
        self.group_messages += 1
        identifier = segment.components(1)
        kind = identifier[0] if identifier else ""
        if kind != "PAXLST":
            self.findings.warning(
                "EDIFACT_NOT_PAXLST",
                "UNH: the message type (S009 0065) is not PAXLST; the message is skipped",
                segment,
            )
            self.open = _OpenMessage(segment, None, True)
            return
        version = ":".join(identifier[1:3])
        if version not in codes.KNOWN_VERSIONS:
            self.findings.warning(
                "PAXLST_VERSION",
                "UNH: the PAXLST directory version is neither D:02B nor D:05B; "
                "read with the D.05B rules",
                segment,
            )
        parser = MessageParser(segment, self.envelope, self.findings, self.reference)
        self.open = _OpenMessage(segment, parser, True)

    def _implicit_message(self, segment: Segment) -> _OpenMessage:
        parser = MessageParser(segment, self.envelope, self.findings, self.reference)
        self.findings.error(
            "EDIFACT_MISSING_SEGMENT",
            f"{segment.tag} is outside a message (no UNH): the segments up to the next UNH or "
            "UNT are read as a message without header",
            segment,
            [parser.message],
        )
        self.all_messages += 1
        self.group_messages += 1
        self.open = _OpenMessage(segment, parser, False)
        return self.open

    def _unt(self, segment: Segment) -> None:
        current = self.open
        if current is None:
            self.findings.warning(
                "EDIFACT_UNEXPECTED_SEGMENT", "a UNT without a UNH; ignored", segment
            )
            return
        if current.has_header:
            declared = segment.value(0)
            actual = segment.index - current.start.index + 1
            if number(declared) != actual:
                self.findings.warning(
                    "EDIFACT_SEGMENT_COUNT",
                    f"UNT: the segment count (0074) is not the number of segments of the "
                    f"message, UNH and UNT included ({actual})",
                    segment,
                )
            self._check_reference(segment, "UNT 0062", current.start.value(0), "UNH")
        self._close_message(segment, segment)

    def _close_message(self, unt: Segment | None, at: Segment | None) -> None:
        current = self.open
        if current is None:
            return
        self.open = None
        parser = current.parser
        if unt is None:
            what = "a UNT trailer" if current.has_header else "a UNH header or UNT trailer"
            where = self.findings.at(at) if at is not None else self._end_location()
            self.findings.add(
                Severity.ERROR,
                "EDIFACT_MISSING_SEGMENT",
                f"a message ends without {what}: it may be truncated",
                where,
                [parser.message] if parser else (),
            )
        if parser is not None:
            self.messages.append(parser.finish(unt))

    def _end_location(self) -> Location:
        index = self.last.index + 1 if self.last is not None else 0
        return self.findings.at_offset(self.text_length, index)

    def _end(self) -> None:
        self._close_message(None, None)
        if self.unz is None and self.last is not None:
            self.findings.add(
                Severity.WARNING,
                "EDIFACT_MISSING_SEGMENT",
                "the interchange has no UNZ trailer: it may be truncated",
                self._end_location(),
            )
