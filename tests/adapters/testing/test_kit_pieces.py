"""The conformance kit's checks, one by one, on hand-made inputs."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

import adapters.testing
from adapters import jsonform
from adapters.base import Adapter, DecodeResult
from adapters.diagnostics import Diagnostic, Location, Severity
from adapters.testing import adapter_test_class, identity, plugin
from adapters.testing.compare import records_difference
from adapters.testing.golden import golden_mismatch, write_golden
from adapters.testing.hostile import hostile_builders
from adapters.testing.invariants import provenance_problems, result_problems
from adapters.testing.mutations import (
    DeleteBytes,
    FlipBit,
    InsertBytes,
    InsertInvalidUtf8,
    Truncate,
    apply_all,
)
from adapters.testing.samples import GoldenSample, find_golden_samples, samples_directory_problems
from tests.adapters.testing.toy import (
    TOY_ENTRY_POINT,
    ToyAdapter,
    install_entry_points,
    toy_record,
    toy_records,
)

SAMPLES = Path(__file__).parent / "samples"
PAYLOAD = b"2019|Ivory carvings\n2020|Live parrots\n"


def test_public_names() -> None:
    assert set(adapters.testing.__all__) == {
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
    }
    assert all(hasattr(adapters.testing, name) for name in adapters.testing.__all__)


# Identity


class BadlyNamed(ToyAdapter):
    name = "Toy_Seizures"
    version = "1.0"
    source_format = " "
    description = ""
    media_types = ("text",)
    file_extensions = (".toy",)


def test_identity_of_a_well_formed_adapter() -> None:
    assert identity.identity_problems(ToyAdapter) == []


def test_identity_problems_name_each_attribute() -> None:
    problems = "\n".join(identity.identity_problems(BadlyNamed))
    for attribute in ("name", "version", "source_format", "description"):
        assert f"BadlyNamed.{attribute} " in problems
    assert "media_types: 'text' is not type/subtype" in problems
    assert "file_extensions: '.toy' is not an extension without its dot" in problems


@pytest.mark.parametrize("version", ["1.0.0", "0.3.12", "2.0.0-rc.1", "1.0.0+build.7"])
def test_semantic_versions(version: str) -> None:
    assert identity.SEMVER_PATTERN.fullmatch(version)


@pytest.mark.parametrize("version", ["1.0", "v1.0.0", "01.0.0", "1.0.0-", ""])
def test_not_semantic_versions(version: str) -> None:
    assert not identity.SEMVER_PATTERN.fullmatch(version)


# Registration through entry points


def test_not_installed(monkeypatch: pytest.MonkeyPatch) -> None:
    install_entry_points(monkeypatch)
    assert identity.registration_problems(ToyAdapter) is None


def test_installed_under_its_name(monkeypatch: pytest.MonkeyPatch) -> None:
    install_entry_points(monkeypatch, ("toy-seizures", TOY_ENTRY_POINT))
    assert identity.registration_problems(ToyAdapter) == []


def test_installed_under_another_name(monkeypatch: pytest.MonkeyPatch) -> None:
    install_entry_points(monkeypatch, ("toys", TOY_ENTRY_POINT))
    problems = identity.registration_problems(ToyAdapter)
    assert problems is not None
    assert any("is not named 'toy-seizures'" in p for p in problems)


def test_name_taken_by_another_class(monkeypatch: pytest.MonkeyPatch) -> None:
    class OtherToy(ToyAdapter):
        pass

    install_entry_points(monkeypatch, ("toy-seizures", TOY_ENTRY_POINT))
    problems = identity.registration_problems(OtherToy)
    assert problems is not None
    assert any(
        "the registry's 'toy-seizures' is tests.adapters.testing.toy.ToyAdapter" in p
        for p in problems
    )


def test_entry_point_that_does_not_import(monkeypatch: pytest.MonkeyPatch) -> None:
    install_entry_points(
        monkeypatch, ("toy-seizures", "tests.adapters.testing.no_such_module:ToyAdapter")
    )
    problems = identity.registration_problems(ToyAdapter)
    assert problems is not None
    assert any("import failed" in p for p in problems)


# The samples directory


def _directory(tmp_path: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
    return tmp_path


def test_samples_found_and_sorted() -> None:
    samples = find_golden_samples(SAMPLES)
    assert [s.reference for s in samples] == ["bad-year.toy", "not-utf8.toy", "three-seizures.toy"]
    assert samples[0].expected_path == SAMPLES / "bad-year.expected.json"
    assert [s.expects_errors() for s in samples] == [True, True, False]
    assert samples_directory_problems(SAMPLES) == []


def test_missing_sources_file(tmp_path: Path) -> None:
    directory = _directory(tmp_path, {"a.toy": "", "a.expected.json": "{}"})
    assert samples_directory_problems(directory) == [
        f"{directory / 'SOURCES.md'}: missing; list each sample with the source it comes from"
    ]


def test_sources_must_mention_each_sample_as_a_whole_word(tmp_path: Path) -> None:
    files = {"td1.mrz": "", "td1-long.mrz": "", "SOURCES.md": "- td1-long.mrz: clause 4.2"}
    directory = _directory(tmp_path, files)
    assert samples_directory_problems(directory) == [
        f"{directory / 'SOURCES.md'}: does not mention td1.mrz"
    ]
    (directory / "SOURCES.md").write_text("- td1-long.mrz\n- `td1`: clause 4.1\n")
    assert samples_directory_problems(directory) == []


def test_orphan_expected_file_and_empty_directory(tmp_path: Path) -> None:
    directory = _directory(tmp_path, {"gone.expected.json": "{}", "SOURCES.md": ""})
    assert samples_directory_problems(directory) == [
        f"{directory}: no golden sample (NAME.<ext> beside NAME.expected.json)",
        f"{directory / 'gone.expected.json'}: no input file NAME.<ext> for this expected file",
    ]


def test_hidden_files_and_directories_are_not_samples(tmp_path: Path) -> None:
    directory = _directory(tmp_path, {".DS_Store": "", "a.toy": "", "SOURCES.md": "a.toy"})
    (directory / "drafts").mkdir()
    assert [s.reference for s in find_golden_samples(directory)] == ["a.toy"]


# Golden files


def test_golden_match_missing_and_invalid(tmp_path: Path) -> None:
    sample = GoldenSample(tmp_path / "clean.toy")
    sample.input_path.write_bytes(PAYLOAD)
    result = ToyAdapter().decode(PAYLOAD, source_reference=sample.reference)
    missing = golden_mismatch(sample, result)
    assert missing is not None
    assert missing.startswith("clean.expected.json is missing: pytest --liaison-update-golden")
    assert write_golden(sample, result) is True
    assert write_golden(sample, result) is False
    assert golden_mismatch(sample, result) is None
    assert sample.expected_path.read_text(encoding="utf-8") == jsonform.dumps(result)
    sample.expected_path.write_text("{not json", encoding="utf-8")
    invalid = golden_mismatch(sample, result)
    assert invalid is not None
    assert invalid.startswith("clean.expected.json is not valid JSON")
    assert sample.expects_errors() is None


def test_golden_comparison_ignores_layout(tmp_path: Path) -> None:
    sample = GoldenSample(tmp_path / "clean.toy")
    result = ToyAdapter().decode(PAYLOAD, source_reference=sample.reference)
    sample.expected_path.write_text(json.dumps(json.loads(jsonform.dumps(result))))
    assert golden_mismatch(sample, result) is None


# Invariants of a decode result


def test_a_conforming_result_has_no_problem() -> None:
    result = ToyAdapter().decode(b"20x9|Ivory\n")
    assert result.has_errors
    assert result_problems(ToyAdapter, b"20x9|Ivory\n", result) == []


def test_result_that_is_not_a_decode_result() -> None:
    assert result_problems(ToyAdapter, b"", {"records": []}) == [
        "decode returned a dict, not an adapters.DecodeResult"
    ]


def test_error_naming_a_record_that_is_not_in_the_result() -> None:
    decoded = ToyAdapter().decode(b"20x9|Ivory\n2020|Live parrots\n")
    dropped = DecodeResult(decoded.records[1:], decoded.diagnostics)
    tainted = decoded.records[0].record_id
    assert result_problems(ToyAdapter, b"20x9|Ivory\n2020|Live parrots\n", dropped) == [
        f"diagnostics[0] (TOY_YEAR): names record {tainted!r}, which is not a record of the result"
    ]


def test_warnings_may_name_any_record() -> None:
    note = Diagnostic(Severity.WARNING, "TOY_NOTE", "a note", Location(), ("toy:elsewhere",))
    assert result_problems(ToyAdapter, b"", DecodeResult((), (note,))) == []


def test_malformed_diagnostics() -> None:
    diagnostics = (
        Diagnostic(Severity.INFO, "lowercase", "message"),
        Diagnostic(Severity.INFO, "NOPREFIX", "message"),
        Diagnostic(Severity.INFO, "TOY_EMPTY", "  "),
        "not a diagnostic",
    )
    result = DecodeResult((), diagnostics)  # type: ignore[arg-type]
    assert result_problems(ToyAdapter, b"", result) == [
        "diagnostics[0]: code 'lowercase' is not UPPER_SNAKE with a format prefix",
        "diagnostics[1]: code 'NOPREFIX' is not UPPER_SNAKE with a format prefix",
        "diagnostics[2] (TOY_EMPTY): empty message",
        "diagnostics[3] is a str, not an adapters.Diagnostic",
    ]


def test_provenance_problems() -> None:
    decoded = ToyAdapter().decode(PAYLOAD)
    first, second = decoded.records
    first.ClearField("provenance")
    second.provenance.adapter_version = "0.9.0"
    assert provenance_problems(ToyAdapter, PAYLOAD, decoded.records) == [
        f"records[0] ({first.record_id}): no provenance",
        f"records[1] ({second.record_id}): provenance.adapter_version is not '1.0.0'",
    ]
    again = ToyAdapter().decode(PAYLOAD)
    assert provenance_problems(ToyAdapter, PAYLOAD + b"\n", again.records) == [
        f"records[{i}] ({r.record_id}): provenance.payload_sha256 is not the payload's SHA-256"
        for i, r in enumerate(again.records)
    ]
    assert again.records[0].provenance.payload_sha256 == hashlib.sha256(PAYLOAD).digest()


# Round-trip comparison


def test_round_trip_ignores_payload_hash_and_source_reference() -> None:
    before = ToyAdapter().decode(PAYLOAD, source_reference="a.toy").records
    after = ToyAdapter().decode(PAYLOAD + b"\n", source_reference="b.toy").records
    assert records_difference(before, after) is None
    after[1].seizure.commodity_description = "Dead parrots"
    difference = records_difference(before, after, before_name="a", after_name="b")
    assert difference is not None
    assert '-      "commodityDescription": "Live parrots",' in difference
    assert '+      "commodityDescription": "Dead parrots",' in difference


def test_round_trip_of_records_without_provenance() -> None:
    decoded = ToyAdapter().decode(PAYLOAD).records
    made = [toy_record(2019, "Ivory carvings"), toy_record(2020, "Live parrots")]
    assert records_difference(made, decoded) is not None
    assert records_difference(made, decoded, ignore_provenance=True) is None


# Mutations


@pytest.mark.parametrize(
    ("mutation", "expected"),
    [
        (Truncate(at=4), b"2019"),
        (Truncate(at=len(PAYLOAD) + 1 + 4), b"2019"),
        (FlipBit(offset=0, bit=0), b"3019" + PAYLOAD[4:]),
        (InsertBytes(offset=4, data=b"||"), b"2019||" + PAYLOAD[4:]),
        (DeleteBytes(offset=0, length=5), PAYLOAD[5:]),
        (InsertInvalidUtf8(offset=0, sequence=b"\xff"), b"\xff" + PAYLOAD),
    ],
)
def test_mutations(mutation: Truncate, expected: bytes) -> None:
    assert mutation.apply(PAYLOAD) == expected


def test_mutations_of_an_empty_payload() -> None:
    empty = [Truncate(3), FlipBit(3, 1), InsertBytes(3, b"x"), DeleteBytes(3, 1)]
    assert apply_all(empty, b"") == b"x"


def test_hostile_builders_from_samples() -> None:
    builders = hostile_builders([PAYLOAD, b"1999|x"], [b"bad|"])
    assert sorted(builders) == [
        "byte-run-0x7c",
        "nested-objects",
        "one-byte-run",
        "open-brackets",
        "repeated-error-samples",
        "repeated-sample",
    ]
    assert {kind: len(build(1000)) for kind, build in builders.items()} == dict.fromkeys(
        builders, 1000
    )
    assert builders["repeated-sample"](100).startswith(PAYLOAD + PAYLOAD)
    assert builders["one-byte-run"](5) == b"22222"
    assert builders["byte-run-0x7c"](3) == b"|||"
    assert builders["open-brackets"](3) == b"[[["
    assert builders["nested-objects"](12) == b'{"a":{"a":{"'
    assert builders["repeated-error-samples"](8) == b"bad|bad|"


def test_hostile_separators_are_the_most_frequent_punctuation() -> None:
    """Letters, digits and blanks are never separators; ties go to the lower byte value."""
    builders = hostile_builders([b"A+B+C:D'E'F'\n\n\n\n?"])
    assert sorted(k for k in builders if k.startswith("byte-run")) == [
        "byte-run-0x27",
        "byte-run-0x2b",
        "byte-run-0x3a",
    ]


def test_hostile_builders_of_the_integrator_are_added_and_may_replace() -> None:
    def manifest(size: int) -> bytes:
        return b"M" * size

    builders = hostile_builders([], extra={"large-manifest": manifest, "open-brackets": manifest})
    assert builders["large-manifest"] is manifest
    assert builders["open-brackets"] is manifest
    assert builders["one-byte-run"](2) == b"AA"
    assert "repeated-error-samples" not in builders


# The factory and the report


def test_factory_refuses_what_it_cannot_test(tmp_path: Path) -> None:
    with pytest.raises(TypeError, match=r"not a subclass of adapters\.Adapter"):
        adapter_test_class(dict, samples=SAMPLES)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="does not exist"):
        adapter_test_class(ToyAdapter, samples=tmp_path / "missing")
    with pytest.raises(ValueError, match="must be positive"):
        adapter_test_class(ToyAdapter, samples=SAMPLES, max_examples=0)
    with pytest.raises(ValueError, match="DecodeOnly cannot encode"):
        adapter_test_class(DecodeOnly, samples=SAMPLES, records=toy_records())
    with pytest.raises(TypeError, match="make_adapter must build a ToyAdapter"):
        adapter_test_class(ToyAdapter, samples=SAMPLES, make_adapter=DecodeOnly)


def test_make_adapter_builds_the_instance_under_test() -> None:
    built: list[ToyAdapter] = []

    def make() -> ToyAdapter:
        built.append(ToyAdapter())
        return built[-1]

    tests = adapter_test_class(ToyAdapter, samples=SAMPLES, make_adapter=make)()
    assert tests.new_adapter() is built[-1]
    assert adapter_test_class(ToyAdapter, samples=SAMPLES)().new_adapter() is not None


class DecodeOnly(Adapter):
    name = "toy-decode-only"
    version = "1.0.0"
    description = "The toy format, read only"
    source_format = "Toy seizure lines"

    def decode(self, payload: bytes, *, source_reference: str = "") -> DecodeResult:
        return ToyAdapter().decode(payload, source_reference=source_reference)


def test_the_tests_a_class_gets_depend_on_what_the_adapter_can_do() -> None:
    decode_only = adapter_test_class(DecodeOnly, samples=SAMPLES)
    encoder = adapter_test_class(ToyAdapter, samples=SAMPLES)
    with_records = adapter_test_class(ToyAdapter, samples=SAMPLES, records=toy_records())
    assert decode_only.__name__ == "TestDecodeOnlyConformance"
    assert decode_only.__test__ is True
    assert not hasattr(decode_only, "test_round_trip")
    assert hasattr(encoder, "test_round_trip")
    assert not hasattr(encoder, "test_records_round_trip")
    assert hasattr(with_records, "test_records_round_trip")


def test_throughput_lines() -> None:
    figure = plugin.Throughput("toy-seizures", "golden samples", 2048, 16, 12345.6, 1.5, None)
    assert plugin.format_throughput([figure]) == [
        "toy-seizures         golden samples          2,048 B      16 records: "
        "decode 12,346 records/s, 1.50 MB/s"
    ]
