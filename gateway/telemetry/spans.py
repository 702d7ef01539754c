"""Liaison's own spans, nested under the RPC span, and only when that span is being recorded.

A child span is started only when the current span is recording: an unsampled call (99 in 100
at 1 % sampling) pays one context look-up per step and nothing else, and a step never starts a
trace of its own. Child spans are not made current - none has children - which saves attaching
and detaching a context per step.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from types import TracebackType
from typing import Protocol

from opentelemetry import trace
from opentelemetry.trace import Span, StatusCode, Tracer
from opentelemetry.util.types import Attributes

from gateway.telemetry import attributes as attr
from gateway.telemetry.metrics import GatewayMetrics
from gateway.telemetry.names import ADAPTER_DECODE_SPAN, ADAPTER_ENCODE_SPAN

__all__ = ["AdapterSpan", "ChildSpan", "DiagnosticLike", "LocationLike", "record_exception_type"]


class LocationLike(Protocol):
    """Where a diagnostic points (``adapters.diagnostics.Location``)."""

    @property
    def line(self) -> int: ...
    @property
    def column(self) -> int: ...
    @property
    def byte_offset(self) -> int | None: ...
    @property
    def segment_index(self) -> int | None: ...
    @property
    def json_pointer(self) -> str: ...


class DiagnosticLike(Protocol):
    """What telemetry reads of a diagnostic (``adapters.diagnostics.Diagnostic``): never the
    message, which may describe the payload."""

    @property
    def severity(self) -> object: ...
    @property
    def code(self) -> str: ...
    @property
    def location(self) -> LocationLike: ...


def record_exception_type(span: Span, error: BaseException) -> None:
    """Mark ``span`` failed by ``error``, naming its type only (messages may quote content)."""
    span.add_event("exception", {attr.EXCEPTION_TYPE: type(error).__qualname__})
    span.set_status(StatusCode.ERROR)


class ChildSpan:
    """``with ChildSpan(tracer, name) as span:`` - ``span`` is ``None`` when not recording."""

    __slots__ = ("_attributes", "_name", "_span", "_tracer")

    def __init__(self, tracer: Tracer, name: str, attributes: Attributes = None) -> None:
        """Prepare a span named ``name`` with ``attributes``; nothing starts before ``with``."""
        self._tracer = tracer
        self._name = name
        self._attributes = attributes
        self._span: Span | None = None

    def __enter__(self) -> Span | None:
        if not trace.get_current_span().is_recording():
            return None
        self._span = self._tracer.start_span(self._name, attributes=self._attributes)
        return self._span

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        span = self._span
        if span is None:
            return
        if exc is not None:
            record_exception_type(span, exc)
        span.end()


def _severity_label(severity: object) -> str:
    label = getattr(severity, "label", None)
    if isinstance(label, str):
        return label
    name = getattr(severity, "name", "")
    return name.lower() if isinstance(name, str) and name else "unknown"


def _location_attributes(location: LocationLike) -> dict[str, int | str]:
    found: dict[str, int | str] = {}
    if location.line:
        found[attr.LOCATION_LINE] = location.line
    if location.column:
        found[attr.LOCATION_COLUMN] = location.column
    if location.byte_offset is not None:
        found[attr.LOCATION_BYTE_OFFSET] = location.byte_offset
    if location.segment_index is not None:
        found[attr.LOCATION_SEGMENT_INDEX] = location.segment_index
    if location.json_pointer:
        found[attr.LOCATION_JSON_POINTER] = location.json_pointer
    return found


_SEVERITY_COUNTS = {
    "error": attr.DIAGNOSTICS_ERROR,
    "warning": attr.DIAGNOSTICS_WARNING,
    "info": attr.DIAGNOSTICS_INFO,
}


class AdapterSpan:
    """An adapter's decode or encode: a span under the current RPC span, and its metrics.

    ``with AdapterSpan(tracer, metrics, adapter, "decode", len(payload)) as step:``, then
    ``step.result(len(records), diagnostics)`` once the adapter has answered. The span carries
    the adapter's name and version, the payload size, the record count and the diagnostic counts
    by severity; each diagnostic becomes a ``liaison.diagnostic`` event with its code, severity
    and location, never its message. The record and diagnostic counters are updated whether or
    not the call is sampled.
    """

    __slots__ = ("_adapter", "_metrics", "_operation", "_span", "_start")

    def __init__(
        self,
        tracer: Tracer,
        metrics: GatewayMetrics,
        adapter: object,
        operation: str,
        payload_size: int,
    ) -> None:
        """Prepare the step.

        Args:
            tracer: The tracer spans are started on.
            metrics: The gateway's instruments.
            adapter: The adapter (class or instance) with ``name`` and ``version`` attributes.
            operation: ``"decode"`` or ``"encode"``.
            payload_size: Bytes of the payload decoded (for an encode: 0, set by
                :meth:`result`).
        """
        if operation not in ("decode", "encode"):
            raise ValueError(f'operation must be "decode" or "encode", got {operation!r}')
        self._metrics = metrics
        self._operation = operation
        self._adapter = str(getattr(adapter, "name", "unknown"))
        version = str(getattr(adapter, "version", ""))
        self._start = ChildSpan(
            tracer,
            ADAPTER_DECODE_SPAN if operation == "decode" else ADAPTER_ENCODE_SPAN,
            {
                attr.ADAPTER_NAME: self._adapter,
                attr.ADAPTER_VERSION: version,
                attr.ADAPTER_OPERATION: operation,
                attr.PAYLOAD_SIZE: payload_size,
            },
        )
        self._span: Span | None = None

    def __enter__(self) -> AdapterSpan:
        self._span = self._start.__enter__()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self._start.__exit__(exc_type, exc, traceback)

    def result(
        self,
        records: int,
        diagnostics: Iterable[DiagnosticLike] = (),
        *,
        payload_size: int | None = None,
    ) -> None:
        """Record what the adapter produced.

        Args:
            records: Records decoded (or encoded).
            diagnostics: The adapter's diagnostics; their messages are not read.
            payload_size: For an encode, the size of the payload produced.
        """
        self._metrics.translated(records, self._adapter, self._operation)
        counts: Counter[str] = Counter()
        span = self._span
        for diagnostic in diagnostics:
            severity = _severity_label(diagnostic.severity)
            counts[severity] += 1
            self._metrics.diagnostic(self._adapter, diagnostic.code, severity)
            if span is not None:
                span.add_event(
                    attr.DIAGNOSTIC_EVENT,
                    {
                        attr.DIAGNOSTIC_CODE: diagnostic.code,
                        attr.DIAGNOSTIC_SEVERITY: severity,
                        **_location_attributes(diagnostic.location),
                    },
                )
        if span is None:
            return
        span.set_attribute(attr.RECORDS_COUNT, records)
        if payload_size is not None:
            span.set_attribute(attr.PAYLOAD_SIZE, payload_size)
        for severity, key in _SEVERITY_COUNTS.items():
            span.set_attribute(key, counts[severity])
