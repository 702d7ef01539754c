"""Value types of INTERPOL notices: partial dates, entity ids, country codes, URLs, scripts.

Grammar as the public API (ws-public.interpol.int) serves it; see samples/SOURCES.md.
"""

from __future__ import annotations

import pytest

from adapters.interpol_notice.values import (
    country_code,
    country_text,
    detect_script,
    entity_id,
    is_absent_name,
    json_pointer,
    notice_href,
    notice_type_of_href,
    page_href,
    partial_date,
    partial_date_text,
)
from liaison.v1 import common_pb2, notice_pb2

ISO = common_pb2.COUNTRY_CODE_SYSTEM_ISO3166_ALPHA3
ICAO = common_pb2.COUNTRY_CODE_SYSTEM_ICAO9303
UNMAPPED = common_pb2.COUNTRY_CODE_SYSTEM_UNMAPPED


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # The API gives dates of birth to the precision it knows: YYYY/MM/DD, YYYY/MM or YYYY.
        ("1985/03/12", (1985, 3, 12)),
        ("1990/04", (1990, 4, 0)),
        ("1972", (1972, 0, 0)),
        ("2000/02/29", (2000, 2, 29)),  # leap year (divisible by 400)
        ("0001/01/01", (1, 1, 1)),
    ],
)
def test_partial_date_keeps_the_precision_given(text: str, expected: tuple[int, int, int]) -> None:
    assert partial_date(text) == expected


@pytest.mark.parametrize(
    "text",
    [
        "1985/13/40",  # month 13, day 40
        "1985/02/30",
        "1900/02/29",  # 1900 is not a leap year
        "2001/04/31",
        "1985/00",
        "1985/01/00",
        "0000",
        "1985-03-12",  # ISO 8601, not the API's form
        "85/03/12",
        "1985/3/12",
        "1985/03/12 ",
        "١٩٨٥",  # Arabic-Indic digits: str.isdigit() says yes, the API never writes them
        "",
    ],
)
def test_partial_date_refuses_what_is_not_a_calendar_date(text: str) -> None:
    assert partial_date(text) is None


@pytest.mark.parametrize(
    ("date", "text"),
    [
        (common_pb2.PartialDate(year=1985, month=3, day=12), "1985/03/12"),
        (common_pb2.PartialDate(year=1990, month=4), "1990/04"),
        (common_pb2.PartialDate(year=72), "0072"),
        (common_pb2.PartialDate(), None),
    ],
)
def test_partial_date_text_writes_the_api_form(
    date: common_pb2.PartialDate, text: str | None
) -> None:
    assert partial_date_text(date) == text


@pytest.mark.parametrize(
    ("text", "canonical"),
    [
        ("2019/12345", "2019/12345"),
        ("2019-12345", "2019/12345"),  # the URL form; some detail documents write it so
        ("2017/199266", "2017/199266"),
        ("2019/12345/", None),
        ("19/12345", None),
        ("2019_12345", None),
        ("2019/", None),
        ("2019/1234567890", None),
        ("abcd/12345", None),
    ],
)
def test_entity_id_is_kept_in_its_canonical_slash_form(text: str, canonical: str | None) -> None:
    assert entity_id(text) == canonical


def test_iso_alpha2_maps_to_alpha3_and_keeps_the_raw_code() -> None:
    country = country_code("FR")
    assert (country.code, country.system, country.raw) == ("FRA", ISO, "FR")


@pytest.mark.parametrize("raw", ["914", "XK", "fr", "FRA", "UK", " FR"])
def test_codes_outside_iso_alpha2_are_kept_raw_and_unmapped(raw: str) -> None:
    country = country_code(raw)
    assert (country.code, country.system, country.raw) == ("", UNMAPPED, raw)


def test_country_code_shared_messages_are_not_changed_by_callers_copying_them() -> None:
    target = common_pb2.Place()
    target.country.CopyFrom(country_code("DE"))
    target.country.raw = "changed"
    assert country_code("DE").raw == "DE"


@pytest.mark.parametrize(
    ("country", "expected"),
    [
        (common_pb2.CountryCode(code="FRA", system=ISO, raw="FR"), ("FR", True)),
        (common_pb2.CountryCode(code="DEU"), ("DE", True)),
        (common_pb2.CountryCode(system=UNMAPPED, raw="914"), ("914", True)),
        (common_pb2.CountryCode(code="D", system=ICAO, raw="D<<"), ("DE", True)),
        (common_pb2.CountryCode(code="XXA", system=ICAO), ("XXA", False)),
        (common_pb2.CountryCode(), (None, True)),
    ],
)
def test_country_text(country: common_pb2.CountryCode, expected: tuple[str | None, bool]) -> None:
    assert country_text(country) == expected


@pytest.mark.parametrize(
    ("text", "absent"),
    [("", True), ("-", True), (" - ", True), ("  ", True), ("A", False), ("--", False)],
)
def test_name_placeholders(text: str, absent: bool) -> None:
    assert is_absent_name(text) is absent


@pytest.mark.parametrize(
    ("text", "script"),
    [
        ("ولد بهايا", "Arab"),
        ("Иванов", "Cyrl"),
        ("Παπαδόπουλος", "Grek"),
        ("李", "Hani"),
        ("BARIŠIĆ", "Latn"),
        (" 12 Иван", "Cyrl"),  # the first letter decides
        ("123", "Zzzz"),
        ("ᚠᚢᚦ", "Zzzz"),  # a script the table does not name: ISO 15924 "uncoded"
    ],
)
def test_detect_script(text: str, script: str) -> None:
    assert detect_script(text) == script


API = "https://ws-public.interpol.int/notices/v1"


@pytest.mark.parametrize(
    ("href", "notice_type"),
    [
        (f"{API}/red/2019-12345", notice_pb2.NOTICE_TYPE_RED),
        (f"{API}/yellow/2021-1", notice_pb2.NOTICE_TYPE_YELLOW),
        (f"{API}/un/persons/2012-30817", notice_pb2.NOTICE_TYPE_UN),
        (f"{API}/red?page=1&resultPerPage=20", notice_pb2.NOTICE_TYPE_RED),
        (f"{API}/yellow", notice_pb2.NOTICE_TYPE_YELLOW),
        (f"{API}/un/persons?unReference=QDi", notice_pb2.NOTICE_TYPE_UN),
        (f"{API}/un/entities/2012-1", None),
        (f"{API}/pink/2019-1", None),
        ("https://example.org/red/2019-1", None),
        ("", None),
    ],
)
def test_notice_type_of_href(href: str, notice_type: int | None) -> None:
    assert notice_type_of_href(href) == notice_type


def test_notice_and_page_urls_use_the_dashed_entity_id() -> None:
    assert (
        notice_href(notice_pb2.NOTICE_TYPE_UN, "2012/30817")
        == "https://ws-public.interpol.int/notices/v1/un/persons/2012-30817"
    )
    assert (
        page_href(notice_pb2.NOTICE_TYPE_RED, 160)
        == "https://ws-public.interpol.int/notices/v1/red?page=1&resultPerPage=160"
    )
    assert notice_href(notice_pb2.NOTICE_TYPE_UNSPECIFIED, "2012/30817") is None
    assert page_href(notice_pb2.NOTICE_TYPE_UNSPECIFIED, 1) is None


@pytest.mark.parametrize(
    ("base", "token", "pointer"),
    [
        ("", "name", "/name"),
        ("/_embedded/notices", 3, "/_embedded/notices/3"),
        ("", "a/b~c", "/a~1b~0c"),  # RFC 6901 section 3: "~" is "~0", "/" is "~1"
        ("/x", "", "/x/"),
    ],
)
def test_json_pointer_escapes_per_rfc_6901(base: str, token: str | int, pointer: str) -> None:
    assert json_pointer(base, token) == pointer
