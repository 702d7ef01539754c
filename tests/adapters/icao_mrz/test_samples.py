"""The golden samples' key facts, asserted outside their JSON (see samples/SOURCES.md).

For each sample: the document numbers decoded, and every diagnostic other than the unknown-code
warnings of ICAO's fictitious "UTO", as (code, line, column). The conformance kit compares the
full expected JSON; this table says in one place what each sample is about.
"""

from __future__ import annotations

import pytest

from adapters.icao_mrz import IcaoMrzAdapter
from liaison.v1 import common_pb2
from tests.adapters.icao_mrz.support import SAMPLES

EXPECTED = [
    (
        "bad_check_digits.mrz",
        ["L898902C3", "D23145890", "D23145890734", "L8988901C"],
        [
            ("MRZ_CHECK_DIGIT", 2, 10),  # TD3 document number
            ("MRZ_CHECK_DIGIT", 2, 44),  # ... and the composite covering it
            ("MRZ_CHECK_DIGIT", 5, 7),  # TD1 date of birth
            ("MRZ_CHECK_DIGIT", 5, 30),  # ... and the composite
            ("MRZ_CHECK_DIGIT", 8, 19),  # TD1 long number, after its continuation
            ("MRZ_CHECK_DIGIT", 9, 30),  # ... and the composite (line 1 positions 6-30)
            ("MRZ_CHECK_DIGIT", 13, 28),  # MRV-B date of expiry: visas have no composite
        ],
    ),
    (
        "bad_composite_check_digit.mrz",
        ["L898902C3", "D23145890"],
        [("MRZ_CHECK_DIGIT", 2, 44), ("MRZ_CHECK_DIGIT", 5, 36)],
    ),
    ("crlf_bom_whitespace.mrz", ["L898902C3", "D23145890"], []),
    ("empty.mrz", [], [("MRZ_EMPTY", 0, 0)]),
    (
        "invalid_characters.mrz",
        ["D23145890"],
        [
            ("MRZ_INVALID_CHARACTER", 1, 17),
            ("MRZ_INVALID_CHARACTER", 1, 18),
            ("MRZ_INVALID_CHARACTER", 1, 19),
        ],
    ),
    (
        "invalid_fields.mrz",
        ["XF0000001", ""],
        [
            ("MRZ_DATE", 2, 14),
            ("MRZ_SEX", 2, 21),
            ("MRZ_FIELD_EMPTY", 4, 6),  # the name
            ("MRZ_FIELD_EMPTY", 5, 1),  # the document number
        ],
    ),
    ("invalid_utf8.mrz", ["L898902C3"], [("MRZ_INVALID_UTF8", 1, 16)]),
    ("mrva_specimen.mrz", ["L8988901C"], []),
    ("mrvb_specimen.mrz", ["L8988901C"], []),
    (
        "multiple_mrzs.mrz",
        ["L898902C3", "D23145890", "D23145890", "L8988901C", "L8988901C"],
        [],
    ),
    ("name_truncated.mrz", ["XT0000001"], [("MRZ_NAME_TRUNCATED", 1, 44)]),
    ("sex_x_and_unspecified.mrz", ["XS0000001", "XS0000002"], []),
    (
        "special_codes.mrz",
        ["C01X00T47", "UN0000001", "IP0000001", "OM0000001", "VK0000001"],
        [],
    ),
    ("stray_line.mrz", ["L8988901C"], [("MRZ_LINE_COUNT", 1, 45)]),
    ("td1_long_document_number.mrz", ["D23145890734"], []),
    ("td1_specimen.mrz", ["D23145890"], []),
    ("td2_long_document_number.mrz", ["D23145890734"], []),
    ("td2_specimen.mrz", ["D23145890"], []),
    ("td3_specimen.mrz", ["L898902C3"], []),
    ("truncated_payload.mrz", [], [("MRZ_LINE_LENGTH", 3, 13)]),
    (
        "unknown_birth_dates.mrz",
        ["X00000001", "X00000002", "X00000003", "X00000004"],
        [("MRZ_DATE_ZERO", 11, 1)],
    ),
    (
        "national_variant_bel_prt.mrz",
        ["593123456711", "154328715ZZ7", "600012345682"],
        [("MRZ_NATIONAL_VARIANT", 1, 19), ("MRZ_NATIONAL_VARIANT", 5, 19)],
    ),
    (
        "national_variant_errors.mrz",
        ["D23145890745", "593123456711"],
        [("MRZ_CHECK_DIGIT", 1, 19), ("MRZ_CHECK_DIGIT", 5, 19)],
    ),
    ("wrong_line_length.mrz", ["D23145890"], [("MRZ_LINE_LENGTH", 2, 44)]),
]


def test_every_sample_is_listed() -> None:
    assert sorted(name for name, _, _ in EXPECTED) == sorted(p.name for p in SAMPLES.glob("*.mrz"))


@pytest.mark.parametrize(("name", "numbers", "findings"), EXPECTED)
def test_sample(name: str, numbers: list[str], findings: list[tuple[str, int, int]]) -> None:
    # The default reference date (today), as the conformance kit decodes the samples.
    result = IcaoMrzAdapter().decode((SAMPLES / name).read_bytes(), source_reference=name)
    documents = [r.travel_document for r in result.records if r.HasField("travel_document")]
    assert [document.document_number for document in documents] == numbers
    assert len(result.records) == 2 * len(documents)
    assert [
        (d.code, d.location.line, d.location.column)
        for d in result.diagnostics
        if d.code != "MRZ_COUNTRY_CODE"
    ] == findings
    # The only unknown country code in the samples is ICAO's fictitious Utopia.
    unmapped = {
        country.raw
        for document in documents
        for country in (document.issuing_state, document.holder_nationality)
        if country.system == common_pb2.COUNTRY_CODE_SYSTEM_UNMAPPED
    }
    assert unmapped <= {"UTO"}
    assert any(d.code == "MRZ_COUNTRY_CODE" for d in result.diagnostics) == bool(unmapped)
