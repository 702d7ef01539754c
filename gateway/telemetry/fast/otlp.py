"""OTLP span encoding written straight to protobuf wire format, and the exporter that uses it.

The OTLP exporter's own encoder builds a protobuf message object for every span, attribute and
value, which costs several times what recording the span did (about 100 µs a span on the
reference machine, against about 40 µs to record it). With every call sampled that alone made
tracing cost more than the gateway's budget allows (see
``docs/decisions/0010-telemetry-interceptors.md``).

:func:`encode_spans` writes the same ``ExportTraceServiceRequest`` bytes directly: fields in wire
format, with each attribute's encoding cached (Liaison's attribute values repeat: method names,
adapter names, codes). The result is parsed back into the request message by the C protobuf
runtime, so :class:`LiaisonOTLPSpanExporter` hands the OTLP exporter exactly what it expects;
retries, timeouts, compression and TLS stay the exporter's. The tests check byte-for-byte
semantic equality with the official encoder.

The exporter offers no public way to replace its encoder: :class:`LiaisonOTLPSpanExporter`
overrides the private ``_translate_data``, listed in
:data:`~gateway.telemetry.fast.internals.RELIED_ON` and checked there.
"""

from __future__ import annotations

import struct
from collections.abc import Mapping, Sequence
from typing import Any

from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import OTLPSpanExporter
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceRequest
from opentelemetry.proto.common.v1.common_pb2 import (
    AnyValue,
    ArrayValue,
    InstrumentationScope,
    KeyValue,
    KeyValueList,
)
from opentelemetry.proto.resource.v1.resource_pb2 import Resource as ResourceMessage
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import Event, ReadableSpan
from opentelemetry.sdk.util.instrumentation import InstrumentationScope as Scope
from opentelemetry.trace import Link, SpanContext, SpanKind, StatusCode
from opentelemetry.util.types import Attributes

__all__ = ["LiaisonOTLPSpanExporter", "encode_spans"]

_KIND = {
    SpanKind.INTERNAL: 1,
    SpanKind.SERVER: 2,
    SpanKind.CLIENT: 3,
    SpanKind.PRODUCER: 4,
    SpanKind.CONSUMER: 5,
}
_HAS_IS_REMOTE = 0x100
_IS_REMOTE = 0x200
_CACHE_LIMIT = 8192

_fixed64 = struct.Struct("<Q").pack
_fixed32 = struct.Struct("<I").pack
_TIMES = struct.Struct("<BQBQ").pack
"""Start and end time fields (tag, fixed64) in one pack."""


_SMALL_VARINTS = tuple(bytes((n,)) for n in range(128))


def _varint(value: int) -> bytes:
    if 0 <= value < 128:
        return _SMALL_VARINTS[value]
    value &= 0xFFFFFFFFFFFFFFFF
    out = bytearray()
    while value > 0x7F:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def _length_delimited(tag: bytes, data: bytes) -> bytes:
    return tag + _varint(len(data)) + data


# Span fields that take one of a few values, encoded once.
_KIND_FIELD = {kind: b"\x30" + _varint(number) for kind, number in _KIND.items()}
_STATUS_FIELD = {
    code: _length_delimited(b"\x7a", b"\x18" + _varint(code.value) if code.value else b"")
    for code in StatusCode
}
_LOCAL_PARENT_FLAGS = b"\x85\x01" + _fixed32(_HAS_IS_REMOTE)
_REMOTE_PARENT_FLAGS = b"\x85\x01" + _fixed32(_HAS_IS_REMOTE | _IS_REMOTE)


def _any_value(value: Any) -> AnyValue:
    if isinstance(value, bool):
        return AnyValue(bool_value=value)
    if isinstance(value, str):
        return AnyValue(string_value=value)
    if isinstance(value, int):
        return AnyValue(int_value=value)
    if isinstance(value, float):
        return AnyValue(double_value=value)
    if isinstance(value, bytes):
        return AnyValue(bytes_value=value)
    if isinstance(value, Sequence):
        return AnyValue(array_value=ArrayValue(values=[_any_value(item) for item in value]))
    if isinstance(value, Mapping):
        return AnyValue(
            kvlist_value=KeyValueList(
                values=[KeyValue(key=str(k), value=_any_value(v)) for k, v in value.items()]
            )
        )
    return AnyValue()


class _Encoder:
    """Caches what repeats between spans: attributes, resources and scopes."""

    def __init__(self) -> None:
        self._attributes: dict[tuple[bytes, str, type, Any], bytes] = {}
        self._names: dict[str, bytes] = {}
        self._resources: dict[int, tuple[Resource, bytes]] = {}
        self._scopes: dict[int, tuple[Scope | None, bytes]] = {}

    def attribute(self, tag: bytes, key: str, value: Any) -> bytes:
        """One ``KeyValue`` encoded as the field ``tag`` (tag, length and message)."""
        try:
            cache_key = (tag, key, type(value), value)
            cached = self._attributes.get(cache_key)
        except TypeError:  # an unhashable value (a mapping): not cached
            return _length_delimited(
                tag, KeyValue(key=key, value=_any_value(value)).SerializeToString()
            )
        if cached is None:
            cached = _length_delimited(
                tag, KeyValue(key=key, value=_any_value(value)).SerializeToString()
            )
            if len(self._attributes) >= _CACHE_LIMIT:
                self._attributes.clear()
            self._attributes[cache_key] = cached
        return cached

    def attributes(self, tag: bytes, attributes: Attributes) -> list[bytes]:
        if not attributes:
            return []
        attribute = self.attribute
        return [attribute(tag, k, v) for k, v in attributes.items()]

    def name(self, name: str) -> bytes:
        """The span name field (span names repeat: they are cached)."""
        cached = self._names.get(name)
        if cached is None:
            cached = _length_delimited(b"\x2a", name.encode())
            if len(self._names) >= _CACHE_LIMIT:
                self._names.clear()
            self._names[name] = cached
        return cached

    def resource(self, resource: Resource) -> bytes:
        cached = self._resources.get(id(resource))
        if cached is None or cached[0] is not resource:
            message = ResourceMessage(
                attributes=[
                    KeyValue(key=k, value=_any_value(v)) for k, v in resource.attributes.items()
                ]
            )
            cached = (resource, message.SerializeToString())
            self._resources[id(resource)] = cached
        return cached[1]

    def scope(self, scope: Scope | None) -> bytes:
        cached = self._scopes.get(id(scope))
        if cached is None or cached[0] is not scope:
            message = InstrumentationScope()
            if scope is not None:
                message = InstrumentationScope(
                    name=scope.name,
                    version=scope.version or "",
                    attributes=[
                        KeyValue(key=k, value=_any_value(v))
                        for k, v in (scope.attributes or {}).items()
                    ],
                )
            cached = (scope, message.SerializeToString())
            self._scopes[id(scope)] = cached
        return cached[1]

    def event(self, event: Event) -> bytes:
        parts = [b"\x09" + _fixed64(event.timestamp)]
        if event.name:
            parts.append(_length_delimited(b"\x12", event.name.encode()))
        parts += self.attributes(b"\x1a", event.attributes)
        if event.dropped_attributes:
            parts.append(b"\x20" + _varint(event.dropped_attributes))
        return b"".join(parts)

    def link(self, link: Link) -> bytes:
        context = link.context
        parts = [
            b"\x0a\x10" + context.trace_id.to_bytes(16, "big"),
            b"\x12\x08" + context.span_id.to_bytes(8, "big"),
        ]
        # Like the official encoder, a link carries no trace state.
        parts += self.attributes(b"\x22", link.attributes)
        if link.dropped_attributes:
            parts.append(b"\x28" + _varint(link.dropped_attributes))
        parts.append(b"\x35" + _fixed32(_flags(context)))
        return b"".join(parts)

    def span(self, span: ReadableSpan) -> bytes:
        context = span.get_span_context()
        assert context is not None  # a finished SDK span always has one
        parts = [
            b"\x0a\x10" + context.trace_id.to_bytes(16, "big"),
            b"\x12\x08" + context.span_id.to_bytes(8, "big"),
        ]
        state = _trace_state(context)
        if state:
            parts.append(_length_delimited(b"\x1a", state.encode()))
        if span.parent is not None:
            parts.append(b"\x22\x08" + span.parent.span_id.to_bytes(8, "big"))
        if span.name:
            parts.append(self.name(span.name))
        parts.append(_KIND_FIELD[span.kind])
        parts.append(_TIMES(0x39, span.start_time or 0, 0x41, span.end_time or 0))
        parts += self.attributes(b"\x4a", span.attributes)
        if span.dropped_attributes:
            parts.append(b"\x50" + _varint(span.dropped_attributes))
        events = span.events
        if events:
            parts += [_length_delimited(b"\x5a", self.event(event)) for event in events]
        if span.dropped_events:
            parts.append(b"\x60" + _varint(span.dropped_events))
        links = span.links
        if links:
            parts += [_length_delimited(b"\x6a", self.link(link)) for link in links]
        if span.dropped_links:
            parts.append(b"\x70" + _varint(span.dropped_links))
        status = span.status
        if status.description:
            encoded = _length_delimited(b"\x12", status.description.encode())
            if status.status_code.value:
                encoded += b"\x18" + _varint(status.status_code.value)
            parts.append(_length_delimited(b"\x7a", encoded))
        else:
            parts.append(_STATUS_FIELD[status.status_code])
        parent = span.parent
        parts.append(_REMOTE_PARENT_FLAGS if parent and parent.is_remote else _LOCAL_PARENT_FLAGS)
        return b"".join(parts)

    def request(self, spans: Sequence[ReadableSpan]) -> bytes:
        grouped: dict[int, tuple[Resource, dict[int, tuple[Scope | None, list[bytes]]]]] = {}
        for span in spans:
            resource = span.resource
            scopes = grouped.setdefault(id(resource), (resource, {}))[1]
            scope = span.instrumentation_scope
            scopes.setdefault(id(scope), (scope, []))[1].append(self.span(span))
        out = []
        for resource, scopes in grouped.values():
            resource_parts = [_length_delimited(b"\x0a", self.resource(resource))]
            for scope, encoded in scopes.values():
                scope_parts = [_length_delimited(b"\x0a", self.scope(scope))]
                scope_parts += [_length_delimited(b"\x12", span) for span in encoded]
                if scope is not None and scope.schema_url:
                    scope_parts.append(_length_delimited(b"\x1a", scope.schema_url.encode()))
                resource_parts.append(_length_delimited(b"\x12", b"".join(scope_parts)))
            if resource.schema_url:
                resource_parts.append(_length_delimited(b"\x1a", resource.schema_url.encode()))
            out.append(_length_delimited(b"\x0a", b"".join(resource_parts)))
        return b"".join(out)


def _trace_state(context: SpanContext) -> str:
    state = context.trace_state
    return ",".join(f"{key}={value}" for key, value in state.items()) if state else ""


def _flags(context: SpanContext) -> int:
    return _HAS_IS_REMOTE | (_IS_REMOTE if context.is_remote else 0)


_shared = _Encoder()


def encode_spans(spans: Sequence[ReadableSpan]) -> bytes:
    """The serialized ``ExportTraceServiceRequest`` carrying ``spans``."""
    return _shared.request(spans)


class LiaisonOTLPSpanExporter(OTLPSpanExporter):
    """The OTLP/gRPC span exporter with :func:`encode_spans` as its encoder."""

    def _translate_data(self, data: Sequence[ReadableSpan]) -> ExportTraceServiceRequest:
        # Private in the SDK (see gateway/telemetry/fast/internals.py): the exporter's one
        # place that turns spans into the request it sends.
        return ExportTraceServiceRequest.FromString(encode_spans(data))
