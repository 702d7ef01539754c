"""Hypothesis strategies and payload builders for the interpol-notice tests.

``notice_records`` draws Notice records in the form the adapter decodes to (so that encode ->
decode must give them back exactly); ``result_page`` builds a representative search page.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

from hypothesis import strategies as st

from adapters.base import stable_record_id
from adapters.interpol_notice.decode import RECORD_ID_PREFIX
from adapters.interpol_notice.values import detect_script, is_absent_name, notice_href
from liaison.codes import ISO_ALPHA2_TO_ALPHA3
from liaison.rules.text import forbidden_in
from liaison.v1 import common_pb2, notice_pb2, person_pb2, record_pb2

__all__ = ["notice_records", "result_page"]

_ISO = common_pb2.COUNTRY_CODE_SYSTEM_ISO3166_ALPHA3
_UNMAPPED = common_pb2.COUNTRY_CODE_SYSTEM_UNMAPPED
_NOTICE_TYPES = (
    notice_pb2.NOTICE_TYPE_RED,
    notice_pb2.NOTICE_TYPE_YELLOW,
    notice_pb2.NOTICE_TYPE_UN,
    notice_pb2.NOTICE_TYPE_BLUE,
)
_SEXES = (common_pb2.SEX_UNSPECIFIED, common_pb2.SEX_MALE, common_pb2.SEX_FEMALE)

# Any character a record's text may hold (liaison.rules.text): the others are refused at decode.
_characters = st.characters(exclude_categories=("Cc", "Cs")).filter(
    lambda character: forbidden_in(character) is None
)
texts = st.text(_characters, max_size=24)
name_parts = st.text(_characters, min_size=1, max_size=16).filter(
    lambda text: not is_absent_name(text)
)
script_parts = st.text(
    alphabet=st.sampled_from("абвгдежзийклмнопрстуфхцчшщыэюяابتثجحخدذرزسشصضطظعغفقكلمنهوي "),
    min_size=1,
    max_size=12,
).filter(lambda text: not is_absent_name(text))
maybe_name = st.one_of(st.just(""), name_parts)


@st.composite
def partial_dates(draw: st.DrawFn) -> common_pb2.PartialDate:
    year = draw(st.integers(1, 9999))
    precision = draw(st.sampled_from(("year", "month", "day")))
    if precision == "year":
        return common_pb2.PartialDate(year=year)
    month = draw(st.integers(1, 12))
    if precision == "month":
        return common_pb2.PartialDate(year=year, month=month)
    return common_pb2.PartialDate(year=year, month=month, day=draw(st.integers(1, 28)))


iso_countries = st.sampled_from(sorted(ISO_ALPHA2_TO_ALPHA3)).map(
    lambda alpha2: common_pb2.CountryCode(
        code=ISO_ALPHA2_TO_ALPHA3[alpha2], system=_ISO, raw=alpha2
    )
)
unmapped_countries = (
    st.text(_characters, min_size=1, max_size=4)
    .filter(lambda raw: raw not in ISO_ALPHA2_TO_ALPHA3)
    .map(lambda raw: common_pb2.CountryCode(system=_UNMAPPED, raw=raw))
)
countries = st.one_of(iso_countries, unmapped_countries)


@st.composite
def latin_names(draw: st.DrawFn, name_type: int, *, with_given: bool = True) -> common_pb2.Name:
    family = draw(maybe_name)
    given = draw(maybe_name) if with_given else ""
    if not (family or given):
        family = draw(name_parts)
    return common_pb2.Name(type=name_type, family=family, given=given)  # type: ignore[arg-type]


@st.composite
def script_names(draw: st.DrawFn, name_type: int) -> common_pb2.Name:
    """A name in its original script, with (or without) its Latin form."""
    family = draw(st.one_of(st.just(""), script_parts))
    given = draw(st.one_of(st.just(""), script_parts))
    if not (family or given):
        family = draw(script_parts)
    name = common_pb2.Name(
        type=name_type,  # type: ignore[arg-type]
        family=family,
        given=given,
        script=detect_script(family + given),
    )
    latin_family, latin_given = draw(maybe_name), draw(maybe_name)
    if latin_family or latin_given:
        name.transliteration.family = latin_family
        name.transliteration.given = latin_given
    return name


def any_name(name_type: int) -> st.SearchStrategy[common_pb2.Name]:
    return st.one_of(latin_names(name_type), script_names(name_type))


@st.composite
def places(draw: st.DrawFn) -> common_pb2.Place | None:
    name = draw(texts)
    country = draw(st.none() | countries)
    if not name and country is None:
        return None
    place = common_pb2.Place(name=name)
    if country is not None:
        place.country.CopyFrom(country)
    return place


@st.composite
def physical_descriptions(draw: st.DrawFn) -> person_pb2.PhysicalDescription | None:
    physical = person_pb2.PhysicalDescription(
        height_m=draw(st.sampled_from((0.0, 1.5, 1.78, 1.825, 2.0)) | st.floats(0.3, 3.0)),
        weight_kg=draw(st.sampled_from((0.0, 68.0, 66.5)) | st.floats(1.0, 700.0)),
        eye_colours=draw(st.lists(st.sampled_from(("BLU", "BRO", "BROH", "GRE", "OTHD")))),
        hair_colours=draw(st.lists(st.sampled_from(("BLA", "BRO", "GRY", "OTHD")))),
        distinguishing_marks=draw(texts),
    )
    if physical == person_pb2.PhysicalDescription():
        return None
    return physical


@st.composite
def warrants(draw: st.DrawFn) -> notice_pb2.ArrestWarrant:
    warrant = notice_pb2.ArrestWarrant(charge=draw(texts))
    country = draw(st.none() | countries)
    if country is not None:
        warrant.issuing_country.CopyFrom(country)
    translation = draw(st.none() | texts)
    if translation is not None:  # null and "" are different: both must survive
        warrant.charge_translation = translation
    return warrant


@st.composite
def notice_record(draw: st.DrawFn, entity: str) -> record_pb2.Record:
    notice_type = draw(st.sampled_from(_NOTICE_TYPES))
    record = record_pb2.Record(record_id=stable_record_id(RECORD_ID_PREFIX, entity))
    notice = record.notice
    notice.notice_type = notice_type
    notice.entity_id = entity
    notice.source_uri = notice_href(notice_type, entity) or ""
    notice.image_uris.extend(draw(st.lists(texts, max_size=1)))
    person = notice.subject
    person.names.append(draw(any_name(common_pb2.NAME_TYPE_PRIMARY)))
    person.names.extend(
        draw(st.lists(latin_names(common_pb2.NAME_TYPE_BIRTH, with_given=False), max_size=2))
    )
    for alias in draw(st.lists(any_name(common_pb2.NAME_TYPE_ALIAS), max_size=2)):
        alias.qualification = draw(texts)  # only aliases are qualified in a notice
        person.names.append(alias)
    person.alternative_birth_dates.extend(draw(st.lists(partial_dates(), max_size=2)))
    birth_date = draw(st.none() | partial_dates())
    if birth_date is not None:
        person.birth_date.CopyFrom(birth_date)
    person.nationalities.extend(draw(st.lists(countries, max_size=3)))
    person.sex = draw(st.sampled_from(_SEXES))
    birth_place = draw(places())
    if birth_place is not None:
        person.birth_place.CopyFrom(birth_place)
    person.languages.extend(draw(st.lists(st.from_regex(r"[A-Z]{3}", fullmatch=True), max_size=3)))
    physical = draw(physical_descriptions())
    if physical is not None:
        person.physical_description.CopyFrom(physical)
    person.occupation = draw(texts)
    for parents in (person.father_names, person.mother_names):
        parents.extend(draw(st.lists(latin_names(common_pb2.NAME_TYPE_PRIMARY), max_size=1)))
    notice.arrest_warrants.extend(draw(st.lists(warrants(), max_size=3)))
    event_date = draw(st.none() | partial_dates())
    if event_date is not None:
        notice.event_date.CopyFrom(event_date)
    event_place = draw(places())
    if event_place is not None:
        notice.event_place.CopyFrom(event_place)
    notice.countries_likely_to_be_visited.extend(draw(st.lists(countries, max_size=3)))
    notice.un_reference = draw(texts)
    notice.un_resolution = draw(texts)
    notice.summary = draw(texts)
    un_date = draw(st.none() | partial_dates())
    if un_date is not None:
        notice.un_reference_date.CopyFrom(un_date)
    return record


@st.composite
def notice_records(draw: st.DrawFn, max_size: int = 4) -> Sequence[record_pb2.Record]:
    """Lists of notice records with distinct entity ids, as the adapter decodes them."""
    numbers = draw(
        st.lists(
            st.tuples(st.integers(1000, 2099), st.integers(1, 999_999)),
            max_size=max_size,
            unique=True,
        )
    )
    return [draw(notice_record(f"{year}/{number}")) for year, number in numbers]


def result_page(count: int = 160) -> bytes:
    """A red notice search page of ``count`` summaries, as the API serves it (``resultPerPage``
    is at most 160)."""
    base = "https://ws-public.interpol.int/notices/v1/red"
    notices = []
    for index in range(count):
        entity = f"20{10 + index % 15}/{40000 + index}"
        href = f"{base}/{entity.replace('/', '-')}"
        notices.append(
            {
                "forename": ("JUAN CARLOS", None, "-", "MARIA")[index % 4],
                "date_of_birth": ("1979/01/17", "1985/03", "1972", None)[index % 4],
                "entity_id": entity,
                "nationalities": (["PY"], ["BR", "PY"], ["914"], ["AR"])[index % 4],
                "name": f"EXAMPLE-{index:03d} PEREZ",
                "_links": {
                    "self": {"href": href},
                    "images": {"href": f"{href}/images"},
                    "thumbnail": {"href": f"{href}/images/{61000000 + index}"},
                },
            }
        )
    page = {
        "total": count,
        "query": {"page": 1, "resultPerPage": count},
        "_embedded": {"notices": notices},
        "_links": {"self": {"href": f"{base}?page=1&resultPerPage={count}"}},
    }
    return json.dumps(page, ensure_ascii=False).encode("utf-8")
