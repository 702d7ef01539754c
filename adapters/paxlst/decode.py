"""Decoding a PAXLST payload: bytes to text, text to segments, segments to records.

Each stage reports what it finds and hands on what it could read; nothing raises on bad input:

1. ``syntax.read_prelude``: where the interchange starts, its UNA, its syntax identifier;
2. ``syntax.decode_text``: the bytes in the declared character set;
3. ``lexer.lex``: segments, through pydifact's tokenizer, one at a time;
4. ``interchange.read_interchange``: envelope and control counts, each message to the
   ``message.MessageParser``, as the segments come;
5. ``assemble.assemble``: multi-part messages joined, ids and links, records emitted.

Diagnostics go to the builder as they are found, so its error limit stops a hostile payload at
once; they name records that get their ids only in stage 5 (``findings``).
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Iterator

from adapters.base import Adapter, DecodeResult
from adapters.diagnostics import Location, Severity
from adapters.paxlst.assemble import assemble
from adapters.paxlst.findings import Findings
from adapters.paxlst.interchange import read_interchange
from adapters.paxlst.lexer import Lexeme, Segment, lex
from adapters.paxlst.syntax import (
    DecodedText,
    Positions,
    charset_for,
    decode_text,
    outside_level_a,
    read_prelude,
)
from liaison.rules.text import forbidden_in

__all__ = ["decode_payload"]

_SURROGATE = re.compile("[\udc80-\udcff]")
_NON_ASCII = re.compile("[^\x00-\x7f]")


def decode_payload(adapter: Adapter, payload: bytes, source_reference: str) -> DecodeResult:
    """Decode ``payload`` for ``adapter`` (which supplies identity and provenance)."""
    out = adapter.builder(payload, source_reference)
    prelude = read_prelude(payload)
    charset = charset_for(prelude.syntax_identifier)
    decoded = decode_text(payload[prelude.start :], charset)
    text = decoded.text
    findings = Findings(out, Positions(payload, prelude.start, text, decoded.single_byte))
    if not text.strip():
        out.error("EDIFACT_EMPTY", "the payload holds no interchange", findings.at_offset(0, None))
        return out.result()
    if prelude.skipped_header:
        findings.add(
            Severity.WARNING,
            "EDIFACT_LEADING_DATA",
            "bytes before the interchange's UNA or UNB (a transport header?) were skipped",
            Location(line=1, column=1, byte_offset=0),
        )
    if prelude.una_problem:
        findings.add(
            Severity.ERROR,
            "EDIFACT_UNA",
            f"{prelude.una_problem}; the default service characters are used instead",
            findings.at_offset(0, None),
            [out.every_record],
        )
    if prelude.syntax_identifier and charset is None:
        findings.add(
            Severity.WARNING,
            "EDIFACT_CHARACTER_SET",
            "UNB: the syntax identifier (S001 0001) names no character set this adapter "
            "knows; the text was read as UTF-8, or Latin-1 where it is not UTF-8",
            findings.at_offset(prelude.una_length, 0),
        )
    elif charset is not None and charset.level_a and text.isascii():
        offset = outside_level_a(text)
        if offset >= 0:
            findings.add(
                Severity.WARNING,
                "EDIFACT_CHARACTER_SET",
                "characters outside the UNOA level A repertoire (such as lower-case letters) "
                "occur; they were read as they are",
                findings.at_offset(offset, None),
            )
    lexed = lex(text, prelude.una_length, prelude.characters)
    lexemes = _text_checked(_charset_checked(lexed, text, decoded), text)
    first = next(lexemes, None)
    if first is None:
        findings.add(
            Severity.ERROR,
            "EDIFACT_EMPTY",
            "the payload holds no segment",
            findings.at_offset(prelude.una_length, 0),
        )
        return out.result()
    today = datetime.datetime.now(datetime.UTC).date()
    messages = read_interchange(_chain(first, lexemes), findings, today, len(text))
    assemble(messages, findings, out)
    return out.result()


def _chain(first: Lexeme, rest: Iterator[Lexeme]) -> Iterator[Lexeme]:
    yield first
    yield from rest


def _charset_checked(
    lexemes: Iterator[Lexeme], text: str, decoded: DecodedText
) -> Iterator[Lexeme]:
    """The lexemes, each segment holding bytes its character set does not allow flagged.

    Undecodable bytes were kept as lone surrogates so that offsets stay exact; protobuf strings
    cannot hold those, so they become U+FFFD in the segment's values.
    """
    if decoded.invalid_bytes:
        pattern, code = _SURROGATE, "EDIFACT_INVALID_ENCODING"
    elif decoded.outside_seven_bit:
        pattern, code = _NON_ASCII, "EDIFACT_CHARACTER_SET"
    else:
        yield from lexemes
        return
    for lexeme in lexemes:
        if isinstance(lexeme, Segment):
            _mark(lexeme, pattern, code, text, replace=decoded.invalid_bytes)
        yield lexeme


def _text_checked(lexemes: Iterator[Lexeme], text: str) -> Iterator[Lexeme]:
    """The lexemes, each segment with a value holding a forbidden character flagged.

    EDIFACT values have no lines: every value is checked as a single-line text field. The values
    are checked (not the text, where line breaks between segments are allowed); the offset of
    the character is then found in the segment's text.
    """
    for lexeme in lexemes:
        if isinstance(lexeme, Segment):
            for element in lexeme.elements:
                forbidden = next(filter(None, map(forbidden_in, element)), None)
                if forbidden is not None:
                    lexeme.forbidden = forbidden
                    found = text.find(chr(forbidden.code_point), lexeme.offset, lexeme.end or None)
                    lexeme.forbidden_offset = lexeme.offset if found < 0 else found
                    break
        yield lexeme


def _mark(segment: Segment, pattern: re.Pattern[str], code: str, text: str, replace: bool) -> None:
    match = pattern.search(text, segment.offset, segment.end or len(text))
    if match is None:
        return
    segment.charset_problem = code
    segment.charset_problem_offset = match.start()
    if replace:
        segment.elements = [
            [_SURROGATE.sub("\ufffd", component) for component in element]
            for element in segment.elements
        ]
