"""Writing the MRZ of one travel document record: the inverse of ``reading``.

The holder's data comes from the document's ``holder_*`` fields (as decoding fills them) or,
where those are empty, from the linked holder ``Person`` record. When the document carries MRZ
lines that still read back to exactly its fields, with valid check digits, those lines are
written unchanged: a decoded MRZ is reproduced character for character. Otherwise the MRZ is
built from the fields in the layout of ``mrz.format`` (or the one the document code implies):
names transliterated and truncated (Doc 9303 Part 3 §4.6, §6), fillers, every check digit.

Problems are reported in ``problems`` with a JSON pointer to the field (``/records/3/...``);
an error means no MRZ is written for the record.
"""

from __future__ import annotations

import datetime
import re
from dataclasses import dataclass, field

from adapters.diagnostics import Severity
from adapters.icao_mrz.checkdigit import check_digit
from adapters.icao_mrz.dates import DateKind, birth_year, expiry_year, format_date
from adapters.icao_mrz.layout import LAYOUTS, MRV_A, TD1, TD3, Layout, Span
from adapters.icao_mrz.names import mrz_name_field, to_mrz_name
from adapters.icao_mrz.reading import read_mrz
from adapters.icao_mrz.values import LETTER_BY_SEX, country_field, default_document_code
from liaison.v1 import common_pb2, person_pb2, travel_document_pb2

__all__ = ["Problem", "write_document"]

_DATA = re.compile(r"[0-9A-Z<]*")
_CODE = re.compile(r"[A-Z][A-Z<]?")
_LAYOUT_BY_LETTER = {"P": TD3, "V": MRV_A, "I": TD1, "A": TD1, "C": TD1}


@dataclass(frozen=True, slots=True)
class Problem:
    """Something found while writing, located by a JSON pointer into the records."""

    severity: Severity
    code: str
    message: str
    pointer: str


@dataclass(slots=True)
class _Writer:
    """The problems of writing one record, located under its JSON pointer."""

    pointer: str
    today: datetime.date
    problems: list[Problem] = field(default_factory=list)

    def add(self, severity: Severity, code: str, message: str, path: str) -> None:
        self.problems.append(Problem(severity, code, message, f"{self.pointer}/{path}"))

    def missing(self, what: str, path: str) -> None:
        self.add(Severity.ERROR, "MRZ_ENCODE_MISSING_FIELD", f"an MRZ needs the {what}", path)

    @property
    def failed(self) -> bool:
        return any(problem.severity is Severity.ERROR for problem in self.problems)


def write_document(
    document: travel_document_pb2.TravelDocument,
    holder: person_pb2.Person | None,
    today: datetime.date,
    pointer: str,
) -> tuple[list[str] | None, list[Problem]]:
    """The MRZ lines of ``document`` (None when it cannot be written) and the problems found.

    ``pointer`` is the JSON pointer of the record (``/records/3``); ``today`` the reference date
    decoding will resolve two-digit years against, used to warn when a year would not read back.
    """
    writer = _Writer(f"{pointer}/travelDocument", today)
    if document.mrz.lines and document.mrz.check_digits_valid:
        if _lines_still_match(document, today):
            return list(document.mrz.lines), writer.problems
        writer.add(
            Severity.INFO,
            "MRZ_ENCODE_REGENERATED",
            "the record's MRZ lines no longer match its fields; the MRZ is written from the fields",
            "mrz/lines",
        )
    lines = _compose(document, holder or person_pb2.Person(), writer)
    return (None if writer.failed else lines), writer.problems


def _lines_still_match(document: travel_document_pb2.TravelDocument, today: datetime.date) -> bool:
    probe = travel_document_pb2.TravelDocument()
    findings = read_mrz(list(document.mrz.lines), today, probe, person_pb2.Person())
    return probe == document and not any(f.severity is Severity.ERROR for f in findings)


def _document_code(document: travel_document_pb2.TravelDocument, writer: _Writer) -> str | None:
    if document.document_code:
        code = document.document_code.upper()
        if not _CODE.fullmatch(code):
            writer.add(
                Severity.ERROR,
                "MRZ_ENCODE_INVALID_FIELD",
                "the document code must be one letter, then a letter or <",
                "documentCode",
            )
            return None
        return code.ljust(2, "<")
    implied = default_document_code(document.document_type)
    if implied is None:
        writer.missing("document code (or a document type that implies one)", "documentCode")
    return implied


def _layout(
    document: travel_document_pb2.TravelDocument, code: str, writer: _Writer
) -> Layout | None:
    layout = LAYOUTS.get(document.mrz.format) or _LAYOUT_BY_LETTER.get(code[0], TD3)
    if (code[0] == "V") != (layout.document_code_letters == "V"):
        writer.add(
            Severity.ERROR,
            "MRZ_ENCODE_FORMAT",
            f"a {layout.label} MRZ cannot carry this document code: visa codes (V) and visa "
            "layouts (MRV-A, MRV-B) go together",
            "mrz/format",
        )
        return None
    return layout


def _data(value: str, what: str, path: str, writer: _Writer) -> str | None:
    """``value`` as MRZ data: upper case, spaces as fillers, trailing fillers dropped."""
    data = value.upper().replace(" ", "<").rstrip("<")
    if not _DATA.fullmatch(data):
        writer.add(
            Severity.ERROR,
            "MRZ_ENCODE_INVALID_FIELD",
            f"the {what} holds characters an MRZ cannot carry (A-Z, 0-9 and < only)",
            path,
        )
        return None
    return data


def _country(
    country: common_pb2.CountryCode | None, what: str, path: str, required: bool, writer: _Writer
) -> str:
    if country is None or not (country.code or country.raw):
        if required:
            writer.missing(what, path)
        return "<<<"
    value = country_field(country)
    if value is None:
        writer.add(
            Severity.ERROR,
            "MRZ_ENCODE_INVALID_FIELD",
            f"the {what} is not a code of one to three letters",
            path,
        )
        return "<<<"
    return value


def _name(name: common_pb2.Name | None, width: int, path: str, writer: _Writer) -> str | None:
    if name is None:
        writer.missing("holder's name", path)
        return None
    source: common_pb2.Name | common_pb2.Transliteration = name
    translit = name.transliteration
    if translit.family or translit.given or translit.full:
        source = translit  # the record's own Latin rendering comes first
    family = source.family or ("" if source.given else source.full)
    given = " ".join(part for part in (source.given, source.middle) if part)
    primary, secondary = to_mrz_name(family), to_mrz_name(given)
    if primary.untransliterable or secondary.untransliterable:
        writer.add(
            Severity.ERROR,
            "MRZ_ENCODE_TRANSLITERATION",
            "the name holds letters of a script without a transliteration in the record",
            path,
        )
        return None
    if primary.dropped or secondary.dropped:
        writer.add(
            Severity.WARNING,
            "MRZ_ENCODE_NAME_CHARACTER",
            "characters an MRZ name cannot carry (digits, controls) were left out",
            path,
        )
    if not (primary.text or secondary.text):
        writer.missing("holder's name", path)
        return None
    name_field, truncated = mrz_name_field(primary.text, secondary.text, width)
    if truncated:
        writer.add(
            Severity.INFO,
            "MRZ_NAME_TRUNCATED",
            "the name is longer than the MRZ name field and was truncated",
            path,
        )
    return name_field


def _date(date: common_pb2.PartialDate, kind: DateKind, path: str, writer: _Writer) -> str:
    if not date.year:
        return "<<<<<<"
    two_digits, month = date.year % 100, date.month
    day = date.day if month else 0
    if kind is DateKind.BIRTH:
        read_back = birth_year(two_digits, month, day, writer.today)
    else:
        read_back = expiry_year(two_digits, writer.today)
    if read_back != date.year:
        writer.add(
            Severity.WARNING,
            "MRZ_ENCODE_CENTURY",
            f"the {kind.value} has a two-digit year in the MRZ that reads back in another century",
            path,
        )
    return format_date(date.year, month, day)


def _holder_name(
    document: travel_document_pb2.TravelDocument, holder: person_pb2.Person
) -> common_pb2.Name | None:
    if document.HasField("holder_name"):
        return document.holder_name
    primary = [n for n in holder.names if n.type == common_pb2.NAME_TYPE_PRIMARY]
    names = primary or list(holder.names)
    return names[0] if names else None


def _compose(
    document: travel_document_pb2.TravelDocument, holder: person_pb2.Person, writer: _Writer
) -> list[str] | None:
    code = _document_code(document, writer)
    layout = _layout(document, code, writer) if code else None
    if code is None or layout is None:
        return None
    state = _country(
        document.issuing_state if document.HasField("issuing_state") else None,
        "issuing state",
        "issuingState",
        True,
        writer,
    )
    nationality_source = (
        document.holder_nationality
        if document.HasField("holder_nationality")
        else (holder.nationalities[0] if holder.nationalities else None)
    )
    nationality = _country(nationality_source, "nationality", "holderNationality", False, writer)
    name = _name(
        _holder_name(document, holder), layout.name.end - layout.name.start, "holderName", writer
    )
    birth_source = (
        document.holder_birth_date if document.HasField("holder_birth_date") else holder.birth_date
    )
    birth = _date(birth_source, DateKind.BIRTH, "holderBirthDate", writer)
    expiry = _date(document.expiry_date, DateKind.EXPIRY, "expiryDate", writer)
    sex = LETTER_BY_SEX.get(document.holder_sex or holder.sex, "<")
    number = _data(document.document_number, "document number", "documentNumber", writer)
    if number == "":
        writer.missing("document number", "documentNumber")
    optional = _optional_data(document, layout, writer)
    if writer.failed or name is None or number is None or optional is None:
        return None
    rows = [["<"] * layout.width for _ in range(layout.rows)]
    _place(rows, layout.document_code, code)
    _place(rows, layout.issuing_state, state)
    _place(rows, layout.name, name)
    _place(rows, layout.nationality, nationality)
    _place(rows, layout.birth, birth)
    _place(rows, layout.sex, sex)
    _place(rows, layout.expiry, expiry)
    if not _place_number(rows, layout, number, optional, writer):
        return None
    for span, value in zip(layout.optional[1:], optional[1:], strict=True):
        _place(rows, span, value)
    _place(rows, layout.birth_check, str(check_digit(birth)))
    _place(rows, layout.expiry_check, str(check_digit(expiry)))
    if layout.optional_check is not None:
        _place(rows, layout.optional_check, str(check_digit(_text(rows, layout.optional[0]))))
    if layout.composite_check is not None:
        composite = "".join(_text(rows, span) for span in layout.composite_over)
        _place(rows, layout.composite_check, str(check_digit(composite)))
    return ["".join(row) for row in rows]


def _optional_data(
    document: travel_document_pb2.TravelDocument, layout: Layout, writer: _Writer
) -> list[str] | None:
    """The optional data elements to write, one per optional span of the layout."""
    given = list(document.mrz.optional_data)
    if document.personal_number and layout.optional_check is not None:
        given = [document.personal_number]  # TD3: the optional data is the personal number
    if len(given) > len(layout.optional):
        writer.add(
            Severity.ERROR,
            "MRZ_ENCODE_INVALID_FIELD",
            f"a {layout.label} MRZ has {len(layout.optional)} optional data element(s)",
            "mrz/optionalData",
        )
        return None
    values: list[str] = []
    for index, span in enumerate(layout.optional):
        value = _data(
            given[index] if index < len(given) else "",
            "optional data",
            f"mrz/optionalData/{index}",
            writer,
        )
        if value is None:
            return None
        # The first element of a long-number layout is measured once the number is placed.
        if len(value) > span.end - span.start and not (index == 0 and layout.long_number):
            writer.add(
                Severity.ERROR,
                "MRZ_ENCODE_FIELD_TOO_LONG",
                f"the optional data is longer than its {span.end - span.start} positions",
                f"mrz/optionalData/{index}",
            )
            return None
        values.append(value)
    return values


def _place_number(
    rows: list[list[str]], layout: Layout, number: str, optional: list[str], writer: _Writer
) -> bool:
    """Write the document number, its check digit and the first optional data element.

    A number longer than nine characters in TD1 and TD2: its first nine characters, a filler in
    the check digit position, then the rest of the number and its check digit at the start of
    the optional data, a filler, and the optional data proper (Part 5/6 §4.2.2 note).
    """
    width = layout.number.end - layout.number.start
    first = optional[0]
    if len(number) <= width:
        padded = number.ljust(width, "<")
        _place(rows, layout.number, padded)
        _place(rows, layout.number_check, str(check_digit(padded)))
    elif layout.long_number:
        rest = number[width:]
        continuation = f"{rest}{check_digit(number)}"
        run, _, after = first.partition("<")
        if run[:-1] == rest and run[-1:].isdigit():
            first = after  # the element already opens with this continuation (as decoded)
        first = f"{continuation}<{first}" if first else continuation
        _place(rows, layout.number, number[:width])
        _place(rows, layout.number_check, "<")
    else:
        writer.add(
            Severity.ERROR,
            "MRZ_ENCODE_FIELD_TOO_LONG",
            f"a {layout.label} MRZ holds document numbers of at most {width} characters",
            "documentNumber",
        )
        return False
    span = layout.optional[0]
    if len(first) > span.end - span.start:
        writer.add(
            Severity.ERROR,
            "MRZ_ENCODE_FIELD_TOO_LONG",
            "the document number and the optional data do not fit the optional data positions",
            "mrz/optionalData/0",
        )
        return False
    _place(rows, span, first)
    return True


def _place(rows: list[list[str]], span: Span, value: str) -> None:
    rows[span.row][span.start : span.start + len(value)] = value


def _text(rows: list[list[str]], span: Span) -> str:
    return "".join(rows[span.row][span.start : span.end])
