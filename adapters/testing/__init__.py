"""The adapter conformance kit: ``adapter_test_class`` gives any adapter a standard pytest suite.

An integrator writes one line in a test module::

    from adapters.testing import adapter_test_class

    TestMyAdapter = adapter_test_class(MyAdapter, samples=Path(__file__).parent / "samples")

and gets the tests every Liaison adapter passes: identity and registration, golden samples
(``pytest --liaison-update-golden`` rewrites them, for review with ``git diff``), provenance,
gateway validation of clean records, determinism and thread safety, decode -> encode -> decode
round trips, mutated and random bytes that never raise, hostile payloads held to the diagnostic
limits, decoding cost linear in the payload with memory bounded by its size, and a reported
throughput. See ``docs/writing-an-adapter.md``.

The kit needs pytest and hypothesis. Its pytest plugin (``adapters.testing.plugin``, registered
as ``pytest11`` by the liaison-gateway distribution) adds the command-line option and the summary.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from adapters.testing.cost import LINEAR_COST_RATIO, MEMORY_BOUND
    from adapters.testing.factory import (
        DEFAULT_COST_PAYLOAD_BYTES,
        DEFAULT_HUGE_PAYLOAD_BYTES,
        DEFAULT_MAX_EXAMPLES,
        adapter_test_class,
    )
    from adapters.testing.hostile import PayloadBuilder, hostile_builders
    from adapters.testing.mutations import mutation_lists
    from adapters.testing.samples import GoldenSample, find_golden_samples
    from adapters.testing.suite import ConformanceTests

__all__ = [
    "DEFAULT_COST_PAYLOAD_BYTES",
    "DEFAULT_HUGE_PAYLOAD_BYTES",
    "DEFAULT_MAX_EXAMPLES",
    "LINEAR_COST_RATIO",
    "MEMORY_BOUND",
    "ConformanceTests",
    "GoldenSample",
    "PayloadBuilder",
    "adapter_test_class",
    "find_golden_samples",
    "hostile_builders",
    "mutation_lists",
]

# pytest imports this package at every start (its plugin module lives in it), so the kit itself,
# with hypothesis, is imported only when a test module asks for one of these names.
_HOMES = {
    "DEFAULT_COST_PAYLOAD_BYTES": "adapters.testing.factory",
    "LINEAR_COST_RATIO": "adapters.testing.cost",
    "MEMORY_BOUND": "adapters.testing.cost",
    "PayloadBuilder": "adapters.testing.hostile",
    "hostile_builders": "adapters.testing.hostile",
    "DEFAULT_HUGE_PAYLOAD_BYTES": "adapters.testing.factory",
    "DEFAULT_MAX_EXAMPLES": "adapters.testing.factory",
    "adapter_test_class": "adapters.testing.factory",
    "mutation_lists": "adapters.testing.mutations",
    "GoldenSample": "adapters.testing.samples",
    "find_golden_samples": "adapters.testing.samples",
    "ConformanceTests": "adapters.testing.suite",
}


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'adapters.testing' has no attribute {name!r}")
    return getattr(importlib.import_module(home), name)
