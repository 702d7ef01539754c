"""A deliberately small adapter for testing the conformance kit: one seizure per line.

The format is ``YEAR|DESCRIPTION`` per line, UTF-8. It is small enough to be obviously right, so
that when the kit fails on one of its deliberately broken variants, the kit is what is tested.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from importlib.metadata import EntryPoint

import pytest
from hypothesis import strategies as st

from adapters.base import Adapter, DecodeResult, EncodeBuilder, EncodeResult, stable_record_id
from adapters.characters import report_forbidden
from adapters.diagnostics import Location
from adapters.testing import identity
from liaison.rules.text import forbidden_in
from liaison.v1 import record_pb2, seizure_pb2

__all__ = ["TOY_ENTRY_POINT", "ToyAdapter", "install_entry_points", "toy_record", "toy_records"]

TOY_ENTRY_POINT = "tests.adapters.testing.toy:ToyAdapter"


def install_entry_points(monkeypatch: pytest.MonkeyPatch, *installed: tuple[str, str]) -> None:
    """Make ``installed`` (name, "module:attribute") the entry points of the adapters group, as
    the kit and the registry would find them for installed distributions."""
    points = [EntryPoint(name, value, "liaison.adapters") for name, value in installed]
    monkeypatch.setattr(identity, "entry_points", lambda group: points)
    monkeypatch.setattr("adapters.registry.entry_points", lambda group: points)


_YEAR = re.compile(r"[0-9]{4}")


def toy_record(year: int, description: str) -> record_pb2.Record:
    """The record ``ToyAdapter`` decodes from the line ``YEAR|DESCRIPTION``, provenance aside."""
    line = f"{year:04d}|{description}"
    record = record_pb2.Record(record_id=stable_record_id("toy", line))
    record.seizure.commodity_category = seizure_pb2.COMMODITY_CATEGORY_OTHER
    record.seizure.commodity_description = description
    record.seizure.date.year = year
    return record


def toy_records() -> st.SearchStrategy[list[record_pb2.Record]]:
    """Record lists in the form ``ToyAdapter`` decodes to."""
    descriptions = st.text(
        st.characters(exclude_categories=["Cs"], exclude_characters="\n\r").filter(
            lambda character: forbidden_in(character, free_text=True) is None
        ),
        max_size=20,
    )
    return st.lists(
        st.builds(toy_record, st.integers(min_value=1, max_value=9999), descriptions), max_size=5
    )


class ToyAdapter(Adapter):
    """Seizures as ``YEAR|DESCRIPTION`` lines."""

    name = "toy-seizures"
    version = "1.0.0"
    description = "Seizures as YEAR|DESCRIPTION lines (the conformance kit's test adapter)"
    source_format = "Toy seizure lines"
    media_types = ("text/plain",)
    file_extensions = ("toy",)

    def decode(self, payload: bytes, *, source_reference: str = "") -> DecodeResult:
        out = self.builder(payload, source_reference)
        offset = 0
        for number, raw in enumerate(payload.split(b"\n"), start=1):
            start, offset = offset, offset + len(raw) + 1
            if not raw.strip():
                continue
            try:
                line = raw.decode("utf-8")
            except UnicodeDecodeError as error:
                where = Location(line=number, byte_offset=start + error.start)
                out.error("TOY_ENCODING", "the line is not UTF-8", where)
                continue
            year, _, description = line.partition("|")
            record = out.new_record(stable_record_id("toy", line))
            record.seizure.commodity_category = seizure_pb2.COMMODITY_CATEGORY_OTHER
            record.seizure.commodity_description = description
            # A description is free text: lines allowed, controls and bidi overrides not.
            where = Location(line=number, column=len(year) + 2)
            report_forbidden(out, description, where, free_text=True, records=[record])
            if _YEAR.fullmatch(year) and year != "0000":
                record.seizure.date.year = int(year)
            else:
                where = Location(line=number, column=1)
                out.error("TOY_YEAR", "the year is not four digits", where, records=[record])
        return out.result()

    def encode(self, records: Sequence[record_pb2.Record]) -> EncodeResult:
        out = EncodeBuilder()
        lines = []
        for index, record in enumerate(records):
            seizure = record.seizure
            if record.WhichOneof("body") != "seizure" or "\n" in seizure.commodity_description:
                out.error("TOY_ENCODE", f"records[{index}] cannot be written as a toy line")
                continue
            lines.append(f"{seizure.date.year:04d}|{seizure.commodity_description}\n")
        return out.result("".join(lines).encode("utf-8"))
