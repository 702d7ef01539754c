"""The standard tests, as pytest test classes that ``adapter_test_class`` configures.

Three classes, each adding to the one before: ``ConformanceTests`` for every adapter,
``SampleRoundTripTests`` for adapters that can encode, ``RecordsRoundTripTests`` when a hypothesis
strategy of records is given as well. None is collected itself (``__test__ = False``); the class
``adapter_test_class`` returns is.

Failures say what is wrong and where (sample, record index, diagnostic code) and, for golden and
round-trip comparisons, show a diff of the JSON. Property-based tests run a bounded number of
hypothesis examples without deadline, so the suite stays fast and never fails on timing.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import ClassVar, NoReturn

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from adapters import jsonform
from adapters.base import Adapter, DecodeResult, EncodeResult
from adapters.collector import DIAGNOSTICS_OMITTED, TOO_MANY_ERRORS
from adapters.diagnostics import Diagnostic, Severity
from adapters.testing.compare import records_difference
from adapters.testing.cost import cost_problems
from adapters.testing.golden import golden_mismatch, write_golden
from adapters.testing.hostile import PayloadBuilder
from adapters.testing.identity import identity_problems, registration_problems
from adapters.testing.invariants import (
    limit_problems,
    provenance_problems,
    result_problems,
    structure_problems,
    text_problems,
)
from adapters.testing.mutations import FORBIDDEN_TEXT, Mutation, apply_all, mutation_lists
from adapters.testing.plugin import kit_report, update_golden_requested
from adapters.testing.samples import GoldenSample, samples_directory_problems
from adapters.testing.throughput import measure_throughput
from liaison.rules.validation import validate_record
from liaison.v1 import record_pb2

__all__ = ["ConformanceTests", "RecordsRoundTripTests", "SampleRoundTripTests"]

_COST_SCALE = 4
"""The larger payload of the cost test is this many times the smaller."""
_THREADS = 4
_THREAD_ROUNDS = 3


def _fail(headline: str, problems: Sequence[str]) -> NoReturn:
    pytest.fail("\n  ".join([headline, *problems]), pytrace=False)


def _errors(result: DecodeResult | EncodeResult) -> list[str]:
    return [str(d) for d in result.diagnostics if d.severity is Severity.ERROR]


def _hypothesis_settings(max_examples: int) -> settings:
    # No deadline: a shared CI machine must not turn a slow example into a failure. Examples
    # built from samples can be large, which is the point, not a health problem.
    return settings(
        max_examples=max_examples,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )


class ConformanceTests:
    """The tests every adapter must pass."""

    __test__ = False
    adapter_class: ClassVar[type[Adapter]]
    samples_dir: ClassVar[Path]
    golden_samples: ClassVar[tuple[GoldenSample, ...]]
    max_examples: ClassVar[int]
    huge_payload_bytes: ClassVar[int]
    adapter_factories: ClassVar[tuple[Callable[[], Adapter], ...]]
    """How to build the instance under test, if not ``adapter_class()`` (in a tuple: a function
    stored on the class would be bound as a method)."""
    throughput_payloads: ClassVar[tuple[Callable[[], bytes], ...]]
    """The integrator's payload builder, if any (in a tuple: a function here would be bound)."""
    hostile_payloads: ClassVar[dict[str, PayloadBuilder]]
    """The hostile kinds (``adapters.testing.hostile``), generic and the integrator's, by name."""
    cost_payload_bytes: ClassVar[int]
    """Size of the smaller payload of the cost test."""

    def pytest_generate_tests(self, metafunc: pytest.Metafunc) -> None:
        """Parametrize the per-sample tests with this class's golden samples."""
        cls = metafunc.cls
        assert cls is not None
        assert issubclass(cls, ConformanceTests)
        if "golden_sample" in metafunc.fixturenames:
            samples = cls.golden_samples
            metafunc.parametrize("golden_sample", samples, ids=[s.reference for s in samples])
        if "clean_sample" in metafunc.fixturenames:
            # Samples whose expected decode has no error: the ones that must survive a round trip.
            clean = [s for s in cls.golden_samples if s.expects_errors() is False]
            metafunc.parametrize("clean_sample", clean, ids=[s.reference for s in clean])
        if "hostile_kind" in metafunc.fixturenames:
            metafunc.parametrize("hostile_kind", sorted(cls.hostile_payloads))

    def new_adapter(self) -> Adapter:
        """A fresh instance of the adapter under test."""
        if self.adapter_factories:
            return self.adapter_factories[0]()
        return self.adapter_class()

    @pytest.fixture
    def adapter(self) -> Adapter:
        """A fresh instance of the adapter under test."""
        return self.new_adapter()

    def _decode(self, adapter: Adapter, sample: GoldenSample) -> tuple[bytes, DecodeResult]:
        payload = sample.read()
        return payload, adapter.decode(payload, source_reference=sample.reference)

    # Identity and registration

    def test_identity(self) -> None:
        """Name, version, source format, media types and extensions are well formed."""
        problems = identity_problems(self.adapter_class)
        if problems:
            _fail("the adapter's class attributes are not well formed:", problems)

    def test_registered_by_entry_point(self) -> None:
        """Installed through ``liaison.adapters``, the registry returns it under its name."""
        problems = registration_problems(self.adapter_class)
        if problems is None:
            pytest.skip(
                f"no entry point of liaison.adapters names {self.adapter_class.name!r}: "
                "the adapter is not installed"
            )
        if problems:
            _fail("the entry-point registry does not find the adapter:", problems)

    # Golden samples

    def test_samples_directory(self) -> None:
        """There are samples, SOURCES.md names each, and no expected file lacks its input."""
        problems = samples_directory_problems(self.samples_dir)
        if problems:
            _fail("the golden samples directory is incomplete:", problems)

    def test_golden(
        self, adapter: Adapter, golden_sample: GoldenSample, request: pytest.FixtureRequest
    ) -> None:
        """The sample decodes to its NAME.expected.json (or rewrites it, when asked to)."""
        _, result = self._decode(adapter, golden_sample)
        problems = structure_problems(result)
        if problems:
            _fail(f"decode({golden_sample.reference}) is malformed:", problems)
        if update_golden_requested(request.config):
            if write_golden(golden_sample, result):
                kit_report(request.config).rewritten_golden_files.append(
                    golden_sample.expected_path
                )
            return
        mismatch = golden_mismatch(golden_sample, result)
        if mismatch is not None:
            pytest.fail(mismatch, pytrace=False)

    def test_provenance(self, adapter: Adapter, golden_sample: GoldenSample) -> None:
        """Every record names the adapter, its version, the format and the payload's SHA-256."""
        payload, result = self._decode(adapter, golden_sample)
        problems = provenance_problems(self.adapter_class, payload, result.records)
        if problems:
            _fail(f"decode({golden_sample.reference}): provenance not filled:", problems)

    def test_clean_records_validate(self, adapter: Adapter, golden_sample: GoldenSample) -> None:
        """Records no error concerns pass the contract's validation: Ingest would store them."""
        _, result = self._decode(adapter, golden_sample)
        tainted = result.tainted_ids
        problems = [
            f"records[{index}] ({record.record_id}): {violation.field}: {violation.description}"
            for index, record in enumerate(result.records)
            if record.record_id not in tainted
            for violation in validate_record(record)
        ]
        if problems:
            _fail(
                f"decode({golden_sample.reference}): records without error diagnostics "
                "fail the contract's validation:",
                problems,
            )

    def test_deterministic(self, adapter: Adapter, golden_sample: GoldenSample) -> None:
        """Decoding twice, with the same or another instance, gives the same result."""
        _, first = self._decode(adapter, golden_sample)
        _, again = self._decode(adapter, golden_sample)
        _, fresh = self._decode(self.new_adapter(), golden_sample)
        texts = {jsonform.dumps(first), jsonform.dumps(again), jsonform.dumps(fresh)}
        if len(texts) != 1:
            pytest.fail(
                f"decode({golden_sample.reference}) differs between decodes: output must depend "
                "on the payload only (no clock, randomness or instance state)",
                pytrace=False,
            )

    def test_thread_safe(self) -> None:
        """One instance decoding the samples from several threads at once gives the same results."""
        adapter = self.new_adapter()
        samples = [(s.reference, s.read()) for s in self.golden_samples]
        expected = [jsonform.dumps(adapter.decode(p, source_reference=r)) for r, p in samples]

        def decode_all(offset: int) -> list[str]:
            order = [(offset + step) % len(samples) for step in range(len(samples))]
            differing = []
            for _ in range(_THREAD_ROUNDS):
                for index in order:
                    reference, payload = samples[index]
                    text = jsonform.dumps(adapter.decode(payload, source_reference=reference))
                    if text != expected[index]:
                        differing.append(reference)
            return differing

        # Switch threads far more often than the default 5 ms so that interleavings happen.
        interval = sys.getswitchinterval()
        sys.setswitchinterval(1e-5)
        try:
            with ThreadPoolExecutor(max_workers=_THREADS) as pool:
                found = pool.map(decode_all, range(_THREADS))
                differing = sorted({reference for each in found for reference in each})
        finally:
            sys.setswitchinterval(interval)
        if differing:
            _fail(
                "decoding from several threads at once changed the results of (the adapter "
                "must keep no state between or during decodes):",
                differing,
            )

    # Robustness: nothing escapes decode

    def test_mutated_sample_never_raises(
        self, adapter: Adapter, golden_sample: GoldenSample
    ) -> None:
        """Truncated, bit-flipped, spliced or mis-encoded variants decode to diagnostics."""
        original = golden_sample.read()
        adapter_class = self.adapter_class

        @_hypothesis_settings(self.max_examples)
        @given(mutations=mutation_lists())
        def check(mutations: list[Mutation]) -> None:
            payload = apply_all(mutations, original)
            result = adapter.decode(payload, source_reference=golden_sample.reference)
            problems = result_problems(adapter_class, payload, result)
            problems += limit_problems(result, adapter.options)
            if problems:
                raise AssertionError("\n  ".join(["the decode result is malformed:", *problems]))

        check()

    def test_forbidden_characters_never_reach_a_clean_record(
        self, adapter: Adapter, golden_sample: GoldenSample
    ) -> None:
        """A control character or bidi override put anywhere in a sample is reported (as
        ``FORBIDDEN_CHARACTER``, where it is read), never emitted in a record that no error
        names: Ingest would store it, and the gateway refuses such text."""
        original = golden_sample.read()

        @_hypothesis_settings(self.max_examples)
        @given(
            offset=st.integers(min_value=0, max_value=len(original)),
            character=st.sampled_from(FORBIDDEN_TEXT),
        )
        def check(offset: int, character: bytes) -> None:
            payload = original[:offset] + character + original[offset:]
            result = adapter.decode(payload, source_reference=golden_sample.reference)
            tainted = result.tainted_ids
            problems = text_problems([r for r in result.records if r.record_id not in tainted])
            if problems:
                raise AssertionError(
                    "\n  ".join(["clean records hold text the gateway refuses:", *problems])
                )

        check()

    def test_random_bytes_never_raise(self, adapter: Adapter) -> None:
        """Arbitrary bytes decode to a result (diagnostics, usually), never to an exception."""
        adapter_class = self.adapter_class

        @_hypothesis_settings(2 * self.max_examples)
        @given(payload=st.binary(max_size=4096))
        def check(payload: bytes) -> None:
            result = adapter.decode(payload)
            problems = result_problems(adapter_class, payload, result)
            problems += limit_problems(result, adapter.options)
            if problems:
                raise AssertionError("\n  ".join(["the decode result is malformed:", *problems]))

        check()

    def test_huge_payload(self, adapter: Adapter, hostile_kind: str) -> None:
        """Megabytes of hostile input decode to a result within the diagnostic limits."""
        payload = self.hostile_payloads[hostile_kind](self.huge_payload_bytes)
        result = adapter.decode(payload)
        problems = result_problems(self.adapter_class, payload, result)
        problems += limit_problems(result, adapter.options)
        if problems:
            _fail(f"decode of a {len(payload):,}-byte {hostile_kind} payload:", problems[:20])

    def test_cost_is_linear(
        self,
        adapter: Adapter,
        hostile_kind: str,
        request: pytest.FixtureRequest,
        record_property: Callable[[str, object], None],
    ) -> None:
        """A payload four times larger costs about four times the CPU; memory stays within 20x.

        Ratios and multiples, never seconds: see ``adapters.testing.cost``.
        """
        build = self.hostile_payloads[hostile_kind]
        small = build(self.cost_payload_bytes)
        large = build(_COST_SCALE * self.cost_payload_bytes)
        problems, figures = cost_problems(adapter, small, large)
        kit_report(request.config).costs.append(f"{adapter.name:<20} {hostile_kind:<24} {figures}")
        record_property("cost_ratio", round(figures.ratio, 2))
        record_property("peak_multiple", round(figures.peak_multiple, 2))
        if problems:
            _fail(f"the cost of {hostile_kind} payloads:", problems)

    def test_error_limit_on_samples(self) -> None:
        """With a limit of one error, a sample with more stops at its second, as TOO_MANY_ERRORS.

        And with one warning (or info) listed per code, the rest of a code are counted in one
        DIAGNOSTICS_OMITTED summary. The limits are the builder's: see ``adapters.collector``.
        """
        adapter = self.new_adapter()
        limited = adapter.configured(max_errors=1, max_per_code=1)
        problems: list[str] = []
        for sample in self.golden_samples:
            payload = sample.read()
            full = adapter.decode(payload, source_reference=sample.reference)
            result = limited.decode(payload, source_reference=sample.reference)
            problems += [
                f"{sample.reference}: {problem}"
                for problem in _limited_problems(full, result)
                + limit_problems(result, limited.options)
            ]
        if problems:
            _fail("decoding with limits of one error and one diagnostic per code:", problems)

    # Throughput, reported

    def test_throughput(
        self,
        adapter: Adapter,
        request: pytest.FixtureRequest,
        record_property: Callable[[str, object], None],
    ) -> None:
        """Decode (and encode) speed is measured and reported; it is never asserted."""
        if self.throughput_payloads:
            label, payloads = "throughput payload", [build() for build in self.throughput_payloads]
        else:
            label, payloads = "golden samples", [s.read() for s in self.golden_samples]
        figure, results = measure_throughput(adapter, payloads, label=label)
        problems = [p for result in results for p in structure_problems(result)]
        if problems:
            _fail("a throughput decode is malformed:", problems)
        if self.throughput_payloads:
            errors = [e for result in results for e in _errors(result)]
            if errors or not figure.records:
                _fail(
                    "the throughput payload must be valid input that decodes to records "
                    f"({figure.records} records, {len(errors)} errors):",
                    errors[:10],
                )
        kit_report(request.config).throughput.append(figure)
        record_property("decode_records_per_s", round(figure.decode_records_per_s))
        record_property("decode_mb_per_s", round(figure.decode_mb_per_s, 3))
        if figure.encode_records_per_s is not None:
            record_property("encode_records_per_s", round(figure.encode_records_per_s))


def _limited_problems(full: DecodeResult, limited: DecodeResult) -> list[str]:
    """How a decode with limits of one error and one note per code differs from what it must be,
    given the full decode of the same payload."""
    errors = [d for d in full.diagnostics if d.severity is Severity.ERROR]
    got = [d for d in limited.diagnostics if d.severity is Severity.ERROR]
    if len(errors) >= 2:
        if [(d.code, d.location) for d in got] != [
            (errors[0].code, errors[0].location),
            (TOO_MANY_ERRORS, errors[1].location),
        ]:
            return [
                f"errors are {[d.code for d in got]}: the first error, then {TOO_MANY_ERRORS} "
                "located at the second error, were expected"
            ]
        return []
    if [_key(d) for d in got] != [_key(d) for d in errors]:
        return ["a decode with fewer errors than the limit lists other errors than without it"]
    problems = []
    notes: dict[str, int] = {}
    for d in full.diagnostics:
        if d.severity is not Severity.ERROR:
            notes[d.code] = notes.get(d.code, 0) + 1
    omitted = [d for d in limited.diagnostics if d.code == DIAGNOSTICS_OMITTED]
    for code, count in notes.items():
        if count < 2:
            continue
        if not any(f"{count - 1:,} more" in d.message and code in d.message for d in omitted):
            problems.append(
                f"{count} diagnostics with code {code}: one listed and a {DIAGNOSTICS_OMITTED} "
                f"counting {count - 1} more were expected"
            )
    return problems


def _key(diagnostic: Diagnostic) -> tuple[str, object]:
    return diagnostic.code, diagnostic.location


class SampleRoundTripTests(ConformanceTests):
    """For adapters that can encode: what they decode, they write back without loss."""

    __test__ = False

    def test_round_trip(self, adapter: Adapter, clean_sample: GoldenSample) -> None:
        """decode -> encode -> decode gives the same records (payload hash and reference aside)."""
        reference = clean_sample.reference
        _, first = self._decode(adapter, clean_sample)
        if first.has_errors:
            _fail(f"decode({reference}) has errors; its expected file has none:", _errors(first))
        encoded = adapter.encode(first.records)
        if encoded.has_errors:
            _fail(f"encode(decode({reference})) reported errors:", _errors(encoded))
        second = adapter.decode(encoded.payload, source_reference=reference)
        problems = result_problems(self.adapter_class, encoded.payload, second) + _errors(second)
        if problems:
            _fail(f"decode(encode(decode({reference}))) has problems:", problems)
        difference = records_difference(
            first.records,
            second.records,
            before_name=f"decode({reference})",
            after_name=f"decode(encode(decode({reference})))",
        )
        if difference is not None:
            pytest.fail(
                f"the round trip changed the records of {reference}:\n{difference}", pytrace=False
            )


class RecordsRoundTripTests(SampleRoundTripTests):
    """With a hypothesis strategy of records: records -> encode -> decode gives them back."""

    __test__ = False
    records_strategy: ClassVar[st.SearchStrategy[Sequence[record_pb2.Record]]]

    def test_records_round_trip(self, adapter: Adapter) -> None:
        """Generated records survive encode -> decode (provenance aside: they carry none)."""
        adapter_class = self.adapter_class

        @_hypothesis_settings(self.max_examples)
        @given(records=self.records_strategy)
        def check(records: Sequence[record_pb2.Record]) -> None:
            encoded = adapter.encode(records)
            if encoded.has_errors:
                raise AssertionError("\n  ".join(["encode reported errors:", *_errors(encoded)]))
            decoded = adapter.decode(encoded.payload)
            problems = result_problems(adapter_class, encoded.payload, decoded) + _errors(decoded)
            if problems:
                raise AssertionError("\n  ".join(["decode(encode(records)):", *problems]))
            difference = records_difference(
                records,
                decoded.records,
                ignore_provenance=True,
                before_name="records",
                after_name="decode(encode(records))",
            )
            if difference is not None:
                raise AssertionError(f"the round trip changed the records:\n{difference}")

        check()
