"""The characters text fields may not hold (``liaison.rules.text``), and their place in validation.

Before the rule, validation accepted a NUL, a line break, an escape or a bidi override in a name,
an identifier or a note: such a record was stored and reached logs, CSV exports and clients.
"""

from __future__ import annotations

import pytest
from google.protobuf import descriptor_pool
from google.protobuf.descriptor import Descriptor, FieldDescriptor
from hypothesis import given
from hypothesis import strategies as st

from liaison.rules.text import FREE_TEXT_FIELDS, Forbidden, describe, forbidden_in
from liaison.rules.validation import validate_record
from liaison.v1 import record_pb2
from tests.support.contract_strategies import reproducible_settings
from tests.support.factories import person

REFUSED_EVERYWHERE = [
    "\x00",
    "\x01",
    "\x1b",  # ESC: terminal escape sequences in logs
    "\x1f",
    "\x7f",
    "\x85",  # NEL, a C1 line break
    "\x9b",  # CSI
    "\u202a",
    "\u202b",
    "\u202c",
    "\u202d",
    "\u202e",  # RIGHT-TO-LEFT OVERRIDE
    "\u2066",
    "\u2067",
    "\u2068",
    "\u2069",
    "\ufdd0",
    "\ufdef",
    "\ufffe",
    "\uffff",
    "\U0001fffe",
    "\U0010ffff",
]
LINE_BREAKS = ["\t", "\n", "\r", "\u2028", "\u2029"]
ORDINARY = [
    "IVANOV",
    "O'BRIEN-SMITH",
    "ИВАНОВ",
    "إيفانوف",  # Arabic letters: right-to-left text, but no control
    "שלום",
    "伊万诺夫",
    "MÜLLER",
    "\u200e\u200f",  # LRM and RLM marks stay: they are not overrides
    "👨‍👩‍👧",
]


@pytest.mark.parametrize("character", REFUSED_EVERYWHERE + LINE_BREAKS)
def test_a_single_line_field_refuses_controls_and_line_breaks(character: str) -> None:
    assert forbidden_in(f"ABC{character}DEF") == Forbidden(ord(character), 3)


@pytest.mark.parametrize("character", REFUSED_EVERYWHERE)
def test_free_text_refuses_controls_other_than_line_breaks(character: str) -> None:
    assert forbidden_in(f"line{character}", free_text=True) == Forbidden(ord(character), 4)


@pytest.mark.parametrize("character", LINE_BREAKS)
def test_free_text_may_have_lines_and_tabs(character: str) -> None:
    assert forbidden_in(f"first{character}second", free_text=True) is None


@pytest.mark.parametrize("text", ORDINARY)
def test_ordinary_text_of_any_script_is_allowed(text: str) -> None:
    assert forbidden_in(text) is None
    assert forbidden_in(text, free_text=True) is None


def test_the_reason_names_the_code_point_and_its_position_only() -> None:
    assert (
        describe(Forbidden(0, 3)) == "must not contain U+0000 (a control character) at position 3"
    )
    assert "bidi override" in describe(Forbidden(0x202E, 0))
    assert "noncharacter" in describe(Forbidden(0xFFFE, 0))
    assert "separator" in describe(Forbidden(0x2028, 0))


@reproducible_settings(max_examples=200)
@given(st.text())
def test_the_first_forbidden_character_is_found_wherever_it_is(text: str) -> None:
    found = forbidden_in(text)
    clean = [i for i, c in enumerate(text) if forbidden_in(c) is not None]
    assert (found.position if found else None) == (clean[0] if clean else None)


@pytest.mark.parametrize("full_name", sorted(FREE_TEXT_FIELDS))
def test_every_free_text_field_is_a_string_field_of_a_record(full_name: str) -> None:
    field = descriptor_pool.Default().FindFieldByName(full_name)
    assert field.type == FieldDescriptor.TYPE_STRING


def test_validation_refuses_each_field_with_a_control_and_names_it() -> None:
    record = person("P-1")
    record.person.names[0].family = "IVA\x00NOV"
    record.person.names[0].given = "\u202eIEGRES"
    record.person.identifiers.add(scheme="passport", value="X\n1")
    record.handling.restrictions = "no onward\ntransmission\x1b[2J"
    violations = {v.field: v.description for v in validate_record(record)}
    assert violations == {
        "person.names[0].family": "must not contain U+0000 (a control character) at position 3",
        "person.names[0].given": (
            "must not contain U+202E (an invisible bidi override or isolate) at position 0"
        ),
        "person.identifiers[0].value": (
            "must not contain U+000A (a control character) at position 1"
        ),
        "handling.restrictions": "must not contain U+001B (a control character) at position 22",
    }


def test_validation_accepts_lines_in_free_text_and_right_to_left_names() -> None:
    record = person("P-1")
    record.person.names[0].family = "إيفانوف"
    record.person.physical_description.distinguishing_marks = "scar, left hand\r\ntattoo\t(arm)"
    assert validate_record(record) == []


def test_every_intake_record_kind_is_checked_at_any_depth() -> None:
    record = record_pb2.Record(record_id="C:thread:1")
    record.request.thread_id = "T-1"
    record.request.subject = "about\nthe seizure"
    record.request.body = "Dear colleagues,\n\nplease\x07 advise."
    record.handling.releasable_to.append("WCO-I2C")
    fields = {v.field for v in validate_record(record)}
    assert {"request.subject", "request.body"} <= fields


def test_records_hold_no_map_field_the_text_walk_would_miss() -> None:
    """The validation walk visits repeated and singular fields; a map (iterated by key) would
    need a walk of its own. The contract has none: adding one must come with it."""

    def maps(descriptor: Descriptor, seen: set[str]) -> list[str]:
        if descriptor.full_name in seen:
            return []
        seen.add(descriptor.full_name)
        found = []
        for field in descriptor.fields:
            if field.message_type is None:
                continue
            if field.message_type.GetOptions().map_entry:
                found.append(field.full_name)
            else:
                found.extend(maps(field.message_type, seen))
        return found

    assert maps(record_pb2.Record.DESCRIPTOR, set()) == []
