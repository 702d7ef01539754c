"""The ``icao-mrz`` adapter: ICAO Doc 9303 machine readable zones in and out.

Decoding: the payload is text with one MRZ line per line (see ``framing`` for how MRZs are found
and separated). Each MRZ gives two records, in payload order: a ``TravelDocument`` (document
data, the holder's data as printed, and the MRZ itself with its lines and optional data) linked
by a HOLDER link to a ``Person`` (the holder: name, date of birth, sex, nationality). Record ids
are derived from the MRZ lines, so the same MRZ always gets the same ids; a repeated MRZ in one
payload gets ids numbered by occurrence. Every diagnostic about an MRZ names both its records.
National variants that genuine documents carry (``variants``) decode with a warning, or are
refused in strict mode.

Encoding: every ``TravelDocument`` record becomes one MRZ (see ``writing``), with the holder's
data taken from a linked ``Person`` record in the same batch where the document lacks it; MRZs
are separated by a blank line. Person records linked as holders are consumed that way; other
records cannot be written as an MRZ and get a warning.
"""

from __future__ import annotations

import dataclasses
import datetime
from collections.abc import Sequence

from adapters.base import (
    Adapter,
    DecodeBuilder,
    DecodeResult,
    EncodeBuilder,
    EncodeResult,
    stable_record_id,
)
from adapters.diagnostics import Location
from adapters.icao_mrz.checkdigit import INVALID_CHARACTER
from adapters.icao_mrz.framing import Group, SourceLine, frame, split_lines
from adapters.icao_mrz.layout import TD1, TD2, TD3
from adapters.icao_mrz.reading import is_undecodable, read_mrz
from adapters.icao_mrz.writing import write_document
from adapters.options import DEFAULT_OPTIONS, DecodeOptions
from liaison.v1 import person_pb2, record_pb2

__all__ = ["IcaoMrzAdapter"]

_HOLDER = record_pb2.LINK_TYPE_HOLDER
_LABELS_BY_WIDTH = {
    TD1.width: "TD1",
    TD2.width: "TD2 or MRV-B",
    TD3.width: "TD3 or MRV-A",
}


class IcaoMrzAdapter(Adapter):
    """ICAO Doc 9303 machine readable zones: TD1, TD2, TD3, MRV-A and MRV-B.

    Args:
        today: The reference date two-digit years are resolved against (a date of birth is never
            after it, a date of expiry at most 20 years after it). Defaults to the current date
            in UTC at each call; tests pass a fixed date.
        strict: Refuse national variants (``MRZ_CHECK_DIGIT``) instead of decoding them with an
            ``MRZ_NATIONAL_VARIANT`` warning; the same as ``options.strict``.
        options: Strictness and limits (``adapters.DecodeOptions``).
    """

    name = "icao-mrz"
    version = "1.1.0"
    description = "ICAO Doc 9303 machine readable zones (TD1, TD2, TD3, MRV-A, MRV-B)"
    source_format = "ICAO Doc 9303 MRZ"
    media_types = ("text/plain",)
    file_extensions = ("mrz", "txt")

    def __init__(
        self,
        *,
        today: datetime.date | None = None,
        strict: bool = False,
        options: DecodeOptions = DEFAULT_OPTIONS,
    ) -> None:
        super().__init__(options=dataclasses.replace(options, strict=True) if strict else options)
        self._today = today

    def today(self) -> datetime.date:
        """The reference date for two-digit years."""
        return self._today or datetime.datetime.now(datetime.UTC).date()

    def decode(self, payload: bytes, *, source_reference: str = "") -> DecodeResult:
        """Decode every MRZ in ``payload``; never raises on bad input."""
        out = self.builder(payload, source_reference)
        today = self.today()
        strict = self.options.strict
        occurrences: dict[tuple[bytes, ...], int] = {}
        found = False
        for group in frame(split_lines(payload)):
            found = True
            if group.complete:
                _decode_mrz(out, group, today, occurrences, strict)
            else:
                _report_structure(out, group)
        if not found:
            out.error("MRZ_EMPTY", "the payload holds no MRZ lines", Location(byte_offset=0))
        return out.result()

    def encode(self, records: Sequence[record_pb2.Record]) -> EncodeResult:
        """One MRZ per travel document record; problems as diagnostics, never an exception."""
        out = EncodeBuilder()
        today = self.today()
        people = {r.record_id: r.person for r in records if r.WhichOneof("body") == "person"}
        holders = {
            record.record_id: _holder_id(record, people)
            for record in records
            if record.WhichOneof("body") == "travel_document"
        }
        consumed = {holder for holder in holders.values() if holder is not None}
        blocks: list[str] = []
        for index, record in enumerate(records):
            body = record.WhichOneof("body")
            pointer = f"/records/{index}"
            if body == "travel_document":
                holder_id = holders[record.record_id]
                holder = people[holder_id] if holder_id is not None else None
                lines, problems = write_document(record.travel_document, holder, today, pointer)
                for problem in problems:
                    out.add(
                        problem.severity,
                        problem.code,
                        problem.message,
                        Location(json_pointer=problem.pointer),
                        records=[record],
                    )
                if lines is not None:
                    blocks.append("\n".join(lines))
            elif not (body == "person" and record.record_id in consumed):
                out.warning(
                    "MRZ_ENCODE_SKIPPED",
                    "only travel documents (and the persons holding them) can be written as an MRZ",
                    Location(json_pointer=pointer),
                    records=[record],
                )
        payload = "\n\n".join(blocks) + "\n" if blocks else ""
        return out.result(payload.encode("ascii"))


def _holder_id(record: record_pb2.Record, people: dict[str, person_pb2.Person]) -> str | None:
    """The id of the first person in the batch that ``record``'s HOLDER links point to."""
    for link in record.links:
        if link.type == _HOLDER and link.target_record_id in people:
            return link.target_record_id
    return None


def _decode_mrz(
    out: DecodeBuilder,
    group: Group,
    today: datetime.date,
    occurrences: dict[tuple[bytes, ...], int],
    strict: bool,
) -> None:
    """Decode one well-framed MRZ into its two records."""
    key = tuple(line.raw for line in group.lines)
    occurrence = occurrences.get(key, 0) + 1
    occurrences[key] = occurrence
    # latin-1 maps every byte to one character, so undecodable bytes still identify the MRZ.
    parts = [raw.decode("latin-1") for raw in key]
    if occurrence > 1:
        parts.append(f"#{occurrence}")
    document_id = stable_record_id("icao-mrz:document", *parts)
    person_id = stable_record_id("icao-mrz:person", *parts)
    document = out.new_record(document_id)
    person = out.new_record(person_id)
    document.links.add(type=_HOLDER, target_record_id=person_id)
    texts = [line.text for line in group.lines]
    findings = read_mrz(texts, today, document.travel_document, person.person, strict=strict)
    names = (document_id, person_id)
    for finding in findings:
        line = group.lines[finding.row]
        location = Location(
            line=line.number,
            column=finding.column + 1,
            byte_offset=line.byte_offset(finding.column),
        )
        out.add(finding.severity, finding.code, finding.message, location, records=names)


def _report_structure(out: DecodeBuilder, group: Group) -> None:
    """Errors for lines that do not form an MRZ: widths, count, and their first bad character."""
    label = _LABELS_BY_WIDTH[group.width]
    for line in group.lines:
        length = len(line.text)
        if length != group.width:
            column = min(length, group.width)
            out.error(
                "MRZ_LINE_LENGTH",
                f"the line has {length} characters; a {label} MRZ line has {group.width}",
                Location(line=line.number, column=column + 1, byte_offset=line.byte_offset(column)),
            )
        _report_first_invalid(out, line)
    if len(group.lines) != group.rows:
        last = group.lines[-1]
        out.error(
            "MRZ_LINE_COUNT",
            f"a {label} MRZ has {group.rows} lines; {len(group.lines)} found",
            Location(
                line=last.number,
                column=len(last.text) + 1,
                byte_offset=last.byte_offset(len(last.text)),
            ),
        )


def _report_first_invalid(out: DecodeBuilder, line: SourceLine) -> None:
    """The first character of an unframed line that no MRZ may hold, if any."""
    match = INVALID_CHARACTER.search(line.text)
    if match is None:
        return
    column = match.start()
    if is_undecodable(match.group()):
        code, what = "MRZ_INVALID_UTF8", "a byte that is not valid UTF-8"
    else:
        code, what = "MRZ_INVALID_CHARACTER", "a character outside A-Z, 0-9 and <"
    out.error(
        code,
        f"the line holds {what}",
        Location(line=line.number, column=column + 1, byte_offset=line.byte_offset(column)),
    )
