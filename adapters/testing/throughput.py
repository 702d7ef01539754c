"""Throughput of an adapter, measured briefly and reported, never asserted.

Timings on a shared CI machine vary too much to fail a build on; the kit prints them (and records
them as test properties, which land in JUnit XML) so that a slow adapter is visible, and leaves
the real measurement to ``python -m bench --only adapters``.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence

from adapters.base import Adapter, DecodeResult
from adapters.testing.plugin import Throughput
from liaison.v1 import record_pb2

__all__ = ["measure_throughput"]


def _repeat_for(budget_s: float, action: Callable[[], object]) -> tuple[int, float]:
    """Call ``action`` at least once and until ``budget_s`` has passed: (calls, seconds)."""
    calls = 0
    started = time.perf_counter()
    while True:
        action()
        calls += 1
        elapsed = time.perf_counter() - started
        if elapsed >= budget_s:
            return calls, elapsed


def measure_throughput(
    adapter: Adapter,
    payloads: Sequence[bytes],
    *,
    label: str,
    budget_s: float = 0.25,
) -> tuple[Throughput, list[DecodeResult]]:
    """Decode ``payloads`` (and encode their clean records) repeatedly for about ``budget_s``.

    Returns the figures and the results of one decode of each payload, for the caller to check.
    """
    results = [adapter.decode(payload) for payload in payloads]
    records = sum(len(result.records) for result in results)
    size = sum(len(payload) for payload in payloads)

    def decode_all() -> None:
        for payload in payloads:
            adapter.decode(payload)

    calls, elapsed = _repeat_for(budget_s, decode_all)
    encode_rate = None
    clean: list[Sequence[record_pb2.Record]] = [r.clean for r in results if r.clean]
    if adapter.can_encode() and clean:

        def encode_all() -> None:
            for batch in clean:
                adapter.encode(batch)

        encode_calls, encode_elapsed = _repeat_for(budget_s, encode_all)
        encode_rate = encode_calls * sum(len(batch) for batch in clean) / encode_elapsed
    figure = Throughput(
        adapter=adapter.name,
        payload=label,
        payload_bytes=size,
        records=records,
        decode_records_per_s=calls * records / elapsed,
        decode_mb_per_s=calls * size / elapsed / 1e6,
        encode_records_per_s=encode_rate,
    )
    return figure, results
