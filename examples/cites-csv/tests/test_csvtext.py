"""The CSV reader and writer (RFC 4180), with the positions diagnostics point at."""

from __future__ import annotations

import pytest
from liaison_cites_csv.csvtext import Field, Row, SyntaxProblem, format_row, read_rows


def _rows(text: str) -> list[Row]:
    rows = list(read_rows(text))
    assert all(isinstance(row, Row) for row in rows)
    return [row for row in rows if isinstance(row, Row)]


def _texts(item: Row | SyntaxProblem) -> list[str]:
    assert isinstance(item, Row)
    return [cell.text for cell in item.fields]


def test_fields_know_their_line_and_column() -> None:
    first, second = _rows("a,bc,\r\nd,,ef\n")
    assert first == Row((Field("a", 1, 1), Field("bc", 1, 3), Field("", 1, 6)), 6)
    assert second == Row((Field("d", 2, 1), Field("", 2, 3), Field("ef", 2, 4)), 6)


def test_quoted_fields_hold_commas_quotes_and_line_breaks() -> None:
    """RFC 4180 section 2, rules 5-7: quotes around a field, quotes doubled inside."""
    rows = _rows('x,"a, ""b""\nc",y\nz\n')
    assert _texts(rows[0]) == ["x", 'a, "b"\nc', "y"]
    assert rows[0].fields[2] == Field("y", 2, 4)
    assert rows[1] == Row((Field("z", 3, 1),), 2)


@pytest.mark.parametrize("ending", ["\n", "\r\n", "\r"])
def test_line_endings(ending: str) -> None:
    rows = _rows(f"a{ending}b{ending}")
    assert [_texts(row) for row in rows] == [["a"], ["b"]]
    assert [row.line for row in rows] == [1, 2]


def test_blank_lines_are_blank_rows() -> None:
    rows = _rows("a\n\nb")
    assert [row.is_blank for row in rows] == [False, True, False]


@pytest.mark.parametrize(
    ("text", "line", "column"),
    [
        ('ab"c,d\n', 1, 3),  # a quote inside an unquoted field
        ('"ab"c,d\n', 1, 5),  # text after the closing quote
        ('a,"unclosed\n', 1, 3),  # a quoted field that never closes
    ],
)
def test_malformed_rows_are_located_and_skipped(text: str, line: int, column: int) -> None:
    problem, *rest = read_rows(text + "next,row\n")
    assert isinstance(problem, SyntaxProblem)
    assert (problem.line, problem.column) == (line, column)
    assert [_texts(row) for row in rest] == [["next", "row"]]


def test_written_rows_read_back() -> None:
    values = ["plain", "with, comma", 'with "quotes"', "two\nlines", ""]
    line = format_row(values)
    assert line == 'plain,"with, comma","with ""quotes""","two\nlines",\r\n'
    (row,) = read_rows(line)
    assert _texts(row) == values


@pytest.mark.parametrize(("line", "extra_column"), [("a,b,c,d,e,f", 7), ('a,"b",c,"d",e,f', 9)])
def test_a_row_keeps_one_field_beyond_the_limit_and_counts_the_rest(
    line: str, extra_column: int
) -> None:
    (row,) = read_rows(line + "\n", max_fields=3)
    assert isinstance(row, Row)
    assert row.field_count == 6
    assert len(row.fields) == 4
    assert row.fields[3].column == extra_column


def test_a_row_within_the_limit_is_read_whole() -> None:
    (row,) = read_rows("a,b\n", max_fields=3)
    assert isinstance(row, Row)
    assert (row.field_count, row.count) == (2, None)


def test_a_megabyte_of_commas_is_one_bounded_row() -> None:
    """The conformance kit's hostile runs: a million empty fields must not be a million objects."""
    (row,) = read_rows("," * 1_000_000, max_fields=25)
    assert isinstance(row, Row)
    assert row.field_count == 1_000_001
    assert len(row.fields) == 26


def test_a_megabyte_of_quotes_reads_without_backtracking_state() -> None:
    """``""`` pairs inside a quoted field: the pattern is possessive, the match linear."""
    (row,) = read_rows('"' * 1_000_000)
    assert isinstance(row, Row)
    assert row.fields[0].text == '"' * 499_999
