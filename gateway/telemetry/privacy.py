"""The privacy allowlist: the only span names, attributes, events and metric attributes exported.

Liaison's own code sets only allowlisted attributes whose values are counts, sizes, codes and
software names. The allowlist is nevertheless enforced where every span leaves the process - a
wrapper around the span exporter - so that a mistaken attribute (a future change, a library
span, an exception message quoting a record) is dropped rather than shipped to a collector:

- attributes not in :data:`SPAN_ATTRIBUTES` are removed from spans and links;
- events other than :data:`EVENT_ATTRIBUTES`' keys are removed, and the allowed ones keep only
  their allowed attributes (an ``exception`` event keeps its type, never its message or stack);
- span status descriptions are removed (gRPC status details may echo request content);
- a span whose name is neither one of Liaison's nor a gRPC method path is renamed
  :data:`REDACTED_SPAN_NAME`.

Metrics are restricted the same way by a view (:func:`metric_views`) that keeps only the
:data:`METRIC_ATTRIBUTES` of every instrument.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Final

from opentelemetry.sdk.metrics.view import View
from opentelemetry.sdk.trace import Event, ReadableSpan
from opentelemetry.sdk.trace.export import SpanExporter, SpanExportResult
from opentelemetry.trace import Link, Status
from opentelemetry.util.types import AnyValue, Attributes

from gateway.telemetry import attributes as attr
from gateway.telemetry.names import SPAN_NAMES

__all__ = [
    "EVENT_ATTRIBUTES",
    "METRIC_ATTRIBUTES",
    "REDACTED_SPAN_NAME",
    "SPAN_ATTRIBUTES",
    "AllowlistSpanExporter",
    "metric_views",
    "redact_span",
]

_LOCATION: Final = frozenset(
    {
        attr.LOCATION_LINE,
        attr.LOCATION_COLUMN,
        attr.LOCATION_BYTE_OFFSET,
        attr.LOCATION_SEGMENT_INDEX,
        attr.LOCATION_JSON_POINTER,
    }
)

SPAN_ATTRIBUTES: Final = frozenset(
    {
        attr.RPC_SYSTEM,
        attr.RPC_SERVICE,
        attr.RPC_METHOD,
        attr.RPC_GRPC_STATUS_CODE,
        attr.SERVER_ADDRESS,
        attr.SERVER_PORT,
        attr.NETWORK_PEER_ADDRESS,
        attr.NETWORK_PEER_PORT,
        attr.NETWORK_PROTOCOL_NAME,
        attr.NETWORK_PROTOCOL_VERSION,
        attr.RPC_PROTOCOL,
        attr.RECORDS_COUNT,
        attr.RECORDS_STORED,
        attr.RECORDS_DUPLICATE,
        attr.RECORDS_REJECTED,
        attr.VIOLATIONS_COUNT,
        attr.ADAPTER_NAME,
        attr.ADAPTER_VERSION,
        attr.ADAPTER_OPERATION,
        attr.PAYLOAD_SIZE,
        attr.DIAGNOSTICS_ERROR,
        attr.DIAGNOSTICS_WARNING,
        attr.DIAGNOSTICS_INFO,
        attr.SUBSCRIPTION_LAG,
        attr.PEER_CENTRE,
        attr.DELIVERY_OUTCOME,
    }
)
"""Span (and link) attributes that may be exported."""

EVENT_ATTRIBUTES: Final[Mapping[str, frozenset[str]]] = {
    attr.DIAGNOSTIC_EVENT: frozenset({attr.DIAGNOSTIC_CODE, attr.DIAGNOSTIC_SEVERITY}) | _LOCATION,
    "exception": frozenset({attr.EXCEPTION_TYPE}),
}
"""Span events that may be exported, each with the attributes it may keep."""

METRIC_ATTRIBUTES: Final = frozenset(
    {
        attr.RPC_SYSTEM,
        attr.RPC_SERVICE,
        attr.RPC_METHOD,
        attr.RPC_GRPC_STATUS_CODE,
        attr.RPC_PROTOCOL,
        attr.ADAPTER_NAME,
        attr.ADAPTER_OPERATION,
        attr.ORIGINATING_CENTRE,
        attr.REJECTION_REASON,
        attr.DIAGNOSTIC_CODE,
        attr.DIAGNOSTIC_SEVERITY,
        attr.TASK_NAME,
    }
)
"""Metric attributes that may be exported (each bounded: names, codes, centre ids)."""

REDACTED_SPAN_NAME: Final = "liaison.redacted"
"""Replaces a span name that is neither Liaison's nor a gRPC method path."""

_RPC_PATH = re.compile(r"/[A-Za-z_][A-Za-z0-9_.]{0,199}/[A-Za-z_][A-Za-z0-9_]{0,99}")
_MAX_STRING = 256


def _allowed(attributes: Attributes, keys: frozenset[str]) -> dict[str, AnyValue] | None:
    """The allowed subset of ``attributes`` (long strings cut), or ``None`` when all pass as is."""
    if not attributes:
        return None
    items = list(attributes.items())
    for key, value in items:
        if key not in keys or (isinstance(value, str) and len(value) > _MAX_STRING):
            break
    else:
        return None
    return {
        key: value[:_MAX_STRING] if isinstance(value, str) else value
        for key, value in items
        if key in keys
    }


def _event(event: Event) -> Event | None:
    keys = EVENT_ATTRIBUTES.get(event.name)
    if keys is None:
        return None
    kept = _allowed(event.attributes, keys)
    if kept is None:
        return event
    return Event(event.name, kept, event.timestamp)


def _link(link: Link) -> Link:
    kept = _allowed(link.attributes, SPAN_ATTRIBUTES)
    return link if kept is None else Link(link.context, kept)


_names_allowed: dict[str, bool] = {}


def _name_allowed(name: str) -> bool:
    allowed = _names_allowed.get(name)
    if allowed is None:
        allowed = name in SPAN_NAMES or _RPC_PATH.fullmatch(name) is not None
        if len(_names_allowed) >= 1024:  # names are few; a flood of odd ones must not grow it
            _names_allowed.clear()
        _names_allowed[name] = allowed
    return allowed


def redact_span(span: ReadableSpan) -> ReadableSpan:
    """``span`` reduced to the allowlist (the same object when nothing had to go)."""
    attributes = _allowed(span.attributes, SPAN_ATTRIBUTES)
    name_ok = _name_allowed(span.name)
    events = span.events
    links = span.links
    if not events and not links:
        # Most spans have no events and no links: the common case is decided here.
        if attributes is None and name_ok and span.status.description is None:
            return span
        kept_events: list[Event] = []
        kept_links: list[Link] = []
    else:
        kept_events = [kept for event in events if (kept := _event(event)) is not None]
        kept_links = [_link(link) for link in links]
        unchanged = (
            attributes is None
            and name_ok
            and span.status.description is None
            and len(kept_events) == len(events)
            and all(a is b for a, b in zip(kept_events, events, strict=True))
            and all(a is b for a, b in zip(kept_links, links, strict=True))
        )
        if unchanged:
            return span
    return ReadableSpan(
        name=span.name if name_ok else REDACTED_SPAN_NAME,
        context=span.context,
        parent=span.parent,
        resource=span.resource,
        attributes=dict(span.attributes or {}) if attributes is None else attributes,
        events=kept_events,
        links=kept_links,
        kind=span.kind,
        status=Status(span.status.status_code),
        start_time=span.start_time,
        end_time=span.end_time,
        instrumentation_scope=span.instrumentation_scope,
    )


class AllowlistSpanExporter(SpanExporter):
    """Wraps the real exporter; every span passes :func:`redact_span` on its way out."""

    def __init__(self, exporter: SpanExporter) -> None:
        """Wrap ``exporter``."""
        self._exporter = exporter

    def export(self, spans: Sequence[ReadableSpan]) -> SpanExportResult:
        """Export the redacted spans."""
        return self._exporter.export([redact_span(span) for span in spans])

    def shutdown(self) -> None:
        """Shut the wrapped exporter down."""
        self._exporter.shutdown()

    def force_flush(self, timeout_millis: int = 30000) -> bool:
        """Flush the wrapped exporter."""
        return self._exporter.force_flush(timeout_millis)


def metric_views() -> list[View]:
    """Views that keep only :data:`METRIC_ATTRIBUTES` on every instrument."""
    return [View(instrument_name="*", attribute_keys=set(METRIC_ATTRIBUTES))]
