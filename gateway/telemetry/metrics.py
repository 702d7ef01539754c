"""The gateway's metrics: one object holding every instrument, and what each one counts.

Attribute values are bounded by construction: RPC method names, adapter names, diagnostic codes,
rejection reasons and centre ids (a value that is not a well-formed centre id is counted as
``other``, so a malformed record cannot inflate cardinality or smuggle text into a metric).
That rule is applied here, whichever pipeline records the values: how a counted value or a
latency reaches the SDK is the pipeline's :class:`Recorder` (the stock SDK instruments,
:class:`SdkRecorder`, or the fast pipeline's in-process tallies and deferred histograms).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from typing import Final, Protocol

from opentelemetry.metrics import CallbackOptions, Histogram, Meter, Observation
from opentelemetry.util.types import Attributes

from gateway.telemetry import attributes as attr
from liaison.rules.ids import CENTRE_ID_PATTERN

__all__ = [
    "DURATION_BOUNDARIES",
    "NATIVE_ADAPTER",
    "RPC_CLIENT_CALL_DURATION",
    "RPC_SERVER_CALL_DURATION",
    "CounterSink",
    "GatewayMetrics",
    "HistogramLike",
    "Recorder",
    "SdkRecorder",
]

NATIVE_ADAPTER = "liaison.v1"
"""The ``liaison.adapter.name`` of records submitted in the contract's own form."""

RPC_SERVER_CALL_DURATION: Final = "rpc.server.call.duration"
"""Semantic conventions (incubating): the histogram of served RPCs' durations, in seconds."""
RPC_CLIENT_CALL_DURATION: Final = "rpc.client.call.duration"
"""Semantic conventions (incubating): the histogram of client calls' durations, in seconds."""

DURATION_BOUNDARIES: Final = (
    0.0005,
    0.001,
    0.0025,
    0.005,
    0.01,
    0.025,
    0.05,
    0.075,
    0.1,
    0.25,
    0.5,
    0.75,
    1.0,
    2.5,
    5.0,
    7.5,
    10.0,
)
"""Bucket boundaries (seconds) of every duration histogram: the semantic conventions' advice for
durations in seconds, with 0.5, 1 and 2.5 ms below it, where a gateway's unary calls and
commits fall. Without them the SDK's default boundaries (0, 5, 10, ... 10,000, meant for
milliseconds) would put every call in one bucket, and no percentile could be read."""

_MAX_SERIES = 1000
"""Most attribute combinations a counter keeps (below the SDK's default limit of 2000, which
would otherwise fold the excess into an attribute-less overflow series)."""
_OVERFLOW = ("other", "other", "other")

# The contract's centre-id rule (liaison.rules imports neither the gateway nor gRPC).
_CENTRE = CENTRE_ID_PATTERN
_CODE = re.compile(r"[A-Z][A-Z0-9_.]{0,63}")
_NAME = re.compile(r"[a-z0-9][a-z0-9._-]{0,63}")
_TASK = re.compile(r"[a-z][a-z0-9._-]{0,31}(:[A-Z0-9][A-Z0-9-]{0,63}|:[a-z][a-z0-9._-]{0,31})?")

CounterSink = Callable[[int, tuple[str, ...]], None]
"""Adds a count to the series of a tuple of attribute values (already bounded)."""


class HistogramLike(Protocol):
    """What the interceptors call on a latency histogram (an SDK ``Histogram`` is one)."""

    def record(self, amount: float, attributes: Attributes = None) -> None:
        """Record ``amount`` with ``attributes``."""


class Recorder(Protocol):
    """How a pipeline hands counted values and latencies to the SDK."""

    def counter(
        self, meter: Meter, name: str, *, unit: str, description: str, keys: tuple[str, ...]
    ) -> CounterSink:
        """A monotonic counter named ``name`` whose series are keyed by the values of ``keys``."""

    def histogram(self, histogram: Histogram) -> HistogramLike:
        """What RPC latencies are recorded into for ``histogram`` (itself, or a deferral)."""


class SdkRecorder:
    """The stock SDK instruments: ``Counter.add`` and ``Histogram.record`` at every measurement."""

    def counter(
        self, meter: Meter, name: str, *, unit: str, description: str, keys: tuple[str, ...]
    ) -> CounterSink:
        """An SDK counter; each series' attribute dict is built once (series are bounded)."""
        counter = meter.create_counter(name, unit=unit, description=description)
        series: dict[tuple[str, ...], dict[str, str]] = {}

        def add(count: int, values: tuple[str, ...]) -> None:
            found = series.get(values)
            if found is None:
                found = series[values] = dict(zip(keys, values, strict=True))
            counter.add(count, found)

        return add

    def histogram(self, histogram: Histogram) -> HistogramLike:
        """The SDK histogram itself."""
        return histogram


class _BoundedCounter:
    """A counter whose attribute values are bounded: a value its key's pattern does not accept is
    counted as ``other``, and past :data:`_MAX_SERIES` combinations new ones share one ``other``
    series."""

    __slots__ = ("_known", "_patterns", "_sink")

    def __init__(self, sink: CounterSink, patterns: tuple[re.Pattern[str], ...]) -> None:
        self._sink = sink
        self._patterns = patterns
        self._known: set[tuple[str, ...]] = set()

    def add(self, count: int, *values: str) -> None:
        """Add ``count`` to the series of ``values``."""
        if values not in self._known:
            # Only accepted values (or "other") are ever known: no need to check them again.
            values = self._admit(values)
        self._sink(count, values)

    def _admit(self, values: tuple[str, ...]) -> tuple[str, ...]:
        cleaned = tuple(
            value if pattern.fullmatch(value) else "other"
            for value, pattern in zip(values, self._patterns, strict=True)
        )
        if cleaned not in self._known:
            if len(self._known) >= _MAX_SERIES:
                cleaned = _OVERFLOW[: len(values)]
            self._known.add(cleaned)
        return cleaned


def _counter(
    recorder: Recorder,
    meter: Meter,
    name: str,
    unit: str,
    description: str,
    keys: tuple[tuple[str, re.Pattern[str]], ...],
) -> _BoundedCounter:
    sink = recorder.counter(
        meter, name, unit=unit, description=description, keys=tuple(key for key, _ in keys)
    )
    return _BoundedCounter(sink, tuple(pattern for _, pattern in keys))


class GatewayMetrics:
    """Every instrument of the gateway, created on one meter.

    Instruments:
        ``rpc.server.call.duration`` / ``rpc.client.call.duration`` (s): RPC latency by method
            and status code.
        ``liaison.records.ingested``: new versions stored, by adapter and originating centre.
        ``liaison.records.translated``: records decoded or encoded by an adapter.
        ``liaison.records.rejected``: records refused, by adapter, originating centre and reason.
        ``liaison.diagnostics``: adapter diagnostics, by adapter, code and severity.
        ``liaison.store.commit.duration`` (s): one store transaction, from its start to its
            commit (many requests share one: group commit).
        ``liaison.subscriptions.active``: subscription streams open now.
        ``liaison.subscription.lag``: versions a subscriber was behind when a delivery started.
        ``liaison.tasks.restarted``: background tasks restarted after a failure, by task name
            (``delivery:INTERPOL-CCC-LYON``, ``federation:audit``, ...).
        ``liaison.records.withdrawn``: records this centre withdrew, by reason.
        ``liaison.reviews.due``: this centre's records whose review reminder is raised.
        ``liaison.threads.overdue``: request/reply threads past their deadline, unanswered.
    """

    def __init__(self, meter: Meter, recorder: Recorder | None = None) -> None:
        """Create the instruments on ``meter``.

        Args:
            meter: The meter of Liaison's instrumentation scope.
            recorder: How counts and RPC latencies reach the SDK; by default the stock
                instruments (:class:`SdkRecorder`).
        """
        recorder = recorder if recorder is not None else SdkRecorder()
        self.rpc_server_duration: HistogramLike = recorder.histogram(
            meter.create_histogram(
                RPC_SERVER_CALL_DURATION,
                unit="s",
                description="Measures the duration of an incoming Remote Procedure Call (RPC).",
                explicit_bucket_boundaries_advisory=DURATION_BOUNDARIES,
            )
        )
        """Latency of every RPC served, recorded by the server interceptor."""
        self.rpc_client_duration: HistogramLike = recorder.histogram(
            meter.create_histogram(
                RPC_CLIENT_CALL_DURATION,
                unit="s",
                description="Measures the duration of an outgoing Remote Procedure Call (RPC).",
                explicit_bucket_boundaries_advisory=DURATION_BOUNDARIES,
            )
        )
        """Latency of every call of a traced client, recorded by the client interceptors."""
        self._ingested = _counter(
            recorder,
            meter,
            "liaison.records.ingested",
            "{record}",
            "New record versions stored.",
            ((attr.ADAPTER_NAME, _NAME), (attr.ORIGINATING_CENTRE, _CENTRE)),
        )
        self._translated = _counter(
            recorder,
            meter,
            "liaison.records.translated",
            "{record}",
            "Records decoded or encoded by an adapter.",
            ((attr.ADAPTER_NAME, _NAME), (attr.ADAPTER_OPERATION, _NAME)),
        )
        self._rejected = _counter(
            recorder,
            meter,
            "liaison.records.rejected",
            "{record}",
            "Records refused.",
            (
                (attr.ADAPTER_NAME, _NAME),
                (attr.ORIGINATING_CENTRE, _CENTRE),
                (attr.REJECTION_REASON, _NAME),
            ),
        )
        self._diagnostics = _counter(
            recorder,
            meter,
            "liaison.diagnostics",
            "{diagnostic}",
            "Adapter diagnostics.",
            (
                (attr.ADAPTER_NAME, _NAME),
                (attr.DIAGNOSTIC_CODE, _CODE),
                (attr.DIAGNOSTIC_SEVERITY, _NAME),
            ),
        )
        self._restarted = _counter(
            recorder,
            meter,
            "liaison.tasks.restarted",
            "{restart}",
            "Background tasks restarted after a failure.",
            ((attr.TASK_NAME, _TASK),),
        )
        # Recorded at once, on the event loop: one measurement per transaction, not per call.
        self._commit_duration = meter.create_histogram(
            "liaison.store.commit.duration",
            unit="s",
            description="One store transaction, from its start to its commit.",
            explicit_bucket_boundaries_advisory=DURATION_BOUNDARIES,
        )
        self._lag = meter.create_histogram(
            "liaison.subscription.lag",
            unit="{version}",
            description="Versions a subscriber was behind when a delivery started.",
        )
        self._withdrawn = meter.create_counter(
            "liaison.records.withdrawn",
            unit="{record}",
            description="Records this centre withdrew, by reason (EXPIRED: automatically).",
        )
        self._meter = meter

    def withdrawn(self, count: int, reason: str) -> None:
        """Count records withdrawn here (``reason``: the WithdrawalReason's short name)."""
        self._withdrawn.add(count, {"liaison.withdrawal.reason": reason})

    def observe_reviews_due(self, count: Callable[[], int]) -> None:
        """Report ``count()`` as ``liaison.reviews.due`` (the review reminders raised and not
        yet answered by an extension or a withdrawal) at every export."""

        def observe(options: CallbackOptions) -> Iterable[Observation]:
            return [Observation(count())]

        self._meter.create_observable_up_down_counter(
            "liaison.reviews.due",
            callbacks=[observe],
            unit="{record}",
            description="This centre's records whose review is due within the reminder lead.",
        )

    def observe_threads_overdue(self, count: Callable[[], int]) -> None:
        """Report ``count()`` as ``liaison.threads.overdue`` at every export."""

        def observe(options: CallbackOptions) -> Iterable[Observation]:
            return [Observation(count())]

        self._meter.create_observable_up_down_counter(
            "liaison.threads.overdue",
            callbacks=[observe],
            unit="{thread}",
            description="Request/reply threads past their reply deadline, unanswered.",
        )

    def observe_subscribers(self, count: Callable[[], int]) -> None:
        """Report ``count()`` as ``liaison.subscriptions.active`` at every export."""

        def observe(options: CallbackOptions) -> Iterable[Observation]:
            return [Observation(count())]

        self._meter.create_observable_up_down_counter(
            "liaison.subscriptions.active",
            callbacks=[observe],
            unit="{subscription}",
            description="Subscription streams open now.",
        )

    def ingested(self, count: int, centre: str, adapter: str = NATIVE_ADAPTER) -> None:
        """Count ``count`` new versions from ``centre`` stored through ``adapter``."""
        if count:
            self._ingested.add(count, adapter, centre)

    def rejected(self, count: int, reason: str, centre: str, adapter: str = NATIVE_ADAPTER) -> None:
        """Count ``count`` records refused for ``reason``."""
        if count:
            self._rejected.add(count, adapter, centre, reason)

    def translated(self, count: int, adapter: str, operation: str) -> None:
        """Count ``count`` records decoded or encoded (``operation``) by ``adapter``."""
        if count:
            self._translated.add(count, adapter, operation)

    def diagnostic(self, adapter: str, code: str, severity: str) -> None:
        """Count one diagnostic."""
        self._diagnostics.add(1, adapter, code, severity)

    def store_committed(self, seconds: float) -> None:
        """Record one store transaction's duration (a store's commit timer)."""
        self._commit_duration.record(seconds)

    def subscription_lag(self, versions: int) -> None:
        """Record how far behind a subscriber was when a delivery started."""
        self._lag.record(versions)

    def task_restarted(self, name: str) -> None:
        """Count one restart of the supervised task ``name`` (a supervisor's ``on_restart``)."""
        self._restarted.add(1, name)
