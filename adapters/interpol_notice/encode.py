"""Notice records back to INTERPOL notice JSON: one detail document, or a search result page.

The documents use the public API's shape, so that decoding them gives the same records. What a
record holds that the shape cannot carry (handling codes, identifiers, a third name at birth...)
is left out with a warning that names the record and points into the written document.
"""

from __future__ import annotations

import json
import math
from collections.abc import Sequence
from typing import Any

from adapters.base import EncodeBuilder, EncodeResult
from adapters.diagnostics import Location
from adapters.interpol_notice import fields
from adapters.interpol_notice.decode import BIRTH_NAME_KEYS
from adapters.interpol_notice.values import (
    country_text,
    entity_id,
    json_pointer,
    notice_href,
    notice_type_of_href,
    page_href,
    partial_date_text,
)
from liaison.v1 import common_pb2, notice_pb2, person_pb2, record_pb2

__all__ = ["encode_records"]

_UN = notice_pb2.NOTICE_TYPE_UN
_SEX_TEXT = {common_pb2.SEX_MALE: "M", common_pb2.SEX_FEMALE: "F"}
_PRIMARY = common_pb2.NAME_TYPE_PRIMARY
_UNSPECIFIED = common_pb2.NAME_TYPE_UNSPECIFIED
_BIRTH = common_pb2.NAME_TYPE_BIRTH
_ALIAS = common_pb2.NAME_TYPE_ALIAS


def encode_records(records: Sequence[record_pb2.Record]) -> EncodeResult:
    """One notice record as a detail document; any other number as a search result page."""
    out = EncodeBuilder()
    if len(records) == 1 and records[0].WhichOneof("body") == "notice":
        document = _Writer(out, records[0], "", detail=True).document()
    else:
        document = _page(out, records)
    text = json.dumps(document, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return out.result(text.encode("utf-8"))


def _page(out: EncodeBuilder, records: Sequence[record_pb2.Record]) -> dict[str, Any]:
    notices: list[dict[str, Any]] = []
    types: set[int] = set()
    for record in records:
        if record.WhichOneof("body") != "notice":
            out.error(
                "NOTICE_ENCODE_BODY",
                "only notice records can be written as INTERPOL notices; record left out",
                records=[record],
            )
            continue
        base = f"/_embedded/notices/{len(notices)}"
        notices.append(_Writer(out, record, base, detail=False).document())
        types.add(record.notice.notice_type)
    page: dict[str, Any] = {
        "total": len(notices),
        "query": {"page": 1, "resultPerPage": len(notices)},
        "_embedded": {"notices": notices},
    }
    href = page_href(types.pop(), len(notices)) if len(types) == 1 else None
    if href is not None:
        page["_links"] = {"self": {"href": href}, "first": {"href": href}, "last": {"href": href}}
    return page


class _Writer:
    """Writes one notice record; reports what it leaves out at ``base`` + the field's path."""

    def __init__(
        self, out: EncodeBuilder, record: record_pb2.Record, base: str, *, detail: bool
    ) -> None:
        self.out = out
        self.record = record
        self.base = base
        self.detail = detail
        self.values: dict[str, Any] = {}

    def document(self) -> dict[str, Any]:
        notice = self.record.notice
        person = notice.subject
        self.identity(notice)
        self.names(notice.notice_type, person)
        self.values["date_of_birth"] = partial_date_text(person.birth_date)
        self.values["nationalities"] = [
            self.country(country, "nationalities", index)
            for index, country in enumerate(person.nationalities)
        ]
        self.person(person)
        if person.HasField("physical_description"):
            self.physical(person.physical_description)
        self.notice_fields(notice)
        self.links(notice)
        self.envelope()
        # A detail document has every field of its kind (null when unknown), as the API writes
        # it; a page item the summary fields. Both add any other field that holds a value.
        keys = (
            fields.BASE_FIELDS.get(notice.notice_type, fields.SUMMARY_FIELDS)
            if self.detail
            else fields.SUMMARY_FIELDS
        )
        document = {key: self.values.get(key) for key in keys if key != "_embedded"}
        for key, value in self.values.items():
            if key not in document and value not in (None, []):
                document[key] = value
        if self.detail:
            document["_embedded"] = {"links": []}
        return document

    # -- identity and names ---------------------------------------------------------------

    def identity(self, notice: notice_pb2.Notice) -> None:
        if not notice.entity_id:
            self.error("NOTICE_ENCODE_ENTITY_ID", "the notice has no entity id", "entity_id")
        elif entity_id(notice.entity_id) != notice.entity_id:
            message = "the entity id is not of the form YYYY/NNNNN"
            self.error("NOTICE_ENCODE_ENTITY_ID", message, "entity_id")
        self.values["entity_id"] = notice.entity_id or None

    def names(self, notice_type: int, person: person_pb2.Person) -> None:
        primary: list[common_pb2.Name] = []
        births: list[common_pb2.Name] = []
        aliases: list[common_pb2.Name] = []
        by_type = {_PRIMARY: primary, _UNSPECIFIED: primary, _BIRTH: births, _ALIAS: aliases}
        for name in person.names:
            same_type = by_type.get(name.type)
            if same_type is None:
                self.warning("former names have no place in a notice; not written", "name")
            else:
                same_type.append(name)
        self.primary(primary)
        birth_keys = BIRTH_NAME_KEYS[notice_type == _UN]
        for key, name in zip(birth_keys, births, strict=False):
            self.values[key] = self.single_part(name, key)
        if len(births) > len(birth_keys):
            self.warning("a notice holds two names at birth; the others are not written", "name")
        if aliases or person.alternative_birth_dates:
            self.aliases(aliases, person.alternative_birth_dates)
        for parent, names in (("father", person.father_names), ("mother", person.mother_names)):
            if names:
                self.unqualified(names[0], f"{parent}_name")
                family, given = self.latin_parts(names[0], f"{parent}_name")
                self.values[f"{parent}_name"] = family
                self.values[f"{parent}_forename"] = given
            if len(names) > 1:
                message = f"a notice holds one {parent}'s name; the others are not written"
                self.warning(message, f"{parent}_name")

    def primary(self, names: list[common_pb2.Name]) -> None:
        if not names:
            self.values["name"] = self.values["forename"] = None
            return
        if len(names) > 1:
            self.warning("a notice holds one primary name; the others are not written", "name")
        self.unqualified(names[0], "name")
        family, given, family_script, given_script = self.name_parts(names[0], "name")
        self.values["name"] = family
        self.values["forename"] = given
        self.values["name_in_original_script"] = family_script
        self.values["forename_in_original_script"] = given_script

    def aliases(
        self, names: list[common_pb2.Name], dates: Sequence[common_pb2.PartialDate]
    ) -> None:
        aliases: list[dict[str, Any]] = []
        for index, name in enumerate(names):
            parts = self.name_parts(name, "aliases", index)
            aliases.append(_alias(*parts, None, name.qualification or None))
        # The contract keeps other dates of birth apart from the aliases that gave them; each is
        # written as an alias of its own rather than attached to a name it may not belong to.
        aliases.extend(
            _alias(None, None, None, None, partial_date_text(date), None) for date in dates
        )
        self.values["aliases"] = aliases

    def name_parts(
        self, name: common_pb2.Name, *where: str | int
    ) -> tuple[str | None, str | None, str | None, str | None]:
        """(name, forename, name in original script, forename in original script)."""
        if not name.script:
            family, given = self.latin_parts(name, *where)
            return family, given, None, None
        self.unwritten_parts(name, *where)
        latin = name.transliteration
        if latin.middle or latin.full or latin.scheme:
            self.warning("transliteration middle, full or scheme is not written", *where)
        return latin.family or None, latin.given or None, name.family or None, name.given or None

    def latin_parts(
        self, name: common_pb2.Name, *where: str | int
    ) -> tuple[str | None, str | None]:
        """(family, given) of a name without an original script to keep apart."""
        if name.middle or name.full:
            self.unwritten_parts(name, *where)
        if name.script or name.HasField("transliteration"):
            self.warning("a script or transliteration has no place here; not written", *where)
        if not (name.family or name.given) and name.full:
            return name.full, None
        return name.family or None, name.given or None

    def single_part(self, name: common_pb2.Name, where: str) -> str | None:
        """A name written as one string (names at birth): its family part."""
        self.unqualified(name, where)
        family, given = self.latin_parts(name, where)
        if given:
            self.warning("a name at birth is one string; the given names are not written", where)
        return family

    def unqualified(self, name: common_pb2.Name, *where: str | int) -> None:
        """Warns of a qualification on a name other than an alias: only aliases have one."""
        if name.qualification:
            self.warning("only aliases are qualified in a notice; not written", *where)

    def unwritten_parts(self, name: common_pb2.Name, *where: str | int) -> None:
        if name.middle:
            self.warning("middle names have no place in a notice; not written", *where)
        if name.full and (name.family or name.given):
            self.warning("the unsplit full name is not written beside its parts", *where)
        elif name.full and name.script:
            self.warning("an unsplit name in an original script is not written", *where)

    # -- the person -----------------------------------------------------------------------

    def person(self, person: person_pb2.Person) -> None:
        values = self.values
        if person.sex == common_pb2.SEX_X:
            self.warning("sex X has no INTERPOL code; written as unknown", "sex_id")
        values["sex_id"] = _SEX_TEXT.get(person.sex)
        if person.HasField("birth_place"):
            values["place_of_birth"] = person.birth_place.name or None
            birth_country = self.place_country(person.birth_place, "country_of_birth_id")
            values["country_of_birth_id"] = birth_country
        values["languages_spoken_ids"] = list(person.languages) or None
        values["profession"] = person.occupation or None
        if person.identifiers:
            self.warning("identifiers have no place in a notice; not written", "entity_id")
        if person.HasField("residence_country"):
            self.warning("the country of residence has no place in a notice", "entity_id")
        if person.addresses:
            # UN notices list "adresses", in a shape no public source documents: not written
            # rather than written in a guessed shape.
            self.warning("addresses have no place in a notice; not written", "entity_id")

    def physical(self, physical: person_pb2.PhysicalDescription) -> None:
        values = self.values
        values["height"] = self.measurement(physical.height_m, "height")
        weight = self.measurement(physical.weight_kg, "weight")
        values["weight"] = int(weight) if weight is not None and weight.is_integer() else weight
        values["eyes_colors_id"] = list(physical.eye_colours) or None
        values["hairs_id"] = list(physical.hair_colours) or None
        values["distinguishing_marks"] = physical.distinguishing_marks or None
        if physical.other:
            self.warning("free-text description has no place in a notice", "distinguishing_marks")

    def measurement(self, value: float, key: str) -> float | None:
        if value == 0:
            return None
        if not (value > 0 and math.isfinite(value)):
            self.warning("not a positive number; written as unknown", key)
            return None
        return value

    # -- the notice -----------------------------------------------------------------------

    def notice_fields(self, notice: notice_pb2.Notice) -> None:
        values = self.values
        warrants = []
        for index, warrant in enumerate(notice.arrest_warrants):
            country = warrant.issuing_country
            warrants.append(
                {
                    "charge": warrant.charge,
                    "issuing_country_id": self.country(
                        country, "arrest_warrants", index, "issuing_country_id"
                    ),
                    "charge_translation": (
                        warrant.charge_translation
                        if warrant.HasField("charge_translation")
                        else None
                    ),
                }
            )
        values["arrest_warrants"] = warrants
        if notice.HasField("event_date"):
            values["date_of_event"] = partial_date_text(notice.event_date)
        if notice.HasField("event_place"):
            values["place"] = notice.event_place.name or None
            values["country"] = self.place_country(notice.event_place, "country")
        values["countries_likely_to_be_visited"] = [
            self.country(country, "countries_likely_to_be_visited", index)
            for index, country in enumerate(notice.countries_likely_to_be_visited)
        ] or None
        values["un_reference"] = notice.un_reference or None
        if notice.HasField("un_reference_date"):
            values["un_reference_date"] = partial_date_text(notice.un_reference_date)
        values["un_resolution"] = notice.un_resolution or None
        values["summary"] = notice.summary or None

    def links(self, notice: notice_pb2.Notice) -> None:
        own = notice.source_uri
        if notice.notice_type == notice_pb2.NOTICE_TYPE_UNSPECIFIED:
            self.error("NOTICE_ENCODE_TYPE", "the kind of notice is not given", "_links")
        elif notice_type_of_href(own) != notice.notice_type:
            if own:
                message = "the notice URL does not name its kind of notice; the API URL is written"
                self.warning(message, "_links", "self")
            own = notice_href(notice.notice_type, notice.entity_id) or ""
        links: dict[str, Any] = {}
        if own:
            links["self"] = {"href": own}
            links["images"] = {"href": f"{own}/images"}
        if notice.image_uris:
            links["thumbnail"] = {"href": notice.image_uris[0]}
        if len(notice.image_uris) > 1:
            self.warning("a notice links one thumbnail; other images are not written", "_links")
        self.values["_links"] = links

    def envelope(self) -> None:
        if self.record.HasField("handling"):
            self.warning("handling codes have no place in a notice document; not written")
        if self.record.links:
            self.warning("links to other records have no place in a notice document")

    # -- values ---------------------------------------------------------------------------

    def country(self, country: common_pb2.CountryCode, *where: str | int) -> str | None:
        text, faithful = country_text(country)
        if not faithful:
            self.warning("an ICAO-only country code has no INTERPOL form; written as is", *where)
        return text

    def place_country(self, place: common_pb2.Place, key: str) -> str | None:
        if place.unlocode or place.iata_code or place.other_code:
            self.warning("place codes have no place in a notice; only the name is written", key)
        return self.country(place.country, key)

    def warning(self, message: str, *where: str | int) -> None:
        self.out.warning(
            "NOTICE_ENCODE_NOT_CARRIED", message, self.location(where), records=[self.record]
        )

    def error(self, code: str, message: str, *where: str | int) -> None:
        self.out.error(code, message, self.location(where), records=[self.record])

    def location(self, where: tuple[str | int, ...]) -> Location:
        pointer = self.base
        for token in where:
            pointer = json_pointer(pointer, token)
        return Location(json_pointer=pointer)


def _alias(
    family: str | None,
    given: str | None,
    family_script: str | None,
    given_script: str | None,
    birth_date: str | None,
    qualification: str | None,
) -> dict[str, Any]:
    return {
        "name": family,
        "forename": given,
        "date_of_birth": birth_date,
        "name_in_original_script": family_script,
        "forename_in_original_script": given_script,
        "qualification": qualification,
    }
