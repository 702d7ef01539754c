"""The meaning layer: a decoded JSON value (detail document or search page) to Notice records.

One ``Notice`` record per notice, its subject embedded: the contract's ``Notice.subject`` is "the
person the notice is about, as the notice describes them", so no separate Person record is made.
Every diagnostic carries the RFC 6901 pointer of the value it is about; one that concerns a
notice names that notice's record.

This runs once per notice of a 160-notice page, beside the C JSON decoder: pointers are built
only when something is reported, and summary-only notices skip the detail fields.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from typing import Any

from adapters.base import DecodeBuilder, stable_record_id
from adapters.characters import report_forbidden
from adapters.diagnostics import Location
from adapters.interpol_notice import fields
from adapters.interpol_notice.document import MAX_LOCATED_DUPLICATES
from adapters.interpol_notice.values import (
    country_code,
    detect_script,
    entity_id,
    is_absent_name,
    json_pointer,
    notice_type_of_href,
    partial_date,
)
from liaison.rules.text import forbidden_in
from liaison.v1 import common_pb2, notice_pb2, person_pb2

__all__ = ["BIRTH_NAME_KEYS", "RECORD_ID_PREFIX", "decode_value"]

RECORD_ID_PREFIX = "interpol-notice"
"""Prefix of the record ids this adapter derives from entity ids."""

BIRTH_NAME_KEYS = (("birth_name", "name_at_birth"), ("name_at_birth", "birth_name"))
"""The fields of names at birth, by whether the notice is a UN notice: its own field first.

Yellow notices write ``birth_name``, UN notices ``name_at_birth``; a second name at birth goes in
the other field, so that encoding and decoding keep both, in the same order.
"""

_RED = notice_pb2.NOTICE_TYPE_RED
_YELLOW = notice_pb2.NOTICE_TYPE_YELLOW
_UN = notice_pb2.NOTICE_TYPE_UN
_PRIMARY = common_pb2.NAME_TYPE_PRIMARY
_ALIAS = common_pb2.NAME_TYPE_ALIAS
_BIRTH = common_pb2.NAME_TYPE_BIRTH
_SEX = {"M": common_pb2.SEX_MALE, "F": common_pb2.SEX_FEMALE, "U": common_pb2.SEX_UNSPECIFIED}
# ISO 639-2/B and 639-3 codes as INTERPOL writes them (ENG, SPA, FRE); the gateway's own rule.
_LANGUAGE = re.compile(r"[A-Za-z]{2,3}", re.ASCII)
# The API gives metres and kilograms; a "height" of 178 is centimetres, not a giant.
_MAX_HEIGHT_M = 3.0
_MAX_WEIGHT_KG = 700.0
_SUMMARY = frozenset(fields.SUMMARY_FIELDS)
_SCRIPT_NAME_KEYS = ("name_in_original_script", "forename_in_original_script")
# Keys whose values go to free-text fields of the contract (lines allowed), see liaison.rules.text.
_FREE_TEXT_KEYS = frozenset({"distinguishing_marks", "charge", "charge_translation", "summary"})
# A value that holds nothing: a field carrying it is not worth a "not kept" note.
_EMPTY: tuple[Any, ...] = (None, "", [], {})

_Tokens = tuple[str | int, ...]


def decode_value(
    value: Any,
    out: DecodeBuilder,
    duplicate_keys: Sequence[str] = (),
    more_duplicate_keys: bool = False,
) -> None:
    """Map a decoded JSON ``value`` into records and diagnostics collected by ``out``.

    ``duplicate_keys`` are the pointers of keys that repeat in their object (the decoder kept
    the last value): each is an error that names the notice it is in, which is then not stored.
    With ``more_duplicate_keys`` (more than were located), every notice is named.
    """
    if type(value) is not dict:
        out.error(
            "NOTICE_DOCUMENT",
            f"expected a JSON object (a notice or a search result page), got {_json_type(value)}",
            Location(json_pointer=""),
        )
        return
    embedded = value.get("_embedded")
    mapper = _Mapper(out)
    if type(embedded) is dict and "notices" in embedded:
        mapper.page(value, embedded)
    else:
        mapper.notice(value, "", None)
    for pointer in duplicate_keys:
        out.error(
            "NOTICE_DUPLICATE_KEY",
            "this key appears more than once in its object: receivers differ on which value "
            "counts (RFC 8259 section 4): the object is ambiguous",
            Location(json_pointer=pointer),
            records=mapper.records_at(pointer),
        )
    if more_duplicate_keys:
        out.error(
            "NOTICE_DUPLICATE_KEY",
            f"keys repeat in more than {MAX_LOCATED_DUPLICATES:,} objects; the others are not "
            "located, so no notice of the document is vouched for",
            Location(json_pointer=""),
            records=[out.every_record],
        )


class _Mapper:
    """One decode: maps notices and reports what it finds, naming the record being built."""

    def __init__(self, out: DecodeBuilder) -> None:
        self.out = out
        self.seen: set[str] = set()
        self.record_id = ""
        self.notice_records: dict[str, str] = {}  # pointer of a notice -> its record's id

    # -- documents ------------------------------------------------------------------------

    def page(self, page: dict[str, Any], embedded: dict[str, Any]) -> None:
        if not page.keys() <= fields.PAGE_FIELDS:
            self.unknown_fields(page, "", fields.PAGE_FIELDS, tainted=False)
        if len(embedded) > 1:
            self.unknown_fields(embedded, "/_embedded", frozenset({"notices"}), tainted=False)
        total = page.get("total")
        if total is not None and (type(total) is not int or total < 0):
            self.out.warning(
                "NOTICE_FIELD_TYPE",
                f"expected a count of notices, got {_json_type(total)}",
                Location(json_pointer="/total"),
            )
        page_type = _page_type(page.get("_links"))
        notices = embedded["notices"]
        if type(notices) is not list:
            self.wrong_type("/_embedded", ("notices",), "an array of notices", notices, False)
            return
        for index, item in enumerate(notices):
            self.notice(item, f"/_embedded/notices/{index}", page_type)

    def notice(self, item: Any, base: str, page_type: int | None) -> None:
        if type(item) is not dict:
            self.wrong_type(base, (), "a notice object", item, False)
            return
        entity = self.identity(item, base)
        if entity is not None:
            if entity in self.seen:
                self.out.warning(
                    "NOTICE_DUPLICATE_ENTITY_ID",
                    "a notice with this entity id came earlier in the payload; this one is skipped",
                    Location(json_pointer=f"{base}/entity_id"),
                )
                return
            self.seen.add(entity)
        notice = self.out.new_record(self.record_id, source_reference=entity).notice
        self.notice_records[base] = self.record_id
        if entity is not None:
            notice.entity_id = entity
        if "_links" in item:
            self.links(item, base, notice)
        self.notice_type(item, base, notice, page_type)
        person = notice.subject
        self.primary_name(item, base, person)
        date = self.date(item, base, "date_of_birth", "NOTICE_DATE_OF_BIRTH", "date of birth")
        if date is not None:
            _set_date(person.birth_date, date)
        nationalities = self.countries(item, base, "nationalities")
        if nationalities:
            person.nationalities.extend(nationalities)
        if not item.keys() <= _SUMMARY:  # a detail document: the rest of the notice
            self.details(item, base, notice)

    def details(self, item: dict[str, Any], base: str, notice: notice_pb2.Notice) -> None:
        person = notice.subject
        self.person(item, base, person, notice.notice_type == _UN)
        self.physical(item, base, person)
        if item.get("arrest_warrants") is not None:
            self.warrants(item, base, notice)
        self.event(item, base, notice)
        self.destinations(item, base, notice)
        self.un_listing(item, base, notice)
        if item.get("_embedded") is not None:
            self.embedded(item["_embedded"], base)
        if not item.keys() <= fields.NOTICE_FIELDS:
            self.unknown_fields(item, base, fields.NOTICE_FIELDS, fields.NOTICE_FIELDS_NOT_CARRIED)

    def identity(self, item: dict[str, Any], base: str) -> str | None:
        """The canonical entity id (or ``None``); sets the id of the record to be built."""
        raw = item.get("entity_id")
        entity = entity_id(raw) if type(raw) is str else None
        if entity is not None:
            self.record_id = stable_record_id(RECORD_ID_PREFIX, entity)
            if entity != raw:
                self.info(
                    "NOTICE_ENTITY_ID_FORM",
                    "entity id written in its URL form (YYYY-NNNNN); kept as YYYY/NNNNN",
                    base,
                    "entity_id",
                )
            return entity
        # No usable id: one derived from where the notice stands in this payload, so that the
        # (tainted) record can still be named.
        self.record_id = stable_record_id(
            RECORD_ID_PREFIX, "unidentified", self.out.payload_sha256.hex(), base
        )
        if raw is None:
            self.error("NOTICE_ENTITY_ID_MISSING", "the notice has no entity id", base, "entity_id")
        elif type(raw) is str:
            message = "the entity id is not of the form YYYY/NNNNN"
            self.error("NOTICE_ENTITY_ID", message, base, "entity_id")
        else:
            self.wrong_type(base, ("entity_id",), "a string", raw)
        return None

    def notice_type(
        self, item: dict[str, Any], base: str, notice: notice_pb2.Notice, page_type: int | None
    ) -> None:
        found = notice_type_of_href(notice.source_uri) if notice.source_uri else None
        if found is None:
            found = page_type
        if found is None:
            found = _type_from_content(item)
            if found is not None:
                message = "no notice URL names the kind of notice; inferred from its fields"
                self.info("NOTICE_TYPE_INFERRED", message, base)
        if found is None:
            message = "the kind of notice (red, yellow, UN) is named by no notice URL or field"
            self.error("NOTICE_TYPE_UNKNOWN", message, base, "_links")
            return
        notice.notice_type = found  # type: ignore[assignment]

    def records_at(self, pointer: str) -> list[str]:
        """The record of the notice that ``pointer`` is in (none for a page's own fields)."""
        if "" in self.notice_records:
            return [self.notice_records[""]]
        prefix = "/_embedded/notices/"
        if not pointer.startswith(prefix):
            return []
        index = pointer[len(prefix) :].split("/", 1)[0]
        record_id = self.notice_records.get(prefix + index)
        return [] if record_id is None else [record_id]

    # -- the subject ----------------------------------------------------------------------

    def primary_name(self, item: dict[str, Any], base: str, person: person_pb2.Person) -> None:
        name = self.name(item, base, _PRIMARY, "name", "forename", _SCRIPT_NAME_KEYS)
        if name is None:
            # INTERPOL publishes notices whose subject has no known name ("-" or null): the
            # notice itself identifies the subject, so this is not an error (docs/contract.md).
            message = "the notice gives no name (null, empty or '-'); the subject has none"
            self.warning("NOTICE_NAME_MISSING", message, base, "name")
        else:
            person.names.append(name)

    def person(
        self, item: dict[str, Any], base: str, person: person_pb2.Person, is_un: bool
    ) -> None:
        for key in BIRTH_NAME_KEYS[is_un]:
            if item.get(key) is not None:
                birth = self.name(item, base, _BIRTH, key, "")
                if birth is not None:
                    person.names.append(birth)
        if item.get("aliases") is not None:
            self.aliases(item["aliases"], base, person)
        sex = item.get("sex_id")
        if sex is not None:
            if type(sex) is not str:
                self.wrong_type(base, ("sex_id",), "a string or null", sex)
            elif sex in _SEX:
                person.sex = _SEX[sex]
            else:
                self.error("NOTICE_SEX", "sex is not M, F or U", base, "sex_id")
        place = self.text(item, base, "place_of_birth")
        if place:
            person.birth_place.name = place
        country = self.country(item, base, "country_of_birth_id")
        if country is not None:
            person.birth_place.country.CopyFrom(country)
        for index, language in enumerate(self.texts(item, base, "languages_spoken_ids")):
            if _LANGUAGE.fullmatch(language):
                person.languages.append(language)
            else:
                message = "a spoken language is not an ISO 639 code"
                self.error("NOTICE_LANGUAGE", message, base, "languages_spoken_ids", index)
        for parent, names in (("father", person.father_names), ("mother", person.mother_names)):
            name = self.name(item, base, _PRIMARY, f"{parent}_name", f"{parent}_forename")
            if name is not None:
                names.append(name)
        occupation = self.text(item, base, "profession")
        if occupation is not None:
            person.occupation = occupation

    def physical(self, item: dict[str, Any], base: str, person: person_pb2.Person) -> None:
        # Each part is set only when there is one: setting even an empty value in a submessage
        # marks the submessage present (and a re-decoded copy would then differ).
        height = self.measurement(item, base, "height", _MAX_HEIGHT_M, "metres")
        if height:
            person.physical_description.height_m = height
        weight = self.measurement(item, base, "weight", _MAX_WEIGHT_KG, "kilograms")
        if weight:
            person.physical_description.weight_kg = weight
        eyes = self.texts(item, base, "eyes_colors_id")
        if eyes:
            person.physical_description.eye_colours.extend(eyes)
        hairs = self.texts(item, base, "hairs_id")
        if hairs:
            person.physical_description.hair_colours.extend(hairs)
        marks = self.text(item, base, "distinguishing_marks")
        if marks:
            person.physical_description.distinguishing_marks = marks

    def name(
        self,
        item: dict[str, Any],
        base: str,
        name_type: int,
        family_key: str,
        given_key: str,
        script_keys: tuple[str, str] | None = None,
    ) -> common_pb2.Name | None:
        """A Name from the given fields, or ``None`` when they all hold a placeholder.

        Names in their original script (UN notices) become the name's parts, with the Latin
        form as its transliteration, as ``liaison.v1.Name`` defines.
        """
        family = self.name_part(item, base, family_key)
        given = self.name_part(item, base, given_key) if given_key else ""
        if script_keys is not None and (script_keys[0] in item or script_keys[1] in item):
            family_script = self.name_part(item, base, script_keys[0])
            given_script = self.name_part(item, base, script_keys[1])
            if family_script or given_script:
                name = common_pb2.Name(
                    type=name_type,  # type: ignore[arg-type]
                    family=family_script,
                    given=given_script,
                    script=detect_script(family_script + given_script),
                )
                if family or given:
                    name.transliteration.family = family
                    name.transliteration.given = given
                return name
        if family or given:
            return common_pb2.Name(type=name_type, family=family, given=given)  # type: ignore[arg-type]
        return None

    def name_part(self, item: dict[str, Any], base: str, key: str) -> str:
        value = item.get(key)
        if value is None:
            return ""
        if type(value) is not str:
            self.wrong_type(base, (key,), "a string or null", value)
            return ""
        if not self.clean(value, base, key):
            return ""
        return "" if is_absent_name(value) else value

    def aliases(self, aliases: Any, base: str, person: person_pb2.Person) -> None:
        if type(aliases) is not list:
            self.wrong_type(base, ("aliases",), "an array of aliases or null", aliases)
            return
        for index, alias in enumerate(aliases):
            if type(alias) is not dict:
                self.wrong_type(base, ("aliases", index), "an alias object", alias)
                continue
            at = f"{base}/aliases/{index}"
            name = self.name(alias, at, _ALIAS, "name", "forename", _SCRIPT_NAME_KEYS)
            # "Good quality a.k.a." and the like, kept as written on the alias it qualifies.
            qualification = self.text(alias, at, "qualification")
            if name is not None:
                if qualification:
                    name.qualification = qualification
                person.names.append(name)
            elif qualification:
                message = "a qualification of an alias without a name is not kept"
                self.info("NOTICE_FIELD_NOT_CARRIED", message, at, "qualification")
            date = self.date(alias, at, "date_of_birth", "NOTICE_DATE_OF_BIRTH", "date of birth")
            if date is not None:
                _set_date(person.alternative_birth_dates.add(), date)
            if not alias.keys() <= fields.ALIAS_FIELDS:
                self.unknown_fields(alias, at, fields.ALIAS_FIELDS, fields.ALIAS_FIELDS_NOT_CARRIED)

    # -- the notice's own fields ----------------------------------------------------------

    def warrants(self, item: dict[str, Any], base: str, notice: notice_pb2.Notice) -> None:
        warrants = item["arrest_warrants"]
        if type(warrants) is not list:
            expected = "an array of arrest warrants or null"
            self.wrong_type(base, ("arrest_warrants",), expected, warrants)
            return
        for index, warrant in enumerate(warrants):
            if type(warrant) is not dict:
                self.wrong_type(base, ("arrest_warrants", index), "a warrant object", warrant)
                continue
            at = f"{base}/arrest_warrants/{index}"
            added = notice.arrest_warrants.add()
            charge = self.text(warrant, at, "charge")
            if charge is not None:
                added.charge = charge
            # null (no translation) and "" (an empty one) differ; the field is optional.
            translation = self.text(warrant, at, "charge_translation")
            if translation is not None:
                added.charge_translation = translation
            country = self.country(warrant, at, "issuing_country_id")
            if country is not None:
                added.issuing_country.CopyFrom(country)
            if not warrant.keys() <= fields.WARRANT_FIELDS:
                self.unknown_fields(warrant, at, fields.WARRANT_FIELDS)

    def event(self, item: dict[str, Any], base: str, notice: notice_pb2.Notice) -> None:
        date = self.date(item, base, "date_of_event", "NOTICE_DATE_OF_EVENT", "date of the event")
        if date is not None:
            _set_date(notice.event_date, date)
        place = self.text(item, base, "place")
        if place:
            notice.event_place.name = place
        country = self.country(item, base, "country")
        if country is not None:
            notice.event_place.country.CopyFrom(country)

    def destinations(self, item: dict[str, Any], base: str, notice: notice_pb2.Notice) -> None:
        """Yellow notices: the countries the person is likely to visit, mapped as nationalities."""
        countries = self.countries(item, base, "countries_likely_to_be_visited")
        if countries:
            notice.countries_likely_to_be_visited.extend(countries)

    def un_listing(self, item: dict[str, Any], base: str, notice: notice_pb2.Notice) -> None:
        # Free text kept exactly as written; null and "" both mean the notice gives none.
        reference = self.text(item, base, "un_reference")
        if reference is not None:
            notice.un_reference = reference
        resolution = self.text(item, base, "un_resolution")
        if resolution is not None:
            notice.un_resolution = resolution
        summary = self.text(item, base, "summary")
        if summary is not None:
            notice.summary = summary
        date = self.date(
            item, base, "un_reference_date", "NOTICE_UN_REFERENCE_DATE", "UN listing date"
        )
        if date is not None:
            _set_date(notice.un_reference_date, date)

    def links(self, item: dict[str, Any], base: str, notice: notice_pb2.Notice) -> None:
        links = item["_links"]
        if links is None:
            return
        if type(links) is not dict:
            self.wrong_type(base, ("_links",), "an object of links or null", links)
            return
        at = f"{base}/_links"
        own = self.href(links, at, "self")
        if own is not None:
            notice.source_uri = own
        thumbnail = self.href(links, at, "thumbnail")
        if thumbnail is not None:
            notice.image_uris.append(thumbnail)
        images = self.href(links, at, "images")
        if images is not None and images != f"{own}/images":
            message = "an images link other than the notice URL + /images is not kept"
            self.info("NOTICE_FIELD_NOT_CARRIED", message, at, "images")
        if not links.keys() <= fields.LINK_FIELDS:
            self.unknown_fields(links, at, fields.LINK_FIELDS)

    def href(self, links: dict[str, Any], base: str, key: str) -> str | None:
        link = links.get(key)
        if link is None:
            return None
        if type(link) is not dict:
            self.wrong_type(base, (key,), "a link object", link)
            return None
        href = link.get("href")
        if href is None:
            return None
        if type(href) is str:
            return href if self.clean(href, base, key, "href") else None
        self.wrong_type(base, (key, "href"), "a string", href)
        return None

    def embedded(self, embedded: Any, base: str) -> None:
        if type(embedded) is not dict:
            self.wrong_type(base, ("_embedded",), "an object or null", embedded)
            return
        at = f"{base}/_embedded"
        if embedded.get("links") not in _EMPTY:
            self.info("NOTICE_FIELD_NOT_CARRIED", "embedded links are not kept", at, "links")
        if not embedded.keys() <= fields.EMBEDDED_FIELDS:
            self.unknown_fields(embedded, at, fields.EMBEDDED_FIELDS)

    # -- typed values ---------------------------------------------------------------------

    def text(self, item: dict[str, Any], base: str, key: str) -> str | None:
        """A string field kept exactly as it stands; ``None`` when null or absent."""
        value = item.get(key)
        if value is None:
            return None
        if type(value) is str:
            return value if self.clean(value, base, key) else None
        self.wrong_type(base, (key,), "a string or null", value)
        return None

    def texts(self, item: dict[str, Any], base: str, key: str) -> list[str]:
        value = item.get(key)
        if value is None:
            return []
        if type(value) is not list:
            self.wrong_type(base, (key,), "an array of strings or null", value)
            return []
        for entry in value:
            if type(entry) is not str or forbidden_in(entry) is not None:
                break
        else:
            return value
        kept = []
        for index, entry in enumerate(value):
            if type(entry) is not str:
                self.wrong_type(base, (key, index), "a string", entry)
            elif self.clean(entry, base, key, index):
                kept.append(entry)
        return kept

    def clean(self, value: str, base: str, key: str, *tokens: str | int) -> bool:
        """True when ``value`` holds no character a record may not; otherwise an error says
        where, and the value is not kept (the notice's record is not stored either)."""
        if value.isascii() and value.isprintable():  # the usual case, at C speed
            return True
        return report_forbidden(
            self.out,
            value,
            _location(base, (key, *tokens)),
            free_text=key in _FREE_TEXT_KEYS,
            records=[self.record_id],
        )

    def date(
        self, item: dict[str, Any], base: str, key: str, code: str, what: str
    ) -> tuple[int, int, int] | None:
        text = self.text(item, base, key)
        if not text:
            return None
        date = partial_date(text)
        if date is None:
            message = f"the {what} is not a calendar date written YYYY/MM/DD, YYYY/MM or YYYY"
            self.error(code, message, base, key)
        return date

    def country(self, item: dict[str, Any], base: str, key: str) -> common_pb2.CountryCode | None:
        text = self.text(item, base, key)
        if not text:
            return None
        country = country_code(text)
        if not country.code:
            self.unmapped(base, key)
        return country

    def countries(self, item: dict[str, Any], base: str, key: str) -> list[common_pb2.CountryCode]:
        countries = []
        for index, text in enumerate(self.texts(item, base, key)):
            if text:
                country = country_code(text)
                if not country.code:
                    self.unmapped(base, key, index)
                countries.append(country)
        return countries

    def measurement(
        self, item: dict[str, Any], base: str, key: str, limit: float, unit: str
    ) -> float:
        """A height or weight; zero when null or zero (the API's "unknown")."""
        value = item.get(key)
        if value is None:
            return 0.0
        if type(value) is not int and type(value) is not float:
            self.wrong_type(base, (key,), "a number or null", value)
            return 0.0
        if not (0 <= value <= limit and math.isfinite(value)):
            message = f"the {key} is not a number of {unit} from 0 to {limit:g}"
            self.error("NOTICE_MEASUREMENT", message, base, key)
            return 0.0
        return float(value)

    # -- reporting ------------------------------------------------------------------------

    def unmapped(self, base: str, *tokens: str | int) -> None:
        message = "country code is not ISO 3166-1 alpha-2; kept as its raw value"
        self.info("NOTICE_COUNTRY_UNMAPPED", message, base, *tokens)

    def unknown_fields(
        self,
        item: dict[str, Any],
        base: str,
        known: frozenset[str],
        not_carried: frozenset[str] = frozenset(),
        *,
        tainted: bool = True,
    ) -> None:
        records = [self.record_id] if tainted else []
        for key, value in item.items():
            if key in known:
                continue
            if key not in not_carried:
                message = "a field the notices API does not define; ignored"
                code = "NOTICE_UNKNOWN_FIELD"
            elif value not in _EMPTY:
                message = "the contract has no place for this field; it is not kept"
                code = "NOTICE_FIELD_NOT_CARRIED"
            else:
                continue
            where = Location(json_pointer=json_pointer(base, key))
            self.out.info(code, message, where, records=records)

    def wrong_type(
        self, base: str, tokens: _Tokens, expected: str, value: Any, tainted: bool = True
    ) -> None:
        self.out.error(
            "NOTICE_FIELD_TYPE",
            f"expected {expected}, got {_json_type(value)}",
            _location(base, tokens),
            records=[self.record_id] if tainted else (),
        )

    def error(self, code: str, message: str, base: str, *tokens: str | int) -> None:
        self.out.error(code, message, _location(base, tokens), records=[self.record_id])

    def warning(self, code: str, message: str, base: str, *tokens: str | int) -> None:
        self.out.warning(code, message, _location(base, tokens), records=[self.record_id])

    def info(self, code: str, message: str, base: str, *tokens: str | int) -> None:
        self.out.info(code, message, _location(base, tokens), records=[self.record_id])


def _set_date(target: common_pb2.PartialDate, date: tuple[int, int, int]) -> None:
    target.year, month, day = date
    if month:
        target.month = month
        if day:
            target.day = day


def _location(base: str, tokens: _Tokens) -> Location:
    pointer = base
    for token in tokens:
        pointer = json_pointer(pointer, token)
    return Location(json_pointer=pointer)


def _page_type(links: Any) -> int | None:
    """The notice type a search page's own link names, if any."""
    if type(links) is not dict:
        return None
    link = links.get("self")
    href = link.get("href") if type(link) is dict else None
    return notice_type_of_href(href) if type(href) is str else None


def _type_from_content(item: dict[str, Any]) -> int | None:
    """The notice type that fields only one kind of notice has imply (warrants: red, ...)."""
    if item.get("arrest_warrants"):
        return _RED
    if item.get("un_reference"):
        return _UN
    if item.get("date_of_event"):
        return _YELLOW
    return None


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    if isinstance(value, int | float):
        return "a number"
    if isinstance(value, str):
        return "a string"
    if isinstance(value, list):
        return "an array"
    return "an object"
