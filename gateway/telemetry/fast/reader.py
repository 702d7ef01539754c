"""A periodic metric reader that flushes deferred measurements before every collection it starts.

The fast pipeline's latency histograms keep their measurements in a queue on the event loop and
hand them to the SDK in bulk (:class:`~gateway.telemetry.fast.metrics.DeferredHistogram`). For
each value to land in the export of the interval it was measured in, the hand-over must happen
right before each collection. The SDK offers no hook there: ``MetricReader.collect`` is final,
and running the hand-over from an observable instrument's callback (what Liaison did before)
relies on the SDK running callbacks before it reads the synchronous instruments, which nothing
documents.

So this reader owns the schedule. It is the SDK's ``PeriodicExportingMetricReader`` - same
exporter plumbing, temporality, export lock and shutdown - built with an infinite interval, which
the SDK documents as "the reader will not invoke periodic collection". Its own thread then runs,
every interval, the hooks registered with :meth:`FlushingMetricReader.before_collect` and the
public ``collect``; ``force_flush`` and ``shutdown`` do the same. Every collection this reader
starts therefore sees every measurement made before it began, in whatever order the SDK works
inside ``collect``. Only public SDK API is used.
"""

from __future__ import annotations

import logging
import math
import os
import threading
from collections.abc import Callable
from typing import Any

from opentelemetry.sdk.metrics import MetricsTimeoutError
from opentelemetry.sdk.metrics.export import MetricExporter, PeriodicExportingMetricReader

__all__ = ["FlushingMetricReader"]

logger = logging.getLogger(__name__)

_DEFAULT_TIMEOUT_MILLIS = 30_000.0
"""The SDK's default export timeout (``OTEL_METRIC_EXPORT_TIMEOUT`` unset)."""


def _timeout_from_environment() -> float:
    """``OTEL_METRIC_EXPORT_TIMEOUT``, read as the SDK's periodic reader reads it."""
    try:
        return float(os.environ.get("OTEL_METRIC_EXPORT_TIMEOUT", _DEFAULT_TIMEOUT_MILLIS))
    except ValueError:
        logger.warning("OTEL_METRIC_EXPORT_TIMEOUT is not a number: using 30000 ms")
        return _DEFAULT_TIMEOUT_MILLIS


class FlushingMetricReader(PeriodicExportingMetricReader):
    """Collects every ``export_interval_millis`` and exports to ``exporter``, running the hooks
    given to :meth:`before_collect` first, at every collection it starts.

    Args:
        exporter: Where collected metrics go.
        export_interval_millis: Milliseconds between collections; ``math.inf``: only on
            :meth:`force_flush` and :meth:`shutdown`.
        export_timeout_millis: Time allowed to one collection and export; by default
            ``OTEL_METRIC_EXPORT_TIMEOUT`` or 30 s, as the SDK's reader.

    Raises:
        ValueError: ``export_interval_millis`` is not above 0.
    """

    # Attributes are name-mangled (``self.__hooks``): the SDK's reader keeps private attributes
    # of its own on the same object, and a future one with the same name must not collide.

    def __init__(
        self,
        exporter: MetricExporter,
        export_interval_millis: float,
        export_timeout_millis: float | None = None,
    ) -> None:
        if not export_interval_millis > 0:
            raise ValueError(
                f"export_interval_millis must be above 0, got {export_interval_millis!r}"
            )
        timeout = (
            export_timeout_millis
            if export_timeout_millis is not None
            else _timeout_from_environment()
        )
        super().__init__(exporter, export_interval_millis=math.inf, export_timeout_millis=timeout)
        self.__hooks: tuple[Callable[[], None], ...] = ()
        self.__timeout_millis = timeout
        self.__closed = False
        self.__stop = threading.Event()
        self.__thread: threading.Thread | None = None
        if math.isfinite(export_interval_millis):
            self.__thread = threading.Thread(
                target=self.__tick,
                args=(export_interval_millis / 1000.0,),
                name="LiaisonMetricReader",
                daemon=True,
            )
            self.__thread.start()

    def before_collect(self, hook: Callable[[], None]) -> None:
        """Run ``hook`` (in the collecting thread) before every collection this reader starts."""
        self.__hooks = (*self.__hooks, hook)

    def __run_hooks(self) -> None:
        for hook in self.__hooks:
            try:
                hook()
            except Exception:
                # A failing hook must not stop the collection, nor the reader's thread.
                logger.exception("a metric hook failed before a collection")

    def __collect(self, timeout_millis: float) -> None:
        self.__run_hooks()
        try:
            self.collect(timeout_millis=timeout_millis)
        except MetricsTimeoutError:
            logger.warning("metric collection timed out", exc_info=True)

    def __tick(self, interval_seconds: float) -> None:
        while not self.__stop.wait(interval_seconds):
            try:
                self.__collect(self.__timeout_millis)
            except Exception:
                # The thread is the only schedule there is: it must outlive a bad collection.
                logger.exception("metric collection failed")

    def force_flush(self, timeout_millis: float = 10_000) -> bool:
        """Run the hooks, collect and export now, and flush the exporter."""
        self.__run_hooks()
        return super().force_flush(timeout_millis=timeout_millis)

    def shutdown(self, timeout_millis: float = 30_000, **kwargs: Any) -> None:
        """Stop the schedule, collect and export one last time, and shut the exporter down."""
        if self.__closed:
            super().shutdown(timeout_millis=timeout_millis, **kwargs)  # the SDK warns
            return
        self.__closed = True
        self.__stop.set()
        if self.__thread is not None:
            self.__thread.join(timeout=timeout_millis / 1000.0)
        self.__collect(min(timeout_millis, self.__timeout_millis))
        super().shutdown(timeout_millis=timeout_millis, **kwargs)
