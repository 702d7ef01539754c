"""Finding MRZs in a payload: lines, blank-line separation, framing by line width."""

from __future__ import annotations

from adapters.icao_mrz.framing import Group, SourceLine, frame, split_lines


def _texts(groups: list[Group]) -> list[list[str]]:
    return [[line.text for line in group.lines] for group in groups]


def test_lines_keep_their_numbers_and_byte_offsets_across_crlf_and_blank_lines() -> None:
    payload = b"AB  \r\n\r\n \t\r\nCD\nEF"
    lines = list(split_lines(payload))
    assert [(line.number, line.offset, line.raw, line.text) for line in lines] == [
        (1, 0, b"AB", "AB"),
        (4, 12, b"CD", "CD"),
        (5, 15, b"EF", "EF"),
    ]


def test_a_byte_order_mark_is_skipped_but_counted_in_offsets() -> None:
    (line,) = split_lines(b"\xef\xbb\xbfABC\n")
    assert (line.number, line.offset, line.text) == (1, 3, "ABC")


def test_undecodable_bytes_become_lone_surrogates_and_offsets_stay_exact() -> None:
    (line,) = split_lines("Ä".encode() + b"B\xffC")
    assert line.text == "ÄB\udcffC"
    assert [line.byte_offset(column) for column in range(4)] == [0, 2, 3, 4]


def test_leading_whitespace_is_part_of_the_line() -> None:
    (line,) = split_lines(b"  P<UTO\n")
    assert line.text == "  P<UTO"


def _lines(*lengths: int, gap_after: int | None = None) -> list[SourceLine]:
    lines, number = [], 1
    for index, length in enumerate(lengths):
        text = "<" * length
        lines.append(SourceLine(number, 0, text.encode(), text))
        number += 2 if index == gap_after else 1
    return lines


def test_mrzs_that_follow_each_other_are_cut_by_line_width() -> None:
    groups = list(frame(_lines(44, 44, 30, 30, 30, 36, 36)))
    assert [(len(g.lines), g.width, g.rows, g.complete) for g in groups] == [
        (2, 44, 2, True),
        (3, 30, 3, True),
        (2, 36, 2, True),
    ]


def test_a_blank_line_ends_an_mrz() -> None:
    groups = list(frame(_lines(44, 44, 44, 44, gap_after=0)))
    assert [(len(g.lines), g.complete) for g in groups] == [(1, False), (2, True), (1, False)]


def test_a_line_of_the_wrong_length_stays_in_its_mrz() -> None:
    # A TD3 with a short second line, then a TD2: the short line is reported where it is.
    groups = list(frame(_lines(44, 43, 36, 36)))
    assert [(len(g.lines), g.width, g.complete) for g in groups] == [
        (2, 44, False),
        (2, 36, True),
    ]


def test_a_first_line_of_no_mrz_width_takes_the_width_of_the_second() -> None:
    groups = list(frame(_lines(40, 36)))
    assert [(g.width, g.rows) for g in groups] == [(36, 2)]


def test_a_line_of_another_mrz_width_starts_the_next_mrz() -> None:
    groups = list(frame(_lines(44, 30, 30, 30)))
    assert [(len(g.lines), g.width, g.complete) for g in groups] == [
        (1, 44, False),
        (3, 30, True),
    ]


def test_a_lone_line_of_no_mrz_width_takes_the_nearest_width() -> None:
    assert [(g.width, g.rows) for g in frame(_lines(5))] == [(30, 3)]
    assert [(g.width, g.rows) for g in frame(_lines(41))] == [(44, 2)]
    assert [(g.width, g.rows) for g in frame(_lines(33))] == [(30, 3)]  # a tie: the narrower


def test_framing_streams() -> None:
    """Groups are produced as lines are read: a caller may stop early on a huge payload."""
    lines = iter(_lines(44, 44, 44, 44))
    groups = frame(lines)
    assert len(next(groups).lines) == 2
    assert len(list(lines)) == 2  # the rest was not read ahead
