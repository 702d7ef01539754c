"""Where each data element sits in the five MRZ layouts of ICAO Doc 9303 (8th edition, 2021).

One table per layout, used by both reading and writing so that the two cannot drift apart:

* TD1 — Part 5 §4.2.2: three lines of 30 characters (identity cards).
* TD2 — Part 6 §4.2.2: two lines of 36 characters.
* TD3 — Part 4 §4.2.2: two lines of 44 characters (passport data page).
* MRV-A — Part 7 §4.2.2 (format A): two lines of 44 characters.
* MRV-B — Part 7 §4.2.2 (format B): two lines of 36 characters.

Positions in this module are 0-based and end-exclusive (Doc 9303 counts from 1: the TD3 document
number at positions 1-9 is ``Span(1, 0, 9)`` here).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from liaison.v1 import travel_document_pb2

__all__ = ["LAYOUTS", "LINE_WIDTHS", "Layout", "Span", "layout_for", "rows_for_width"]


@dataclass(frozen=True, slots=True)
class Span:
    """A run of character positions on one MRZ line."""

    row: int
    """The MRZ line, 0-based."""
    start: int
    """First position, 0-based."""
    end: int
    """One past the last position."""

    def of(self, lines: Sequence[str]) -> str:
        """The characters of ``lines`` this span covers."""
        return lines[self.row][self.start : self.end]


def _at(row: int, position: int) -> Span:
    """The single position ``position`` (0-based) of line ``row``: a check digit or the sex."""
    return Span(row, position, position + 1)


@dataclass(frozen=True, slots=True)
class Layout:
    """The positions of every data element of one MRZ layout."""

    format: travel_document_pb2.MrzFormat.ValueType
    """The contract's name for the layout."""
    label: str
    """The layout as Doc 9303 names it ("TD1", "MRV-A"), for messages."""
    rows: int
    """Number of lines."""
    width: int
    """Characters per line."""
    document_code_letters: str
    """The letters the first character of the document code may be for this layout."""
    name: Span
    number: Span
    number_check: Span
    nationality: Span
    birth: Span
    birth_check: Span
    sex: Span
    expiry: Span
    expiry_check: Span
    optional: tuple[Span, ...]
    """The optional data elements, in MRZ order (two in TD1, one elsewhere)."""
    optional_check: Span | None
    """TD3 only: the check digit over the personal number (``optional[0]``)."""
    composite_check: Span | None
    """The composite check digit; visas have none."""
    composite_over: tuple[Span, ...]
    """The spans the composite check digit is computed over, in order."""
    long_number: bool
    """Whether a document number longer than nine characters may overflow into ``optional[0]``
    (TD1: Part 5 §4.2.2 note; TD2: Part 6 §4.2.2 note)."""

    document_code: Span = Span(0, 0, 2)
    issuing_state: Span = Span(0, 2, 5)

    @property
    def check_digits(self) -> tuple[Span, ...]:
        """Every check digit position, in MRZ order."""
        spans = [self.number_check, self.birth_check, self.expiry_check]
        if self.optional_check is not None:
            spans.append(self.optional_check)
        if self.composite_check is not None:
            spans.append(self.composite_check)
        return tuple(spans)


def _two_line_layout(
    mrz_format: travel_document_pb2.MrzFormat.ValueType,
    label: str,
    width: int,
    letters: str,
    *,
    optional_end: int,
    optional_check: bool,
    composite: bool,
    long_number: bool,
) -> Layout:
    # TD2, TD3 and both visas share the second line up to the expiry check digit (positions 1-28).
    optional = Span(1, 28, optional_end)
    return Layout(
        format=mrz_format,
        label=label,
        rows=2,
        width=width,
        document_code_letters=letters,
        name=Span(0, 5, width),
        number=Span(1, 0, 9),
        number_check=_at(1, 9),
        nationality=Span(1, 10, 13),
        birth=Span(1, 13, 19),
        birth_check=_at(1, 19),
        sex=_at(1, 20),
        expiry=Span(1, 21, 27),
        expiry_check=_at(1, 27),
        optional=(optional,),
        optional_check=_at(1, optional_end) if optional_check else None,
        composite_check=_at(1, width - 1) if composite else None,
        # Number with its check digit, birth date with its check digit, then expiry date through
        # the last optional position (Part 4 §4.2.2.2, Part 6 §4.2.2.2).
        composite_over=(Span(1, 0, 10), Span(1, 13, 20), Span(1, 21, width - 1))
        if composite
        else (),
        long_number=long_number,
    )


TD1 = Layout(
    format=travel_document_pb2.MRZ_FORMAT_TD1,
    label="TD1",
    rows=3,
    width=30,
    document_code_letters="ACI",
    name=Span(2, 0, 30),
    number=Span(0, 5, 14),
    number_check=_at(0, 14),
    nationality=Span(1, 15, 18),
    birth=Span(1, 0, 6),
    birth_check=_at(1, 6),
    sex=_at(1, 7),
    expiry=Span(1, 8, 14),
    expiry_check=_at(1, 14),
    optional=(Span(0, 15, 30), Span(1, 18, 29)),
    optional_check=None,
    composite_check=_at(1, 29),
    # Part 5 §4.2.2.2: upper line positions 6-30, middle line 1-7, 9-15 and 19-29.
    composite_over=(Span(0, 5, 30), Span(1, 0, 7), Span(1, 8, 15), Span(1, 18, 29)),
    long_number=True,
)
TD2 = _two_line_layout(
    travel_document_pb2.MRZ_FORMAT_TD2,
    "TD2",
    36,
    "ACI",
    optional_end=35,
    optional_check=False,
    composite=True,
    long_number=True,
)
TD3 = _two_line_layout(
    travel_document_pb2.MRZ_FORMAT_TD3,
    "TD3",
    44,
    "P",
    optional_end=42,
    optional_check=True,
    composite=True,
    long_number=False,
)
MRV_A = _two_line_layout(
    travel_document_pb2.MRZ_FORMAT_MRV_A,
    "MRV-A",
    44,
    "V",
    optional_end=44,
    optional_check=False,
    composite=False,
    long_number=False,
)
MRV_B = _two_line_layout(
    travel_document_pb2.MRZ_FORMAT_MRV_B,
    "MRV-B",
    36,
    "V",
    optional_end=36,
    optional_check=False,
    composite=False,
    long_number=False,
)

LAYOUTS: dict[travel_document_pb2.MrzFormat.ValueType, Layout] = {
    layout.format: layout for layout in (TD1, TD2, TD3, MRV_A, MRV_B)
}
"""Every layout by its contract format."""

LINE_WIDTHS: tuple[int, ...] = (30, 36, 44)
"""The line widths an MRZ can have."""


def rows_for_width(width: int) -> int:
    """How many lines an MRZ of ``width``-character lines has (TD1 three, the others two)."""
    return 3 if width == TD1.width else 2


def layout_for(lines: Sequence[str]) -> Layout | None:
    """The layout of ``lines``, or None when their count and lengths fit none.

    Lines of 44 characters are a visa (MRV-A) when the document code starts with ``V``, else TD3;
    lines of 36 characters likewise MRV-B or TD2 (Part 7 §4.2.2: a visa's code begins with V,
    which TD2 and TD3 documents never use).
    """
    if not lines:
        return None
    width = len(lines[0])
    if width not in LINE_WIDTHS or len(lines) != rows_for_width(width):
        return None
    if any(len(line) != width for line in lines):
        return None
    if width == TD1.width:
        return TD1
    visa = lines[0].startswith("V")
    if width == TD3.width:
        return MRV_A if visa else TD3
    return MRV_B if visa else TD2
