"""CSV text (RFC 4180) as rows of fields that know their line and column.

The standard library's ``csv`` module reports where a row ends, not where each field starts, and
a diagnostic must point at the field. This reader is linear in the size of the text: a line
without quotes is split on commas, a line with quotes is read field by field (one regular
expression match each, its repetition possessive so that the engine keeps no backtracking state
per character), and a malformed row is skipped to the next line break. Its memory is bounded too:
a row keeps at most ``max_fields + 1`` fields (the first extra one locates the error) and counts
the others, so a megabyte of commas is one row of a million fields, not a million objects.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from typing import NamedTuple

__all__ = ["Field", "Row", "SyntaxProblem", "format_row", "read_rows"]

_QUOTED = re.compile(r'"((?:[^"]|"")*+)"')
_PLAIN = re.compile(r'[^,"\r\n]*')
_NEEDS_QUOTES = re.compile(r'[",\r\n]')
_LINE_BREAK = re.compile(r"\r\n|\r|\n")


class Field(NamedTuple):
    """A field's text (quotes removed) and where it starts (1-based line and column)."""

    text: str
    line: int
    column: int


@dataclass(frozen=True, slots=True)
class Row:
    """The fields of one row, and the column just after its last field."""

    fields: tuple[Field, ...]
    end_column: int
    count: int | None = None
    """How many fields the row has, when more than ``fields`` holds (see ``read_rows``)."""

    @property
    def field_count(self) -> int:
        return len(self.fields) if self.count is None else self.count

    @property
    def line(self) -> int:
        return self.fields[0].line

    @property
    def is_blank(self) -> bool:
        return len(self.fields) == 1 and not self.fields[0].text


@dataclass(frozen=True, slots=True)
class SyntaxProblem:
    """A row that is not CSV (a stray quote, an unclosed quoted field); it is skipped."""

    line: int
    column: int
    message: str


class _Cursor:
    """Position in the text, with the line number and where the current line starts."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.position = 0
        self.line = 1
        self.line_start = 0

    @property
    def column(self) -> int:
        return self.position - self.line_start + 1

    def advance_to(self, end: int) -> None:
        """Move to ``end``, counting the line breaks passed (only quoted fields hold any)."""
        breaks = self.text.count("\n", self.position, end)
        if breaks:
            self.line += breaks
            self.line_start = self.text.rindex("\n", self.position, end) + 1
        self.position = end

    def next_line(self) -> None:
        """Move past the line break at the position (CRLF, LF or CR)."""
        self.position += 2 if self.text.startswith("\r\n", self.position) else 1
        self.line += 1
        self.line_start = self.position

    def skip_line(self) -> None:
        """Move to the start of the next line (or to the end)."""
        found = _LINE_BREAK.search(self.text, self.position)
        if found is None:
            self.position = len(self.text)
        else:
            self.advance_to(found.start())
            self.next_line()


def _read_field(cursor: _Cursor) -> Field | SyntaxProblem:
    line, column, text = cursor.line, cursor.column, cursor.text
    if text.startswith('"', cursor.position):
        match = _QUOTED.match(text, cursor.position)
        if match is None:
            return SyntaxProblem(line, column, "a quoted field is not closed")
        cursor.advance_to(match.end())
        return Field(match.group(1).replace('""', '"'), line, column)
    plain = _PLAIN.match(text, cursor.position)
    assert plain is not None  # the pattern matches the empty string
    cursor.advance_to(plain.end())
    return Field(plain.group(), line, column)


def _split_plain_line(cursor: _Cursor, line_end: int, max_fields: int | None) -> Row:
    """The row of a line without quotes: its fields are what lies between the commas."""
    line, column, text = cursor.line, 1, cursor.text
    count = text.count(",", cursor.position, line_end) + 1
    # Beyond max_fields + 1 the rest of the line is one part: only its start is needed.
    splits = -1 if max_fields is None else max_fields
    fields = []
    for part in text[cursor.position : line_end].split(",", splits):
        fields.append(Field(part, line, column))
        column += len(part) + 1
    cursor.position = line_end
    return Row(tuple(fields), column - 1, None if count == len(fields) else count)


def _read_quoted_row(cursor: _Cursor, max_fields: int | None) -> Row | SyntaxProblem:
    """The row at the cursor, field by field; it may span lines inside quoted fields."""
    text, end = cursor.text, len(cursor.text)
    fields: list[Field] = []
    count = 0
    while True:
        item = _read_field(cursor)
        if isinstance(item, SyntaxProblem):
            return item
        count += 1
        if max_fields is None or count <= max_fields + 1:
            fields.append(item)
        if cursor.position >= end or text[cursor.position] in "\r\n":
            return Row(tuple(fields), cursor.column, None if count == len(fields) else count)
        if text[cursor.position] != ",":
            return SyntaxProblem(
                cursor.line,
                cursor.column,
                "a quote inside a field that is not quoted, or text after a closing quote "
                "(fields with quotes must be quoted, quotes doubled)",
            )
        cursor.position += 1


def read_rows(text: str, max_fields: int | None = None) -> Iterator[Row | SyntaxProblem]:
    """The rows of ``text`` in order, and a problem for each row that is not CSV.

    With ``max_fields``, a row keeps its first ``max_fields + 1`` fields and counts the rest
    (``Row.field_count``): enough to say that it has too many, and where the first extra is.
    """
    cursor = _Cursor(text)
    end = len(text)
    while cursor.position < end:
        found = _LINE_BREAK.search(text, cursor.position)
        line_end = end if found is None else found.start()
        if text.find('"', cursor.position, line_end) < 0:
            yield _split_plain_line(cursor, line_end, max_fields)
        else:
            item = _read_quoted_row(cursor, max_fields)
            yield item
            if isinstance(item, SyntaxProblem):
                cursor.skip_line()
                continue
        if cursor.position < end:
            cursor.next_line()


def format_row(values: Sequence[str]) -> str:
    """One CSV line (CRLF ended, as RFC 4180 has it), quoting only the fields that need it."""
    cells = (
        '"' + value.replace('"', '""') + '"' if _NEEDS_QUOTES.search(value) else value
        for value in values
    )
    return ",".join(cells) + "\r\n"
