"""The gateway's metrics: one object holding every instrument, and what each one counts.

Attribute values are bounded by construction: RPC method names, adapter names, diagnostic codes,
rejection reasons and centre ids (a value that is not a well-formed centre id is counted as
``other``, so a malformed record cannot inflate cardinality or smuggle text into a metric).
"""

from __future__ import annotations

import collections
import re
import time
from collections.abc import Callable, Iterable

from opentelemetry.metrics import CallbackOptions, Histogram, Meter, Observation
from opentelemetry.semconv._incubating.metrics.rpc_metrics import (
    create_rpc_client_call_duration,
    create_rpc_server_call_duration,
)
from opentelemetry.util.types import Attributes

from gateway.telemetry import attributes as attr

__all__ = ["NATIVE_ADAPTER", "GatewayMetrics"]

NATIVE_ADAPTER = "liaison.v1"
"""The ``liaison.adapter.name`` of records submitted in the contract's own form."""

_MAX_SERIES = 1000
"""Most attribute combinations a counter keeps (below the SDK's default limit of 2000, which
would otherwise fold the excess into an attribute-less overflow series)."""
_OVERFLOW = ("other", "other", "other")

_CENTRE = re.compile(r"[A-Z0-9](?:[A-Z0-9-]{0,62}[A-Z0-9])?")
_CODE = re.compile(r"[A-Z][A-Z0-9_.]{0,63}")
_NAME = re.compile(r"[a-z0-9][a-z0-9._-]{0,63}")


class _Tally:
    """A counter kept in a dict and reported at export time through an observable counter.

    The SDK's ``Counter.add`` cleans and hashes its attributes on every call (about 20 µs on
    the reference machine); adding to a dict entry costs well under 1 µs, and the exporter
    reads the totals once per export interval. Additions happen on the event loop; the copy
    taken by the exporting thread is atomic under the GIL.
    """

    def __init__(
        self,
        meter: Meter,
        name: str,
        unit: str,
        description: str,
        keys: tuple[tuple[str, re.Pattern[str]], ...],
    ):
        self._keys = tuple(key for key, _ in keys)
        self._patterns = tuple(pattern for _, pattern in keys)
        self._totals: dict[tuple[str, ...], int] = {}
        meter.create_observable_counter(
            name, callbacks=[self._observe], unit=unit, description=description
        )

    def add(self, count: int, *values: str) -> None:
        """Add ``count`` to the series of ``values``; a value its key's pattern does not accept
        is counted as ``other``, so attribute values stay bounded and free of text."""
        totals = self._totals
        if values in totals:
            # Only accepted values (or "other") are ever stored: no need to check them again.
            totals[values] += count
            return
        values = tuple(
            value if pattern.fullmatch(value) else "other"
            for value, pattern in zip(values, self._patterns, strict=True)
        )
        if values not in totals and len(totals) >= _MAX_SERIES:
            # Past the limit, new combinations share one ``other`` series.
            values = _OVERFLOW[: len(values)]
        totals[values] = totals.get(values, 0) + count

    def _observe(self, options: CallbackOptions) -> Iterable[Observation]:
        return [
            Observation(total, dict(zip(self._keys, values, strict=True)))
            for values, total in self._totals.copy().items()
        ]


_MAX_PENDING = 100_000
"""Most measurements a deferred histogram holds between exports; beyond, it records at once."""
_FLUSH_SLICE = 64
"""Measurements flushed (about 1 ms of work) before the flushing thread yields the GIL."""


class _DeferredHistogram:
    """A histogram whose measurements reach the SDK when the metrics are collected.

    ``Histogram.record`` costs 10-30 µs on the event loop (attribute hashing, locks, bucket
    search), twice for every Submit. Here a measurement is appended to a deque (thread-safe, well
    under 1 µs) and handed to the SDK histogram by the metric reader's thread just before each
    collection (see :meth:`GatewayMetrics._flush`), so the values land in the export they belong
    to. Only their timestamps move, which histograms do not export.
    """

    __slots__ = ("_direct", "_histogram", "_pending")

    def __init__(self, histogram: Histogram, *, defer: bool) -> None:
        """Wrap ``histogram``; ``defer=False`` records at once (no-op instruments, which no
        collection would ever flush)."""
        self._histogram = histogram
        self._direct = not defer
        self._pending: collections.deque[tuple[float, Attributes]] = collections.deque()

    def record(self, amount: float, attributes: Attributes = None) -> None:
        """Record ``amount`` with ``attributes`` (at the next collection)."""
        if self._direct or len(self._pending) >= _MAX_PENDING:
            # Past the bound nothing is collecting (an export interval far longer than the
            # load): stay bounded.
            self._histogram.record(amount, attributes)
            return
        self._pending.append((amount, attributes))

    def flush(self) -> None:
        """Hand every pending measurement to the SDK histogram (the reader's thread)."""
        pending = self._pending
        for index in range(len(pending)):
            if index % _FLUSH_SLICE == _FLUSH_SLICE - 1:
                # Let the event loop have the GIL between slices: a flush of a whole export
                # interval's values in one go would hold it for tens of milliseconds.
                time.sleep(0)
            amount, attributes = pending.popleft()
            self._histogram.record(amount, attributes)


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
    """

    def __init__(self, meter: Meter, *, collected: bool = True) -> None:
        """Create the instruments on ``meter``; ``collected=False`` for a no-op meter, whose
        latency histograms then record at once rather than wait for a collection."""
        self.rpc_server_duration = _DeferredHistogram(
            create_rpc_server_call_duration(meter), defer=collected
        )
        self.rpc_client_duration = _DeferredHistogram(
            create_rpc_client_call_duration(meter), defer=collected
        )
        self._ingested = _Tally(
            meter,
            "liaison.records.ingested",
            "{record}",
            "New record versions stored.",
            ((attr.ADAPTER_NAME, _NAME), (attr.ORIGINATING_CENTRE, _CENTRE)),
        )
        self._translated = _Tally(
            meter,
            "liaison.records.translated",
            "{record}",
            "Records decoded or encoded by an adapter.",
            ((attr.ADAPTER_NAME, _NAME), (attr.ADAPTER_OPERATION, _NAME)),
        )
        self._rejected = _Tally(
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
        self._diagnostics = _Tally(
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
        # Recorded at once, on the event loop: one measurement per transaction, not per call.
        self._commit_duration = meter.create_histogram(
            "liaison.store.commit.duration",
            unit="s",
            description="One store transaction, from its start to its commit.",
        )
        self._lag = meter.create_histogram(
            "liaison.subscription.lag",
            unit="{version}",
            description="Versions a subscriber was behind when a delivery started.",
        )
        self._meter = meter
        self._deferred = (self.rpc_server_duration, self.rpc_client_duration)
        # The SDK runs observable callbacks first when it collects: this one reports nothing and
        # flushes the deferred histograms, so their values are in the same collection.
        meter.create_observable_gauge(
            "liaison.telemetry.flush",
            callbacks=[self._flush],
            description="Internal: flushes deferred histograms; never reports a value.",
        )

    def _flush(self, options: CallbackOptions) -> Iterable[Observation]:
        for histogram in self._deferred:
            histogram.flush()
        return ()

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
