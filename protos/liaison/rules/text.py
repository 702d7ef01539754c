"""Which characters a text field may hold: the invisible and the unprintable are refused.

A name with a NUL or a line break is never legitimate: it cuts C strings short in other-language
clients, forges lines in logs and CSV exports, and hides from a reviewer what a screening engine
compares. Bidi overrides and isolates (U+202A-U+202E, U+2066-U+2069) make text display in another
order than it is stored ("Trojan Source"), and noncharacters and surrogates are not text at all.
Right-to-left *letters* (Arabic, Hebrew) are ordinary text; only the invisible controls go.

Two classes of field, by what their values are:

* **single-line** (names, identifiers, codes, references - every string field unless listed
  below): no C0 or C1 control (U+0000-U+001F, U+007F-U+009F), no line or paragraph separator
  (U+2028, U+2029), no bidi override or isolate, no noncharacter, no surrogate;
* **free text** (:data:`FREE_TEXT_FIELDS`: notes, bodies, descriptions): the same, except that
  TAB, LF, CR and the two Unicode separators are allowed - a note may have lines.

The rule is applied by :func:`liaison.rules.validation.validate_record` to every string field of
a record, so every intake path refuses the same characters; adapters call :func:`forbidden_in`
where they read a value, to report a diagnostic at its location instead of emitting a record the
gateway would refuse. Reasons name the code point and its position, never the text around it.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

__all__ = ["FREE_TEXT_FIELDS", "Forbidden", "describe", "forbidden_in"]

_BIDI_CONTROLS = "\u202a-\u202e\u2066-\u2069"
# U+FDD0-U+FDEF, and the last two code points of each of the 17 planes.
_NONCHARACTERS = "\ufdd0-\ufdef" + "".join(
    f"{chr(plane * 0x10000 + 0xFFFE)}{chr(plane * 0x10000 + 0xFFFF)}" for plane in range(17)
)
_ALWAYS = _BIDI_CONTROLS + _NONCHARACTERS + "\ud800-\udfff"
_SINGLE_LINE = re.compile(f"[\x00-\x1f\x7f-\x9f\u2028\u2029{_ALWAYS}]")
_FREE_TEXT = re.compile(f"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f{_ALWAYS}]")

FREE_TEXT_FIELDS: frozenset[str] = frozenset(
    {
        "liaison.v1.NistSubfield.items",  # ANSI/NIST Type-2 text is kept verbatim
        "liaison.v1.Handling.restrictions",
        "liaison.v1.Link.description",
        "liaison.v1.PhysicalDescription.distinguishing_marks",
        "liaison.v1.PhysicalDescription.other",
        "liaison.v1.Vehicle.distinguishing_features",
        "liaison.v1.Seizure.commodity_description",
        "liaison.v1.Seizure.concealment_description",
        "liaison.v1.ArrestWarrant.charge",
        "liaison.v1.ArrestWarrant.charge_translation",
        "liaison.v1.Notice.summary",
        "liaison.v1.ManifestTraveller.notes",
        "liaison.v1.CulturalObject.inscriptions_and_markings",
        "liaison.v1.CulturalObject.distinguishing_features",
        "liaison.v1.CulturalObject.description",
        "liaison.v1.ScreeningEvidence.detail",
        "liaison.v1.ScreeningDecision.note",
        "liaison.v1.Withdrawal.note",
        "liaison.v1.InformationRequest.body",
        "liaison.v1.InformationReply.body",
    }
)
"""Full names of the string fields that hold free text (lines allowed); any other is single-line."""


@dataclass(frozen=True, slots=True)
class Forbidden:
    """The first forbidden character of a value."""

    code_point: int
    """The character's code point."""
    position: int
    """Its position in the value, in code points from 0."""


def forbidden_in(value: str, *, free_text: bool = False) -> Forbidden | None:
    """The first character ``value`` may not hold in a field of its class, or None."""
    found = (_FREE_TEXT if free_text else _SINGLE_LINE).search(value)
    if found is None:
        return None
    return Forbidden(ord(found.group()), found.start())


def describe(forbidden: Forbidden) -> str:
    """A reason naming the character: ``"must not contain U+0000 (a control character) at
    position 3"``. It quotes no other part of the value: values may be personal data."""
    return (
        f"must not contain U+{forbidden.code_point:04X} ({_kind(forbidden.code_point)}) "
        f"at position {forbidden.position}"
    )


def _kind(code_point: int) -> str:
    if code_point < 0x20 or 0x7F <= code_point <= 0x9F:
        return "a control character"
    if code_point in (0x2028, 0x2029):
        return "a line or paragraph separator"
    if 0x202A <= code_point <= 0x202E or 0x2066 <= code_point <= 0x2069:
        return "an invisible bidi override or isolate"
    if 0xD800 <= code_point <= 0xDFFF:
        return "a surrogate"
    return "a noncharacter"
