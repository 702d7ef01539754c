"""The trace context a record was submitted under, kept until the record is forwarded.

So that one trace shows a record's submission at one centre and its arrival at another, the
forwarder carries the submission's W3C ``traceparent`` with the record (``ForwardedRecord``),
and the receiver starts its span under it. The context is remembered here, in memory and
bounded, from the submission until the router reads the committed version; the router stores it
with each delivery in the outbox, so queued records keep it across restarts. Only a version
committed but not yet routed when the gateway stops loses it (its arrival then starts a trace of
its own): trace continuity is best effort, delivery is not.
"""

from __future__ import annotations

import collections
import threading

from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

__all__ = ["SubmissionTraces", "context_from"]

_PROPAGATOR = TraceContextTextMapPropagator()


class SubmissionTraces:
    """``(record id, content hash) -> traceparent`` of recent sampled submissions (LRU-bounded).

    Keyed by content, not version: the context is remembered *before* the commit (the version is
    known only after it), because the forwarder may route the committed version before the
    submitting call resumes.
    """

    def __init__(self, capacity: int = 65_536) -> None:
        self._capacity = capacity
        self._parents: collections.OrderedDict[tuple[str, bytes], str] = collections.OrderedDict()
        self._lock = threading.Lock()

    def remember(self, record_id: str, content_sha256: bytes) -> None:
        """Remember the current span's context for this content, when it is being recorded."""
        if not trace.get_current_span().is_recording():
            return
        carrier: dict[str, str] = {}
        _PROPAGATOR.inject(carrier)
        parent = carrier.get("traceparent")
        if not parent:
            return
        with self._lock:
            self._parents[(record_id, content_sha256)] = parent
            self._parents.move_to_end((record_id, content_sha256))
            while len(self._parents) > self._capacity:
                self._parents.popitem(last=False)

    def traceparent(self, record_id: str, content_sha256: bytes) -> str:
        """The remembered ``traceparent``, or ``""``."""
        with self._lock:
            return self._parents.get((record_id, content_sha256), "")

    def __len__(self) -> int:
        return len(self._parents)


def context_from(traceparent: str) -> Context | None:
    """The OpenTelemetry context a ``traceparent`` names (``None`` when absent or malformed)."""
    if not traceparent:
        return None
    context = _PROPAGATOR.extract({"traceparent": traceparent})
    span = trace.get_current_span(context)
    return context if span.get_span_context().is_valid else None
