"""ISO 9735 syntax below the segments: service characters (UNA), character sets, positions.

Before a single segment can be read, three things must be known, and all three come from the
first bytes of the interchange, which ISO 9735 keeps in plain ASCII:

- where the interchange starts (transport systems often prepend header lines, and files may
  start with a byte order mark or blank lines);
- the service characters: the defaults, or those a UNA service string advice declares
  (ISO 9735-1 clause 7 / ISO 9735 v3 clause 7: ``UNA`` followed by exactly six characters,
  component separator, data element separator, decimal mark, release character, repetition
  separator (reserved in v3, space when unused) and segment terminator);
- the character repertoire, named by the syntax identifier in UNB S001 (``UNOA`` ... ``UNOY``),
  which says how the bytes decode into text.

This module also maps character offsets in the decoded text back to byte offsets, lines and
columns of the payload for diagnostics.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from adapters.diagnostics import Location

__all__ = [
    "DEFAULT_CHARACTERS",
    "Charset",
    "DecodedText",
    "Positions",
    "Prelude",
    "ServiceCharacters",
    "charset_for",
    "decode_text",
    "outside_level_a",
    "read_prelude",
]


@dataclass(frozen=True, slots=True)
class ServiceCharacters:
    """The six service characters of an interchange, in UNA order."""

    component: str = ":"
    data: str = "+"
    decimal: str = "."
    release: str = "?"
    repetition: str = " "
    terminator: str = "'"

    @property
    def una(self) -> str:
        """The UNA service string advice declaring these characters."""
        return (
            "UNA"
            + self.component
            + self.data
            + self.decimal
            + self.release
            + self.repetition
            + self.terminator
        )

    @property
    def has_release(self) -> bool:
        """False when the UNA declares a space as release character: no release in use."""
        return self.release != " "


DEFAULT_CHARACTERS = ServiceCharacters()
"""ISO 9735 defaults for levels A and B, as PAXLST interchanges write them: ``UNA:+.? '``.

The repetition separator is left at space (unused): PAXLST repeats no data element, and the
WCO/IATA/ICAO guide's own examples carry ``*`` as data (``UNB+UNOA:4+APIS*ABE+...``).
"""


@dataclass(frozen=True, slots=True)
class Charset:
    """How the bytes of an interchange decode, per its UNB syntax identifier (element 0001)."""

    codec: str
    """Python codec name."""
    seven_bit: bool = False
    """UNOA and UNOB: ISO 646 basic code table, bytes above 0x7F are outside the repertoire."""
    level_a: bool = False
    """UNOA: level A, upper-case letters, digits and a few punctuation marks only."""


# Syntax identifier (data element 0001, ISO 9735 service code list) -> character set.
# UNOW (UTF-8, syntax version 4 release 2 onwards) and UNOY (ISO 10646-1 octets without code
# extension) are both read as UTF-8, as PAXLST senders use them.
_CHARSETS: dict[str, Charset] = {
    "UNOA": Charset("ascii", seven_bit=True, level_a=True),
    "UNOB": Charset("ascii", seven_bit=True),
    "UNOC": Charset("latin-1"),
    "UNOD": Charset("iso8859-2"),
    "UNOE": Charset("iso8859-5"),
    "UNOF": Charset("iso8859-7"),
    "UNOG": Charset("iso8859-3"),
    "UNOH": Charset("iso8859-4"),
    "UNOI": Charset("iso8859-6"),
    "UNOJ": Charset("iso8859-8"),
    "UNOK": Charset("iso8859-9"),
    "UNOW": Charset("utf-8"),
    "UNOY": Charset("utf-8"),
}

_LENIENT = Charset("utf-8")
"""For interchanges without a (known) syntax identifier: UTF-8, else Latin-1."""

# Level A repertoire (ISO 9735 annex A): A-Z, 0-9, space and . , - ( ) / = ' + : ? ! " % & * ; < >
# plus the line breaks senders put between segments.
_OUTSIDE_LEVEL_A = re.compile(r"[^A-Z0-9 .,\-()/='+:?!\"%&*;<>\r\n]")


def charset_for(syntax_identifier: str) -> Charset | None:
    """The character set of a syntax identifier (``UNOA``), or None when it is not known."""
    return _CHARSETS.get(syntax_identifier)


def outside_level_a(text: str) -> int:
    """Offset of the first character outside the UNOA level A repertoire, or -1."""
    match = _OUTSIDE_LEVEL_A.search(text)
    return match.start() if match else -1


_UTF8_BOM = b"\xef\xbb\xbf"
_WHITESPACE = b" \t\r\n"
# Transport headers (IATA Type B lines, mail banners) before the interchange: look this far for
# a UNA or UNB at the start of a line.
_HEADER_SEARCH_LIMIT = 4096
_INTERCHANGE_START = re.compile(rb"(?:^|[\r\n])[ \t]*(UN[AB])")


@dataclass(frozen=True, slots=True)
class Prelude:
    """What the first bytes of a payload say about the interchange."""

    start: int
    """Byte offset of the interchange (its UNA or UNB, or the first non-blank byte)."""
    skipped_header: bool
    """Non-blank bytes before ``start`` were skipped (a transport header)."""
    characters: ServiceCharacters
    """The service characters in force."""
    una_length: int
    """9 when the interchange starts with a UNA, 0 otherwise."""
    una_problem: str
    """Why the UNA could not be used (the defaults then apply); empty when it could."""
    syntax_identifier: str
    """UNB S001 element 0001 (``UNOA``) as read from the bytes; empty when there is no UNB."""


def read_prelude(payload: bytes) -> Prelude:
    """Find the interchange in ``payload`` and read its UNA and syntax identifier."""
    position = len(_UTF8_BOM) if payload.startswith(_UTF8_BOM) else 0
    while position < len(payload) and payload[position] in _WHITESPACE:
        position += 1
    skipped = False
    if payload[position : position + 3] not in (b"UNA", b"UNB"):
        match = _INTERCHANGE_START.search(payload, position, position + _HEADER_SEARCH_LIMIT)
        if match is not None:
            position = match.start(1)
            skipped = True
    characters = DEFAULT_CHARACTERS
    una_length = 0
    problem = ""
    if payload.startswith(b"UNA", position):
        una_length = 9
        characters, problem = _read_una(payload[position + 3 : position + 9])
    syntax = _syntax_identifier(payload, position + una_length, characters)
    return Prelude(position, skipped, characters, una_length, problem, syntax)


def _read_una(declared: bytes) -> tuple[ServiceCharacters, str]:
    if len(declared) < 6:
        return DEFAULT_CHARACTERS, "the UNA service string advice is shorter than six characters"
    if not declared.isascii() or any(byte < 0x20 and byte not in b"\r\n" for byte in declared):
        return DEFAULT_CHARACTERS, "the UNA declares characters outside the ASCII graphic range"
    text = declared.decode("ascii")
    characters = ServiceCharacters(*text)
    separators = (characters.component, characters.data, characters.terminator)
    if len(set(separators)) != 3:
        return DEFAULT_CHARACTERS, "the UNA declares the same character for two separators"
    if characters.has_release and characters.release in separators:
        return DEFAULT_CHARACTERS, "the UNA release character is also a separator"
    if any(c.isalnum() for c in (*separators, characters.release)):
        return DEFAULT_CHARACTERS, "the UNA declares a letter or digit as a service character"
    return characters, ""


def _syntax_identifier(payload: bytes, position: int, characters: ServiceCharacters) -> str:
    while position < len(payload) and payload[position] in _WHITESPACE:
        position += 1
    data = characters.data.encode("ascii", "replace")
    if payload[position : position + 4] != b"UNB" + data:
        return ""
    identifier = payload[position + 4 : position + 8]
    return identifier.decode("ascii") if identifier.isalpha() and identifier.isascii() else ""


@dataclass(frozen=True, slots=True)
class DecodedText:
    """The interchange as text, and what decoding found."""

    text: str
    single_byte: bool
    """Each character came from exactly one byte (offsets in text and bytes coincide)."""
    invalid_bytes: bool
    """Some bytes were not valid in the character set; they decoded as U+DC80..U+DCFF."""
    outside_seven_bit: bool
    """A seven-bit repertoire (UNOA/UNOB) was declared but bytes above 0x7F occur."""


def decode_text(data: bytes, charset: Charset | None) -> DecodedText:
    """Decode ``data`` in ``charset`` (None: UTF-8 when valid, else Latin-1).

    Undecodable bytes never stop decoding: they become lone surrogates (``surrogateescape``)
    so that every later offset still maps to its byte, and the caller reports them.
    """
    if data.isascii():
        return DecodedText(data.decode("ascii"), True, False, False)
    if charset is None or charset.seven_bit:
        # Outside a seven-bit repertoire, or none declared: the likeliest reading of the bytes.
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            return DecodedText(data.decode("latin-1"), True, False, charset is not None)
        return DecodedText(text, False, False, charset is not None)
    try:
        text = data.decode(charset.codec)
    except UnicodeDecodeError:
        text = data.decode(charset.codec, "surrogateescape")
        return DecodedText(text, charset.codec != "utf-8", True, False)
    return DecodedText(text, charset.codec != "utf-8", False, False)


class Positions:
    """Maps character offsets of the decoded text to payload byte offsets, lines and columns.

    Diagnostics are raised roughly in text order, so the map keeps a cursor and moves it
    forward by the distance asked: locating every segment of a payload costs linear time.
    """

    def __init__(self, payload: bytes, start: int, text: str, single_byte: bool) -> None:
        self._text = text
        self._start = start
        self._single_byte = single_byte
        prefix = payload[:start]
        self._first_line = prefix.count(b"\n") + 1
        # Column of the text's first character when a header without a final newline precedes.
        self._first_column_shift = start - (prefix.rfind(b"\n") + 1)
        self._reset()

    def _reset(self) -> None:
        self._char = 0
        self._byte = 0
        self._line = self._first_line
        self._line_start = 0
        self._on_first_line = True

    def location(self, char_offset: int, segment_index: int | None = None) -> Location:
        """The location of ``char_offset`` (clamped to the text), with ``segment_index``."""
        char_offset = max(0, min(char_offset, len(self._text)))
        if char_offset < self._char:
            self._reset()
        chunk = self._text[self._char : char_offset]
        if self._single_byte:
            self._byte += len(chunk)
        else:
            self._byte += len(chunk.encode("utf-8", "surrogateescape"))
        newlines = chunk.count("\n")
        if newlines:
            self._line += newlines
            self._line_start = self._char + chunk.rfind("\n") + 1
            self._on_first_line = False
        self._char = char_offset
        column = char_offset - self._line_start + 1
        if self._on_first_line:
            column += self._first_column_shift
        return Location(
            line=self._line,
            column=column,
            byte_offset=self._start + self._byte,
            segment_index=segment_index,
        )
