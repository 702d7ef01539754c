"""The tokenizing layer: pydifact's tokenizer, positions, and what pydifact alone gets wrong.

ISO 9735: a segment is a tag and data elements separated by the data element separator,
composites split by the component separator, ended by the segment terminator; the release
character gives the next service character its literal meaning.
"""

from __future__ import annotations

import contextlib
import re
import time
from dataclasses import dataclass

import pytest
from pydifact.exceptions import EDISyntaxError
from pydifact.parser import Parser

from adapters.paxlst import lexer as lexer_module
from adapters.paxlst.lexer import LexProblem, Segment
from adapters.paxlst.lexer import lex as lex_stream
from adapters.paxlst.syntax import DEFAULT_CHARACTERS, ServiceCharacters


@dataclass
class Lexed:
    """Everything ``lex`` yields, split into segments and problems (order kept in ``items``)."""

    items: list[Segment | LexProblem]

    @property
    def segments(self) -> list[Segment]:
        return [item for item in self.items if isinstance(item, Segment)]

    @property
    def problems(self) -> list[LexProblem]:
        return [item for item in self.items if isinstance(item, LexProblem)]


def lex(text: str, start: int, characters: ServiceCharacters) -> Lexed:
    return Lexed(list(lex_stream(text, start, characters)))


def _tags(segments: list[Segment]) -> list[str]:
    return [segment.tag for segment in segments]


def test_segments_elements_and_components() -> None:
    lexed = lex("UNB+UNOA:4+A:ZZ+B'NAD+FL+++DOE:JOHN'", 0, DEFAULT_CHARACTERS)
    assert _tags(lexed.segments) == ["UNB", "NAD"]
    assert lexed.segments[0].elements == [["UNOA", "4"], ["A", "ZZ"], ["B"]]
    assert lexed.segments[1].elements == [["FL"], [""], [""], ["DOE", "JOHN"]]
    assert lexed.segments[1].value(3, 1) == "JOHN"
    assert lexed.segments[1].value(7, 0) == ""
    assert lexed.segments[0].joined(0) == "UNOA:4"
    assert lexed.problems == []


def test_release_character_restores_every_service_character() -> None:
    """ISO 9735 release character: ``?'``, ``?+``, ``?:`` and ``??`` are data."""
    lexed = lex("NAD+FL+++D?'UNAMUNO:A?+B?:C??D'", 0, DEFAULT_CHARACTERS)
    assert lexed.segments[0].components(3) == ["D'UNAMUNO", "A+B:C?D"]


def test_a_release_character_before_an_ordinary_character_is_kept_as_data() -> None:
    """ISO 9735 defines the release character only before a service character. Before, pydifact
    dropped it before any character: ``M?LLER`` became ``MLLER``, ``A?.B`` became ``A.B``."""
    text = "NAD+FL+++M?LLER:A?.B?C'FTX+X'"
    lexed = lex(text, 0, DEFAULT_CHARACTERS)
    nad, ftx = lexed.segments
    assert nad.components(3) == ["M?LLER", "A?.B?C"]
    assert nad.undefined_releases == (text.index("?L"), text.index("?."), text.index("?C"))
    assert ftx.undefined_releases == ()
    assert ftx.offset == text.index("FTX")
    assert lexed.problems == []


def test_a_segment_starting_after_a_kept_release_character_keeps_its_offsets() -> None:
    """The look-ahead after a terminator may be a release kept as data: the next segment's
    offset and its releases are still its own."""
    text = "FTX+A'NAD+?X+?Y'UNT+2+1'"
    nad = lex(text, 0, DEFAULT_CHARACTERS).segments[1]
    assert (nad.tag, nad.offset) == ("NAD", text.index("NAD"))
    assert nad.elements == [["?X"], ["?Y"]]
    assert nad.undefined_releases == (text.index("?X"), text.index("?Y"))


def test_releases_in_a_skipped_segment_are_not_counted_for_the_next() -> None:
    lexed = lex("UNB+A'?LAB+1'UNH+1'", 0, DEFAULT_CHARACTERS)
    assert [p.code for p in lexed.problems] == ["EDIFACT_SEGMENT_TAG"]
    assert [s.undefined_releases for s in lexed.segments] == [(), ()]


def test_a_declared_repetition_separator_is_a_service_character_a_space_is_not() -> None:
    with_repetition = ServiceCharacters(*":+.?*'")
    segment = lex("FTX+A?*B? C'", 0, with_repetition).segments[0]
    assert segment.value(0) == "A*B? C"
    assert segment.undefined_releases == (8,)  # before the space, not before the '*'
    default = lex("FTX+A?*B'", 0, DEFAULT_CHARACTERS).segments[0]
    assert (default.value(0), default.undefined_releases) == ("A?*B", (5,))


def test_a_release_character_after_the_last_segment_is_a_trailing_release() -> None:
    text = "UNB+A'UNZ+1+A'\r\n?"
    lexed = lex(text, 0, DEFAULT_CHARACTERS)
    assert _tags(lexed.segments) == ["UNB", "UNZ"]
    (problem,) = lexed.problems
    assert (problem.code, problem.offset) == ("EDIFACT_TRAILING_RELEASE", len(text) - 1)


def test_offsets_and_indexes_with_line_breaks_and_blanks_between_segments() -> None:
    text = "UNB+A'\r\n  UNH+1'\nBGM+745'   \r\nUNT+3+1'"
    lexed = lex(text, 0, DEFAULT_CHARACTERS)
    assert [(s.tag, s.index, s.offset) for s in lexed.segments] == [
        ("UNB", 0, 0),
        ("UNH", 1, text.index("UNH")),
        ("BGM", 2, text.index("BGM")),
        ("UNT", 3, text.index("UNT")),
    ]
    assert lexed.segments[0].end == text.index("UNH")


def test_offset_of_a_segment_that_starts_with_a_release_character() -> None:
    """The tokenizer reads a released first character ahead; the offset still points at it."""
    text = "UNB+A'?'AB+1'UNH+1'"
    lexed = lex(text, 0, DEFAULT_CHARACTERS)
    assert [s.tag for s in lexed.segments] == ["UNB", "UNH"]
    (problem,) = lexed.problems
    assert (problem.code, problem.offset, problem.segment_index) == ("EDIFACT_SEGMENT_TAG", 6, 1)
    assert lexed.segments[1].offset == text.index("UNH")
    assert lexed.segments[1].index == 2


def test_non_default_service_characters() -> None:
    characters = ServiceCharacters(*"|^.# ~")
    lexed = lex("UNA|^.# ~UNB^UNOB|4~NAD^FL^^^O#~BRIEN|A+B:C'D~", 9, characters)
    assert _tags(lexed.segments) == ["UNB", "NAD"]
    assert lexed.segments[1].components(3) == ["O~BRIEN", "A+B:C'D"]


def test_a_space_as_release_character_means_none() -> None:
    """A UNA may declare no release character (a space): spaces in data stay spaces."""
    characters = ServiceCharacters(*":+.  '")
    lexed = lex("NAD+FL+++VAN DER BERG:ANNA MARIA'", 0, characters)
    assert lexed.segments[0].components(3) == ["VAN DER BERG", "ANNA MARIA"]


def test_empty_segment_and_bad_tag_are_problems_and_keep_counting() -> None:
    lexed = lex("UNB+A''unh+1'UNH+1'", 0, DEFAULT_CHARACTERS)
    assert [(p.code, p.segment_index) for p in lexed.problems] == [
        ("EDIFACT_EMPTY_SEGMENT", 1),
        ("EDIFACT_SEGMENT_TAG", 2),
    ]
    assert [(s.tag, s.index) for s in lexed.segments] == [("UNB", 0), ("UNH", 3)]


def test_truncated_text_keeps_the_complete_segments() -> None:
    text = "UNB+A'UNH+1'DOC+P+MB14"
    lexed = lex(text, 0, DEFAULT_CHARACTERS)
    assert _tags(lexed.segments) == ["UNB", "UNH"]
    (problem,) = lexed.problems
    assert (problem.code, problem.offset, problem.segment_index) == (
        "EDIFACT_TRUNCATED",
        text.index("DOC"),
        2,
    )


def test_release_character_at_the_end() -> None:
    text = "UNB+A'FTX+AAA+++TAG?"
    lexed = lex(text, 0, DEFAULT_CHARACTERS)
    (problem,) = lexed.problems
    assert (problem.code, problem.offset) == ("EDIFACT_RELEASE_AT_END", len(text) - 1)


def test_a_released_terminator_at_the_end_is_not_the_end_of_a_segment() -> None:
    lexed = lex("UNB+A'FTX+A?'", 0, DEFAULT_CHARACTERS)
    assert _tags(lexed.segments) == ["UNB"]
    assert [p.code for p in lexed.problems] == ["EDIFACT_TRUNCATED"]


def test_an_even_run_of_release_characters_before_the_terminator_releases_nothing() -> None:
    lexed = lex("FTX+A??'", 0, DEFAULT_CHARACTERS)
    assert lexed.segments[0].value(0) == "A?"
    assert lexed.problems == []


def test_release_before_a_line_break_skips_one_segment_and_resumes() -> None:
    """pydifact raises on ``?`` followed by a line feed; the layer reports and goes on."""
    text = "UNB+A'FTX+A?\nB'NAD+FL+++X'UNT+3+1'"
    lexed = lex(text, 0, DEFAULT_CHARACTERS)
    assert [(s.tag, s.index) for s in lexed.segments] == [("UNB", 0), ("NAD", 2), ("UNT", 3)]
    (problem,) = lexed.problems
    assert (problem.code, problem.offset, problem.segment_index) == (
        "EDIFACT_SYNTAX",
        text.index("\n"),
        1,
    )
    assert lexed.segments[1].offset == text.index("NAD")


def test_no_terminator_at_all() -> None:
    lexed = lex("UNB+UNOA:4+NO TERMINATOR", 0, DEFAULT_CHARACTERS)
    assert lexed.segments == []
    assert [p.code for p in lexed.problems] == ["EDIFACT_TRUNCATED"]


@pytest.mark.filterwarnings("ignore")
def test_why_the_pydifact_parser_is_not_used() -> None:
    """pydifact's ``Parser`` searches ``'UNA`` anywhere when the text does not start with UNA:
    a released apostrophe before ``UNA`` in data makes it drop everything before (and it warns
    about every segment it cannot validate). Here it takes ``MUNO:M`` for the six service
    characters and then fails. If this starts failing, pydifact has fixed it."""
    text = "UNB+UNOA:4+A+B'NAD+FL+++D?'UNAMUNO:MIGUEL'UNT+2+1'"
    parsed: list[str] = []
    with contextlib.suppress(EDISyntaxError):
        parsed.extend(segment.tag for segment in Parser().parse(text))
    assert parsed[:1] == ["UNA"]
    assert "NAD" not in parsed
    assert _tags(lex(text, 0, DEFAULT_CHARACTERS).segments) == ["UNB", "NAD", "UNT"]


@pytest.mark.parametrize(
    "text",
    [
        "?" * 400_001,  # one endless run of release characters
        "?\n" * 150_000 + "'",  # a resynchronisation after every character pair
        "'" * 300_000,  # empty segments
        "FTX+" + ":" * 300_000 + "'",  # one segment with very many components
        "UNB" + "+A" * 200_000,  # no terminator at all
    ],
    ids=["release-run", "resync", "empty-segments", "components", "no-terminator"],
)
def test_pathological_inputs_take_linear_time(text: str) -> None:
    """Each shape takes seconds if some step rescans; linear lexing takes a fraction."""
    started = time.process_time()
    lex(text, 0, DEFAULT_CHARACTERS)
    assert time.process_time() - started < 20


def test_a_run_of_empty_segments_is_one_problem_and_indexes_go_on() -> None:
    """ISO 9735: a terminator right after another ends an empty segment; each still counts."""
    text = "UNB+A''''UNH+1'"
    lexed = lex(text, 0, DEFAULT_CHARACTERS)
    (problem,) = lexed.problems
    assert (problem.code, problem.offset, problem.segment_index) == (
        "EDIFACT_EMPTY_SEGMENT",
        text.index("''") + 1,
        1,
    )
    assert problem.message.startswith("3 empty segments")
    assert [(s.tag, s.index) for s in lexed.segments] == [("UNB", 0), ("UNH", 4)]
    assert [type(item).__name__ for item in lexed.items] == ["Segment", "LexProblem", "Segment"]


def test_blanks_between_the_terminators_of_a_run_are_skipped_as_pydifact_does() -> None:
    text = "UNB+A'\n'\r\n' 'UNH+1'"
    lexed = lex(text, 0, DEFAULT_CHARACTERS)
    (problem,) = lexed.problems
    assert problem.message.startswith("3 empty segments")
    assert [(s.tag, s.index, s.offset) for s in lexed.segments] == [
        ("UNB", 0, 0),
        ("UNH", 4, text.index("UNH")),
    ]


def test_a_run_at_the_start_counts_every_terminator() -> None:
    lexed = lex("'''UNB+A'", 0, DEFAULT_CHARACTERS)
    (problem,) = lexed.problems
    assert (problem.offset, problem.segment_index) == (0, 0)
    assert problem.message.startswith("3 empty segments")
    assert [(s.tag, s.index) for s in lexed.segments] == [("UNB", 3)]


def test_a_single_empty_segment_reads_as_before() -> None:
    lexed = lex("UNB+A''UNH+1'", 0, DEFAULT_CHARACTERS)
    (problem,) = lexed.problems
    assert problem.message.startswith("an empty segment")
    assert [(s.tag, s.index) for s in lexed.segments] == [("UNB", 0), ("UNH", 2)]


def test_a_released_terminator_does_not_start_a_run() -> None:
    """``?'`` is data: ``D?''`` ends NAD with the value D' and is followed by no empty segment;
    ``D?'''`` is followed by one."""
    lexed = lex("NAD+FL+++D?''UNH+1'", 0, DEFAULT_CHARACTERS)
    assert lexed.problems == []
    assert lexed.segments[0].value(3) == "D'"
    lexed = lex("NAD+FL+++D?'''UNH+1'", 0, DEFAULT_CHARACTERS)
    (problem,) = lexed.problems
    assert problem.message.startswith("an empty segment")
    assert [(s.tag, s.index) for s in lexed.segments] == [("NAD", 0), ("UNH", 2)]


def test_megabytes_of_terminators_are_one_problem() -> None:
    """Issue 12: 2 MiB of ``'`` gave two million diagnostics; it is one problem."""
    lexed = lex("'" * (2 * 1024 * 1024), 0, DEFAULT_CHARACTERS)
    (problem,) = lexed.items
    assert isinstance(problem, LexProblem)
    assert problem.message.startswith(f"{2 * 1024 * 1024:,} empty segments")


def test_lexing_is_a_stream() -> None:
    """Segments come one at a time: a reader that stops early has not lexed the rest."""
    stream = lex_stream("UNB+A'" + "NAD+FL'" * 100_000, 0, DEFAULT_CHARACTERS)
    first = next(stream)
    assert isinstance(first, Segment)
    assert first.tag == "UNB"


def test_the_search_for_empty_runs_is_not_repeated_after_each_resynchronisation(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Each search scans to the end of the text: repeating it after every syntax error made a
    payload of errors quadratic (4 MiB: 4 s, now 0.1 s). A search that found nothing is not
    made again from further on."""
    searches: list[int] = []
    original = re.Pattern.search

    class Counting:
        def __init__(self, pattern: re.Pattern[str]) -> None:
            self.pattern = pattern

        def search(self, text: str, position: int, end: int) -> re.Match[str] | None:
            searches.append(position)
            return original(self.pattern, text, position, end)

    real_init = lexer_module._Lexer.__init__

    def init(self: lexer_module._Lexer, text: str, characters: ServiceCharacters) -> None:
        real_init(self, text, characters)
        self.empty_runs = Counting(self.empty_runs)  # type: ignore[assignment]

    monkeypatch.setattr(lexer_module._Lexer, "__init__", init)
    lexed = lex("NAD+FL+++DOE?\n'" * 500, 0, DEFAULT_CHARACTERS)
    assert [p.code for p in lexed.problems] == ["EDIFACT_SYNTAX"] * 500
    assert len(searches) == 1
