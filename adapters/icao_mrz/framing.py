"""Finding the MRZs in a payload: lines, then groups of lines that form one MRZ each.

The payload is text, one MRZ line per text line, lines ending in LF or CRLF; trailing whitespace
is ignored, and so is a UTF-8 byte order mark at the start. MRZs are separated by blank lines,
or simply follow each other: a run of non-blank lines is cut into MRZs by line width, three
lines of 30 characters (TD1) or two lines of 36 (TD2, MRV-B) or 44 (TD3, MRV-A).

A line of another width still joins an MRZ, so that a truncated or overlong line is reported
where it is rather than breaking the framing of what follows: the MRZ takes its width from its
first line, or from the second when the first has a width no MRZ has. A line of a different
valid width starts the next MRZ. Groups whose lines do not fit their width and count are
returned all the same, marked incomplete, for the caller to report.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from adapters.icao_mrz.layout import LINE_WIDTHS, rows_for_width

__all__ = ["Group", "SourceLine", "frame", "split_lines"]

_BOM = b"\xef\xbb\xbf"
_TRAILING_WHITESPACE = b" \t\r\x0b\x0c"
# A line holding something other than whitespace, from its start to its end (newline excluded).
_NON_BLANK_LINE = re.compile(rb"^[ \t\r\x0b\x0c]*[^ \t\r\x0b\x0c\n][^\n]*", re.MULTILINE)


@dataclass(frozen=True, slots=True)
class SourceLine:
    """One line of the payload."""

    number: int
    """1-based line number."""
    offset: int
    """Byte offset of the line's first byte in the payload."""
    raw: bytes
    """The line's bytes, without the line end and trailing whitespace."""
    text: str
    """The line decoded as UTF-8; bytes that are not UTF-8 appear as lone surrogates
    (U+DC80-U+DCFF, Python's "surrogateescape"), one per byte."""

    def byte_offset(self, column: int) -> int:
        """The payload byte offset of the character at 0-based ``column`` of this line."""
        if len(self.raw) == len(self.text):
            return self.offset + column
        return self.offset + len(self.text[:column].encode("utf-8", "surrogateescape"))


@dataclass(frozen=True, slots=True)
class Group:
    """Consecutive lines taken to be one MRZ."""

    lines: tuple[SourceLine, ...]
    width: int
    """The line width this MRZ should have."""
    rows: int
    """The number of lines it should have."""

    @property
    def complete(self) -> bool:
        """True when the group has the right number of lines, all of the right width."""
        return len(self.lines) == self.rows and all(
            len(line.text) == self.width for line in self.lines
        )


def split_lines(payload: bytes) -> Iterator[SourceLine]:
    """The payload's non-blank lines (LF or CRLF ends), trailing whitespace removed.

    Blank lines are skipped in C (a regular expression finds the next non-blank line), so a
    payload of millions of empty lines costs no Python loop; they show as gaps in line numbers.
    """
    base = len(_BOM) if payload.startswith(_BOM) else 0
    body = payload[base:] if base else payload
    number, counted_to = 1, 0
    for match in _NON_BLANK_LINE.finditer(body):
        start = match.start()
        number += body.count(b"\n", counted_to, start)
        counted_to = start
        raw = match.group().rstrip(_TRAILING_WHITESPACE)
        text = raw.decode("ascii") if raw.isascii() else raw.decode("utf-8", "surrogateescape")
        yield SourceLine(number, base + start, raw, text)


def frame(lines: Iterable[SourceLine]) -> Iterator[Group]:
    """Cut ``lines`` into groups of one MRZ each, in payload order; blank lines separate.

    Streaming: each group is returned as soon as its last line is read, so a caller that stops
    early (too many errors) has not framed the rest of a huge payload.
    """
    pending: list[SourceLine] = []
    width = 0  # of the pending group; 0 while its first line has a width no MRZ has
    for line in lines:
        length = len(line.text)
        if pending and line.number != pending[-1].number + 1:
            yield _group(pending, width)
            pending = []
        if not pending:
            pending, width = [line], length if length in LINE_WIDTHS else 0
            continue
        if not width:
            width = length if length in LINE_WIDTHS else _nearest_width(len(pending[0].text))
        if length != width and length in LINE_WIDTHS:
            # A line of another MRZ width starts the next MRZ.
            yield _group(pending, width)
            pending, width = [line], length
            continue
        pending.append(line)
        if len(pending) == rows_for_width(width):
            yield _group(pending, width)
            pending = []
    if pending:
        yield _group(pending, width)


def _group(lines: list[SourceLine], width: int) -> Group:
    width = width or _nearest_width(len(lines[0].text))
    return Group(tuple(lines), width, rows_for_width(width))


def _nearest_width(length: int) -> int:
    return min(LINE_WIDTHS, key=lambda width: (abs(width - length), width))
