"""Decoding a PAXLST payload: bytes to text, text to segments, segments to records.

Each stage reports what it finds and hands on what it could read; nothing raises on bad input:

1. ``syntax.read_prelude``: where the interchange starts, its UNA, its syntax identifier;
2. ``syntax.decode_text``: the bytes in the declared character set;
3. ``lexer.lex``: segments, through pydifact's tokenizer;
4. ``interchange.read_interchange``: envelope and control counts, each message to the
   ``message.MessageParser``;
5. ``assemble.assemble``: multi-part messages joined, ids and links, records emitted.
"""

from __future__ import annotations

import datetime
import re
from collections.abc import Iterator

from adapters.base import Adapter, DecodeResult
from adapters.diagnostics import Location, Severity
from adapters.paxlst.assemble import assemble
from adapters.paxlst.findings import Findings, Subject
from adapters.paxlst.interchange import read_interchange
from adapters.paxlst.lexer import Lexed, lex
from adapters.paxlst.syntax import (
    DecodedText,
    Positions,
    charset_for,
    decode_text,
    outside_level_a,
    read_prelude,
)
from liaison.v1 import record_pb2

__all__ = ["decode_payload"]

_SURROGATE = re.compile("[\udc80-\udcff]")
_NON_ASCII = re.compile("[^\x00-\x7f]")


class _Everything(Subject):
    """Every record of the decode (for a UNA that could not be used)."""

    def __init__(self) -> None:
        self.emitted: list[record_pb2.Record] = []

    def records(self) -> Iterator[record_pb2.Record]:
        return iter(self.emitted)


def decode_payload(adapter: Adapter, payload: bytes, source_reference: str) -> DecodeResult:
    """Decode ``payload`` for ``adapter`` (which supplies identity and provenance)."""
    out = adapter.builder(payload, source_reference)
    prelude = read_prelude(payload)
    charset = charset_for(prelude.syntax_identifier)
    decoded = decode_text(payload[prelude.start :], charset)
    text = decoded.text
    findings = Findings(Positions(payload, prelude.start, text, decoded.single_byte))
    if not text.strip():
        out.error("EDIFACT_EMPTY", "the payload holds no interchange", findings.at_offset(0, None))
        return out.result()
    everything = _Everything()
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
            [everything],
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
    if not lexed.segments and not lexed.problems:
        findings.add(
            Severity.ERROR,
            "EDIFACT_EMPTY",
            "the payload holds no segment",
            findings.at_offset(prelude.una_length, 0),
        )
    _mark_charset_problems(lexed, text, decoded)
    today = datetime.datetime.now(datetime.UTC).date()
    messages = read_interchange(lexed, findings, today, len(text))
    everything.emitted = assemble(messages, findings, out)
    emitted = {id(record) for record in everything.emitted}
    findings.emit(out, lambda record: id(record) in emitted)
    return out.result()


def _mark_charset_problems(lexed: Lexed, text: str, decoded: DecodedText) -> None:
    """Flag segments holding bytes the character set does not allow, and make them storable.

    Undecodable bytes were kept as lone surrogates so that offsets stay exact; protobuf strings
    cannot hold those, so they become U+FFFD in the segment's values.
    """
    if decoded.invalid_bytes:
        pattern, code = _SURROGATE, "EDIFACT_INVALID_ENCODING"
    elif decoded.outside_seven_bit:
        pattern, code = _NON_ASCII, "EDIFACT_CHARACTER_SET"
    else:
        return
    for segment in lexed.segments:
        match = pattern.search(text, segment.offset, segment.end or len(text))
        if match is None:
            continue
        segment.charset_problem = code
        segment.charset_problem_offset = match.start()
        if decoded.invalid_bytes:
            segment.elements = [
                [_SURROGATE.sub("\ufffd", component) for component in element]
                for element in segment.elements
            ]
