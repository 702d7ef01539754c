"""A lighter tracer on the OpenTelemetry API, feeding the SDK's span pipeline.

The SDK's ``Tracer.start_span`` builds a span object with a lock, bounded attribute and event
containers that validate every value, tracer self-metrics and a processor chain; on the reference
machine that is about 25-35 µs a span, paid on the event loop three times per sampled ``Submit``
(``bench/README.md``, "Telemetry"). :class:`LiaisonTracerProvider` is the SDK provider - same
sampler, resource, id generator, processors, ``force_flush`` and ``shutdown`` - whose tracers
make :class:`LiaisonSpan` objects instead: plain attribute dicts checked with a type test,
no lock (a span is used by the one task or thread that started it), and on ``end`` one
``ReadableSpan`` handed to each processor, as the SDK does.

What is kept of the SDK's behaviour, because operators and tests rely on it: the sampler decides
first, from the parent context; an unsampled span is a ``NonRecordingSpan`` carrying its ids; the
W3C ``random`` trace flag is set when the id generator says the ids are random; attribute values
must be primitives or homogeneous sequences of them (others are dropped, as the SDK drops them);
at most :data:`MAX_ATTRIBUTES` attributes, :data:`MAX_EVENTS` events and :data:`MAX_LINKS` links a
span, the excess counted as dropped; a status, once ``OK``, is final; an ended span ignores
further changes; exceptions leaving ``with span:`` are recorded and set the status. Only public
OpenTelemetry API is used; ``tests/gateway/telemetry/fast/test_tracer.py`` runs the same span
operations through this tracer and the SDK's and compares what reaches the exporter.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from time import time_ns
from types import MappingProxyType, TracebackType
from typing import Any

from opentelemetry import trace as trace_api
from opentelemetry.attributes import BoundedAttributes
from opentelemetry.context import Context
from opentelemetry.sdk.trace import Event, ReadableSpan, SpanProcessor, TracerProvider
from opentelemetry.sdk.util import BoundedList
from opentelemetry.sdk.util.instrumentation import InstrumentationScope
from opentelemetry.trace import (
    Link,
    NonRecordingSpan,
    SpanContext,
    SpanKind,
    Status,
    StatusCode,
    TraceFlags,
)
from opentelemetry.util import types

__all__ = [
    "MAX_ATTRIBUTES",
    "MAX_EVENTS",
    "MAX_LINKS",
    "LiaisonSpan",
    "LiaisonTracer",
    "LiaisonTracerProvider",
]

logger = logging.getLogger(__name__)

MAX_ATTRIBUTES = 128
"""Most attributes a span keeps (the SDK's default limit)."""
MAX_EVENTS = 128
"""Most events a span keeps (the SDK's default limit)."""
MAX_LINKS = 128
"""Most links a span keeps (the SDK's default limit)."""

_PRIMITIVES = (str, bool, int, float)
_EMPTY: Mapping[str, types.AnyValue] = {}
_UNSET = Status(StatusCode.UNSET)  # immutable: one for every new span


def _clean(key: str, value: object) -> tuple[bool, types.AnyValue]:
    """Whether ``value`` may be an attribute value, and the value as kept - by the installed
    SDK's own rules (they have changed between versions), applied only to the rare values that
    are not plain primitives."""
    cleaned = BoundedAttributes(None, {key: value}, immutable=False)  # type: ignore[dict-item]
    return (True, cleaned[key]) if key in cleaned else (False, None)


def _sampled_flags(sampled: bool, random_ids: bool) -> TraceFlags:
    flags = TraceFlags.SAMPLED if sampled else TraceFlags.DEFAULT
    if random_ids:
        flags |= TraceFlags.RANDOM_TRACE_ID
    return TraceFlags(flags)


class LiaisonSpan(trace_api.Span):
    """A recording span; see the module's description for what it keeps of the SDK's rules."""

    __slots__ = (
        "_attributes",
        "_context",
        "_dropped_attributes",
        "_end_time",
        "_events",
        "_kind",
        "_links",
        "_name",
        "_parent",
        "_record_exception",
        "_set_status_on_exception",
        "_start_time",
        "_status",
        "_tracer",
    )

    def __init__(
        self,
        tracer: LiaisonTracer,
        name: str,
        context: SpanContext,
        parent: SpanContext | None,
        kind: SpanKind,
        attributes: types.Attributes,
        links: Sequence[Link],
        start_time: int,
        record_exception: bool,
        set_status_on_exception: bool,
    ) -> None:
        self._tracer = tracer
        self._name = name
        self._context = context
        self._parent = parent
        self._kind = kind
        self._attributes: dict[str, types.AnyValue] = {}
        self._dropped_attributes = 0
        self._events: list[Event] = []
        self._links: list[Link] = []
        self._status = _UNSET
        self._start_time = start_time
        self._end_time: int | None = None
        self._record_exception = record_exception
        self._set_status_on_exception = set_status_on_exception
        if attributes:
            self._put(attributes)
        for link in links:
            self._add_link(link)

    def _put(self, attributes: Mapping[str, types.AnyValue]) -> None:
        kept = self._attributes
        for key, value in attributes.items():
            if not key or not isinstance(key, str):
                logger.warning("span attribute dropped: its key is not a non-empty string")
                continue
            if type(value) not in _PRIMITIVES:
                valid, value = _clean(key, value)
                if not valid:
                    continue  # the SDK's cleaning has logged why
            if key not in kept and len(kept) >= MAX_ATTRIBUTES:
                self._dropped_attributes += 1
                continue
            kept[key] = value

    def _ended(self, what: str) -> bool:
        if self._end_time is None:
            return False
        logger.warning("%s on an ended span ignored", what)
        return True

    @property
    def name(self) -> str:
        """The span's name (as the SDK's spans have it, for processors' ``on_start``)."""
        return self._name

    @property
    def attributes(self) -> Mapping[str, types.AnyValue]:
        """The attributes set so far (read-only view)."""
        return MappingProxyType(self._attributes)

    def get_span_context(self) -> SpanContext:
        """The span's ids and flags."""
        return self._context

    def is_recording(self) -> bool:
        """True until the span ends."""
        return self._end_time is None

    def set_attributes(self, attributes: Mapping[str, types.AnyValue]) -> None:
        """Set several attributes (ignored once ended)."""
        if not self._ended("setting attributes"):
            self._put(attributes)

    def set_attribute(self, key: str, value: types.AnyValue) -> None:
        """Set one attribute (ignored once ended)."""
        if not self._ended("setting an attribute"):
            self._put({key: value})

    def add_event(
        self, name: str, attributes: types.Attributes = None, timestamp: int | None = None
    ) -> None:
        """Add an event (beyond :data:`MAX_EVENTS`, counted as dropped)."""
        if self._ended("adding an event"):
            return
        self._events.append(
            Event(
                name,
                BoundedAttributes(MAX_ATTRIBUTES, attributes, immutable=True),
                timestamp if timestamp is not None else time_ns(),
            )
        )

    def add_link(self, context: SpanContext, attributes: types.Attributes = None) -> None:
        """Link another span (ignored for an invalid context without attributes, as the SDK
        does)."""
        if not self._ended("adding a link"):
            self._add_link(Link(context, attributes))

    def _add_link(self, link: Link) -> None:
        if not link.context.is_valid and not link.attributes:
            return
        self._links.append(
            Link(link.context, BoundedAttributes(MAX_ATTRIBUTES, link.attributes, immutable=True))
        )

    def update_name(self, name: str) -> None:
        """Rename the span (ignored once ended)."""
        if not self._ended("renaming"):
            self._name = name

    def set_status(self, status: Status | StatusCode, description: str | None = None) -> None:
        """Set the status; ``UNSET`` is ignored and ``OK`` is final."""
        if self._ended("setting the status"):
            return
        if self._status.status_code is StatusCode.OK:
            return
        if isinstance(status, Status):
            if status.status_code is StatusCode.UNSET:
                return
            if description is not None:
                logger.warning("status description ignored: give a Status or a code and text")
            self._status = status
        elif status is not StatusCode.UNSET:
            self._status = Status(status, description)

    def record_exception(
        self,
        exception: BaseException,
        attributes: types.Attributes = None,
        timestamp: int | None = None,
        escaped: bool = False,
    ) -> None:
        """Add an ``exception`` event with the semantic-convention attributes, as the SDK does
        (the exporter's allowlist keeps only the type)."""
        module = type(exception).__module__
        qualname = type(exception).__qualname__
        recorded: dict[str, types.AnyValue] = {
            "exception.type": (
                f"{module}.{qualname}" if module and module != "builtins" else qualname
            ),
            "exception.message": str(exception),
            "exception.stacktrace": "".join(traceback.format_exception(exception)),
            "exception.escaped": str(escaped),
        }
        if attributes:
            recorded.update(attributes)
        self.add_event("exception", recorded, timestamp)

    def end(self, end_time: int | None = None) -> None:
        """End the span and hand it to every processor (a second ``end`` is ignored)."""
        if self._ended("ending"):
            return
        self._end_time = end_time if end_time is not None else time_ns()
        self._tracer._finished(self._readable())

    def _readable(self) -> ReadableSpan:
        attributes: Mapping[str, types.AnyValue] = self._attributes
        if self._dropped_attributes:
            # Only a bounded container can report how many were dropped to the exporter.
            bounded = BoundedAttributes(MAX_ATTRIBUTES, self._attributes, immutable=False)
            bounded.dropped = self._dropped_attributes
            attributes = bounded
        events: Sequence[Event] = self._events
        if len(events) > MAX_EVENTS:
            events = BoundedList.from_seq(MAX_EVENTS, events)
        links: Sequence[Link] = self._links
        if len(links) > MAX_LINKS:
            links = BoundedList.from_seq(MAX_LINKS, links)
        tracer = self._tracer
        return ReadableSpan(
            name=self._name,
            context=self._context,
            parent=self._parent,
            resource=tracer.resource,
            attributes=attributes,
            events=events,
            links=links,
            kind=self._kind,
            status=self._status,
            start_time=self._start_time,
            end_time=self._end_time,
            instrumentation_scope=tracer.scope,
        )

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc_val: BaseException | None,
        exc_tb: TracebackType | None,
    ) -> None:
        """End the span, recording an exception that leaves the block (as the SDK does)."""
        if exc_val is not None and self.is_recording():
            if self._record_exception:
                self.record_exception(exc_val, escaped=True)
            if self._set_status_on_exception:
                self.set_status(Status(StatusCode.ERROR, f"{type(exc_val).__name__}: {exc_val}"))
        self.end()

    def __repr__(self) -> str:
        return f'LiaisonSpan(name="{self._name}", context={self._context})'


class LiaisonTracer(trace_api.Tracer):
    """Starts :class:`LiaisonSpan` objects for one instrumentation scope of a provider."""

    def __init__(self, provider: LiaisonTracerProvider, scope: InstrumentationScope) -> None:
        """A tracer of ``provider`` for ``scope``."""
        self._provider = provider
        self.scope = scope
        """The instrumentation scope of the spans."""
        self.resource = provider.resource
        """The resource of the spans."""
        self._sampler = provider.sampler
        self._ids = provider.id_generator
        random_ids = self._ids.is_trace_id_random()
        self._sampled_flags = _sampled_flags(True, random_ids)
        self._unsampled_flags = _sampled_flags(False, random_ids)

    def start_span(
        self,
        name: str,
        context: Context | None = None,
        kind: SpanKind = SpanKind.INTERNAL,
        attributes: types.Attributes = None,
        links: Sequence[Link] | None = (),
        start_time: int | None = None,
        record_exception: bool = True,
        set_status_on_exception: bool = True,
    ) -> trace_api.Span:
        """Start a span under ``context``'s span (the current one by default); the sampler
        decides first, and an unsampled span is a non-recording one."""
        links = links or ()
        parent: SpanContext | None = trace_api.get_current_span(context).get_span_context()
        if parent is not None and parent.is_valid:
            trace_id = parent.trace_id
            random_ids = parent.trace_flags.random_trace_id
        else:
            parent = None
            trace_id = self._ids.generate_trace_id()
            random_ids = None
        sampling = self._sampler.should_sample(context, trace_id, name, kind, attributes, links)
        sampled = sampling.decision.is_sampled()  # type: ignore[no-untyped-call]
        if random_ids is None:
            flags = self._sampled_flags if sampled else self._unsampled_flags
        else:
            flags = _sampled_flags(sampled, random_ids)
        span_context = SpanContext(
            trace_id,
            self._ids.generate_span_id(),
            is_remote=False,
            trace_flags=flags,
            trace_state=sampling.trace_state,
        )
        if not sampling.decision.is_recording():  # type: ignore[no-untyped-call]
            return NonRecordingSpan(span_context)
        merged = attributes
        if sampling.attributes:
            merged = {**(attributes or _EMPTY), **sampling.attributes}
        span = LiaisonSpan(
            self,
            name,
            span_context,
            parent,
            kind,
            merged,
            links,
            start_time if start_time is not None else time_ns(),
            record_exception,
            set_status_on_exception,
        )
        for processor in self._provider.processors:
            processor.on_start(span, parent_context=context)  # type: ignore[arg-type]
        return span

    @contextmanager
    def start_as_current_span(  # type: ignore[override]  # the API types it with a private wrapper
        self,
        name: str,
        context: Context | None = None,
        kind: SpanKind = SpanKind.INTERNAL,
        attributes: types.Attributes = None,
        links: Sequence[Link] | None = (),
        start_time: int | None = None,
        record_exception: bool = True,
        set_status_on_exception: bool = True,
        end_on_exit: bool = True,
    ) -> Iterator[trace_api.Span]:
        """Start a span and make it current for the ``with`` block."""
        span = self.start_span(
            name,
            context,
            kind,
            attributes,
            links,
            start_time,
            record_exception,
            set_status_on_exception,
        )
        with trace_api.use_span(
            span,
            end_on_exit=end_on_exit,
            record_exception=record_exception,
            set_status_on_exception=set_status_on_exception,
        ) as current:
            yield current

    def _finished(self, span: ReadableSpan) -> None:
        for processor in self._provider.processors:
            processor.on_end(span)


class LiaisonTracerProvider(TracerProvider):
    """The SDK provider (sampler, resource, ids, processors, flush, shutdown) whose tracers make
    :class:`LiaisonSpan` objects."""

    def __init__(self, **kwargs: Any) -> None:
        """Take the SDK provider's arguments."""
        super().__init__(**kwargs)
        # Name-mangled: the SDK provider keeps private attributes of its own on this object.
        self.__processors: tuple[SpanProcessor, ...] = ()

    @property
    def processors(self) -> tuple[SpanProcessor, ...]:
        """The span processors, in the order they were added."""
        return self.__processors

    def add_span_processor(self, span_processor: SpanProcessor) -> None:
        """Add a processor; it receives every span ended from now on."""
        super().add_span_processor(span_processor)
        self.__processors = (*self.__processors, span_processor)

    def get_tracer(
        self,
        instrumenting_module_name: str,
        instrumenting_library_version: str | None = None,
        schema_url: str | None = None,
        attributes: types.Attributes = None,
    ) -> trace_api.Tracer:
        """A tracer for the named instrumentation scope."""
        return LiaisonTracer(
            self,
            InstrumentationScope(
                instrumenting_module_name or "",
                instrumenting_library_version,
                schema_url,
                attributes,
            ),
        )
