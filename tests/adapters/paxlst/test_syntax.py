"""Below the segments: where the interchange starts, UNA, character sets, positions.

ISO 9735: the service string advice ``UNA`` is followed by exactly six characters (component
separator, data element separator, decimal mark, release character, repetition separator,
segment terminator); the syntax identifier (UNB S001 0001) names the character repertoire.
"""

from __future__ import annotations

import pytest

from adapters.paxlst.syntax import (
    DEFAULT_CHARACTERS,
    Charset,
    Positions,
    ServiceCharacters,
    charset_for,
    decode_text,
    outside_level_a,
    read_prelude,
)


def test_default_una_and_syntax_identifier() -> None:
    prelude = read_prelude(b"UNA:+.? 'UNB+UNOA:4+A+B+251127:0900+1'")
    assert prelude.characters == DEFAULT_CHARACTERS
    assert (prelude.start, prelude.una_length, prelude.una_problem) == (0, 9, "")
    assert prelude.syntax_identifier == "UNOA"
    assert not prelude.skipped_header


def test_declared_service_characters_are_used_to_find_the_syntax_identifier() -> None:
    prelude = read_prelude(b"UNA|^.# ~\r\nUNB^UNOC|4^A^B~")
    assert prelude.characters == ServiceCharacters("|", "^", ".", "#", " ", "~")
    assert prelude.syntax_identifier == "UNOC"


def test_without_una_the_defaults_apply() -> None:
    prelude = read_prelude(b"UNB+UNOY:4+A+B'")
    assert prelude.characters == DEFAULT_CHARACTERS
    assert (prelude.una_length, prelude.syntax_identifier) == (0, "UNOY")


def test_byte_order_mark_and_blank_lines_before_the_interchange() -> None:
    prelude = read_prelude(b"\xef\xbb\xbf\r\n  UNA:+.? 'UNB+UNOW:4'")
    assert (prelude.start, prelude.skipped_header, prelude.syntax_identifier) == (7, False, "UNOW")


def test_transport_header_lines_are_skipped() -> None:
    payload = b"QK VIEAPXH\n.HDQRMA9 271000\nUNA:+.? 'UNB+UNOA:4'"
    prelude = read_prelude(payload)
    assert prelude.start == payload.index(b"UNA")
    assert prelude.skipped_header


@pytest.mark.parametrize(
    ("una", "problem"),
    [
        (b"UNA:+.", "shorter than six"),
        (b"UNA::.? '", "same character"),
        (b"UNA:+.+ '", "release character is also a separator"),
        (b"UNA:+.A '", "letter or digit"),
        (b"UNA:\xe9.? '", "outside the ASCII"),
    ],
)
def test_unusable_una_falls_back_to_the_defaults(una: bytes, problem: str) -> None:
    prelude = read_prelude(una if len(una) < 9 else una + b"UNB+UNOA:4'")
    assert problem in prelude.una_problem
    assert prelude.characters == DEFAULT_CHARACTERS


def _charset(identifier: str) -> Charset:
    charset = charset_for(identifier)
    assert charset is not None
    return charset


def test_charsets_of_the_syntax_identifiers() -> None:
    """ISO 9735 code list 0001: UNOA/UNOB ISO 646, UNOC ISO 8859-1 ... UNOY ISO 10646-1."""
    assert _charset("UNOA").level_a
    assert _charset("UNOB").seven_bit
    assert not _charset("UNOB").level_a
    assert _charset("UNOC").codec == "latin-1"
    assert _charset("UNOD").codec == "iso8859-2"
    assert _charset("UNOE").codec == "iso8859-5"
    assert _charset("UNOY").codec == "utf-8"
    assert charset_for("KECA") is None


def test_decode_ascii_latin1_utf8() -> None:
    assert decode_text(b"ABC", charset_for("UNOA")).text == "ABC"
    latin = decode_text("MÜLLER".encode("latin-1"), charset_for("UNOC"))
    assert (latin.text, latin.single_byte, latin.invalid_bytes) == ("MÜLLER", True, False)
    utf8 = decode_text("MÜLLER".encode(), charset_for("UNOY"))
    assert (utf8.text, utf8.single_byte) == ("MÜLLER", False)


def test_invalid_utf8_is_kept_as_surrogates() -> None:
    decoded = decode_text(b"AB\xffC", charset_for("UNOY"))
    assert decoded.invalid_bytes
    assert decoded.text == "AB\udcffC"


def test_eight_bit_bytes_under_a_seven_bit_repertoire() -> None:
    as_utf8 = decode_text("É".encode(), charset_for("UNOA"))
    assert (as_utf8.text, as_utf8.outside_seven_bit) == ("É", True)
    as_latin = decode_text(b"\xc9\xff", charset_for("UNOB"))
    assert (as_latin.text, as_latin.outside_seven_bit) == ("Éÿ", True)


def test_without_a_known_charset_utf8_else_latin1() -> None:
    assert decode_text("É".encode(), None).text == "É"
    assert decode_text(b"\xc9", None).text == "É"


def test_level_a_repertoire() -> None:
    assert outside_level_a("UNB+UNOA:4+ABC 123'\r\n") == -1
    assert outside_level_a("NAD+FL+++Doe") == 10


def test_positions_map_characters_to_bytes_lines_and_columns() -> None:
    payload = "HDR\nUNB+É'\nUNH+1'".encode()
    start = payload.index(b"UNB")
    text = payload[start:].decode()
    positions = Positions(payload, start, text, single_byte=False)
    unh = positions.location(text.index("UNH"), 1)
    assert (unh.line, unh.column, unh.byte_offset, unh.segment_index) == (3, 1, 12, 1)
    unb = positions.location(0, 0)  # backwards: recomputed from the start
    assert (unb.line, unb.column, unb.byte_offset) == (2, 1, 4)
    accent = positions.location(text.index("'"), None)
    assert (accent.column, accent.byte_offset) == (6, payload.index(b"'"))


def test_positions_after_a_header_without_final_newline() -> None:
    payload = b"XX UNB+A'"
    positions = Positions(payload, 3, "UNB+A'", single_byte=True)
    location = positions.location(0, 0)
    assert (location.line, location.column, location.byte_offset) == (1, 4, 3)
