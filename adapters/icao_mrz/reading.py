"""Reading one MRZ (its lines as text) into a ``TravelDocument`` and a ``Person``, with findings.

Pure and independent of where the lines came from: decoding calls it on the lines of a payload,
encoding on the lines a record already carries (to tell whether they still match its fields).
Findings point at MRZ positions (line and position within the MRZ, 0-based); the adapter turns
them into diagnostics located in the payload.

What is checked (Doc 9303 8th edition): the MRZ character set of Part 3 (``A``-``Z``, ``0``-``9``
and the filler ``<``); every check digit of the layout including the composite (Part 3 §4.9,
data structures of Parts 4-7 §4.2.2); a TD1 or TD2 document number longer than nine characters,
whose check digit position holds a filler and whose remaining characters and check digit open
the optional data (notes to the data structures of Part 5 and Part 6 §4.2.2), and the national
variant of that rule some states' TD1 cards use (``variants``); dates; sex; the document code's
first letter for the layout; country codes against ISO 3166-1 and Part 3's own.
"""

from __future__ import annotations

import datetime
from collections.abc import Sequence
from dataclasses import dataclass

from adapters.diagnostics import Severity
from adapters.icao_mrz.checkdigit import INVALID_CHARACTER, check_digit, is_mrz_text
from adapters.icao_mrz.dates import DateKind, DateProblem, read_date
from adapters.icao_mrz.layout import Layout, Span, layout_for
from adapters.icao_mrz.names import split_name_field
from adapters.icao_mrz.values import SEX_BY_LETTER, document_type, read_country
from adapters.icao_mrz.variants import (
    LONG_NUMBER_FILLER,
    LONG_NUMBER_FILLER_STATES,
    filler_included_check_digit,
)
from liaison.v1 import common_pb2, person_pb2, travel_document_pb2

__all__ = ["Finding", "is_undecodable", "read_mrz"]

# Bytes that are not UTF-8 reach the text as lone surrogates (the "surrogateescape" handler);
# the contract's strings cannot hold those, so they are stored as U+FFFD.
_UNDECODABLE_TO_REPLACEMENT = dict.fromkeys(range(0xDC80, 0xDD00), "\ufffd")
_PRIMARY = common_pb2.NAME_TYPE_PRIMARY


def is_undecodable(char: str) -> bool:
    """True for a character that stands for a payload byte that was not valid UTF-8."""
    return "\udc80" <= char <= "\udcff"


@dataclass(frozen=True, slots=True)
class Finding:
    """Something found in an MRZ, located by MRZ line and position (both 0-based)."""

    severity: Severity
    code: str
    message: str
    row: int
    column: int


class _Reader:
    """The state of reading one MRZ: its lines, the positions of invalid characters, findings."""

    def __init__(self, lines: Sequence[str], layout: Layout, strict: bool) -> None:
        self.lines = lines
        self.layout = layout
        self.strict = strict
        self.findings: list[Finding] = []
        self.invalid: set[tuple[int, int]] = set()
        self.check_digits_valid = True

    def add(self, severity: Severity, code: str, message: str, at: Span) -> None:
        self.findings.append(Finding(severity, code, message, at.row, at.start))

    def clean(self, span: Span) -> bool:
        """True when ``span`` holds no invalid character."""
        if not self.invalid:
            return True
        return not any((span.row, column) in self.invalid for column in range(span.start, span.end))

    def find_invalid_characters(self) -> None:
        for row, line in enumerate(self.lines):
            if is_mrz_text(line):
                continue
            for match in INVALID_CHARACTER.finditer(line):
                column = match.start()
                self.invalid.add((row, column))
                if is_undecodable(match.group()):
                    code, what = "MRZ_INVALID_UTF8", "a byte that is not valid UTF-8"
                else:
                    code, what = "MRZ_INVALID_CHARACTER", "a character outside A-Z, 0-9 and <"
                at = Span(row, column, column + 1)
                self.add(Severity.ERROR, code, f"the MRZ holds {what}", at)

    def verify(self, data: str, at: Span, label: str, *over: Span) -> None:
        """Check the digit at ``at`` against ``data`` (read from the spans ``over``).

        A mismatch is an MRZ_CHECK_DIGIT error. Data with an invalid character cannot be
        verified; that character is the error reported.
        """
        if self.invalid and not all(self.clean(span) for span in (at, *over)):
            self.check_digits_valid = False
            return
        char = at.of(self.lines)
        if char.isdigit():
            if check_digit(data) == int(char):
                return
            message = f"the {label} check digit does not match the data it covers"
        else:
            message = f"the {label} check digit is not a digit"
        self.check_digits_valid = False
        self.add(Severity.ERROR, "MRZ_CHECK_DIGIT", message, at)

    def country(self, span: Span, into: common_pb2.CountryCode, label: str, required: bool) -> None:
        field = span.of(self.lines)
        if not field.strip("<"):
            severity = Severity.ERROR if required else Severity.WARNING
            self.add(severity, "MRZ_FIELD_EMPTY", f"the {label} field is empty", span)
            return
        if not read_country(field, into) and self.clean(span):
            self.add(
                Severity.WARNING,
                "MRZ_COUNTRY_CODE",
                f"the {label} is neither an ISO 3166-1 alpha-3 code nor a Doc 9303 code; "
                "kept as its raw value",
                span,
            )

    def date(
        self, span: Span, kind: DateKind, today: datetime.date, into: common_pb2.PartialDate
    ) -> None:
        if not self.clean(span):
            return
        reading = read_date(span.of(self.lines), kind, today)
        for problem in reading.problems:
            if problem is DateProblem.INVALID:
                severity, code = Severity.ERROR, "MRZ_DATE"
            elif problem is DateProblem.ZERO_PART:
                severity, code = Severity.WARNING, "MRZ_DATE_ZERO"
            else:
                severity, code = Severity.WARNING, "MRZ_DATE_PARTIAL"
            self.add(severity, code, f"the {kind.value} {problem.value}", span)
        if reading.year:
            into.year = reading.year
            into.month = reading.month
            into.day = reading.day

    def document_number(self) -> str:
        """The document number, verifying its check digit (and a TD1/TD2 continuation)."""
        layout, lines = self.layout, self.lines
        field = layout.number.of(lines)
        at = layout.number_check
        if layout.long_number and at.of(lines) == "<":
            optional = layout.optional[0]
            run = optional.of(lines).split("<", 1)[0]
            if len(run) >= 2 and run[-1].isdigit():
                # Part 5/6 §4.2.2 (note on long numbers): its check digit closes the continuation.
                number = field + run[:-1]
                digit = Span(optional.row, optional.start + len(run) - 1, optional.start + len(run))
                if not self.national_variant(field, run[:-1], digit):
                    self.verify(number, digit, "document number", layout.number, optional)
                return number
            self.check_digits_valid = False
            self.add(
                Severity.ERROR,
                "MRZ_CHECK_DIGIT",
                "the document number check digit is a filler, but the optional data does not "
                "continue the number with its check digit",
                at,
            )
            return field.rstrip("<")
        self.verify(field, at, "document number", layout.number)
        return field.rstrip("<")

    def national_variant(self, first_nine: str, continuation: str, digit: Span) -> bool:
        """Report a long TD1 number's check digit that only the national computation verifies.

        True when reported here (the standard verification is then skipped); False when the
        standard computation applies: a TD2, a digit it verifies or that no computation verifies,
        or an invalid character (``verify`` reports those).
        """
        layout, lines = self.layout, self.lines
        char = digit.of(lines)
        if layout.rows != 3 or not char.isdigit() or not self.clean(layout.optional[0]):
            return False
        if not (self.clean(layout.number) and is_mrz_text(first_nine + continuation)):
            return False
        value = int(char)
        if check_digit(first_nine + continuation) == value:
            return False
        if filler_included_check_digit(first_nine, continuation) != value:
            return False
        state = layout.issuing_state.of(lines)
        if state in LONG_NUMBER_FILLER_STATES and not self.strict:
            self.add(
                Severity.WARNING,
                "MRZ_NATIONAL_VARIANT",
                f"national variant {LONG_NUMBER_FILLER}: the long document number's check digit "
                f"is computed with the filler at position 15, as {state} identity cards do; Doc "
                "9303 Part 5 §4.2.2 leaves the filler out",
                digit,
            )
            return True
        if state in LONG_NUMBER_FILLER_STATES:
            reason = "strict decoding refuses that national variant"
        else:
            reason = "this issuing state is not known to use that national variant"
        self.check_digits_valid = False
        self.add(
            Severity.ERROR,
            "MRZ_CHECK_DIGIT",
            f"the document number check digit is computed with the filler at position 15 "
            f"({LONG_NUMBER_FILLER}), not as Doc 9303 Part 5 §4.2.2 says; {reason}",
            digit,
        )
        return True


def read_mrz(
    lines: Sequence[str],
    today: datetime.date,
    document: travel_document_pb2.TravelDocument,
    person: person_pb2.Person,
    *,
    strict: bool = False,
) -> list[Finding]:
    """Read the MRZ ``lines`` into ``document`` and ``person`` (both expected empty).

    ``today`` is the reference date two-digit years are resolved against; ``strict`` refuses the
    national variants of ``variants``. Returns the findings in MRZ order; lines whose count and
    lengths fit no layout give one error and fill nothing.
    """
    layout = layout_for(lines)
    if layout is None:
        return [Finding(Severity.ERROR, "MRZ_LINE_LENGTH", "the lines fit no MRZ layout", 0, 0)]
    reader = _Reader(lines, layout, strict)
    reader.find_invalid_characters()
    stored = list(lines)
    if reader.invalid:
        stored = [line.translate(_UNDECODABLE_TO_REPLACEMENT) for line in lines]
        reader.lines = stored

    code = layout.document_code.of(stored)
    document.document_code = code
    document.document_type = document_type(code)
    if code[0] not in layout.document_code_letters and reader.clean(layout.document_code):
        reader.add(
            Severity.WARNING,
            "MRZ_DOCUMENT_CODE",
            f"the document code of a {layout.label} MRZ should start with "
            f"{' or '.join(layout.document_code_letters)}",
            layout.document_code,
        )
    reader.country(layout.issuing_state, document.issuing_state, "issuing state", True)

    number = reader.document_number()
    if number:
        document.document_number = number
    else:
        reader.add(Severity.ERROR, "MRZ_FIELD_EMPTY", "the document number is empty", layout.number)

    name_field = layout.name.of(stored)
    if any(character.isdigit() for character in name_field):
        # Doc 9303 writes names with A-Z and fillers only; a digit is most often an OCR misread
        # (0 for O, 1 for I, 8 for B), and no check digit covers the name to catch it.
        reader.add(
            Severity.WARNING,
            "MRZ_NAME_DIGIT",
            "the name holds a digit: Doc 9303 names are letters A-Z only (an OCR misread?)",
            layout.name,
        )
    family, given = split_name_field(name_field)
    if family or given:
        name = document.holder_name
        name.type = _PRIMARY
        if family:
            name.family = family
        if given:
            name.given = given
        person.names.append(name)
        if name_field[-1] != "<":
            last = Span(layout.name.row, layout.name.end - 1, layout.name.end)
            reader.add(
                Severity.INFO,
                "MRZ_NAME_TRUNCATED",
                "the name fills its field to the last position and may have been truncated",
                last,
            )
    else:
        reader.add(Severity.ERROR, "MRZ_FIELD_EMPTY", "the name field is empty", layout.name)

    reader.country(layout.nationality, document.holder_nationality, "nationality", False)
    if document.HasField("holder_nationality"):
        person.nationalities.append(document.holder_nationality)

    reader.date(layout.birth, DateKind.BIRTH, today, document.holder_birth_date)
    reader.verify(layout.birth.of(stored), layout.birth_check, "date of birth", layout.birth)
    if document.HasField("holder_birth_date"):
        person.birth_date.CopyFrom(document.holder_birth_date)

    sex = layout.sex.of(stored)
    if sex in SEX_BY_LETTER:
        document.holder_sex = person.sex = SEX_BY_LETTER[sex]
    elif reader.clean(layout.sex):
        reader.add(Severity.ERROR, "MRZ_SEX", "the sex is not F, M, X or <", layout.sex)

    reader.date(layout.expiry, DateKind.EXPIRY, today, document.expiry_date)
    reader.verify(layout.expiry.of(stored), layout.expiry_check, "date of expiry", layout.expiry)

    optional_data = [span.of(stored).rstrip("<") for span in layout.optional]
    if layout.optional_check is not None:
        personal = layout.optional[0]
        field = personal.of(stored)
        # Part 4 §4.2.2.2: with the personal number field unused, its check digit may be < or 0.
        if field.strip("<") or layout.optional_check.of(stored) != "<":
            reader.verify(field, layout.optional_check, "personal number", personal)
        if optional_data[0]:
            document.personal_number = optional_data[0]
    if layout.composite_check is not None:
        spans = layout.composite_over
        composite = "".join(span.of(stored) for span in spans)
        reader.verify(composite, layout.composite_check, "composite", *spans)

    mrz = document.mrz
    mrz.format = layout.format
    mrz.lines.extend(stored)
    mrz.optional_data.extend(optional_data)
    mrz.check_digits_valid = reader.check_digits_valid and not reader.invalid
    if len(reader.findings) > 1:
        reader.findings.sort(key=lambda finding: (finding.row, finding.column))
    return reader.findings
