"""Record validation rules, one by one, and a property: validation never raises."""

from __future__ import annotations

import pytest
from hypothesis import given

from liaison.rules.validation import validate_record
from liaison.v1 import common_pb2, manifest_pb2, notice_pb2, record_pb2, seizure_pb2
from tests.support.contract_strategies import messages, reproducible_settings
from tests.support.factories import person, set_path, travel_document


def fields_refused(record: record_pb2.Record) -> set[str]:
    return {violation.field for violation in validate_record(record)}


def test_the_factories_build_valid_records() -> None:
    assert validate_record(person("P-1")) == []
    assert validate_record(travel_document("D-1")) == []


@pytest.mark.parametrize(
    ("date", "refused"),
    [
        ((2000, 2, 29), set()),  # leap year
        ((1900, 2, 29), {"person.birth_date.day"}),  # not a leap year
        ((1975, 0, 0), set()),
        ((1975, 12, 0), set()),
        ((1975, 0, 5), {"person.birth_date.day"}),  # a day needs a month
        ((0, 3, 0), {"person.birth_date.year"}),
        ((10000, 1, 1), {"person.birth_date.year"}),
        ((1975, 13, 0), {"person.birth_date.month"}),
        ((1975, 4, 31), {"person.birth_date.day"}),
    ],
)
def test_partial_dates(date: tuple[int, int, int], refused: set[str]) -> None:
    assert fields_refused(person("P-1", birth=date)) == refused


@pytest.mark.parametrize(
    ("code", "system", "raw", "refused"),
    [
        ("FRA", common_pb2.COUNTRY_CODE_SYSTEM_ISO3166_ALPHA3, "", set()),
        ("FRA", common_pb2.COUNTRY_CODE_SYSTEM_UNSPECIFIED, "FR", set()),
        ("D", common_pb2.COUNTRY_CODE_SYSTEM_ICAO9303, "D<<", set()),
        ("XXA", common_pb2.COUNTRY_CODE_SYSTEM_ICAO9303, "", set()),
        ("XPO", common_pb2.COUNTRY_CODE_SYSTEM_UNSPECIFIED, "", set()),
        ("", common_pb2.COUNTRY_CODE_SYSTEM_UNMAPPED, "914", set()),
        ("", common_pb2.COUNTRY_CODE_SYSTEM_UNMAPPED, "", {"raw"}),
        ("", common_pb2.COUNTRY_CODE_SYSTEM_ISO3166_ALPHA3, "", {"code"}),
        ("FR", common_pb2.COUNTRY_CODE_SYSTEM_ISO3166_ALPHA3, "", {"code"}),
        ("XXA", common_pb2.COUNTRY_CODE_SYSTEM_ISO3166_ALPHA3, "", {"system"}),
        ("FRA", common_pb2.COUNTRY_CODE_SYSTEM_ICAO9303, "", {"system"}),
        ("FRA", 17, "", {"system"}),
    ],
)
def test_country_codes(code: str, system: int, raw: str, refused: set[str]) -> None:
    record = person("P-1")
    nationality = record.person.nationalities[0]
    nationality.Clear()
    for name, value in (("code", code), ("system", system), ("raw", raw)):
        set_path(nationality, name, value)
    assert fields_refused(record) == {f"person.nationalities[0].{f}" for f in refused}


def seizure(**changes: object) -> record_pb2.Record:
    record = record_pb2.Record(record_id="S-1")
    body = record.seizure
    body.commodity_category = seizure_pb2.COMMODITY_CATEGORY_DRUGS
    body.date.year = 2026
    body.hs_code = "121190"
    body.quantity.amount, body.quantity.unit = "12.500", "KGM"
    for key, value in changes.items():
        set_path(body, key.replace("__", "."), value)
    return record


@pytest.mark.parametrize(
    ("changes", "refused"),
    [
        ({}, set()),
        ({"hs_code": "12119000"}, set()),
        ({"hs_code": "1211900012"}, set()),
        ({"hs_code": "1211"}, {"seizure.hs_code"}),
        ({"hs_code": "12119O"}, {"seizure.hs_code"}),
        ({"quantity__amount": "12,5"}, {"seizure.quantity.amount"}),
        ({"quantity__amount": "-3"}, {"seizure.quantity.amount"}),
        ({"quantity__unit": "kilo"}, {"seizure.quantity.unit"}),
        ({"commodity_category": 0}, {"seizure.commodity_category"}),
        ({"date__year": 0}, {"seizure.date"}),
    ],
)
def test_seizures(changes: dict[str, object], refused: set[str]) -> None:
    assert fields_refused(seizure(**changes)) == refused


@pytest.mark.parametrize(
    ("changes", "refused"),
    [
        ({"notice_type": 1}, set()),
        ({}, {"notice.notice_type"}),
        ({"notice_type": 1, "entity_id": "2019-1"}, {"notice.entity_id"}),
        (
            {"notice_type": 2, "subject.birth_date.year": 1980, "subject.birth_date.month": 14},
            {"notice.subject.birth_date.month"},
        ),
    ],
)
def test_notices(changes: dict[str, object], refused: set[str]) -> None:
    record = record_pb2.Record(record_id="N-1")
    record.notice.entity_id = "2019/12345"
    record.notice.subject.names.add(family="DOE")
    for path, value in changes.items():
        set_path(record.notice, path, value)
    assert fields_refused(record) == refused


def test_country_codes_in_the_newer_fields_are_checked_like_the_others() -> None:
    """Fields added to the contract later (countries likely to be visited, addresses, leg places)
    are validated by the same descriptor-driven plans: a bad code is refused where it sits."""
    notice = record_pb2.Record(record_id="N-1")
    notice.notice.notice_type = notice_pb2.NOTICE_TYPE_YELLOW
    notice.notice.subject.names.add(family="DOE")
    notice.notice.countries_likely_to_be_visited.add(
        code="CHL", system=common_pb2.COUNTRY_CODE_SYSTEM_ISO3166_ALPHA3
    )
    notice.notice.countries_likely_to_be_visited.add(
        code="cl", system=common_pb2.COUNTRY_CODE_SYSTEM_ISO3166_ALPHA3
    )
    traveller = person("P-1")
    traveller.person.addresses.add(city="LYON").country.CopyFrom(
        common_pb2.CountryCode(system=common_pb2.COUNTRY_CODE_SYSTEM_UNMAPPED)
    )
    manifest = record_pb2.Record(record_id="M-1")
    manifest.passenger_manifest.manifest_type = manifest_pb2.MANIFEST_TYPE_PASSENGER
    manifest.passenger_manifest.flight_number = "XX123"
    manifest.passenger_manifest.final_destination.country.CopyFrom(
        common_pb2.CountryCode(code="FRA", system=common_pb2.COUNTRY_CODE_SYSTEM_ICAO9303)
    )

    assert fields_refused(notice) == {"notice.countries_likely_to_be_visited[1].code"}
    assert fields_refused(traveller) == {"person.addresses[0].country.raw"}
    assert fields_refused(manifest) == {"passenger_manifest.final_destination.country.system"}


def test_a_notice_subject_needs_an_identifying_element() -> None:
    record = record_pb2.Record(record_id="N-1")
    record.notice.notice_type = notice_pb2.NOTICE_TYPE_YELLOW
    record.notice.subject.sex = common_pb2.SEX_MALE
    assert fields_refused(record) == {"notice.subject.names"}


def _anonymous(record_id: str = "P-1") -> record_pb2.Record:
    """A person with a sex and a nationality but nothing that identifies them."""
    record = record_pb2.Record(record_id=record_id)
    record.person.sex = common_pb2.SEX_FEMALE
    record.person.nationalities.add(
        code="FRA", system=common_pb2.COUNTRY_CODE_SYSTEM_ISO3166_ALPHA3
    )
    return record


def test_a_person_without_any_identifying_element_is_refused() -> None:
    (violation,) = validate_record(_anonymous())
    assert violation.field == "person.names"
    for element in ("name", "birth date", "document link", "biometric reference"):
        assert element in violation.description


def test_a_person_is_identified_by_a_name_alone() -> None:
    record = _anonymous()
    record.person.names.add(full="JANE DOE")
    assert validate_record(record) == []


@pytest.mark.parametrize("year_only", [True, False])
def test_a_person_without_a_name_is_identified_by_a_birth_date(year_only: bool) -> None:
    record = _anonymous()
    date = record.person.birth_date if year_only else record.person.alternative_birth_dates.add()
    date.year = 1975
    assert validate_record(record) == []


def test_a_birth_date_without_its_year_does_not_identify() -> None:
    record = _anonymous()
    record.person.alternative_birth_dates.add()
    assert fields_refused(record) == {"person.names"}


def test_a_person_without_a_name_is_identified_by_an_identifier() -> None:
    record = _anonymous()
    record.person.identifiers.add(scheme="FBI_NUMBER", value="123456AB7")
    assert validate_record(record) == []
    record.person.identifiers[0].value = ""
    assert fields_refused(record) == {"person.names"}


@pytest.mark.parametrize("link", [record_pb2.LINK_TYPE_DOCUMENT, record_pb2.LINK_TYPE_HOLDER])
def test_a_person_without_a_name_is_identified_by_a_document_link(link: int) -> None:
    record = _anonymous()
    record.links.add(type=link, target_record_id="D-1")
    assert validate_record(record) == []


def test_other_links_do_not_identify_a_person() -> None:
    record = _anonymous()
    record.links.add(type=record_pb2.LINK_TYPE_SAME_AS, target_record_id="P-2")
    assert fields_refused(record) == {"person.names"}


def test_a_person_without_a_name_is_identified_by_an_ansi_nist_source() -> None:
    """A Type-2 record's IDC ties the person to the transaction's biometric records."""
    record = _anonymous()
    record.provenance.nist.idc = 1
    assert validate_record(record) == []


@pytest.mark.parametrize(
    "element",
    ["birth_date", "nationality", "image", "identifier"],
)
def test_a_notice_subject_without_a_name_is_valid_with_another_element(element: str) -> None:
    record = record_pb2.Record(record_id="N-1")
    record.notice.notice_type = notice_pb2.NOTICE_TYPE_RED
    record.notice.entity_id = "2024/51002"
    subject = record.notice.subject
    subject.sex = common_pb2.SEX_MALE
    if element == "birth_date":
        subject.birth_date.year = 1999
    elif element == "nationality":
        subject.nationalities.add(code="GBR", system=common_pb2.COUNTRY_CODE_SYSTEM_ISO3166_ALPHA3)
    elif element == "image":
        record.notice.image_uris.append("https://ws-public.interpol.int/notices/v1/red/x/images")
    else:
        subject.identifiers.add(scheme="PASSPORT", value="X1234567")
    assert validate_record(record) == []


def test_a_nationality_identifies_a_notice_subject_but_not_a_person_record() -> None:
    assert fields_refused(_anonymous()) == {"person.names"}


def test_manifest_travellers_reference_valid_record_ids() -> None:
    record = record_pb2.Record(record_id="M-1")
    manifest = record.passenger_manifest
    manifest.manifest_type = manifest_pb2.MANIFEST_TYPE_PASSENGER
    manifest.flight_number = "XX123"
    manifest.travellers.add(
        role=manifest_pb2.TRAVELLER_ROLE_PASSENGER,
        person_record_id="P-1",
        document_record_ids=["D-1", "bad id"],
    )
    manifest.travellers.add(person_record_id="P-2")
    assert fields_refused(record) == {
        "passenger_manifest.travellers[0].document_record_ids[1]",
        "passenger_manifest.travellers[1].role",
    }


def test_vehicles_and_cultural_objects_need_an_identity() -> None:
    vehicle = record_pb2.Record(record_id="V-1")
    vehicle.vehicle.colour = "red"
    assert fields_refused(vehicle) == {"vehicle.identification_number"}
    vehicle.vehicle.registration_number = "AB-123-CD"
    assert fields_refused(vehicle) == set()
    item = record_pb2.Record(record_id="C-1")
    item.cultural_object.title = "Untitled"
    assert fields_refused(item) == {"cultural_object.object_type"}
    item.cultural_object.object_type = "painting"
    assert fields_refused(item) == set()


def test_physical_description_and_languages() -> None:
    record = person("P-1")
    record.person.physical_description.height_m = float("nan")
    record.person.physical_description.weight_kg = -1
    record.person.languages.extend(["ENG", "english"])
    record.person.names[0].script = "latin"
    assert fields_refused(record) == {
        "person.physical_description.height_m",
        "person.physical_description.weight_kg",
        "person.languages[1]",
        "person.names[0].script",
    }


def test_timestamps_and_provenance() -> None:
    record = person("P-1")
    record.provenance.received_at.nanos = 1_000_000_000
    record.provenance.payload_sha256 = b"short"
    record.provenance.originating_centre = "lyon"
    assert fields_refused(record) == {
        "provenance.received_at.nanos",
        "provenance.payload_sha256",
        "provenance.originating_centre",
    }


@reproducible_settings(max_examples=150)
@given(messages(record_pb2.Record, max_depth=4))
def test_validation_never_raises_on_any_record(record: record_pb2.Record) -> None:
    violations = validate_record(record)
    assert all(v.field and v.description for v in violations)


def test_violations_never_quote_the_date_they_refuse() -> None:
    record = person("P-1")
    record.person.birth_date.year, record.person.birth_date.month = 1975, 2
    record.person.birth_date.day = 30
    [violation] = validate_record(record)
    assert violation.field == "person.birth_date.day"
    assert violation.description == "is past the end of its month"
    assert "1975" not in violation.description
