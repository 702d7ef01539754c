"""``adapter_test_class``: the one line an integrator writes to test an adapter."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from hypothesis import strategies as st

from adapters.base import Adapter
from adapters.testing.hostile import PayloadBuilder, hostile_builders
from adapters.testing.samples import find_golden_samples
from adapters.testing.suite import ConformanceTests, RecordsRoundTripTests, SampleRoundTripTests
from liaison.v1 import record_pb2

__all__ = [
    "DEFAULT_COST_PAYLOAD_BYTES",
    "DEFAULT_HUGE_PAYLOAD_BYTES",
    "DEFAULT_MAX_EXAMPLES",
    "adapter_test_class",
]

DEFAULT_MAX_EXAMPLES = 25
"""Hypothesis examples per property (random bytes get twice as many): enough to find the common
crashes on every run while keeping the suite to seconds; the hypothesis database replays any
failure found before."""

DEFAULT_HUGE_PAYLOAD_BYTES = 5 * 1024 * 1024

DEFAULT_COST_PAYLOAD_BYTES = 256 * 1024
"""The smaller payload of the cost test (the larger is four times it): large enough for a
quadratic term to show, small enough to decode a few times per kind in seconds."""


def adapter_test_class(
    adapter_class: type[Adapter],
    samples: Path,
    *,
    records: st.SearchStrategy[Sequence[record_pb2.Record]] | None = None,
    throughput_payload: Callable[[], bytes] | None = None,
    make_adapter: Callable[[], Adapter] | None = None,
    max_examples: int = DEFAULT_MAX_EXAMPLES,
    huge_payload_bytes: int = DEFAULT_HUGE_PAYLOAD_BYTES,
    hostile_payloads: Mapping[str, PayloadBuilder] | None = None,
    cost_payload_bytes: int = DEFAULT_COST_PAYLOAD_BYTES,
) -> type[ConformanceTests]:
    """A pytest test class running the standard conformance tests against ``adapter_class``.

    Assign it to a ``Test*`` name in a test module::

        TestMyAdapter = adapter_test_class(MyAdapter, samples=Path(__file__).parent / "samples")

    Args:
        adapter_class: The adapter under test; it must construct without arguments.
        samples: The golden samples directory (``NAME.<ext>``, ``NAME.expected.json``,
            ``SOURCES.md``).
        records: Hypothesis strategy of record lists, in the form the adapter decodes to, for a
            records -> encode -> decode round trip. Only for adapters that can encode.
        throughput_payload: Builds a representative valid payload for the reported throughput;
            by default the golden samples are timed.
        make_adapter: Builds the instance under test when ``adapter_class()`` will not do, for
            example to pin a reference date the adapter would otherwise take from the clock.
            Identity and registration are checked on ``adapter_class`` all the same.
        max_examples: Hypothesis examples per property-based test.
        huge_payload_bytes: Size of the hostile payloads that must decode without an exception
            and within the diagnostic limits (see ``adapters.testing.hostile``).
        hostile_payloads: The format's own hostile kinds, by name: each builds a payload of
            about the size it is given (a valid passenger list of any size, a transaction of
            many records). They are tested like the generic kinds.
        cost_payload_bytes: Size of the smaller payload of the cost test, which decodes each
            hostile kind at this size and four times it (see ``adapters.testing.cost``).

    Raises:
        TypeError: ``adapter_class`` is not an ``Adapter`` subclass, or ``make_adapter`` builds
            something else.
        ValueError: ``samples`` is not a directory, or ``records`` is given for an adapter that
            cannot encode, or a count is not positive.
    """
    if not (isinstance(adapter_class, type) and issubclass(adapter_class, Adapter)):
        raise TypeError(f"{adapter_class!r} is not a subclass of adapters.Adapter")
    directory = Path(samples)
    if not directory.is_dir():
        raise ValueError(f"golden samples directory {directory} does not exist")
    if make_adapter is not None and not isinstance(make_adapter(), adapter_class):
        raise TypeError(f"make_adapter must build a {adapter_class.__name__}")
    if min(max_examples, huge_payload_bytes, cost_payload_bytes) < 1:
        raise ValueError("max_examples, huge_payload_bytes and cost_payload_bytes must be positive")
    base: type[ConformanceTests] = ConformanceTests
    if adapter_class.can_encode():
        base = SampleRoundTripTests if records is None else RecordsRoundTripTests
    elif records is not None:
        raise ValueError(f"{adapter_class.__name__} cannot encode: a records strategy needs encode")
    samples_found = find_golden_samples(directory)
    builders = hostile_builders(
        (sample.read() for sample in samples_found),
        (sample.read() for sample in samples_found if sample.expects_errors()),
        hostile_payloads,
    )
    namespace: dict[str, object] = {
        "__test__": True,
        "__doc__": f"Conformance of {adapter_class.__module__}.{adapter_class.__qualname__}.",
        "adapter_class": adapter_class,
        "samples_dir": directory,
        "golden_samples": samples_found,
        "max_examples": max_examples,
        "huge_payload_bytes": huge_payload_bytes,
        "hostile_payloads": builders,
        "cost_payload_bytes": cost_payload_bytes,
        "throughput_payloads": (throughput_payload,) if throughput_payload else (),
        "adapter_factories": (make_adapter,) if make_adapter else (),
    }
    if records is not None:
        namespace["records_strategy"] = records
    return type(f"Test{adapter_class.__name__}Conformance", (base,), namespace)
