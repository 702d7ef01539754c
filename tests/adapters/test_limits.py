"""The limits every decode is held to, and the options that set them (``adapters.collector``).

Issue 12: a PAXLST payload of 2 MiB of ``'`` gave 2,097,079 diagnostics; paxlst and ansi-nist
had no cap. The cap is the builder's, so that every adapter, built-in or third-party, has it.
"""

from __future__ import annotations

from collections.abc import Iterable

import pytest

from adapters import (
    DEFAULT_MAX_ERRORS,
    DEFAULT_MAX_PER_CODE,
    DIAGNOSTICS_OMITTED,
    TOO_MANY_ERRORS,
    Adapter,
    DecodeOptions,
    DecodeResult,
    EncodeBuilder,
    Location,
    Severity,
    Subject,
    get_adapter,
)
from adapters.options import DEFAULT_OPTIONS
from liaison.v1 import record_pb2


class CountingAdapter(Adapter):
    """One record per line; a line ``E`` is an error about its record, ``W`` a warning."""

    name = "counting"
    version = "1.0.0"
    description = "Test lines"
    source_format = "test lines"

    def __init__(self, *, options: DecodeOptions = DEFAULT_OPTIONS) -> None:
        super().__init__(options=options)
        self.lines_read = 0

    def decode(self, payload: bytes, *, source_reference: str = "") -> DecodeResult:
        out = self.builder(payload, source_reference)
        for number, line in enumerate(payload.split(b"\n"), start=1):
            self.lines_read = number
            record = out.new_record(f"line-{number}")
            where = Location(line=number)
            if line == b"E":
                out.error("TEST_ERROR", "an error", where, records=[record])
            elif line == b"W":
                out.warning("TEST_WARNING", "a warning", where, records=[record])
        return out.result()


def _errors(result: DecodeResult) -> list[str]:
    return [d.code for d in result.diagnostics if d.severity is Severity.ERROR]


def test_the_defaults_are_a_thousand() -> None:
    assert (DEFAULT_MAX_ERRORS, DEFAULT_MAX_PER_CODE) == (1000, 1000)
    assert CountingAdapter().options == DecodeOptions(False, 1000, 1000)


def test_decoding_stops_at_the_error_after_the_limit() -> None:
    adapter = CountingAdapter(options=DecodeOptions(max_errors=3))
    result = adapter.decode(b"\n".join([b"E"] * 10))
    assert _errors(result) == ["TEST_ERROR"] * 3 + [TOO_MANY_ERRORS]
    stop = result.diagnostics[-1]
    assert stop.location == Location(line=4)
    assert "limit of 3 errors" in stop.message
    # It stopped there: the fifth line was never read, and no record of the result is clean.
    assert adapter.lines_read == 4
    assert set(stop.record_ids) == {record.record_id for record in result.records}
    assert result.clean == ()


def test_a_decode_within_the_limit_is_untouched() -> None:
    result = CountingAdapter(options=DecodeOptions(max_errors=3)).decode(b"E\nE\nE\nok")
    assert _errors(result) == ["TEST_ERROR"] * 3
    assert len(result.clean) == 1


def test_warnings_beyond_the_limit_of_their_code_are_counted_once() -> None:
    adapter = CountingAdapter(options=DecodeOptions(max_per_code=2))
    result = adapter.decode(b"\n".join([b"W"] * 7 + [b"E"]))
    codes = [d.code for d in result.diagnostics]
    assert codes == ["TEST_WARNING", "TEST_WARNING", "TEST_ERROR", DIAGNOSTICS_OMITTED]
    summary = result.diagnostics[-1]
    assert summary.severity is Severity.INFO
    assert summary.location == Location(line=3)
    assert "5 more warning diagnostics with code TEST_WARNING" in summary.message
    assert adapter.lines_read == 8  # warnings do not stop decoding


def test_configured_returns_a_copy_with_the_options_changed() -> None:
    adapter = CountingAdapter()
    strict = adapter.configured(strict=True)
    limited = strict.configured(max_errors=5)
    assert adapter.options == DecodeOptions()
    assert strict.options == DecodeOptions(strict=True)
    assert limited.options == DecodeOptions(strict=True, max_errors=5)
    assert type(limited) is CountingAdapter


def test_limits_must_be_positive() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        DecodeOptions(max_errors=0)
    with pytest.raises(ValueError, match="at least 1"):
        DecodeOptions(max_per_code=-1)
    with pytest.raises(ValueError, match="at least 1"):
        CountingAdapter().configured(max_errors=0)


def test_an_adapter_catching_exceptions_does_not_swallow_the_stop() -> None:
    """``DecodeStopped`` is a BaseException: ``except Exception`` in an adapter lets it pass."""

    class Careless(CountingAdapter):
        def decode(self, payload: bytes, *, source_reference: str = "") -> DecodeResult:
            out = self.builder(payload, source_reference)
            for number in range(1, 100):
                try:
                    out.error("TEST_ERROR", "an error", Location(line=number))
                except Exception:  # the point of the test: a broad except in an adapter
                    continue
            return out.result()

    result = Careless(options=DecodeOptions(max_errors=2)).decode(b"")
    assert _errors(result) == ["TEST_ERROR", "TEST_ERROR", TOO_MANY_ERRORS]


class _Later(Subject):
    def __init__(self) -> None:
        self.people: list[record_pb2.Record] = []

    def records(self) -> Iterable[record_pb2.Record]:
        return self.people


def test_records_are_named_when_the_result_is_built() -> None:
    """A diagnostic may name a record before its id is known, or a subject decided later."""

    class Late(CountingAdapter):
        def decode(self, payload: bytes, *, source_reference: str = "") -> DecodeResult:
            out = self.builder(payload, source_reference)
            later = _Later()
            unnamed = record_pb2.Record()
            out.error("TEST_ERROR", "about a record without id yet", records=[unnamed])
            out.warning("TEST_WARNING", "about records decided later", records=[later])
            out.error("TEST_DROPPED", "about a record never emitted", records=[record_pb2.Record()])
            unnamed.record_id = "assembled-1"
            out.add_record(unnamed)
            later.people.append(unnamed)
            later.people.append(record_pb2.Record(record_id="never-emitted"))
            return out.result()

    first, second, dropped = Late().decode(b"").diagnostics
    assert first.record_ids == ("assembled-1",)
    assert second.record_ids == ("assembled-1",)
    assert dropped.record_ids == ()


def test_encode_diagnostics_name_records_at_once_and_have_no_limit() -> None:
    out = EncodeBuilder()
    record = record_pb2.Record(record_id="doc-1")
    for _ in range(DEFAULT_MAX_ERRORS + 5):
        out.error("TEST_ENCODE", "cannot write", records=[record])
    result = out.result(b"")
    assert len(result.diagnostics) == DEFAULT_MAX_ERRORS + 5
    assert result.diagnostics[0].record_ids == ("doc-1",)


def test_issue_12_two_mebibytes_of_terminators() -> None:
    """The payload of issue 12 gives a handful of diagnostics, not two million."""
    result = get_adapter("paxlst").decode(b"'" * (2 * 1024 * 1024))
    assert len(result.diagnostics) <= 5
    assert [d.code for d in result.diagnostics] == ["EDIFACT_EMPTY_SEGMENT"]
    assert result.diagnostics[0].message.startswith("2,097,152 empty segments")


@pytest.mark.parametrize("name", ["paxlst", "ansi-nist", "icao-mrz", "interpol-notice"])
def test_every_built_in_adapter_stops_at_its_limit(name: str) -> None:
    """Junk that is an error per line: each adapter stops after the configured number."""
    junk = {
        "paxlst": b"UNB+UNOA:4+A+B+251127:0800+1'UNH+1+PAXLST:D:05B:UN:IATA'"
        + b"NAD+FL+++DOE?\n'" * 500,
        "ansi-nist": b"1.001:",
        "icao-mrz": b"<\n\n" * 500,
        "interpol-notice": b'{"_embedded":{"notices":[' + b",".join([b"1"] * 500) + b"]}}",
    }[name]
    adapter = get_adapter(name).configured(max_errors=7)
    result = adapter.decode(junk)
    errors = _errors(result)
    if name == "ansi-nist":  # one structural error ends its walk before any limit
        assert len(errors) < 7
        return
    assert len(errors) == 8
    assert errors[-1] == TOO_MANY_ERRORS
