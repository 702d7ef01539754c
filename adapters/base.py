"""The adapter contract: legacy bytes in, ``liaison.v1`` records and diagnostics out, and back.

An adapter is a class with class-level identity (``name``, ``version``, ``source_format``, media
types, file extensions) and two methods, ``decode`` and (where the format allows) ``encode``.
Adapters are pure: no I/O, no global mutable state, so one instance may serve many threads.

``decode`` never raises on bad input. It returns the records it could build and a diagnostic for
everything else; a record built from input that produced an error names that record in the
error's ``record_ids``, so it is never mistaken for a clean one (see ``DecodeResult.clean``).
"""

from __future__ import annotations

import abc
import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import ClassVar

from adapters.diagnostics import Diagnostic, Location, Severity
from liaison.v1 import record_pb2, translation_pb2

__all__ = [
    "Adapter",
    "DecodeBuilder",
    "DecodeResult",
    "EncodeBuilder",
    "EncodeNotSupportedError",
    "EncodeResult",
    "stable_record_id",
]


class EncodeNotSupportedError(NotImplementedError):
    """Raised by ``Adapter.encode`` of an adapter whose format cannot be written."""


@dataclass(frozen=True, slots=True)
class DecodeResult:
    """What a decode produced: records in source order and every diagnostic."""

    records: tuple[record_pb2.Record, ...] = ()
    diagnostics: tuple[Diagnostic, ...] = ()

    @property
    def has_errors(self) -> bool:
        return any(d.severity is Severity.ERROR for d in self.diagnostics)

    @property
    def tainted_ids(self) -> frozenset[str]:
        """Ids of the records an error diagnostic concerns."""
        return frozenset(
            record_id
            for diagnostic in self.diagnostics
            if diagnostic.severity is Severity.ERROR
            for record_id in diagnostic.record_ids
        )

    @property
    def clean(self) -> tuple[record_pb2.Record, ...]:
        """The records no error diagnostic concerns."""
        tainted = self.tainted_ids
        return tuple(r for r in self.records if r.record_id not in tainted)

    def count(self, severity: Severity) -> int:
        return sum(1 for d in self.diagnostics if d.severity is severity)


@dataclass(frozen=True, slots=True)
class EncodeResult:
    """An encoded payload and what the format could not carry (or other findings)."""

    payload: bytes
    diagnostics: tuple[Diagnostic, ...] = ()

    @property
    def has_errors(self) -> bool:
        return any(d.severity is Severity.ERROR for d in self.diagnostics)


def stable_record_id(prefix: str, *parts: str) -> str:
    """A record id derived from the identity of the source data, stable across decodes.

    The same source content decoded twice yields the same ids, so re-ingesting it is recognised
    as a duplicate by the gateway. The parts are hashed (never embedded) so that ids carry no
    personal data: ids appear in logs, traces and audit entries.
    """
    digest = hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()[:24]
    return f"{prefix}:{digest}"


class Adapter(abc.ABC):
    """Base class of every adapter. Subclasses set the class attributes and ``decode``."""

    name: ClassVar[str]
    """Registry name, lower-case with hyphens ("icao-mrz"). Fixed once published."""
    version: ClassVar[str]
    """The adapter's version (semantic versioning); recorded in every record's provenance."""
    description: ClassVar[str] = ""
    """One line for ``liaison adapters``."""
    source_format: ClassVar[str]
    """The format as provenance names it ("ICAO Doc 9303 MRZ")."""
    media_types: ClassVar[tuple[str, ...]] = ()
    file_extensions: ClassVar[tuple[str, ...]] = ()
    """Without the dot."""

    @abc.abstractmethod
    def decode(self, payload: bytes, *, source_reference: str = "") -> DecodeResult:
        """Decode ``payload`` into records and diagnostics. Never raises on bad input."""

    def encode(self, records: Sequence[record_pb2.Record]) -> EncodeResult:
        """Encode ``records`` into the format. Adapters that cannot write leave this as is."""
        raise EncodeNotSupportedError(f"adapter {self.name!r} cannot encode")

    @classmethod
    def can_encode(cls) -> bool:
        return cls.encode is not Adapter.encode

    @classmethod
    def info(cls) -> translation_pb2.AdapterInfo:
        return translation_pb2.AdapterInfo(
            name=cls.name,
            version=cls.version,
            description=cls.description,
            media_types=cls.media_types,
            file_extensions=cls.file_extensions,
            can_decode=True,
            can_encode=cls.can_encode(),
        )

    def builder(self, payload: bytes, source_reference: str = "") -> DecodeBuilder:
        """A collector for one decode of ``payload``, with the payload's provenance ready."""
        return DecodeBuilder(self, payload, source_reference)


class _Findings:
    """Collects diagnostics in the order they are found."""

    def __init__(self) -> None:
        self._diagnostics: list[Diagnostic] = []

    def add(
        self,
        severity: Severity,
        code: str,
        message: str,
        location: Location | None = None,
        *,
        records: Iterable[str | record_pb2.Record] = (),
    ) -> Diagnostic:
        ids = tuple(r if isinstance(r, str) else r.record_id for r in records)
        diagnostic = Diagnostic(severity, code, message, location or Location(), ids)
        self._diagnostics.append(diagnostic)
        return diagnostic

    def error(
        self,
        code: str,
        message: str,
        location: Location | None = None,
        *,
        records: Iterable[str | record_pb2.Record] = (),
    ) -> Diagnostic:
        return self.add(Severity.ERROR, code, message, location, records=records)

    def warning(
        self,
        code: str,
        message: str,
        location: Location | None = None,
        *,
        records: Iterable[str | record_pb2.Record] = (),
    ) -> Diagnostic:
        return self.add(Severity.WARNING, code, message, location, records=records)

    def info(
        self,
        code: str,
        message: str,
        location: Location | None = None,
        *,
        records: Iterable[str | record_pb2.Record] = (),
    ) -> Diagnostic:
        return self.add(Severity.INFO, code, message, location, records=records)

    def extend(self, diagnostics: Iterable[Diagnostic]) -> None:
        self._diagnostics.extend(diagnostics)

    @property
    def diagnostics(self) -> tuple[Diagnostic, ...]:
        return tuple(self._diagnostics)


class DecodeBuilder(_Findings):
    """Collects the records and diagnostics of one decode, and fills provenance.

    Usage inside ``decode``::

        out = self.builder(payload, source_reference)
        record = out.new_record(stable_record_id("mrz", ...), source_reference="...")
        record.travel_document.document_number = ...
        out.error("MRZ_CHECK_DIGIT", "...", Location(line=2, column=10), records=[record])
        return out.result()
    """

    def __init__(self, adapter: Adapter, payload: bytes, source_reference: str = "") -> None:
        super().__init__()
        self.adapter = adapter
        self.payload_sha256 = hashlib.sha256(payload).digest()
        self.source_reference = source_reference
        self._records: list[record_pb2.Record] = []

    def provenance(self, source_reference: str | None = None) -> record_pb2.Provenance:
        """Provenance for a record of this payload: adapter, format, reference, payload hash."""
        reference = self.source_reference if source_reference is None else source_reference
        return record_pb2.Provenance(
            adapter_name=self.adapter.name,
            adapter_version=self.adapter.version,
            source_format=self.adapter.source_format,
            source_reference=reference,
            payload_sha256=self.payload_sha256,
        )

    def new_record(
        self, record_id: str, *, source_reference: str | None = None
    ) -> record_pb2.Record:
        """Start a record with its id and provenance; it is emitted in creation order."""
        record = record_pb2.Record(
            record_id=record_id, provenance=self.provenance(source_reference)
        )
        self._records.append(record)
        return record

    def add_record(self, record: record_pb2.Record) -> None:
        """Emit a record built elsewhere; its provenance is filled where empty."""
        if not record.HasField("provenance"):
            record.provenance.CopyFrom(self.provenance())
        self._records.append(record)

    def result(self) -> DecodeResult:
        return DecodeResult(tuple(self._records), self.diagnostics)


class EncodeBuilder(_Findings):
    """Collects the diagnostics of one encode."""

    def result(self, payload: bytes) -> EncodeResult:
        return EncodeResult(payload, self.diagnostics)
