"""Adapters for testing the Translation service and the CLI without the built-in formats.

``LinesAdapter`` reads and writes a small but real line format, one person per line::

    FAMILY;GIVEN;YYYY[-MM[-DD]]

It checks the shape of each line and of the date (month 1-12) but, on purpose, not the calendar
(``1975-02-30`` passes): such a record is "clean" for the adapter and refused by the gateway's
own validation, which the tests need to see at work. The other adapters here are deliberately
limited or broken, to exercise the service's error paths.
"""

from __future__ import annotations

import contextlib
import re
import threading
import time
from collections.abc import AsyncIterator, Sequence
from typing import ClassVar

from adapters import (
    Adapter,
    AdapterRegistry,
    DecodeResult,
    EncodeBuilder,
    EncodeResult,
    Location,
    stable_record_id,
)
from gateway.config import CentreConfig
from gateway.server import Gateway
from liaison.v1 import common_pb2, record_pb2

__all__ = [
    "BrokenAdapter",
    "DecodeOnlyAdapter",
    "LinesAdapter",
    "SlowAdapter",
    "UpperCaseLinesAdapter",
    "lines",
    "lines_registry",
    "serving",
]

_DATE = re.compile(r"(\d{4})(?:-(\d{2})(?:-(\d{2}))?)?")


def lines(*people: str) -> bytes:
    """A payload of the lines format from ``"FAMILY;GIVEN;DATE"`` strings."""
    return "".join(f"{person}\n" for person in people).encode()


class LinesAdapter(Adapter):
    """One person per line: ``FAMILY;GIVEN;YYYY[-MM[-DD]]``; blank lines are ignored."""

    name = "lines"
    version = "1.0.0"
    description = "Test format: one person per line, FAMILY;GIVEN;DATE"
    source_format = "Liaison test lines"
    media_types: ClassVar[tuple[str, ...]] = ("text/x-liaison-lines",)
    file_extensions: ClassVar[tuple[str, ...]] = ("lines",)

    def decode(self, payload: bytes, *, source_reference: str = "") -> DecodeResult:
        out = self.builder(payload, source_reference)
        offset = 0
        for number, raw in enumerate(payload.splitlines(keepends=True), start=1):
            start, offset = offset, offset + len(raw)
            line = raw.rstrip(b"\r\n")
            if not line.strip():
                continue
            try:
                text = line.decode("utf-8")
            except UnicodeDecodeError as error:
                out.error(
                    "LINES_INVALID_UTF8",
                    "the line is not valid UTF-8",
                    Location(line=number, byte_offset=start + error.start),
                )
                continue
            fields = text.split(";")
            if len(fields) != 3:
                out.error(
                    "LINES_FIELD_COUNT",
                    f"expected 3 fields separated by ';', found {len(fields)}",
                    Location(line=number, column=1, byte_offset=start),
                )
                continue
            family, given, date = fields
            record = out.new_record(stable_record_id("lines", text))
            name = record.person.names.add(type=common_pb2.NAME_TYPE_PRIMARY, family=family)
            if given:
                name.given = given
            else:
                out.warning(
                    "LINES_NO_GIVEN_NAME",
                    "the given name is empty",
                    Location(line=number, column=len(family) + 2),
                    records=[record],
                )
            column = len(family) + len(given) + 3
            match = _DATE.fullmatch(date)
            if match is None or (match[2] is not None and not 1 <= int(match[2]) <= 12):
                out.error(
                    "LINES_DATE",
                    "the date must be YYYY, YYYY-MM or YYYY-MM-DD with a month 1 to 12",
                    Location(line=number, column=column),
                    records=[record],
                )
                continue
            birth = record.person.birth_date
            birth.year = int(match[1])
            birth.month = int(match[2] or 0)
            birth.day = int(match[3] or 0)
        return out.result()

    def encode(self, records: Sequence[record_pb2.Record]) -> EncodeResult:
        out = EncodeBuilder()
        text: list[str] = []
        for record in records:
            if record.WhichOneof("body") != "person" or not record.person.names:
                out.warning(
                    "LINES_NOT_A_PERSON",
                    "only persons with a name can be written; the record was left out",
                    records=[record],
                )
                continue
            person = record.person
            if person.nationalities:
                out.info(
                    "LINES_FIELD_DROPPED",
                    "the format has no nationality; it was left out",
                    records=[record],
                )
            name = person.names[0]
            text.append(f"{name.family};{name.given};{_date(person.birth_date)}\n")
        return out.result("".join(text).encode())


def _date(date: common_pb2.PartialDate) -> str:
    text = f"{date.year:04d}"
    if date.month:
        text += f"-{date.month:02d}"
        if date.day:
            text += f"-{date.day:02d}"
    return text


class UpperCaseLinesAdapter(LinesAdapter):
    """The lines format in capitals only, as machine readable zones are: what it writes loses
    the case of names, and says so."""

    name = "lines-upper"
    description = "Test format like lines, in capitals only"

    def encode(self, records: Sequence[record_pb2.Record]) -> EncodeResult:
        out = EncodeBuilder()
        capitals: list[record_pb2.Record] = []
        for record in records:
            copy = record_pb2.Record()
            copy.CopyFrom(record)
            for name in copy.person.names:
                name.family, name.given = name.family.upper(), name.given.upper()
            if copy.person.names != record.person.names:
                out.info("LINES_UPPER_CASED", "names were written in capitals", records=[record])
            capitals.append(copy)
        written = super().encode(capitals)
        out.extend(written.diagnostics)
        return out.result(written.payload)


class DecodeOnlyAdapter(LinesAdapter):
    """The lines format, read-only."""

    name = "lines-read-only"
    description = "Test format that can only be read"
    media_types = ()
    file_extensions = ()
    encode = Adapter.encode


class SlowAdapter(LinesAdapter):
    """The lines format, whose decode waits until the test lets it go."""

    name = "lines-slow"
    description = "Test format whose decode blocks until released"

    def __init__(self) -> None:
        self.started = threading.Event()
        self.started_at = 0.0
        """``time.monotonic()`` when the decode began (after the gateway received the call)."""
        self.release = threading.Event()
        self.finished = threading.Event()

    def decode(self, payload: bytes, *, source_reference: str = "") -> DecodeResult:
        self.started_at = time.monotonic()
        self.started.set()
        try:
            self.release.wait(timeout=30)
            return super().decode(payload, source_reference=source_reference)
        finally:
            self.finished.set()


class BrokenAdapter(LinesAdapter):
    """An adapter that breaks its contract: decode and encode raise."""

    name = "lines-broken"
    description = "Test format whose adapter raises"

    def decode(self, payload: bytes, *, source_reference: str = "") -> DecodeResult:
        raise ValueError(f"cannot parse {payload!r}")

    def encode(self, records: Sequence[record_pb2.Record]) -> EncodeResult:
        raise ValueError(f"cannot write {records!r}")


def lines_registry(*extra: Adapter) -> AdapterRegistry:
    """A registry with the lines adapters (and ``extra``)."""
    return AdapterRegistry([LinesAdapter(), DecodeOnlyAdapter(), BrokenAdapter(), *extra])


@contextlib.asynccontextmanager
async def serving(config: CentreConfig, registry: AdapterRegistry) -> AsyncIterator[Gateway]:
    """A started gateway serving ``registry``'s adapters; stopped on exit."""
    gateway = Gateway(config, registry=registry)
    await gateway.start()
    try:
        yield gateway
    finally:
        await gateway.stop(grace=0)
