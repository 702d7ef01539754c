"""Character sets per the syntax identifier (UNB S001 0001, ISO 9735 code list): UNOA/UNOB
seven-bit ISO 646, UNOC ISO 8859-1, UNOY/UNOW ISO 10646-1 (UTF-8)."""

from __future__ import annotations

from adapters.diagnostics import Severity
from tests.adapters.paxlst.builders import (
    FLIGHT,
    UNA,
    codes,
    decode,
    message,
    only,
    persons,
    tainted_bodies,
)


def _interchange(syntax: str, *travellers: str, encoding: str = "utf-8") -> bytes:
    body = [*FLIGHT]
    for name in travellers:
        body += [f"NAD+FL+++{name}", "DOC+P+1"]
    body.append(f"CNT+42:{len(travellers)}")
    segments = [f"UNB+{syntax}+S+R+251127:0900+REF1", *message(body), "UNZ+1+REF1"]
    return (UNA + "".join(segment + "'" for segment in segments)).encode(encoding)


def test_unoc_is_latin_1() -> None:
    result = decode(_interchange("UNOC:4", "MÜLLER:KÄTHE", encoding="latin-1"))
    assert result.diagnostics == ()
    assert persons(result)[0].names[0].family == "MÜLLER"


def test_unoy_and_unow_are_utf_8() -> None:
    for syntax in ("UNOY:4", "UNOW:4"):
        result = decode(_interchange(syntax, "ΠΑΠΑΔΟΠΟΥΛΟΣ:ΕΛΕΝΗ", "ŁUKASZ"))
        assert result.diagnostics == ()
        assert [p.names[0].family for p in persons(result)] == ["ΠΑΠΑΔΟΠΟΥΛΟΣ", "ŁUKASZ"]


def test_unoe_is_iso_8859_5() -> None:
    result = decode(_interchange("UNOE:4", "ИВАНОВ", encoding="iso8859-5"))
    assert persons(result)[0].names[0].family == "ИВАНОВ"


def test_invalid_utf8_names_only_the_traveller_it_is_in_with_its_byte_offset() -> None:
    payload = _interchange("UNOY:4", "MÜLLER", "BAD@@NAME").replace(b"@@", b"\xff\xfe")
    result = decode(payload)
    diagnostic = only(result, "EDIFACT_INVALID_ENCODING")
    assert diagnostic.severity is Severity.ERROR
    assert diagnostic.location.byte_offset == payload.index(b"\xff")
    assert tainted_bodies(result) == ["person", "travel_document"]
    assert persons(result)[1].names[0].family == "BAD\ufffd\ufffdNAME"
    assert persons(result)[0].names[0].family == "MÜLLER"


def test_invalid_bytes_in_the_interchange_header() -> None:
    payload = _interchange("UNOY:4", "DOE").replace(b"+S+", b"+S\xff+")
    result = decode(payload)
    diagnostic = only(result, "EDIFACT_INVALID_ENCODING")
    assert (diagnostic.location.segment_index, diagnostic.record_ids) == (0, ())


def test_eight_bit_characters_under_unoa_are_errors() -> None:
    """The GTAS D.02B vector writes ``ALI YYÉ`` under UNOA: the repertoire has no É."""
    result = decode(_interchange("UNOA:4", "YYÉ:ALI", "PLAIN"))
    diagnostic = only(result, "EDIFACT_CHARACTER_SET")
    assert diagnostic.severity is Severity.ERROR
    assert tainted_bodies(result) == ["person", "travel_document"]
    assert persons(result)[0].names[0].family == "YYÉ"


def test_lower_case_under_unoa_is_a_warning_once() -> None:
    result = decode(_interchange("UNOA:4", "doe:jane", "roe:john"))
    diagnostic = only(result, "EDIFACT_CHARACTER_SET")
    assert diagnostic.severity is Severity.WARNING
    assert result.tainted_ids == frozenset()
    assert decode(_interchange("UNOB:4", "doe:jane")).diagnostics == ()


def test_unknown_syntax_identifier_reads_utf8_or_latin1() -> None:
    result = decode(_interchange("KECA:4", "MÜLLER"))
    assert codes(result) == ["EDIFACT_CHARACTER_SET"]
    assert persons(result)[0].names[0].family == "MÜLLER"
    latin = decode(_interchange("ABCD:4", "MÜLLER", encoding="latin-1"))
    assert persons(latin)[0].names[0].family == "MÜLLER"


def test_byte_order_mark_is_skipped() -> None:
    payload = b"\xef\xbb\xbf" + _interchange("UNOY:4", "DOE")
    result = decode(payload)
    assert result.diagnostics == ()
    assert persons(result)[0].names[0].family == "DOE"
