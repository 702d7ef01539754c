"""The adapter contract: legacy bytes in, ``liaison.v1`` records and diagnostics out, and back.

An adapter is a class with class-level identity (``name``, ``version``, ``source_format``, media
types, file extensions) and two methods, ``decode`` and (where the format allows) ``encode``.
Adapters are pure: no I/O, no global mutable state, so one instance may serve many threads.

``decode`` never raises on bad input. It returns the records it could build and a diagnostic for
everything else; a record built from input that produced an error names that record in the
error's ``record_ids``, so it is never mistaken for a clean one (see ``DecodeResult.clean``).

The cost of bad input is bounded for every adapter alike: the ``DecodeBuilder`` stops a decode at
its error limit and lists a bounded number of warnings per code (``adapters.collector``), with the
limits of the adapter's ``DecodeOptions``; ``Adapter`` turns the stop into a normal result.
"""

from __future__ import annotations

import abc
import copy
import dataclasses
import functools
import hashlib
import types
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Self

from adapters.collector import Collector, DecodeStopped
from adapters.diagnostics import Diagnostic, Severity
from adapters.options import DEFAULT_OPTIONS, DecodeOptions
from liaison.rules.errors import LiaisonError
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


class EncodeNotSupportedError(LiaisonError, NotImplementedError):
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


_Decode = Callable[..., DecodeResult]


def _stopping(decode: _Decode) -> _Decode:
    """``decode``, returning the collected result when its builder stops it at the error limit."""

    @functools.wraps(decode)
    def wrapper(self: Adapter, *args: Any, **kwargs: Any) -> DecodeResult:
        try:
            return decode(self, *args, **kwargs)
        except DecodeStopped as stop:
            collector = stop.collector
            if not isinstance(collector, DecodeBuilder):
                raise  # only a decode builder has an error limit: not ours to handle
            return collector.result()

    wrapper.__liaison_stopping__ = True  # type: ignore[attr-defined]
    return wrapper


class Adapter(abc.ABC):
    """Base class of every adapter. Subclasses set the class attributes and ``decode``.

    Args:
        options: How this instance decodes (strictness, limits); see ``configured``.
    """

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
    options: DecodeOptions = DEFAULT_OPTIONS
    """How this instance decodes. A class-level default, so that subclasses whose ``__init__``
    does not call this one still have options."""

    def __init__(self, *, options: DecodeOptions = DEFAULT_OPTIONS) -> None:
        self.options = options

    def __init_subclass__(cls, **kwargs: Any) -> None:
        # Every concrete decode returns a result when its builder stops it at the error limit,
        # so that third-party adapters get the limit without a line of their own.
        super().__init_subclass__(**kwargs)
        decode = cls.__dict__.get("decode")
        if isinstance(decode, types.FunctionType) and not hasattr(decode, "__liaison_stopping__"):
            setattr(cls, "decode", _stopping(decode))  # noqa: B010 - a method, not an attribute

    def configured(
        self,
        *,
        strict: bool | None = None,
        max_errors: int | None = None,
        max_per_code: int | None = None,
    ) -> Self:
        """A copy of this adapter with the options given changed (the others kept).

        Raises:
            ValueError: a limit is not positive.
        """
        changes: dict[str, Any] = {
            key: value
            for key, value in (
                ("strict", strict),
                ("max_errors", max_errors),
                ("max_per_code", max_per_code),
            )
            if value is not None
        }
        clone = copy.copy(self)
        clone.options = dataclasses.replace(self.options, **changes)
        return clone

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


class DecodeBuilder(Collector):
    """Collects the records and diagnostics of one decode, and fills provenance.

    The adapter's options set the limits: see ``adapters.collector``. Usage inside ``decode``::

        out = self.builder(payload, source_reference)
        record = out.new_record(stable_record_id("mrz", ...), source_reference="...")
        record.travel_document.document_number = ...
        out.error("MRZ_CHECK_DIGIT", "...", Location(line=2, column=10), records=[record])
        return out.result()
    """

    def __init__(self, adapter: Adapter, payload: bytes, source_reference: str = "") -> None:
        options = adapter.options
        super().__init__(max_errors=options.max_errors, max_per_code=options.max_per_code)
        self.adapter = adapter
        self.payload_sha256 = hashlib.sha256(payload).digest()
        self.source_reference = source_reference
        self._records: list[record_pb2.Record] = []
        # The records of one decode are built as elements of one message, so that they share
        # one upb arena: a top-level message costs an arena of its own (about 1.5 KB more per
        # record, measured), which doubled the memory of a decode of small records.
        self._arena = translation_pb2.TranslateResponse()

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
        record = self._arena.records.add(
            record_id=record_id, provenance=self.provenance(source_reference)
        )
        self._records.append(record)
        return record

    def add_record(self, record: record_pb2.Record) -> None:
        """Emit a record built elsewhere; its provenance is filled where empty."""
        if not record.HasField("provenance"):
            record.provenance.CopyFrom(self.provenance())
        self._records.append(record)

    @property
    def records(self) -> tuple[record_pb2.Record, ...]:
        """The records emitted so far, in order."""
        return tuple(self._records)

    def result(self) -> DecodeResult:
        """The records and the diagnostics, their records named by id."""
        return DecodeResult(tuple(self._records), self.resolved(self._records))


class EncodeBuilder(Collector):
    """Collects the diagnostics of one encode (without limits: records come from the gateway)."""

    @property
    def diagnostics(self) -> tuple[Diagnostic, ...]:
        return self.resolved()

    def result(self, payload: bytes) -> EncodeResult:
        return EncodeResult(payload, self.diagnostics)
