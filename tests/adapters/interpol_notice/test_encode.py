"""Encoding notice records as the API's JSON, and saying what the shape cannot carry."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from adapters.base import EncodeResult, stable_record_id
from adapters.diagnostics import Severity
from adapters.interpol_notice import InterpolNoticeAdapter
from liaison.v1 import common_pb2, notice_pb2, person_pb2, record_pb2

SAMPLES = Path(__file__).parent / "samples"
RED = "https://ws-public.interpol.int/notices/v1/red"


def notice_record(entity: str = "2019/12345", **notice: Any) -> record_pb2.Record:
    record = record_pb2.Record(record_id=stable_record_id("interpol-notice", entity))
    record.notice.CopyFrom(
        notice_pb2.Notice(
            notice_type=notice_pb2.NOTICE_TYPE_RED,
            entity_id=entity,
            subject=person_pb2.Person(
                names=[common_pb2.Name(type=common_pb2.NAME_TYPE_PRIMARY, family="EXAMPLE")]
            ),
            **notice,
        )
    )
    return record


def encode(*records: record_pb2.Record) -> tuple[Any, EncodeResult]:
    result = InterpolNoticeAdapter().encode(records)
    return json.loads(result.payload), result


def warnings(result: EncodeResult) -> list[tuple[str, str]]:
    return [(d.code, d.location.json_pointer) for d in result.diagnostics]


def test_one_record_is_a_red_detail_document_with_every_field_of_its_kind() -> None:
    document, result = encode(notice_record())
    assert result.diagnostics == ()
    # [API] RedNoticeDetail: every field present, null when unknown.
    assert document == {
        "entity_id": "2019/12345",
        "name": "EXAMPLE",
        "forename": None,
        "date_of_birth": None,
        "nationalities": [],
        "_links": {
            "self": {"href": f"{RED}/2019-12345"},
            "images": {"href": f"{RED}/2019-12345/images"},
        },
        "sex_id": None,
        "country_of_birth_id": None,
        "place_of_birth": None,
        "languages_spoken_ids": None,
        "height": None,
        "weight": None,
        "eyes_colors_id": None,
        "hairs_id": None,
        "distinguishing_marks": None,
        "arrest_warrants": [],
        "_embedded": {"links": []},
    }


def test_several_records_are_a_search_page_of_summaries() -> None:
    first = notice_record("2019/1")
    second = notice_record("2019/2")
    second.notice.subject.sex = common_pb2.SEX_FEMALE
    document, result = encode(first, second)
    assert result.diagnostics == ()
    assert document["total"] == 2
    assert document["query"] == {"page": 1, "resultPerPage": 2}
    assert document["_links"]["self"]["href"] == f"{RED}?page=1&resultPerPage=2"
    items = document["_embedded"]["notices"]
    assert [item["entity_id"] for item in items] == ["2019/1", "2019/2"]
    summary = ["entity_id", "name", "forename", "date_of_birth", "nationalities", "_links"]
    assert list(items[0]) == summary
    assert list(items[1]) == [*summary, "sex_id"]  # detail fields only where they hold a value
    assert items[1]["sex_id"] == "F"


def test_a_page_of_mixed_kinds_has_no_page_link() -> None:
    yellow = notice_record("2019/2")
    yellow.notice.notice_type = notice_pb2.NOTICE_TYPE_YELLOW
    document, _ = encode(notice_record("2019/1"), yellow)
    assert "_links" not in document
    assert document["_embedded"]["notices"][1]["_links"]["self"]["href"].startswith(
        "https://ws-public.interpol.int/notices/v1/yellow/"
    )


def test_no_records_is_an_empty_page() -> None:
    document, result = encode()
    assert document == {
        "total": 0,
        "query": {"page": 1, "resultPerPage": 0},
        "_embedded": {"notices": []},
    }
    assert result.diagnostics == ()


def test_charge_translation_null_and_empty_are_written_apart() -> None:
    record = notice_record(
        arrest_warrants=[
            notice_pb2.ArrestWarrant(charge="A"),
            notice_pb2.ArrestWarrant(charge="B", charge_translation=""),
            notice_pb2.ArrestWarrant(
                charge="C",
                charge_translation="c",
                issuing_country=common_pb2.CountryCode(code="PER"),
            ),
        ]
    )
    document, _ = encode(record)
    assert document["arrest_warrants"] == [
        {"charge": "A", "issuing_country_id": None, "charge_translation": None},
        {"charge": "B", "issuing_country_id": None, "charge_translation": ""},
        {"charge": "C", "issuing_country_id": "PE", "charge_translation": "c"},
    ]


def test_dates_countries_and_measurements_in_the_api_form() -> None:
    record = notice_record()
    person = record.notice.subject
    person.birth_date.CopyFrom(common_pb2.PartialDate(year=1990, month=4))
    person.nationalities.extend(
        [
            common_pb2.CountryCode(
                code="FRA", system=common_pb2.COUNTRY_CODE_SYSTEM_ISO3166_ALPHA3
            ),
            common_pb2.CountryCode(raw="914", system=common_pb2.COUNTRY_CODE_SYSTEM_UNMAPPED),
            common_pb2.CountryCode(code="D", system=common_pb2.COUNTRY_CODE_SYSTEM_ICAO9303),
        ]
    )
    person.physical_description.height_m = 1.825
    person.physical_description.weight_kg = 68.0
    document, result = encode(record)
    assert document["date_of_birth"] == "1990/04"
    assert document["nationalities"] == ["FR", "914", "DE"]
    assert document["height"] == 1.825
    assert document["weight"] == 68
    assert isinstance(document["weight"], int)  # as the API writes it
    assert result.diagnostics == ()


def test_original_script_names_go_to_their_own_fields() -> None:
    record = notice_record()
    record.notice.notice_type = notice_pb2.NOTICE_TYPE_UN
    del record.notice.subject.names[:]
    name = record.notice.subject.names.add(
        type=common_pb2.NAME_TYPE_PRIMARY, family="ولد بهايا", script="Arab"
    )
    name.transliteration.family = "OULD BAHAYA"
    record.notice.subject.names.add(type=common_pb2.NAME_TYPE_BIRTH, family="BIRTH")
    document, result = encode(record)
    assert result.diagnostics == ()
    assert (document["name"], document["name_in_original_script"]) == ("OULD BAHAYA", "ولد بهايا")
    assert document["name_at_birth"] == "BIRTH"
    assert document["_links"]["self"]["href"].endswith("/notices/v1/un/persons/2019-12345")


def test_alternative_birth_dates_become_aliases_of_their_own() -> None:
    record = notice_record()
    record.notice.subject.names.add(type=common_pb2.NAME_TYPE_ALIAS, given="ALIAS")
    record.notice.subject.alternative_birth_dates.add(year=1969)
    document, _ = encode(record)
    keys = ("name", "forename", "date_of_birth", "name_in_original_script")
    empty = dict.fromkeys((*keys, "forename_in_original_script", "qualification"))
    assert document["aliases"] == [
        {**empty, "forename": "ALIAS"},
        {**empty, "date_of_birth": "1969"},
    ]


def test_yellow_detail_writes_countries_likely_to_be_visited_as_nationalities_are() -> None:
    record = notice_record(
        countries_likely_to_be_visited=[
            common_pb2.CountryCode(
                code="CHL", system=common_pb2.COUNTRY_CODE_SYSTEM_ISO3166_ALPHA3, raw="CL"
            ),
            common_pb2.CountryCode(raw="914", system=common_pb2.COUNTRY_CODE_SYSTEM_UNMAPPED),
        ]
    )
    record.notice.notice_type = notice_pb2.NOTICE_TYPE_YELLOW
    document, result = encode(record)
    assert result.diagnostics == ()
    assert document["countries_likely_to_be_visited"] == ["CL", "914"]


def test_un_detail_writes_resolution_summary_and_alias_qualifications() -> None:
    record = notice_record(un_resolution="1267 (1999)", summary=" Listed.\r\nReasons. ")
    record.notice.notice_type = notice_pb2.NOTICE_TYPE_UN
    person = record.notice.subject
    person.names.add(
        type=common_pb2.NAME_TYPE_ALIAS, family="ALIAS", qualification="Good quality a.k.a."
    )
    person.names.add(type=common_pb2.NAME_TYPE_ALIAS, given="OTHER")
    person.alternative_birth_dates.add(year=1969)
    document, result = encode(record)
    assert result.diagnostics == ()
    assert (document["un_resolution"], document["summary"]) == (
        "1267 (1999)",
        " Listed.\r\nReasons. ",
    )
    assert [alias["qualification"] for alias in document["aliases"]] == [
        "Good quality a.k.a.",
        None,  # unstated
        None,  # the alias that carries another date of birth qualifies no name
    ]


@pytest.mark.parametrize(
    ("notice_type", "always"),
    [
        (notice_pb2.NOTICE_TYPE_YELLOW, {"countries_likely_to_be_visited"}),
        (notice_pb2.NOTICE_TYPE_UN, {"un_resolution", "summary"}),
        (notice_pb2.NOTICE_TYPE_RED, set()),
    ],
)
def test_detail_documents_have_the_new_fields_of_their_kind_null_when_unknown(
    notice_type: int, always: set[str]
) -> None:
    """[YELLOW], [UN]: a detail document has every field of its kind; the others when set."""
    record = notice_record()
    record.notice.notice_type = notice_type  # type: ignore[assignment]
    document, result = encode(record)
    assert result.diagnostics == ()
    new_fields = {"countries_likely_to_be_visited", "un_resolution", "summary"}
    assert new_fields & document.keys() == always
    assert all(document[key] is None for key in always)


def test_page_items_carry_the_new_fields_only_when_set() -> None:
    first = notice_record("2019/1")
    second = notice_record("2019/2", un_resolution="1267 (1999)", summary="S")
    second.notice.countries_likely_to_be_visited.add(
        code="URY", system=common_pb2.COUNTRY_CODE_SYSTEM_ISO3166_ALPHA3
    )
    document, result = encode(first, second)
    assert result.diagnostics == ()
    items = document["_embedded"]["notices"]
    new_fields = {"countries_likely_to_be_visited", "un_resolution", "summary"}
    assert not new_fields & items[0].keys()
    assert {key: items[1][key] for key in new_fields} == {
        "countries_likely_to_be_visited": ["UY"],
        "un_resolution": "1267 (1999)",
        "summary": "S",
    }


def test_a_qualification_on_a_name_other_than_an_alias_is_a_warning() -> None:
    record = notice_record()
    record.notice.notice_type = notice_pb2.NOTICE_TYPE_UN
    person = record.notice.subject
    person.names[0].qualification = "Good quality a.k.a."
    person.names.add(type=common_pb2.NAME_TYPE_BIRTH, family="BIRTH", qualification="Q")
    person.mother_names.add(family="MOTHER", qualification="Q")
    document, result = encode(record)
    assert warnings(result) == [
        ("NOTICE_ENCODE_NOT_CARRIED", "/name"),
        ("NOTICE_ENCODE_NOT_CARRIED", "/name_at_birth"),
        ("NOTICE_ENCODE_NOT_CARRIED", "/mother_name"),
    ]
    assert (document["name"], document["name_at_birth"]) == ("EXAMPLE", "BIRTH")


def test_new_fields_survive_decode_encode_decode() -> None:
    """Decode -> encode -> decode keeps them, a non-ISO country and null ones included."""
    source = {
        "entity_id": "2019/12345",
        "name": "EXAMPLE",
        "nationalities": ["FR"],
        "countries_likely_to_be_visited": ["CL", "914"],
        "un_resolution": "1267 (1999)",
        "summary": " As written.\n",
        "aliases": [
            {"name": "ALIAS", "qualification": "Low quality a.k.a.", "date_of_birth": "1969"},
            {"forename": "OTHER", "qualification": None},
        ],
        "_links": {"self": {"href": "https://ws-public.interpol.int/notices/v1/un/persons/2019-1"}},
    }
    adapter = InterpolNoticeAdapter()
    first = adapter.decode(json.dumps(source).encode())
    encoded = adapter.encode(first.records)
    assert encoded.diagnostics == ()
    second = adapter.decode(encoded.payload)
    assert not second.has_errors
    (before,), (after,) = first.records, second.records
    before.ClearField("provenance")
    after.ClearField("provenance")
    assert after == before
    notice = after.notice
    assert [c.raw for c in notice.countries_likely_to_be_visited] == ["CL", "914"]
    assert (notice.un_resolution, notice.summary) == ("1267 (1999)", " As written.\n")
    assert [n.qualification for n in notice.subject.names] == ["", "Low quality a.k.a.", ""]


def test_what_a_notice_cannot_carry_is_a_warning_naming_the_record() -> None:
    record = notice_record()
    record.handling.code = record_pb2.HANDLING_CODE_H2
    record.links.add(type=record_pb2.LINK_TYPE_SUBJECT, target_record_id="person-1")
    person = record.notice.subject
    person.names[0].middle = "MIDDLE"
    person.names.add(type=common_pb2.NAME_TYPE_FORMER, family="FORMER")
    person.names.add(type=common_pb2.NAME_TYPE_PRIMARY, family="SECOND")
    person.identifiers.add(scheme="NATIONAL_ID", value="X")
    person.residence_country.code = "FRA"
    person.addresses.add(city="LYON")
    person.sex = common_pb2.SEX_X
    person.physical_description.other = "tall"
    person.physical_description.height_m = float("nan")
    person.birth_place.unlocode = "FRLYS"
    person.nationalities.add(code="XXA", system=common_pb2.COUNTRY_CODE_SYSTEM_ICAO9303)
    person.father_names.add(family="A")
    person.father_names.add(family="B")
    record.notice.image_uris.extend(["a", "b"])
    record.notice.source_uri = "https://example.org/notice/1"
    document, result = encode(record)
    assert {d.severity for d in result.diagnostics} == {Severity.WARNING}
    assert {d.code for d in result.diagnostics} == {"NOTICE_ENCODE_NOT_CARRIED"}
    assert all(d.record_ids == (record.record_id,) for d in result.diagnostics)
    assert sorted(d.location.json_pointer for d in result.diagnostics) == sorted(
        [
            "/name",  # middle name
            "/name",  # former name
            "/name",  # second primary name
            "/father_name",
            "/entity_id",  # identifiers
            "/entity_id",  # residence country
            "/entity_id",  # addresses
            "/sex_id",
            "/distinguishing_marks",
            "/height",
            "/country_of_birth_id",
            "/nationalities/0",
            "/_links",  # second image
            "/_links/self",  # a URL that does not name the notice's kind
            "",  # handling
            "",  # links
        ]
    )
    assert document["name"] == "EXAMPLE"
    assert document["height"] is None
    assert document["sex_id"] is None
    assert document["_links"]["self"]["href"] == f"{RED}/2019-12345"
    assert document["_links"]["thumbnail"] == {"href": "a"}


def test_records_that_cannot_be_notices_are_errors() -> None:
    person = record_pb2.Record(record_id="person-1", person=person_pb2.Person())
    untyped = notice_record("2019/2")
    untyped.notice.notice_type = notice_pb2.NOTICE_TYPE_UNSPECIFIED
    unidentified = notice_record("")
    malformed = notice_record("19-3")
    document, result = encode(notice_record("2019/1"), person, untyped, unidentified, malformed)
    found = [(d.code, d.location.json_pointer, d.record_ids) for d in result.diagnostics]
    assert found == [
        ("NOTICE_ENCODE_BODY", "", ("person-1",)),
        ("NOTICE_ENCODE_TYPE", "/_embedded/notices/1/_links", (untyped.record_id,)),
        ("NOTICE_ENCODE_ENTITY_ID", "/_embedded/notices/2/entity_id", (unidentified.record_id,)),
        ("NOTICE_ENCODE_ENTITY_ID", "/_embedded/notices/3/entity_id", (malformed.record_id,)),
    ]
    assert {d.severity for d in result.diagnostics} == {Severity.ERROR}
    assert len(document["_embedded"]["notices"]) == 4
    assert "_links" not in document  # the kinds differ


def test_a_single_non_notice_record_is_an_empty_page_with_an_error() -> None:
    document, result = encode(record_pb2.Record(record_id="p", person=person_pb2.Person()))
    assert document["_embedded"]["notices"] == []
    assert result.has_errors


def test_encoding_is_deterministic_and_utf8() -> None:
    payload = (SAMPLES / "un-detail.json").read_bytes()
    adapter = InterpolNoticeAdapter()
    records = adapter.decode(payload).records
    first, second = adapter.encode(records).payload, adapter.encode(records).payload
    assert first == second
    assert "ولد بهايا".encode() in first  # UTF-8, not \u escapes


@pytest.mark.parametrize("name", ["red-detail.json", "yellow-detail.json", "un-detail.json"])
def test_detail_samples_are_written_back_with_the_same_fields(name: str) -> None:
    """What was read is written back; fields the contract does not carry are left out.

    Aliases are written in the contract's shape (another date of birth is an alias of its own,
    without the alias fields it does not carry); they are tested on their own.
    """
    source = json.loads((SAMPLES / name).read_text(encoding="utf-8"))
    adapter = InterpolNoticeAdapter()
    written = json.loads(
        adapter.encode(adapter.decode(json.dumps(source).encode()).records).payload
    )
    not_carried = {
        "issuing_country",
        "purposes",
        "identity_documents",
        "associates",
        "adresses",
        "aliases",
    }
    for key, value in source.items():
        if key in not_carried:
            continue
        if key == "weight" and value == 0:
            value = None  # the API's "unknown"
        if key in ("father_forename",) and value == "-":
            value = None
        assert written[key] == value, key
