"""Decoding notices field by field: red, yellow and UN details, search pages, and what is wrong.

Field names and shapes are those of the public API (ws-public.interpol.int /notices/v1), as
listed in samples/SOURCES.md ([API], [PROBES], [FER], [YELLOW], [UN]).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from adapters.base import DecodeResult, stable_record_id
from adapters.characters import FORBIDDEN_CHARACTER
from adapters.diagnostics import Severity
from adapters.interpol_notice import InterpolNoticeAdapter
from adapters.interpol_notice.document import MAX_LOCATED_DUPLICATES
from liaison.rules.validation import validate_record
from liaison.v1 import common_pb2, notice_pb2, record_pb2

SAMPLES = Path(__file__).parent / "samples"
RED = "https://ws-public.interpol.int/notices/v1/red"
YELLOW_LINKS = {"self": {"href": "https://ws-public.interpol.int/notices/v1/yellow/2019-12345"}}
UN_LINKS = {"self": {"href": "https://ws-public.interpol.int/notices/v1/un/persons/2019-12345"}}


def decode(document: Any, reference: str = "test.json") -> DecodeResult:
    payload = json.dumps(document, ensure_ascii=False).encode("utf-8")
    return InterpolNoticeAdapter().decode(payload, source_reference=reference)


def sample(name: str) -> DecodeResult:
    return InterpolNoticeAdapter().decode((SAMPLES / name).read_bytes(), source_reference=name)


def only(result: DecodeResult) -> record_pb2.Record:
    (record,) = result.records
    return record


def codes(result: DecodeResult) -> list[tuple[str, str]]:
    """(code, pointer) of each diagnostic, in order."""
    return [(d.code, d.location.json_pointer) for d in result.diagnostics]


def red(**fields: Any) -> dict[str, Any]:
    """A minimal red notice summary with ``fields`` replaced or added."""
    document: dict[str, Any] = {
        "entity_id": "2019/12345",
        "name": "EXAMPLE",
        "forename": "ALEX",
        "date_of_birth": "1980/01/02",
        "nationalities": ["FR"],
        "_links": {"self": {"href": f"{RED}/2019-12345"}},
    }
    document.update(fields)
    return {key: value for key, value in document.items() if value is not ...}


# -- red notice detail ([API] RedNoticeDetail) ---------------------------------------------


def test_red_detail_identity_and_provenance() -> None:
    result = sample("red-detail.json")
    assert result.diagnostics == ()
    record = only(result)
    notice = record.notice
    assert notice.notice_type == notice_pb2.NOTICE_TYPE_RED
    assert notice.entity_id == "2019/12345"  # canonical form, though URLs say 2019-12345
    assert record.record_id == stable_record_id("interpol-notice", "2019/12345")
    assert record.provenance.source_reference == "2019/12345"
    assert record.provenance.adapter_name == "interpol-notice"
    assert notice.source_uri == f"{RED}/2019-12345"
    assert list(notice.image_uris) == [f"{RED}/2019-12345/images/61298745"]


def test_red_detail_subject() -> None:
    person = only(sample("red-detail.json")).notice.subject
    (name,) = person.names
    assert (name.type, name.family, name.given) == (
        common_pb2.NAME_TYPE_PRIMARY,
        "BELKACEM-VERNIER",
        "MARC-ANTOINE LUCIEN",
    )
    assert (person.birth_date.year, person.birth_date.month, person.birth_date.day) == (1985, 3, 12)
    assert [(c.code, c.raw) for c in person.nationalities] == [("FRA", "FR"), ("DZA", "DZ")]
    assert person.sex == common_pb2.SEX_MALE
    assert (person.birth_place.name, person.birth_place.country.code) == ("Oran", "DZA")
    # ISO 639-2/B codes as INTERPOL writes them.
    assert list(person.languages) == ["FRE", "ARA", "ENG"]


def test_red_detail_physical_description_free_text_kept_exactly() -> None:
    physical = only(sample("red-detail.json")).notice.subject.physical_description
    assert physical.height_m == 1.78  # metres
    assert physical.weight_kg == 74.0  # kilograms
    assert list(physical.eye_colours) == ["BRO"]
    assert list(physical.hair_colours) == ["BLA"]
    # The trailing space is in the source; free text is never trimmed.
    assert physical.distinguishing_marks == (
        "Scar on the left forearm; anchor tattoo on the right shoulder "
    )


def test_arrest_warrants_keep_null_translation_apart_from_empty() -> None:
    warrants = only(sample("charge-translation.json")).notice.arrest_warrants
    assert [w.charge for w in warrants] == [
        "Tráfico ilícito de drogas agravado",
        "Lavado de activos",
        "Asociación ilícita para delinquir",
    ]
    assert [w.HasField("charge_translation") for w in warrants] == [False, True, True]
    assert [w.charge_translation for w in warrants] == ["", "", "Criminal conspiracy"]
    assert {w.issuing_country.code for w in warrants} == {"PER"}


def test_charges_keep_their_line_breaks() -> None:
    (first, second) = only(sample("red-detail.json")).notice.arrest_warrants
    assert first.charge == "Escroquerie en bande organisée\r\nBlanchiment aggravé"
    assert first.charge_translation == "Organised fraud\r\nAggravated money laundering"
    assert not second.HasField("charge_translation")
    assert second.issuing_country.code == "BEL"


# -- yellow notice detail ([YELLOW]) -------------------------------------------------------


def test_yellow_detail_event_parents_and_birth_name() -> None:
    result = sample("yellow-detail.json")
    notice = only(result).notice
    assert notice.notice_type == notice_pb2.NOTICE_TYPE_YELLOW
    assert (notice.event_date.year, notice.event_date.month, notice.event_date.day) == (2021, 11, 3)
    assert notice.event_place.name == "Puerto Madryn, Chubut"
    assert notice.event_place.country.code == "ARG"
    person = notice.subject
    assert [(n.type, n.family, n.given) for n in person.names] == [
        (common_pb2.NAME_TYPE_PRIMARY, "VARGAS QUISPE", "MICAELA SOLEDAD"),
        (common_pb2.NAME_TYPE_BIRTH, "QUISPE", ""),
    ]
    (mother,) = person.mother_names
    assert (mother.family, mother.given) == ("QUISPE ARANDA", "ROSA ELENA")
    assert not person.father_names  # "-" and null: no father's name at all
    assert (person.birth_date.year, person.birth_date.month, person.birth_date.day) == (2004, 7, 0)
    assert person.physical_description.weight_kg == 0  # the API's 0 means unknown
    assert result.diagnostics == ()


def test_yellow_detail_countries_likely_to_be_visited() -> None:
    notice = only(sample("yellow-detail.json")).notice
    assert [(c.code, c.system, c.raw) for c in notice.countries_likely_to_be_visited] == [
        ("CHL", common_pb2.COUNTRY_CODE_SYSTEM_ISO3166_ALPHA3, "CL"),
        ("URY", common_pb2.COUNTRY_CODE_SYSTEM_ISO3166_ALPHA3, "UY"),
    ]


def test_countries_likely_to_be_visited_are_mapped_like_nationalities() -> None:
    """[YELLOW] ISO alpha-2 codes; INTERPOL's own codes (914) kept raw, empty entries skipped."""
    result = decode(
        red(_links=YELLOW_LINKS, countries_likely_to_be_visited=["CL", "914", "", "UY"])
    )
    countries = only(result).notice.countries_likely_to_be_visited
    assert [(c.code, c.system, c.raw) for c in countries] == [
        ("CHL", common_pb2.COUNTRY_CODE_SYSTEM_ISO3166_ALPHA3, "CL"),
        ("", common_pb2.COUNTRY_CODE_SYSTEM_UNMAPPED, "914"),
        ("URY", common_pb2.COUNTRY_CODE_SYSTEM_ISO3166_ALPHA3, "UY"),
    ]
    assert codes(result) == [("NOTICE_COUNTRY_UNMAPPED", "/countries_likely_to_be_visited/1")]
    assert not result.has_errors
    assert validate_record(only(result)) == []


@pytest.mark.parametrize("value", [None, [], [""]])
def test_no_countries_likely_to_be_visited(value: Any) -> None:
    result = decode(red(_links=YELLOW_LINKS, sex_id="F", countries_likely_to_be_visited=value))
    assert not only(result).notice.countries_likely_to_be_visited
    assert result.diagnostics == ()


# -- UN notice ([UN]) ----------------------------------------------------------------------


def test_un_detail_names_in_original_script_with_their_latin_form() -> None:
    notice = only(sample("un-detail.json")).notice
    assert notice.notice_type == notice_pb2.NOTICE_TYPE_UN
    assert notice.un_reference == "QDi.999"
    assert (notice.un_reference_date.year, notice.un_reference_date.month) == (2011, 5)
    primary, first_alias, second_alias = notice.subject.names
    assert (primary.family, primary.given, primary.script) == ("ولد بهايا", "سيدي محمد", "Arab")
    assert (primary.transliteration.family, primary.transliteration.given) == (
        "OULD BAHAYA",
        "SIDI MOHAMED",
    )
    assert first_alias.type == common_pb2.NAME_TYPE_ALIAS
    assert (first_alias.given, first_alias.transliteration.given) == ("أبو حمزة", "ABU HAMZA")
    assert (second_alias.family, second_alias.script) == ("AL-SAHRAWI", "")
    assert [d.year for d in notice.subject.alternative_birth_dates] == [1969]
    assert notice.subject.occupation == "Trader"
    (father,) = notice.subject.father_names
    assert (father.family, father.given) == ("", "MOHAMED")


def test_un_detail_summary_resolution_and_alias_qualifications() -> None:
    result = sample("un-detail.json")
    assert result.diagnostics == ()  # its other UN fields (associates, adresses...) are empty
    notice = only(result).notice
    assert notice.summary == (
        "Listed for financing and supporting the activities of a listed group."
    )
    assert notice.un_resolution == ""  # null in the sample
    names = notice.subject.names
    assert [(n.type, n.qualification) for n in names] == [
        (common_pb2.NAME_TYPE_PRIMARY, ""),
        (common_pb2.NAME_TYPE_ALIAS, "Good quality a.k.a."),
        (common_pb2.NAME_TYPE_ALIAS, "Low quality a.k.a."),
    ]


def test_un_resolution_and_summary_are_kept_exactly_as_written() -> None:
    """[UN] ``un_resolution`` and ``summary`` are strings or null; free text is never trimmed."""
    summary = " Listed for supplying arms.\r\nAlso: financing. "
    result = decode(red(_links=UN_LINKS, un_resolution="1267 (1999)", summary=summary))
    notice = only(result).notice
    assert (notice.un_resolution, notice.summary) == ("1267 (1999)", summary)
    assert result.diagnostics == ()


@pytest.mark.parametrize("value", [None, ""])
def test_null_or_empty_un_resolution_and_summary_are_absent(value: str | None) -> None:
    result = decode(red(_links=UN_LINKS, un_resolution=value, summary=value))
    notice = only(result).notice
    assert (notice.un_resolution, notice.summary) == ("", "")
    assert result.diagnostics == ()


def test_alias_qualification_is_kept_on_its_alias_name() -> None:
    aliases = [
        {"name": "ONE", "qualification": "Good quality a.k.a."},
        {"forename": "TWO", "qualification": None},
        {"name": "THREE", "qualification": ""},
        {"forename_in_original_script": "أبو حمزة", "qualification": " Low quality a.k.a."},
    ]
    result = decode(red(_links=UN_LINKS, aliases=aliases))
    assert result.diagnostics == ()
    alias_names = only(result).notice.subject.names[1:]
    assert [n.qualification for n in alias_names] == [
        "Good quality a.k.a.",
        "",
        "",
        " Low quality a.k.a.",  # as written
    ]
    assert only(result).notice.subject.names[0].qualification == ""


def test_qualification_of_an_alias_without_a_name_is_reported_not_kept() -> None:
    aliases = [{"name": None, "date_of_birth": "1969", "qualification": "Low quality a.k.a."}]
    result = decode(red(_links=UN_LINKS, aliases=aliases))
    person = only(result).notice.subject
    assert [n.type for n in person.names] == [common_pb2.NAME_TYPE_PRIMARY]
    assert [d.year for d in person.alternative_birth_dates] == [1969]
    assert codes(result) == [("NOTICE_FIELD_NOT_CARRIED", "/aliases/0/qualification")]
    assert result.diagnostics[0].severity is Severity.INFO


def test_fields_the_contract_still_has_no_place_for_are_reported() -> None:
    result = decode(
        red(
            _links=UN_LINKS,
            issuing_country="FR",
            main_activity="Financing",
            associates=[{"name": "X"}],
            aliases=[{"name": "ALIAS", "country_of_birth_id": "MR", "place_of_birth": "Atar"}],
        )
    )
    assert codes(result) == [
        ("NOTICE_FIELD_NOT_CARRIED", "/aliases/0/country_of_birth_id"),
        ("NOTICE_FIELD_NOT_CARRIED", "/aliases/0/place_of_birth"),
        ("NOTICE_FIELD_NOT_CARRIED", "/issuing_country"),
        ("NOTICE_FIELD_NOT_CARRIED", "/main_activity"),
        ("NOTICE_FIELD_NOT_CARRIED", "/associates"),
    ]


def test_name_at_birth_of_un_notices_and_birth_name_of_yellow_ones() -> None:
    births = {"name_at_birth": "FORMER", "birth_name": "OTHER"}
    un = decode(red(_links={"self": {"href": "https://x/notices/v1/un/persons/1-2"}}, **births))
    assert [n.family for n in only(un).notice.subject.names] == ["EXAMPLE", "FORMER", "OTHER"]
    yellow = decode(red(_links={"self": {"href": "https://x/notices/v1/yellow/1-2"}}, **births))
    assert [n.family for n in only(yellow).notice.subject.names] == ["EXAMPLE", "OTHER", "FORMER"]


# -- search result pages ([PROBES] list endpoint) ------------------------------------------


def test_search_page_gives_one_record_per_notice_in_order() -> None:
    result = sample("red-search-page.json")
    assert result.diagnostics == ()
    assert [r.notice.entity_id for r in result.records] == [
        "2021/70414",
        "2020/61738",
        "2017/188420",
        "2003/29957",
    ]
    assert {r.notice.notice_type for r in result.records} == {notice_pb2.NOTICE_TYPE_RED}
    assert [len(r.notice.image_uris) for r in result.records] == [1, 1, 0, 1]
    assert [r.provenance.source_reference for r in result.records] == [
        r.notice.entity_id for r in result.records
    ]


def test_page_link_names_the_type_of_items_without_links() -> None:
    page = {
        "total": 1,
        "_embedded": {"notices": [red(_links=...)]},
        "_links": {"self": {"href": "https://ws-public.interpol.int/notices/v1/yellow?page=1"}},
    }
    result = decode(page)
    assert only(result).notice.notice_type == notice_pb2.NOTICE_TYPE_YELLOW
    assert result.diagnostics == ()


def test_type_inferred_from_fields_only_one_kind_of_notice_has() -> None:
    result = decode(red(_links=..., date_of_event="2020/01/01"))
    assert only(result).notice.notice_type == notice_pb2.NOTICE_TYPE_YELLOW
    assert codes(result) == [("NOTICE_TYPE_INFERRED", "")]
    assert not result.has_errors
    result = decode(red(_links=..., arrest_warrants=[{"charge": "X"}]))
    assert only(result).notice.notice_type == notice_pb2.NOTICE_TYPE_RED
    result = decode(red(_links=..., un_reference="QDi.1"))
    assert only(result).notice.notice_type == notice_pb2.NOTICE_TYPE_UN


def test_unknown_notice_type_is_an_error_naming_the_record() -> None:
    result = sample("unknown-type.json")
    record = only(result)
    assert codes(result) == [("NOTICE_TYPE_UNKNOWN", "/_links")]
    assert result.tainted_ids == {record.record_id}
    assert result.clean == ()


def test_partial_birth_dates() -> None:
    dates = [r.notice.subject for r in sample("partial-dates.json").records]
    assert [(p.birth_date.year, p.birth_date.month, p.birth_date.day) for p in dates] == [
        (1972, 0, 0),
        (1990, 4, 0),
        (2000, 2, 29),
        (0, 0, 0),
    ]
    assert not dates[3].HasField("birth_date")


def test_invalid_birth_date_is_an_error_with_its_pointer() -> None:
    result = sample("bad-date-of-birth.json")
    record = only(result)
    (diagnostic,) = result.diagnostics
    assert (diagnostic.severity, diagnostic.code) == (Severity.ERROR, "NOTICE_DATE_OF_BIRTH")
    assert diagnostic.location.json_pointer == "/date_of_birth"
    assert diagnostic.record_ids == (record.record_id,)
    assert not record.notice.subject.HasField("birth_date")
    assert "1985" not in diagnostic.message  # where and what, never the value


def test_invalid_dates_in_pages_point_into_the_page() -> None:
    page = {"_embedded": {"notices": [red(), red(entity_id="2019/2", date_of_birth="1985/02/30")]}}
    result = decode(page)
    assert codes(result) == [("NOTICE_DATE_OF_BIRTH", "/_embedded/notices/1/date_of_birth")]
    assert result.tainted_ids == {result.records[1].record_id}


@pytest.mark.parametrize(
    ("field", "value", "code"),
    [
        ("date_of_event", "2021/13", "NOTICE_DATE_OF_EVENT"),
        ("un_reference_date", "yesterday", "NOTICE_UN_REFERENCE_DATE"),
    ],
)
def test_other_dates_have_their_own_codes(field: str, value: str, code: str) -> None:
    result = decode(red(**{field: value}))
    assert codes(result) == [(code, f"/{field}")]


# -- names ([PROBES]: forename null or "-") ------------------------------------------------


def test_null_empty_and_dash_names_are_absent() -> None:
    result = sample("absent-names.json")
    assert result.diagnostics == ()
    names = [tuple((n.family, n.given) for n in r.notice.subject.names) for r in result.records]
    assert names == [
        (("SAMIULLAH", ""),),
        (("SUHARTONO", ""),),
        (("THEIN ZAW", ""),),
        (("", "KEVIN "),),  # name "-": absent; the forename kept exactly, trailing space too
    ]


@pytest.mark.parametrize(("name", "forename"), [("-", None), (None, None), ("", "-")])
def test_a_notice_with_no_name_at_all_is_a_warning_and_valid(
    name: str | None, forename: str | None
) -> None:
    """INTERPOL publishes subjects without a known name; the notice identifies them."""
    result = decode(red(name=name, forename=forename))
    assert codes(result) == [("NOTICE_NAME_MISSING", "/name")]
    (warning,) = result.diagnostics
    assert warning.severity is Severity.WARNING
    assert warning.record_ids == (only(result).record_id,)
    assert result.clean == result.records
    subject = only(result).notice.subject
    assert not subject.names
    assert subject.birth_date.year == 1980
    assert validate_record(only(result)) == []


def test_a_nameless_subject_with_only_a_nationality_is_valid() -> None:
    result = decode(red(name="-", forename=None, date_of_birth=None))
    assert codes(result) == [("NOTICE_NAME_MISSING", "/name")]
    assert validate_record(only(result)) == []


# -- country codes -------------------------------------------------------------------------


def test_non_iso_country_codes_are_kept_raw_with_an_info() -> None:
    result = sample("non-iso-country.json")
    notice = only(result).notice
    person = notice.subject
    assert [(c.code, c.system, c.raw) for c in person.nationalities] == [
        ("", common_pb2.COUNTRY_CODE_SYSTEM_UNMAPPED, "914"),
        ("RUS", common_pb2.COUNTRY_CODE_SYSTEM_ISO3166_ALPHA3, "RU"),
    ]
    assert person.birth_place.country.raw == "914"
    assert notice.arrest_warrants[1].issuing_country.raw == "914"
    assert codes(result) == [
        ("NOTICE_COUNTRY_UNMAPPED", "/nationalities/0"),
        ("NOTICE_COUNTRY_UNMAPPED", "/country_of_birth_id"),
        ("NOTICE_COUNTRY_UNMAPPED", "/arrest_warrants/1/issuing_country_id"),
    ]
    assert {d.severity for d in result.diagnostics} == {Severity.INFO}
    assert validate_record(only(result)) == []


def test_empty_country_codes_are_absent() -> None:
    result = decode(red(nationalities=["", "FR"], country_of_birth_id=""))
    person = only(result).notice.subject
    assert [c.code for c in person.nationalities] == ["FRA"]
    assert not person.HasField("birth_place")
    assert result.diagnostics == ()


# -- entity ids ----------------------------------------------------------------------------


def test_url_form_entity_id_is_kept_canonical_with_an_info() -> None:
    result = sample("entity-id-url-form.json")
    record = only(result)
    assert record.notice.entity_id == "2011/40873"
    assert record.record_id == stable_record_id("interpol-notice", "2011/40873")
    assert codes(result) == [("NOTICE_ENTITY_ID_FORM", "/entity_id")]


def test_missing_and_malformed_entity_ids() -> None:
    result = sample("missing-entity-id.json")
    assert codes(result) == [
        ("NOTICE_ENTITY_ID_MISSING", "/_embedded/notices/0/entity_id"),
        ("NOTICE_ENTITY_ID", "/_embedded/notices/1/entity_id"),
        ("NOTICE_FIELD_TYPE", "/_embedded/notices/2"),
    ]
    first, second = result.records
    assert result.tainted_ids == {first.record_id, second.record_id}
    assert first.record_id != second.record_id
    assert first.provenance.source_reference == "missing-entity-id.json"  # no entity id to use
    assert not second.notice.entity_id


def test_a_repeated_entity_id_is_skipped_with_a_warning() -> None:
    result = decode({"_embedded": {"notices": [red(), red(name="OTHER")]}})
    assert [r.notice.subject.names[0].family for r in result.records] == ["EXAMPLE"]
    assert codes(result) == [("NOTICE_DUPLICATE_ENTITY_ID", "/_embedded/notices/1/entity_id")]
    assert result.diagnostics[0].severity is Severity.WARNING


# -- wrong types and values ----------------------------------------------------------------


def test_wrong_types_are_errors_at_their_pointer_and_decoding_goes_on() -> None:
    result = sample("bad-types.json")
    record = only(result)
    assert codes(result) == [
        ("NOTICE_FIELD_TYPE", "/date_of_birth"),
        ("NOTICE_FIELD_TYPE", "/nationalities"),
        ("NOTICE_SEX", "/sex_id"),
        ("NOTICE_LANGUAGE", "/languages_spoken_ids/1"),
        ("NOTICE_FIELD_TYPE", "/height"),
        ("NOTICE_MEASUREMENT", "/weight"),
        ("NOTICE_FIELD_TYPE", "/eyes_colors_id/1"),
        ("NOTICE_FIELD_TYPE", "/arrest_warrants"),
    ]
    assert all(d.record_ids == (record.record_id,) for d in result.diagnostics)
    person = record.notice.subject
    assert list(person.languages) == ["SWA"]
    assert list(person.physical_description.eye_colours) == ["BRO"]
    assert person.birth_place.name == "Eldoret"  # the rest is still decoded
    assert "Male" not in result.diagnostics[2].message


@pytest.mark.parametrize(
    ("fields", "pointer"),
    [
        ({"name": 12}, "/name"),
        ({"forename": ["A"]}, "/forename"),
        ({"entity_id": 201912345}, "/entity_id"),
        ({"_links": []}, "/_links"),
        ({"_links": {"self": "x"}}, "/_links/self"),
        ({"_links": {"self": {"href": 1}}}, "/_links/self/href"),
        ({"arrest_warrants": ["x"]}, "/arrest_warrants/0"),
        ({"arrest_warrants": [{"charge": 1}]}, "/arrest_warrants/0/charge"),
        ({"aliases": {}}, "/aliases"),
        ({"aliases": [1]}, "/aliases/0"),
        ({"aliases": [{"name": True}]}, "/aliases/0/name"),
        ({"aliases": [{"name": "A", "qualification": 1}]}, "/aliases/0/qualification"),
        ({"countries_likely_to_be_visited": "CL"}, "/countries_likely_to_be_visited"),
        ({"countries_likely_to_be_visited": ["CL", 1]}, "/countries_likely_to_be_visited/1"),
        ({"un_resolution": 1267}, "/un_resolution"),
        ({"summary": ["text"]}, "/summary"),
        ({"_embedded": []}, "/_embedded"),
        ({"place_of_birth": 3}, "/place_of_birth"),
        ({"sex_id": False}, "/sex_id"),
        ({"weight": "70"}, "/weight"),
    ],
)
def test_wrong_type_pointers(fields: dict[str, Any], pointer: str) -> None:
    result = decode(red(**fields))
    assert ("NOTICE_FIELD_TYPE", pointer) in codes(result)


@pytest.mark.parametrize(
    ("field", "value"),
    [("height", 178), ("height", -1.8), ("weight", 7000), ("height", True)],
)
def test_implausible_or_non_numeric_measurements_are_errors(field: str, value: Any) -> None:
    result = decode(red(**{field: value, "sex_id": "M"}))
    assert result.has_errors
    assert not only(result).notice.subject.HasField("physical_description")


def test_sex_codes() -> None:
    sexes = [only(decode(red(sex_id=code))).notice.subject.sex for code in ("M", "F", "U", None)]
    assert sexes == [
        common_pb2.SEX_MALE,
        common_pb2.SEX_FEMALE,
        common_pb2.SEX_UNSPECIFIED,
        common_pb2.SEX_UNSPECIFIED,
    ]


def test_unknown_fields_are_infos_and_decoding_goes_on() -> None:
    result = sample("unknown-fields.json")
    assert codes(result) == [
        ("NOTICE_UNKNOWN_FIELD", "/_links/print"),
        ("NOTICE_UNKNOWN_FIELD", "/arrest_warrants/0/warrant_date"),
        ("NOTICE_UNKNOWN_FIELD", "/reward"),
        ("NOTICE_UNKNOWN_FIELD", "/a~1b~0c"),
    ]
    assert not result.has_errors
    record = only(result)
    assert record.notice.arrest_warrants[0].charge == "Conspiracy to commit wire fraud"
    assert validate_record(record) == []


def test_unknown_page_fields_are_infos_naming_no_record() -> None:
    page = {"_embedded": {"notices": [red()], "extra": 1}, "cursor": "x", "total": "1"}
    result = decode(page)
    assert codes(result) == [
        ("NOTICE_UNKNOWN_FIELD", "/cursor"),
        ("NOTICE_UNKNOWN_FIELD", "/_embedded/extra"),
        ("NOTICE_FIELD_TYPE", "/total"),
    ]
    assert all(d.record_ids == () for d in result.diagnostics)
    assert not result.has_errors  # page metadata: a warning, the notices are fine


def test_embedded_links_and_foreign_image_links_are_not_carried() -> None:
    result = decode(
        red(
            sex_id="M",
            _embedded={"links": [{"href": "https://example.org"}]},
            _links={
                "self": {"href": f"{RED}/2019-12345"},
                "images": {"href": "https://example.org/elsewhere"},
            },
        )
    )
    assert codes(result) == [
        ("NOTICE_FIELD_NOT_CARRIED", "/_links/images"),
        ("NOTICE_FIELD_NOT_CARRIED", "/_embedded/links"),
    ]


@pytest.mark.parametrize(
    ("document", "pointer"),
    [
        ([], ""),
        ("notice", ""),
        (None, ""),
        ({"_embedded": {"notices": {}}}, "/_embedded/notices"),
        ({"_embedded": {"notices": [None]}}, "/_embedded/notices/0"),
    ],
)
def test_documents_of_the_wrong_shape(document: Any, pointer: str) -> None:
    result = decode(document)
    assert result.records == ()
    assert result.has_errors
    assert result.diagnostics[-1].location.json_pointer == pointer


def test_empty_search_page_has_no_records_and_no_diagnostics() -> None:
    result = decode({"total": 0, "query": {"page": 1}, "_embedded": {"notices": []}})
    assert result == DecodeResult()


def test_invalid_utf8_and_json_samples_name_no_records() -> None:
    for name, code in (("bad-utf8.json", "NOTICE_UTF8"), ("bad-json.json", "NOTICE_JSON")):
        result = sample(name)
        assert result.records == ()
        (diagnostic,) = result.diagnostics
        assert diagnostic.code == code
        assert diagnostic.location.byte_offset is not None
        assert diagnostic.location.line > 1


_DUPLICATE_PAGE = (
    b'{"_embedded": {"notices": ['
    b'{"entity_id": "2021/1", "name": "A", "forename": "B",'
    b' "_links": {"self": {"href": "https://ws-public.interpol.int/notices/v1/red/2021-1"}}},'
    b'{"entity_id": "2021/2", "name": "C", "forename": "D",'
    b' "arrest_warrants": [{"charge": "x", "charge": "y"}],'
    b' "_links": {"self": {"href": "https://ws-public.interpol.int/notices/v1/red/2021-2"}}}'
    b"]}}"
)


def test_a_repeated_key_is_an_error_naming_only_the_notice_it_is_in() -> None:
    # Before: the second charge silently replaced the first, and the notice was clean.
    result = InterpolNoticeAdapter().decode(_DUPLICATE_PAGE)
    [error] = [d for d in result.diagnostics if d.code == "NOTICE_DUPLICATE_KEY"]
    assert error.severity is Severity.ERROR
    assert error.location.json_pointer == "/_embedded/notices/1/arrest_warrants/0/charge"
    first, second = result.records
    assert error.record_ids == (second.record_id,)
    assert [r.record_id for r in result.clean] == [first.record_id]


def test_more_repeats_than_are_located_name_every_notice() -> None:
    notice = b'{"name": "A", "forename": "B", "x": {"k": 1, "k": 2}}'
    count = MAX_LOCATED_DUPLICATES + 1
    payload = b'{"_embedded": {"notices": [' + b",".join([notice] * count) + b"]}}"
    result = InterpolNoticeAdapter().configured(max_errors=10 * count).decode(payload)
    assert result.clean == ()


def test_control_characters_are_errors_at_their_pointer_and_not_kept() -> None:
    # Before: a NUL or a right-to-left override went into the record, which the gateway refuses.
    document = {
        "entity_id": "2022/1",
        "name": "IVA\u0000NOV",
        "forename": "\u202eIEGRES",
        "distinguishing_marks": "scar\r\ntattoo\tleft arm",
        "_links": {"self": {"href": "https://ws-public.interpol.int/notices/v1/red/2022-1"}},
    }
    result = InterpolNoticeAdapter().decode(json.dumps(document).encode())
    [record] = result.records
    errors = {
        d.location.json_pointer: d.message
        for d in result.diagnostics
        if d.code == FORBIDDEN_CHARACTER
    }
    assert errors == {
        "/name": "a text value must not contain U+0000 (a control character) at position 3",
        "/forename": (
            "a text value must not contain U+202E (an invisible bidi override or isolate) "
            "at position 0"
        ),
    }
    assert record.record_id in result.tainted_ids
    assert not record.notice.subject.names
    marks = record.notice.subject.physical_description.distinguishing_marks
    assert marks == "scar\r\ntattoo\tleft arm"  # free text keeps its lines
