"""The fast pipeline's recorder: counters tallied in-process, RPC latencies deferred to collection.

Both move work off the event loop, where every microsecond is a call the gateway does not serve
(``docs/decisions/0010-telemetry-interceptors.md``, points 3 and 7):

- the SDK's ``Counter.add`` cleans and hashes its attributes on every call (about 20 µs on the
  reference machine); a :class:`Tally` adds to a dict entry (well under 1 µs) and reports the
  totals through an observable counter when the metrics are collected;
- ``Histogram.record`` costs 10-30 µs (attribute hashing, locks, bucket search), twice for every
  Submit; a :class:`DeferredHistogram` appends to a deque and hands its values to the SDK
  histogram in the reader's thread, right before each collection
  (:class:`~gateway.telemetry.fast.reader.FlushingMetricReader`).

Only public SDK API is used. A histogram is deferred only when the meter's reader is a
:class:`~gateway.telemetry.fast.reader.FlushingMetricReader`: with any other reader nothing
would hand its values over in time, so it records at once.
"""

from __future__ import annotations

import collections
import time
from collections.abc import Iterable

from opentelemetry.metrics import CallbackOptions, Histogram, Meter, Observation
from opentelemetry.sdk.metrics.export import MetricReader
from opentelemetry.util.types import Attributes

from gateway.telemetry.fast.reader import FlushingMetricReader
from gateway.telemetry.metrics import CounterSink, HistogramLike

__all__ = ["DeferredHistogram", "FastRecorder", "Tally"]

_MAX_PENDING = 100_000
"""Most measurements a deferred histogram holds between collections; beyond, it records at once."""
_FLUSH_SLICE = 64
"""Measurements flushed (about 1 ms of work) before the flushing thread yields the GIL."""


class Tally:
    """A monotonic counter kept in a dict and reported through an observable counter.

    Additions happen on the event loop; the copy taken by the collecting thread is atomic under
    the GIL.

    Args:
        meter: Where the observable counter is created.
        name: The metric's name.
        unit: Its unit.
        description: Its description.
        keys: The attribute keys, in the order of the values given to :meth:`add`.
    """

    __slots__ = ("_keys", "_totals")

    def __init__(
        self, meter: Meter, name: str, *, unit: str, description: str, keys: tuple[str, ...]
    ) -> None:
        self._keys = keys
        self._totals: dict[tuple[str, ...], int] = {}
        meter.create_observable_counter(
            name, callbacks=[self._observe], unit=unit, description=description
        )

    def add(self, count: int, values: tuple[str, ...]) -> None:
        """Add ``count`` to the series of ``values`` (bounded by the caller)."""
        totals = self._totals
        totals[values] = totals.get(values, 0) + count

    def _observe(self, options: CallbackOptions) -> Iterable[Observation]:
        return [
            Observation(total, dict(zip(self._keys, values, strict=True)))
            for values, total in self._totals.copy().items()
        ]


class DeferredHistogram:
    """A histogram whose measurements reach the SDK when :meth:`flush` runs.

    The measurements land in the collection that follows them; only their timestamps move,
    which histograms do not export.

    Args:
        histogram: The SDK histogram the values are handed to.
    """

    __slots__ = ("_histogram", "_pending")

    def __init__(self, histogram: Histogram) -> None:
        self._histogram = histogram
        self._pending: collections.deque[tuple[float, Attributes]] = collections.deque()

    def record(self, amount: float, attributes: Attributes = None) -> None:
        """Record ``amount`` with ``attributes`` (at the next flush)."""
        if len(self._pending) >= _MAX_PENDING:
            # Nothing has collected for a long time (an export interval far longer than the
            # load): stay bounded.
            self._histogram.record(amount, attributes)
            return
        self._pending.append((amount, attributes))

    def flush(self) -> None:
        """Hand every pending measurement to the SDK histogram (the collecting thread)."""
        pending = self._pending
        histogram = self._histogram
        for index in range(len(pending)):
            if index % _FLUSH_SLICE == _FLUSH_SLICE - 1:
                # Let the event loop have the GIL between slices: a flush of a whole export
                # interval's values in one go would hold it for tens of milliseconds.
                time.sleep(0)
            try:
                amount, attributes = pending.popleft()
            except IndexError:  # a concurrent flush (force_flush during a tick) took the rest
                return
            histogram.record(amount, attributes)


class FastRecorder:
    """The fast pipeline's :class:`~gateway.telemetry.metrics.Recorder`.

    Args:
        reader: The meter provider's reader; latencies are deferred only when it is a
            :class:`FlushingMetricReader`, which flushes them before each collection.
    """

    def __init__(self, reader: MetricReader | None) -> None:
        self._reader = reader if isinstance(reader, FlushingMetricReader) else None

    def counter(
        self, meter: Meter, name: str, *, unit: str, description: str, keys: tuple[str, ...]
    ) -> CounterSink:
        """A :class:`Tally`."""
        return Tally(meter, name, unit=unit, description=description, keys=keys).add

    def histogram(self, histogram: Histogram) -> HistogramLike:
        """A :class:`DeferredHistogram` flushed by the reader, or ``histogram`` itself when the
        reader would not flush it."""
        if self._reader is None:
            return histogram
        deferred = DeferredHistogram(histogram)
        self._reader.before_collect(deferred.flush)
        return deferred
