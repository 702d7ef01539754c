"""Segments out of the text: pydifact's tokenizer, and the thin layer it needs to be sound.

pydifact (``pydifact.tokenizer.Tokenizer``) turns EDIFACT text into content and separator tokens
and honours the release character and any set of service characters it is given. What it does
not do, and this layer does instead:

- **positions**: tokens carry no offsets. The tokenizer counts the characters it has read
  (``_message_index``, with ``isEscaped`` for a released look-ahead character); after each
  segment terminator that count gives the start of the next segment. A test pins this.
- **end of input**: text that ends inside a segment, or with a lone release character, makes
  the tokenizer raise ``EDISyntaxError("Unexpected end of EDI messages.")`` without saying
  where. Here the text is cut after its last unreleased terminator before tokenizing, and the
  rest is reported as truncated (or as a release character at the end of the input).
- **recovery**: a release character followed by a line feed raises ``EDISyntaxError`` and ends
  the token stream. Here the error is reported and tokenizing resumes after the next unreleased
  segment terminator, so one bad segment does not lose the rest of the interchange.
- **cost**: segments are yielded one by one (nothing holds the whole list), and a run of empty
  segments is found by a regular expression and reported once, not tokenized terminator by
  terminator: megabytes of terminators cost a scan, not a diagnostic each.
- **UNA**: ``pydifact.parser.Parser`` looks for ``'UNA`` *anywhere* when the text does not start
  with UNA, so a released apostrophe followed by ``UNA`` in data (``NAD+FL+++D?'UNAMUNO``)
  silently discards everything before it. The UNA is read by ``syntax.read_prelude`` instead,
  and only the tokenizer is used (the parser also emits warnings for every segment it cannot
  validate against its directories, and raises ``IndexError`` on an empty segment).
- **whitespace**: the tokenizer skips spaces and line breaks after a terminator, but not before
  the first segment; that is skipped here.
- **release character "space"**: a UNA may declare a space as release character, meaning none
  is used; the tokenizer would treat every space as one. It gets a character that cannot occur
  in decoded text instead.
- **release before an ordinary character**: ISO 9735 gives the release character a meaning only
  before a service character (the separators, the terminator, the release character itself);
  the tokenizer drops it before any character, so ``M?LLER`` silently became ``MLLER``. Here a
  release character before any other character is data: the value keeps both characters, and
  the segment records where it stood (``Segment.undefined_releases``), for a warning.

Segments keep each data element as a list of its components, released characters restored.
"""

from __future__ import annotations

import re
from collections.abc import Generator, Iterator
from dataclasses import dataclass
from itertools import islice
from typing import cast

from pydifact.control.characters import Characters
from pydifact.exceptions import EDISyntaxError
from pydifact.token import Token
from pydifact.tokenizer import Tokenizer

from adapters.paxlst.syntax import ServiceCharacters
from liaison.rules.text import Forbidden

__all__ = ["EMPTY_SEGMENT", "TRAILING_RELEASE", "LexProblem", "Lexeme", "Segment", "lex"]

_CONTENT = Token.Type.CONTENT
_COMPONENT = Token.Type.COMPONENT_SEPARATOR
_DATA = Token.Type.DATA_SEPARATOR
# A release character for "no release character": lone low surrogates U+DC80..U+DCFF are the
# only surrogates decoded text can hold (from surrogateescape), so U+DFFF never occurs.
_NO_RELEASE = "\udfff"


@dataclass(slots=True)
class Segment:
    """One segment: its tag, data elements (each a list of components), and where it is."""

    tag: str
    elements: list[list[str]]
    """The data elements after the tag; each holds at least one (possibly empty) component."""
    index: int
    """0-based position among the segments of the payload (a UNA is not a segment)."""
    offset: int
    """Offset of the segment's first character in the decoded text."""
    end: int = 0
    """Offset just after the segment (its terminator and the blanks after it)."""
    charset_problem: str = ""
    """Diagnostic code when the segment holds characters its character set does not allow."""
    charset_problem_offset: int = 0
    """Offset of the first such character."""
    forbidden: Forbidden | None = None
    """The first character of a value that no record's text may hold (a control character, a
    bidi override...; ``liaison.rules.text``), if any."""
    forbidden_offset: int = 0
    """Offset of that character in the decoded text."""
    undefined_releases: tuple[int, ...] = ()
    """Offsets of release characters that precede no service character, kept as data."""

    def value(self, element: int, component: int = 0) -> str:
        """A component by position (0-based, after the tag); empty when absent."""
        elements = self.elements
        if element < len(elements):
            parts = elements[element]
            if component < len(parts):
                return parts[component]
        return ""

    def components(self, element: int) -> list[str]:
        """All components of a data element; empty when the element is absent."""
        return self.elements[element] if element < len(self.elements) else []

    def joined(self, element: int) -> str:
        """A composite as one string ("UNOA:4"), trailing empty components dropped."""
        components = self.components(element)
        end = len(components)
        while end and not components[end - 1]:
            end -= 1
        return ":".join(components[:end])


@dataclass(frozen=True, slots=True)
class LexProblem:
    """Something wrong below the segment level."""

    code: str
    message: str
    offset: int
    """Offset in the decoded text."""
    segment_index: int
    """Index the next segment would have: the problem lies just before that segment."""


Lexeme = Segment | LexProblem
"""What lexing yields: segments, and the problems found between them, in text order."""

EMPTY_SEGMENT = "EDIFACT_EMPTY_SEGMENT"
TRAILING_RELEASE = "EDIFACT_TRAILING_RELEASE"
"""A release character after the last segment, with nothing after it: nothing is lost."""


def lex(text: str, start: int, characters: ServiceCharacters) -> Iterator[Lexeme]:
    """Split ``text[start:]`` into segments, yielded in order with the problems between them.

    Never raises. Streaming: a caller that stops early has not lexed the rest, and no list of
    every segment is ever held. A run of empty segments (terminators one after another) is one
    problem, found by a regular expression rather than tokenized terminator by terminator.
    """
    lexer = _Lexer(text, characters)
    end = lexer.end_of_segments(start)
    position = lexer.skip_blanks(start, end)
    # One iterator over the text for every run, so that resuming after an error or an empty
    # run costs only the characters skipped.
    source = iter(text[position:end])
    lexer.consumed = position
    while position < end:
        empty = lexer.next_empty_run(position, end)
        chunk_end = empty[0] if empty is not None else end
        if position < chunk_end:
            stopped = yield from lexer.run(islice(source, chunk_end - position), position)
            if stopped < chunk_end:
                resume = lexer.skip_blanks(lexer.next_terminator(stopped + 1, end) + 1, end)
                _advance(source, resume - lexer.consumed)
                lexer.consumed = position = resume
                continue
        if empty is None:
            break
        yield lexer.empty_run(*empty)
        resume = lexer.skip_blanks(empty[1], end)
        _advance(source, resume - lexer.consumed)
        lexer.consumed = position = resume
    yield from lexer.tail(end)


def _advance(iterator: Iterator[str], count: int) -> None:
    if count > 0:
        next(islice(iterator, count - 1, count), None)


class _Tokenizer(Tokenizer):
    """pydifact's tokenizer, except that a release character before a character that is not a
    service character is data (ISO 9735 defines no meaning for it), its offset recorded."""

    def __init__(self, service: frozenset[str]) -> None:
        super().__init__()
        self.service = service
        self.pending: str | None = None
        """The character after a release character kept as data: the next one to read."""
        self.undefined: list[int] = []
        """Indexes (in the text tokenized) of the release characters kept as data."""

    def read_next_char(self) -> None:
        self.isEscaped = False
        if self.pending is not None:
            self._char, self.pending = self.pending, None
            return
        self._char = self.get_next_char()
        if self.characters is None or self._char != self.characters.escape_character:
            return
        following = self.get_next_char()
        if following == "\n":
            # As pydifact: the caller reports it and resynchronises after the next terminator.
            raise EDISyntaxError("Newlines after escape characters are not allowed.")
        if following is None or following in self.service:
            self.isEscaped = True
            self._char = following
            return
        self.undefined.append(self._message_index - 2)
        self.pending = following


class _Lexer:
    def __init__(self, text: str, characters: ServiceCharacters) -> None:
        self.text = text
        self.characters = characters
        self.release = characters.release if characters.has_release else ""
        self.pydifact_characters = Characters(  # type: ignore[no-untyped-call]
            component_separator=characters.component,
            data_separator=characters.data,
            decimal_point=characters.decimal,
            escape_character=self.release or _NO_RELEASE,
            reserved=characters.repetition,
            segment_terminator=characters.terminator,
        )
        terminator = re.escape(characters.terminator)
        # A terminator, then more with only the blanks pydifact skips after one (space, CR, LF)
        # between them: every terminator after the first ends an empty segment. One character
        # class, not a repeated group: the regex engine keeps no state per repetition.
        self.empty_runs = re.compile(f"{terminator}[ \\r\\n{terminator}]*{terminator}")
        self.found_run: tuple[int, int] | None = None
        """The last empty run found, reused while lexing has not passed it."""
        self.no_run_from = -1
        """A search from this offset found no run: none is searched for after it again (each
        search scans to the end; repeating it after every resynchronisation is quadratic)."""
        self.consumed = 0
        self.count = 0
        self.tags: set[str] = set()
        """Tags already found valid (a payload uses a dozen, over and over)."""
        service = {characters.component, characters.data, characters.terminator}
        if self.release:
            service.add(self.release)
        if characters.repetition != " ":
            service.add(characters.repetition)
        self.service = frozenset(service)
        """What a release character may precede (ISO 9735): the separators and itself."""

    # --- scanning the raw text (release-aware), for cutting and resynchronising ---

    def _is_released(self, position: int, floor: int) -> bool:
        """True when an odd run of release characters precedes ``position`` (down to floor)."""
        if not self.release:
            return False
        run = 0
        text, release = self.text, self.release
        while position - run - 1 >= floor and text[position - run - 1] == release:
            run += 1
        return run % 2 == 1

    def end_of_segments(self, start: int) -> int:
        """The offset just after the last unreleased segment terminator (``start`` if none)."""
        terminator = self.characters.terminator
        limit = len(self.text)
        while True:
            found = self.text.rfind(terminator, start, limit)
            if found < 0:
                return start
            if not self._is_released(found, start):
                return found + 1
            limit = found

    def next_terminator(self, position: int, end: int) -> int:
        """The offset of the next unreleased terminator at or after ``position`` (before end)."""
        terminator = self.characters.terminator
        floor = position
        while True:
            found = self.text.find(terminator, position, end)
            if found < 0:
                return end - 1
            if not self._is_released(found, floor):
                return found
            position = found + 1

    def next_empty_run(self, position: int, end: int) -> tuple[int, int] | None:
        """The next run of empty segments at or after ``position``: (first, stop).

        ``first`` is the offset of the terminator of the first empty segment, ``stop`` the offset
        just after the last terminator of the run. A segment starting at ``position`` is empty
        when it starts with a terminator; elsewhere the first terminator of the match ends the
        segment before the run. A released first terminator is data, so the run starts after it.
        """
        found = self.found_run
        if found is not None and found[0] >= position:
            return found
        if 0 <= self.no_run_from <= position:
            return None
        search_from = position
        while True:
            match = self.empty_runs.search(self.text, search_from, end)
            if match is None:
                self.found_run = None
                self.no_run_from = position
                return None
            first = match.start()
            if self._is_released(first, position):
                search_from = first + 1
                continue
            if first != position:
                first = self.text.index(self.characters.terminator, first + 1)
            self.found_run = (first, match.end())
            return self.found_run

    def skip_blanks(self, position: int, end: int) -> int:
        text = self.text
        while position < end and text[position].isspace():
            position += 1
        return position

    # --- tokenizing ---

    def run(self, source: Iterator[str], base: int) -> Generator[Lexeme, None, int]:
        """Tokenize ``source`` (the text from ``base``) to its end or a syntax error.

        Yields the segments and their problems; returns the offset where it stopped.
        """
        tokenizer = _Tokenizer(self.service)
        elements: list[list[str]] = []
        element = [""]
        segment_start = base
        tokens = tokenizer.get_tokens(cast(str, source), self.pydifact_characters)
        try:
            for token in tokens:
                kind = token.type
                if kind is _CONTENT:
                    element[-1] = token.value
                elif kind is _COMPONENT:
                    element.append("")
                elif kind is _DATA:
                    elements.append(element)
                    element = [""]
                else:
                    elements.append(element)
                    if tokenizer._char is None:
                        next_start = base + tokenizer._message_index
                    else:
                        # The look-ahead character: one back, and one more for a released one
                        # or a release character kept as data (its next character is read).
                        ahead = tokenizer.isEscaped or tokenizer.pending is not None
                        next_start = base + tokenizer._message_index - 1 - int(ahead)
                    lexeme = self._segment(elements, segment_start, next_start)
                    if tokenizer.undefined:
                        releases = self._releases_in(tokenizer.undefined, base, next_start)
                        if isinstance(lexeme, Segment):
                            lexeme.undefined_releases = releases
                    yield lexeme
                    elements = []
                    element = [""]
                    segment_start = next_start
        except EDISyntaxError:
            offset = base + tokenizer._message_index - 1
            self.consumed = base + tokenizer._message_index
            problem = self._problem(
                "EDIFACT_SYNTAX",
                "a release character is followed by a line break; the segment is skipped",
                offset,
            )
            self.count += 1
            yield problem
            return offset
        self.consumed = base + tokenizer._message_index
        return self.consumed

    @staticmethod
    def _releases_in(found: list[int], base: int, end: int) -> tuple[int, ...]:
        """The offsets in ``found`` (indexes from ``base``) before ``end``, taken out of it; the
        look-ahead may already have found the next segment's first one."""
        offsets = [base + index for index in found]
        inside = tuple(offset for offset in offsets if offset < end)
        del found[: len(inside)]
        return inside

    def _segment(self, elements: list[list[str]], start: int, end: int) -> Lexeme:
        index = self.count
        self.count += 1
        head = elements[0]
        tag = head[0] if len(head) == 1 else ""
        if tag not in self.tags:
            tag = tag.lstrip()
            if len(tag) != 3 or not (tag.isascii() and tag.isalnum() and tag.isupper()):
                if len(elements) == 1 and head == [""]:
                    return LexProblem(
                        EMPTY_SEGMENT,
                        "an empty segment (a terminator right after another); skipped",
                        start,
                        index,
                    )
                return LexProblem(
                    "EDIFACT_SEGMENT_TAG",
                    "a segment does not start with a three-letter upper-case tag; skipped",
                    start,
                    index,
                )
            self.tags.add(tag)
        del elements[0]
        return Segment(tag, elements, index, start, end)

    def empty_run(self, first: int, stop: int) -> LexProblem:
        """The problem of the empty segments whose terminators lie in ``[first, stop)``."""
        count = self.text.count(self.characters.terminator, first, stop)
        index = self.count
        self.count += count
        if count == 1:
            message = "an empty segment (a terminator right after another); skipped"
        else:
            message = f"{count:,} empty segments (terminators one after another); skipped"
        return LexProblem(EMPTY_SEGMENT, message, first, index)

    def _problem(self, code: str, message: str, offset: int) -> LexProblem:
        return LexProblem(code, message, offset, self.count)

    def tail(self, end: int) -> Iterator[LexProblem]:
        """The problem of what follows the last complete segment, unless it is blank."""
        text = self.text
        rest = self.skip_blanks(end, len(text))
        if rest >= len(text):
            return
        # Blanks after the last character mean nothing (a file's final line break).
        last = len(text.rstrip(" \r\n")) - 1
        if self.release and text[last] == self.release and self._is_released(last + 1, end):
            if rest == last:
                yield self._problem(
                    TRAILING_RELEASE,
                    "the input ends with a release character after its last segment; it "
                    "releases nothing and is ignored",
                    rest,
                )
                return
            yield self._problem(
                "EDIFACT_RELEASE_AT_END",
                "the input ends with a release character that releases nothing; "
                "the last segment is incomplete and was skipped",
                last,
            )
            return
        yield self._problem(
            "EDIFACT_TRUNCATED",
            "the input ends inside a segment (no segment terminator); "
            "the incomplete segment was skipped",
            rest,
        )
