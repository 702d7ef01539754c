"""The cost of a decode: CPU time growing linearly with the payload, memory bounded by its size.

Checked in a way a loaded two-core CI machine cannot make flaky: never absolute seconds, but the
ratio of the CPU time of a payload four times larger to that of the payload (best of several
decodes each, process CPU time, which other processes' load barely changes), against a generous
bound that linear decoding meets with room to spare and quadratic decoding cannot (a quadratic
term as large as the linear one at the smaller size already gives 10; linear gives 4). Memory is
the ``tracemalloc`` peak of one decode, as a multiple of the payload's size.

For the timing, the larger payload's diagnostic limits are four times the smaller's: a hostile
payload stops at the error limit, and work repeated for every diagnostic (rescanning the text
from each error) would otherwise hide behind the fixed number of diagnostics. With limits that
grow with the payload, it shows as the quadratic it is. Memory is measured with the adapter's
own limits, as users run it.

``tracemalloc`` sees what Python allocates: the decoder's own structures, diagnostics, record
wrappers. Protobuf's upb arenas, where the records' fields live, are allocated outside it; they
grow with the records a payload really holds, not with how hostile it is.
"""

from __future__ import annotations

import gc
import time
import tracemalloc
from dataclasses import dataclass

from adapters.base import Adapter, DecodeResult

__all__ = [
    "LINEAR_COST_RATIO",
    "MEASURABLE_SECONDS",
    "MEMORY_BOUND",
    "MEMORY_SLACK_BYTES",
    "CostFigures",
    "cost_problems",
    "decode_peak_bytes",
    "decode_seconds",
]

LINEAR_COST_RATIO = 10.0
"""Highest accepted CPU time ratio of a 4x larger payload (linear: about 4; quadratic: 16)."""

MEASURABLE_SECONDS = 0.05
"""Below this CPU time for the larger payload, the ratio is noise and not judged."""

MEMORY_BOUND = 20
"""Highest accepted tracemalloc peak, as a multiple of the payload's size."""

MEMORY_SLACK_BYTES = 256 * 1024
"""Allowed above the bound: a decode's fixed cost (compiled patterns, caches, the result)."""

_REPEATS = 3
_ATTEMPTS = 3


@dataclass(frozen=True, slots=True)
class CostFigures:
    """What one kind of payload cost to decode at two sizes."""

    small_bytes: int
    large_bytes: int
    small_seconds: float
    large_seconds: float
    peak_bytes: int
    """tracemalloc peak of decoding the larger payload."""

    @property
    def ratio(self) -> float:
        """CPU time of the larger payload over that of the smaller."""
        return self.large_seconds / self.small_seconds if self.small_seconds else 0.0

    @property
    def peak_multiple(self) -> float:
        return self.peak_bytes / self.large_bytes if self.large_bytes else 0.0

    def __str__(self) -> str:
        return (
            f"{self.small_bytes:,} B in {self.small_seconds * 1000:.1f} ms, "
            f"{self.large_bytes:,} B in {self.large_seconds * 1000:.1f} ms (ratio "
            f"{self.ratio:.1f}); peak {self.peak_bytes:,} B ({self.peak_multiple:.1f}x)"
        )


def decode_seconds(adapter: Adapter, payload: bytes, repeats: int = _REPEATS) -> float:
    """The least process CPU time of ``repeats`` decodes of ``payload``.

    The garbage collector is paused while timing: a collection that happens to fall into one
    decode and not the other would be noise, and the decodes' results are dropped between runs.
    """
    best = float("inf")
    gc.collect()
    enabled = gc.isenabled()
    gc.disable()
    try:
        for _ in range(repeats):
            started = time.process_time()
            adapter.decode(payload)
            best = min(best, time.process_time() - started)
    finally:
        if enabled:
            gc.enable()
    return best


def decode_peak_bytes(adapter: Adapter, payload: bytes) -> tuple[int, DecodeResult]:
    """The tracemalloc peak of one decode of ``payload`` (the payload itself excluded)."""
    gc.collect()
    already = tracemalloc.is_tracing()
    if not already:
        tracemalloc.start()
    tracemalloc.reset_peak()
    base = tracemalloc.get_traced_memory()[0]
    try:
        result = adapter.decode(payload)
        peak = tracemalloc.get_traced_memory()[1] - base
    finally:
        if not already:
            tracemalloc.stop()
    return peak, result


def cost_problems(adapter: Adapter, small: bytes, large: bytes) -> tuple[list[str], CostFigures]:
    """What is wrong with the cost of decoding ``large`` (about four times ``small``).

    The time ratio is measured again (up to three times) before it counts as a problem, so that
    a burst of load on the machine is not taken for a quadratic decoder.
    """
    adapter.decode(small)  # warm up: imports, compiled patterns, caches
    scale = max(1, round(len(large) / max(len(small), 1)))
    options = adapter.options
    scaled = adapter.configured(
        max_errors=options.max_errors * scale, max_per_code=options.max_per_code * scale
    )
    figures = CostFigures(len(small), len(large), 0.0, 0.0, 0)
    for _ in range(_ATTEMPTS):
        small_seconds = decode_seconds(adapter, small)
        large_seconds = decode_seconds(scaled, large)
        figures = CostFigures(len(small), len(large), small_seconds, large_seconds, 0)
        if large_seconds < MEASURABLE_SECONDS or figures.ratio <= LINEAR_COST_RATIO:
            break
    peak, _ = decode_peak_bytes(adapter, large)
    figures = CostFigures(
        figures.small_bytes,
        figures.large_bytes,
        figures.small_seconds,
        figures.large_seconds,
        peak,
    )
    problems = []
    if figures.large_seconds >= MEASURABLE_SECONDS and figures.ratio > LINEAR_COST_RATIO:
        growth = len(large) / max(len(small), 1)
        problems.append(
            f"decoding grows faster than the payload: {growth:.1f}x the bytes took "
            f"{figures.ratio:.1f}x the CPU time (at most {LINEAR_COST_RATIO:.0f}x; linear is "
            f"{growth:.0f}x): {figures}"
        )
    if peak > MEMORY_BOUND * len(large) + MEMORY_SLACK_BYTES:
        problems.append(
            f"decoding {len(large):,} bytes allocated {peak:,} bytes at its peak, "
            f"{figures.peak_multiple:.1f}x the payload (at most {MEMORY_BOUND}x)"
        )
    return problems, figures
