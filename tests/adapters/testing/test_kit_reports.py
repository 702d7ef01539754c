"""The kit run as an integrator runs it (a pytest session of its own, via ``pytester``), against
deliberately broken variants of the toy adapter: each defect fails the test meant to catch it,
with a message that says what is wrong and where."""

from __future__ import annotations

import shutil
import textwrap
from pathlib import Path

import pytest

pytest_plugins = ["pytester"]

SAMPLES = Path(__file__).parent / "samples"

_HEADER = """
from pathlib import Path
from collections.abc import Sequence

from adapters.base import DecodeResult, EncodeResult
from adapters.testing import adapter_test_class
from tests.adapters.testing.toy import ToyAdapter

SAMPLES = Path(__file__).parent / "samples"
"""


# As strict as the project's own configuration. The kit's modules are imported by the outer
# session already, so the inner one cannot rewrite their asserts (the kit does not rely on that).
_INI = """
[pytest]
filterwarnings =
    error
    ignore::pytest.PytestAssertRewriteWarning
asyncio_default_fixture_loop_scope = function
"""


def _run(
    pytester: pytest.Pytester, adapter: str, body: str = "", *args: str, options: str = ""
) -> pytest.RunResult:
    """Run the kit's one line for ``adapter`` (defined in ``body``) on a copy of the samples."""
    shutil.copytree(SAMPLES, pytester.path / "samples")
    pytester.makeini(_INI)
    one_line = (
        f"TestIt = adapter_test_class({adapter}, samples=SAMPLES, max_examples=10, "
        f"huge_payload_bytes=50_000{options})\n"
    )
    pytester.makepyfile(test_broken=_HEADER + textwrap.dedent(body) + "\n" + one_line)
    return pytester.runpytest_inprocess("-p", "no:cacheprovider", "-q", "-rf", *args)


def _failed(result: pytest.RunResult) -> set[str]:
    """The names of the failed tests, from the short summary (``-rf``)."""
    prefix = "FAILED test_broken.py::TestIt::"
    return {
        line[len(prefix) :].split(" - ")[0]
        for line in result.stdout.lines
        if line.startswith(prefix)
    }


def test_conforming_adapter_passes(pytester: pytest.Pytester) -> None:
    result = _run(pytester, "ToyAdapter")
    result.assert_outcomes(passed=23, skipped=1)
    result.stdout.fnmatch_lines(["*liaison adapter throughput*", "toy-seizures *records/s*"])


def test_golden_mismatch_shows_a_diff(pytester: pytest.Pytester) -> None:
    body = """
    class Renamed(ToyAdapter):
        version = "1.0.1"
    """
    result = _run(pytester, "Renamed", body)
    result.stdout.fnmatch_lines(
        [
            "three-seizures.toy does not decode to three-seizures.expected.json "
            "(- expected, + actual); *pytest --liaison-update-golden rewrites it*",
            "--- three-seizures.expected.json",
            "+++ decode(three-seizures.toy)",
            '-*"adapterVersion": "1.0.0",',
            '+*"adapterVersion": "1.0.1",',
        ]
    )
    samples = ("bad-year.toy", "not-utf8.toy", "three-seizures.toy")
    assert _failed(result) == {f"test_golden[{name}]" for name in samples}


def test_update_golden_rewrites_expected_files(pytester: pytest.Pytester) -> None:
    body = """
    class Renamed(ToyAdapter):
        version = "1.0.1"
    """
    result = _run(pytester, "Renamed", body, "--liaison-update-golden")
    result.assert_outcomes(passed=23, skipped=1)
    result.stdout.fnmatch_lines(["*golden files rewritten*", "*three-seizures.expected.json"])
    rewritten = (pytester.path / "samples" / "three-seizures.expected.json").read_text()
    assert '"adapterVersion": "1.0.1"' in rewritten
    assert "1.0.1" not in (SAMPLES / "three-seizures.expected.json").read_text()
    again = pytester.runpytest_inprocess("-p", "no:cacheprovider", "-q")
    again.assert_outcomes(passed=23, skipped=1)


def test_an_exception_escaping_decode_fails_the_robustness_tests(pytester: pytest.Pytester) -> None:
    body = """
    KNOWN = {path.read_bytes() for path in SAMPLES.glob("*.toy")}

    class Fragile(ToyAdapter):
        def decode(self, payload: bytes, *, source_reference: str = "") -> DecodeResult:
            if payload not in KNOWN:
                raise ValueError("unexpected input")
            return super().decode(payload, source_reference=source_reference)
    """
    result = _run(pytester, "Fragile", body)
    samples = ("bad-year.toy", "not-utf8.toy", "three-seizures.toy")
    assert _failed(result) == {
        *(f"test_mutated_sample_never_raises[{name}]" for name in samples),
        "test_random_bytes_never_raise",
        "test_huge_payload[repeated-sample]",
        "test_huge_payload[one-byte-run]",
    }
    # hypothesis names the mutations that broke the decoder, readably.
    result.stdout.fnmatch_lines(["*mutations=[*(*"])
    result.stdout.fnmatch_lines(["*ValueError: unexpected input"])


def test_state_kept_between_decodes_fails_determinism(pytester: pytest.Pytester) -> None:
    body = """
    from adapters.diagnostics import Diagnostic, Severity

    class Forgetful(ToyAdapter):
        calls = 0

        def decode(self, payload: bytes, *, source_reference: str = "") -> DecodeResult:
            self.calls += 1
            result = super().decode(payload, source_reference=source_reference)
            note = Diagnostic(Severity.INFO, "TOY_CALLS", f"call {self.calls}")
            return DecodeResult(result.records, (*result.diagnostics, note))
    """
    result = _run(pytester, "Forgetful", body)
    samples = ("bad-year.toy", "not-utf8.toy", "three-seizures.toy")
    assert {f"test_deterministic[{name}]" for name in samples} <= _failed(result)
    result.stdout.fnmatch_lines(
        ["*differs between decodes*no clock, randomness or instance state*"]
    )


def test_state_shared_between_threads_fails_thread_safety(pytester: pytest.Pytester) -> None:
    body = """
    import time

    class Racy(ToyAdapter):
        def decode(self, payload: bytes, *, source_reference: str = "") -> DecodeResult:
            self.current = payload
            time.sleep(0.001)
            return super().decode(self.current, source_reference=source_reference)
    """
    result = _run(pytester, "Racy", body)
    assert _failed(result) == {"test_thread_safe"}
    result.stdout.fnmatch_lines(["*decoding from several threads at once changed the results*"])


def test_an_encoder_that_loses_data_fails_the_round_trips(pytester: pytest.Pytester) -> None:
    body = """
    from adapters.base import EncodeResult

    class Lossy(ToyAdapter):
        def encode(self, records: Sequence[record_pb2.Record]) -> EncodeResult:
            trimmed = []
            for record in records:
                copy = record_pb2.Record()
                copy.CopyFrom(record)
                copy.seizure.commodity_description = copy.seizure.commodity_description[:4]
                trimmed.append(copy)
            return super().encode(trimmed)
    """
    result = _run(
        pytester,
        "Lossy",
        "from liaison.v1 import record_pb2\n"
        "from tests.adapters.testing.toy import toy_records\n" + textwrap.dedent(body),
        options=", records=toy_records()",
    )
    assert {"test_round_trip[three-seizures.toy]", "test_records_round_trip"} <= _failed(result)
    result.stdout.fnmatch_lines(
        [
            "*the round trip changed the records of three-seizures.toy:",
            "--- decode(three-seizures.toy)",
            "+++ decode(encode(decode(three-seizures.toy)))",
            '-*"commodityDescription": "Ivory carvings",',
            '+*"commodityDescription": "Ivor",',
        ]
    )
