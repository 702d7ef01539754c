"""The golden samples, their key fields asserted one by one (the kit compares the whole JSON).

Each sample and the clauses it comes from are listed in ``samples/SOURCES.md``.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from adapters.ansi_nist import AnsiNistAdapter
from adapters.base import DecodeResult
from adapters.diagnostics import Severity
from liaison.rules.validation import validate_record
from liaison.v1 import common_pb2

SAMPLES = Path(__file__).parent / "samples"
ADAPTER = AnsiNistAdapter()


def decode(name: str) -> DecodeResult:
    path = SAMPLES / name
    return ADAPTER.decode(path.read_bytes(), source_reference=path.name)


def diagnostics(result: DecodeResult) -> list[tuple[Severity, str, int | None]]:
    return [(d.severity, d.code, d.location.byte_offset) for d in result.diagnostics]


@pytest.mark.parametrize("path", sorted(SAMPLES.glob("*.an2")), ids=lambda p: p.name)
def test_every_clean_record_passes_gateway_validation(path: Path) -> None:
    result = ADAPTER.decode(path.read_bytes(), source_reference=path.name)
    for record in result.clean:
        assert validate_record(record) == []


@pytest.mark.parametrize("path", sorted(SAMPLES.glob("*.an2")), ids=lambda p: p.name)
def test_every_sample_is_small(path: Path) -> None:
    assert path.stat().st_size < 4096


def test_ebts_type1_type2() -> None:
    result = decode("ebts_type1_type2.an2")
    assert result.diagnostics == ()
    (record,) = result.records
    header = record.provenance.nist.header
    assert (header.version, header.transaction_type, header.date) == ("0502", "MPR", "20240315")
    assert (header.priority, header.destination_agency) == (4, "IPSG00000")
    assert (header.originating_agency, header.control_number) == ("FRINTPOL0", "FR-20240315-000001")
    assert list(header.domain) == ["INT-I", "6.0"]
    assert header.gmt == "20240315101500Z"
    assert record.provenance.source_reference == "FR-20240315-000001"
    person = record.person
    assert [(n.family, n.given) for n in person.names] == [("DOE", "JOHN")]
    assert person.birth_place.country.code == "FRA"
    assert [c.code for c in person.nationalities] == ["FRA"]
    assert (person.birth_date.year, person.birth_date.month, person.birth_date.day) == (1980, 2, 29)
    assert person.sex == common_pb2.SEX_MALE
    kept = record.provenance.nist.unmapped_fields
    assert [(f.field_number, f.subfields[0].items[0]) for f in kept] == [
        (5, "N"),
        (9, "CASE-2024-0042"),
    ]


def test_repeated_subfields_aliases() -> None:
    result = decode("repeated_subfields_aliases.an2")
    assert result.diagnostics == ()
    first, second = result.records
    assert [n.family for n in first.person.names] == ["SMITH", "SMYTHE", "SMITH", "DOE"]
    assert [n.type for n in first.person.names][1:] == [common_pb2.NAME_TYPE_ALIAS] * 3
    assert [(c.code, c.raw) for c in first.person.nationalities] == [
        ("GBR", ""),
        ("IRL", "IE"),
        ("XXA", ""),
    ]
    assert [(d.year, d.month, d.day) for d in first.person.alternative_birth_dates] == [
        (1975, 3, 0),
        (1976, 0, 0),
    ]
    (amp,) = first.provenance.nist.unmapped_fields
    assert [list(s.items) for s in amp.subfields] == [["07", "XX"], ["08", "UP"]]
    assert (first.provenance.nist.idc, second.provenance.nist.idc) == (0, 1)
    assert second.person.nationalities[0].raw == "914"
    assert second.person.sex == common_pb2.SEX_UNSPECIFIED
    assert [f.field_number for f in second.provenance.nist.unmapped_fields] == [24]


def test_utf8_names_dcs() -> None:
    result = decode("utf8_names_dcs.an2")
    assert result.diagnostics == ()
    names = result.records[0].person.names
    assert [(n.family, n.given) for n in names] == [
        ("MÜLLER", "JÜRGEN"),
        ("ИВАНОВ", "ИВАН"),
        ("MUELLER", "JUERGEN"),
    ]


def test_latin1_name_dcs() -> None:
    result = decode("latin1_name_dcs.an2")
    assert result.diagnostics == ()
    assert result.records[0].person.names[0].family == "GARÇON"


def test_binary_type4_record() -> None:
    result = decode("binary_type4_record.an2")
    assert diagnostics(result) == [(Severity.INFO, "NIST_RECORD_SKIPPED", 249)]
    assert result.diagnostics[0].location.segment_index == 2
    assert result.records[0].person.names[0].family == "DOE"


def test_tagged_type10_type14() -> None:
    result = decode("tagged_type10_type14.an2")
    assert diagnostics(result) == [
        (Severity.INFO, "NIST_RECORD_SKIPPED", 241),
        (Severity.INFO, "NIST_RECORD_SKIPPED", 403),
    ]
    assert len(result.records) == 1


def test_bad_len_mismatch() -> None:
    result = decode("bad_len_mismatch.an2")
    assert diagnostics(result) == [(Severity.ERROR, "NIST_LEN_MISMATCH", 188)]
    assert result.clean == ()


def test_bad_truncated() -> None:
    result = decode("bad_truncated.an2")
    assert diagnostics(result) == [(Severity.ERROR, "NIST_LEN_BEYOND_END", 226)]
    assert result.records == ()


def test_bad_cnt_mismatch() -> None:
    result = decode("bad_cnt_mismatch.an2")
    assert diagnostics(result) == [
        (Severity.ERROR, "NIST_CNT_MISMATCH", 193),
        (Severity.ERROR, "NIST_CNT_MISMATCH", 226),
    ]
    assert result.records == ()


def test_type2_without_name() -> None:
    result = decode("type2_without_name.an2")
    assert diagnostics(result) == [
        (Severity.INFO, "NIST_RECORD_SKIPPED", 206),
        (Severity.WARNING, "NIST_NAME_MISSING", 165),
        (Severity.WARNING, "NIST_NAME_MISSING", 375),
    ]
    first, second = result.records
    assert not first.person.names
    assert (first.person.birth_date.year, first.person.sex) == (1980, common_pb2.SEX_MALE)
    assert (first.provenance.nist.idc, second.provenance.nist.idc) == (0, 1)
    assert [validate_record(record) for record in result.records] == [[], []]
    assert result.clean == result.records


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("bad_type1_no_cnt.an2", [(Severity.ERROR, "NIST_FIELD_MISSING", 0)]),
        (
            "bad_type1_no_version.an2",
            [(Severity.WARNING, "NIST_FIELD_ORDER", 10), (Severity.ERROR, "NIST_FIELD_MISSING", 0)],
        ),
        ("bad_type1_cnt_layout.an2", [(Severity.ERROR, "NIST_CNT_INVALID", 21)]),
        ("bad_type1_cnt_idc.an2", [(Severity.ERROR, "NIST_CNT_INVALID", 21)]),
        (
            "bad_type1_second_type1.an2",
            [(Severity.ERROR, "NIST_CNT_MISMATCH", 202), (Severity.ERROR, "NIST_TAG_INVALID", 202)],
        ),
        (
            "bad_type1_record_type.an2",
            [
                (Severity.ERROR, "NIST_RECORD_TYPE", 21),
                (Severity.ERROR, "NIST_RECORD_TYPE", 208),
                (Severity.INFO, "NIST_RECORD_SKIPPED", 208),
            ],
        ),
        ("bad_type1_cnt_type99_for_type2.an2", [(Severity.ERROR, "NIST_CNT_MISMATCH", 155)]),
    ],
)
def test_an_invalid_type1_header_gives_errors_and_no_record(
    name: str, expected: list[tuple[Severity, str, int]]
) -> None:
    """Issue 13: transactions with a missing or malformed Type-1 are refused, with locations."""
    result = decode(name)
    assert diagnostics(result) == expected
    assert result.records == ()


def test_bad_field_values() -> None:
    result = decode("bad_field_values.an2")
    assert [code for _, code, _ in diagnostics(result)] == [
        "NIST_DATE_INVALID",
        "NIST_NAME_FORMAT",
        "NIST_COUNTRY_CODE",
        "NIST_FIELD_STRUCTURE",
        "NIST_DATE_INVALID",
        "NIST_SEX_CODE",
    ]
    assert not result.has_errors
    (record,) = result.records
    assert record.person.names[0].full == "JOHN DOE"
    assert [f.field_number for f in record.provenance.nist.unmapped_fields] == [20, 21, 22, 24]


def test_bad_text_encoding() -> None:
    result = decode("bad_text_encoding.an2")
    assert diagnostics(result) == [(Severity.ERROR, "NIST_TEXT_ENCODING", 212)]
    assert result.clean == ()
