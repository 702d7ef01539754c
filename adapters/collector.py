"""Collecting diagnostics, with the limits that keep a decode's cost bounded by its input.

A hostile payload can produce a diagnostic per byte: two million of them for two megabytes of
EDIFACT terminators. The collector therefore bounds what it keeps, for every adapter alike:

* **Errors.** After ``max_errors`` errors, the next one ends the decode: it is replaced by a
  ``TOO_MANY_ERRORS`` error at its location, naming every record of the result (nothing decoded
  from a payload whose errors are no longer listed can be vouched for), and ``DecodeStopped`` is
  raised. ``Adapter`` wraps every subclass's ``decode`` so that the exception returns the result
  collected so far: adapters need no code of their own for it.
* **Warnings and infos.** At most ``max_per_code`` of one code are listed; the others are counted
  and reported at the end in one ``DIAGNOSTICS_OMITTED`` info per code, located at the first one
  left out. Decoding goes on: warnings do not make a payload unusable.

A diagnostic may name its records before they have ids: a record object, or a ``Subject`` that
stands for records decided later (a multi-part message's manifest, every person of a
transaction). Names are resolved when the result is built, and only records of the result are
named, so an error never points at a record that does not exist.
"""

from __future__ import annotations

import abc
from collections.abc import Iterable
from dataclasses import dataclass

from adapters.diagnostics import Diagnostic, Location, Severity
from liaison.v1 import record_pb2

__all__ = [
    "DIAGNOSTICS_OMITTED",
    "TOO_MANY_ERRORS",
    "Collector",
    "Concerned",
    "DecodeStopped",
    "Subject",
]

TOO_MANY_ERRORS = "TOO_MANY_ERRORS"
"""Error code of the diagnostic that ends a decode at its error limit."""

DIAGNOSTICS_OMITTED = "DIAGNOSTICS_OMITTED"
"""Info code of the count of warnings (or infos) of one code that were not listed."""


class Subject(abc.ABC):
    """Records a diagnostic concerns, known only once decoding has progressed further."""

    @abc.abstractmethod
    def records(self) -> Iterable[record_pb2.Record]:
        """The records this subject stands for (those not in the result are ignored)."""


class _EveryRecord(Subject):
    """Every record of the result; resolved by the collector itself."""

    def records(self) -> Iterable[record_pb2.Record]:
        return ()


EVERY_RECORD: Subject = _EveryRecord()

Concerned = str | record_pb2.Record | Subject
"""What a diagnostic may name: a record id, a record (its id is read when the result is built),
or a subject."""


class DecodeStopped(BaseException):
    """A decode reached its error limit; ``Adapter.decode`` returns ``collector``'s result.

    A ``BaseException``, like ``GeneratorExit``: an adapter's ``except Exception`` around its
    own parsing must not swallow it and go on decoding.
    """

    def __init__(self, collector: Collector) -> None:
        super().__init__("the decode reached its error limit")
        self.collector = collector


@dataclass(slots=True)
class _Pending:
    """A diagnostic whose records are resolved when the result is built."""

    severity: Severity
    code: str
    message: str
    location: Location
    ids: tuple[str, ...]
    later: tuple[record_pb2.Record | Subject, ...]


@dataclass(slots=True)
class _Omitted:
    severity: Severity
    count: int
    location: Location


class Collector:
    """Collects diagnostics in the order they are found, within optional limits.

    Args:
        max_errors: Errors listed before the next one stops the decode; None: no limit.
        max_per_code: Warnings and infos listed per code; None: no limit.
    """

    def __init__(self, *, max_errors: int | None = None, max_per_code: int | None = None) -> None:
        self._entries: list[Diagnostic | _Pending] = []
        self._max_errors = max_errors
        self._max_per_code = max_per_code
        self._errors = 0
        self._per_code: dict[str, int] = {}
        self._omitted: dict[str, _Omitted] = {}
        self._stopped = False

    @property
    def every_record(self) -> Subject:
        """A subject standing for every record of the result."""
        return EVERY_RECORD

    @property
    def stopped(self) -> bool:
        """True once the error limit ended the decode."""
        return self._stopped

    def add(
        self,
        severity: Severity,
        code: str,
        message: str,
        location: Location | None = None,
        *,
        records: Iterable[Concerned] = (),
    ) -> None:
        """Record a diagnostic, unless a limit leaves it out.

        Raises:
            DecodeStopped: this error is one more than the error limit allows.
        """
        where = location or Location()
        if self._stopped:
            return
        if severity is Severity.ERROR:
            if self._max_errors is not None and self._errors >= self._max_errors:
                self._stop(where)
            self._errors += 1
        elif self._max_per_code is not None:
            listed = self._per_code.get(code, 0)
            if listed >= self._max_per_code:
                omitted = self._omitted.get(code)
                if omitted is None:
                    self._omitted[code] = _Omitted(severity, 1, where)
                else:
                    omitted.count += 1
                return
            self._per_code[code] = listed + 1
        self._append(severity, code, message, where, records)

    def _append(
        self,
        severity: Severity,
        code: str,
        message: str,
        location: Location,
        records: Iterable[Concerned],
    ) -> None:
        ids: list[str] = []
        later: list[record_pb2.Record | Subject] = []
        for item in records:
            if isinstance(item, str):
                ids.append(item)
            else:
                later.append(item)
        if later:
            self._entries.append(
                _Pending(severity, code, message, location, tuple(ids), tuple(later))
            )
        else:
            self._entries.append(Diagnostic(severity, code, message, location, tuple(ids)))

    def _stop(self, location: Location) -> None:
        self._append(
            Severity.ERROR,
            TOO_MANY_ERRORS,
            f"decoding stopped at its limit of {self._max_errors:,} errors: the rest of the "
            "payload is not read, and no record decoded from it counts as clean",
            location,
            (EVERY_RECORD,),
        )
        self._stopped = True
        raise DecodeStopped(self)

    def error(
        self,
        code: str,
        message: str,
        location: Location | None = None,
        *,
        records: Iterable[Concerned] = (),
    ) -> None:
        self.add(Severity.ERROR, code, message, location, records=records)

    def warning(
        self,
        code: str,
        message: str,
        location: Location | None = None,
        *,
        records: Iterable[Concerned] = (),
    ) -> None:
        self.add(Severity.WARNING, code, message, location, records=records)

    def info(
        self,
        code: str,
        message: str,
        location: Location | None = None,
        *,
        records: Iterable[Concerned] = (),
    ) -> None:
        self.add(Severity.INFO, code, message, location, records=records)

    def extend(self, diagnostics: Iterable[Diagnostic]) -> None:
        """Add finished diagnostics, within the limits."""
        for d in diagnostics:
            self.add(d.severity, d.code, d.message, d.location, records=d.record_ids)

    def resolved(
        self, records: Iterable[record_pb2.Record] | None = None
    ) -> tuple[Diagnostic, ...]:
        """Every diagnostic, then the summaries of those left out.

        Records a diagnostic names as objects or subjects are named by their ids now; with
        ``records`` (a decode's result), only those among ``records`` are named.
        """
        emitted = [] if records is None else list(records)
        present = None if records is None else {id(record) for record in emitted}
        diagnostics: list[Diagnostic] = []
        for entry in self._entries:
            if isinstance(entry, Diagnostic):
                diagnostics.append(entry)
                continue
            ids = list(entry.ids)
            for item in entry.later:
                if item is EVERY_RECORD:
                    ids.extend(record.record_id for record in emitted)
                    continue
                named = (item,) if isinstance(item, record_pb2.Record) else item.records()
                ids.extend(r.record_id for r in named if present is None or id(r) in present)
            diagnostics.append(
                Diagnostic(
                    entry.severity,
                    entry.code,
                    entry.message,
                    entry.location,
                    tuple(dict.fromkeys(ids)),
                )
            )
        for code, omitted in self._omitted.items():
            diagnostics.append(
                Diagnostic(
                    Severity.INFO,
                    DIAGNOSTICS_OMITTED,
                    f"{omitted.count:,} more {omitted.severity.label} diagnostics with code "
                    f"{code} are not listed (at most {self._max_per_code:,} of one code are); "
                    "the first is located here",
                    omitted.location,
                )
            )
        return tuple(diagnostics)
