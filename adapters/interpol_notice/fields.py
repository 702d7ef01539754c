"""The field names of INTERPOL notice documents, as the public API (ws-public.interpol.int) uses.

Red, yellow and UN notice documents share one vocabulary: a search result page lists notice
summaries (``entity_id``, ``name``, ``forename``, ``date_of_birth``, ``nationalities``,
``_links``) under ``_embedded.notices``; a detail document has the summary fields plus those of
its kind. Fields the contract has no place for are *known but not carried*: decoding reports
them (never silently drops them), which is different from a field the API does not define.
"""

from __future__ import annotations

from liaison.v1 import notice_pb2

__all__ = [
    "ALIAS_FIELDS",
    "ALIAS_FIELDS_NOT_CARRIED",
    "BASE_FIELDS",
    "EMBEDDED_FIELDS",
    "LINK_FIELDS",
    "NOTICE_FIELDS",
    "NOTICE_FIELDS_NOT_CARRIED",
    "PAGE_FIELDS",
    "SUMMARY_FIELDS",
    "WARRANT_FIELDS",
]

SUMMARY_FIELDS = ("entity_id", "name", "forename", "date_of_birth", "nationalities", "_links")
"""What a search result page gives for each notice."""

_PERSON_FIELDS = (
    "sex_id",
    "country_of_birth_id",
    "place_of_birth",
    "languages_spoken_ids",
    "height",
    "weight",
    "eyes_colors_id",
    "hairs_id",
    "distinguishing_marks",
)
_PARENT_FIELDS = ("father_forename", "father_name", "mother_forename", "mother_name")
_UN_FIELDS = (
    "un_reference",
    "un_reference_date",
    "name_at_birth",
    "name_in_original_script",
    "forename_in_original_script",
    *_PARENT_FIELDS,
    "aliases",
    "profession",
    "un_resolution",
    "summary",
)
_YELLOW_FIELDS = (
    "date_of_event",
    "place",
    "country",
    "birth_name",
    *_PARENT_FIELDS,
    "countries_likely_to_be_visited",
)

BASE_FIELDS: dict[int, tuple[str, ...]] = {
    notice_pb2.NOTICE_TYPE_RED: (*SUMMARY_FIELDS, *_PERSON_FIELDS, "arrest_warrants", "_embedded"),
    notice_pb2.NOTICE_TYPE_YELLOW: (*SUMMARY_FIELDS, *_PERSON_FIELDS, *_YELLOW_FIELDS, "_embedded"),
    notice_pb2.NOTICE_TYPE_UN: (*SUMMARY_FIELDS, *_PERSON_FIELDS, *_UN_FIELDS, "_embedded"),
}
"""The fields a detail document of each kind always has (``null`` when unknown)."""

NOTICE_FIELDS = frozenset(
    (*SUMMARY_FIELDS, *_PERSON_FIELDS, *_YELLOW_FIELDS, *_UN_FIELDS, "arrest_warrants", "_embedded")
)
"""Fields of a notice that map onto the contract."""

NOTICE_FIELDS_NOT_CARRIED = frozenset(
    {
        # Yellow notices.
        "issuing_country",
        "issuing_entity",
        # UN notices.
        "main_activity",
        "associates",
        "adresses",
        "identity_documents",
        "purposes",
        "additional_information",
    }
)
"""Fields the API defines that the contract's Notice has no place for."""

WARRANT_FIELDS = frozenset({"charge", "issuing_country_id", "charge_translation"})
ALIAS_FIELDS = frozenset(
    {
        "name",
        "forename",
        "date_of_birth",
        "name_in_original_script",
        "forename_in_original_script",
        "qualification",
    }
)
ALIAS_FIELDS_NOT_CARRIED = frozenset({"country_of_birth_id", "place_of_birth"})
LINK_FIELDS = frozenset({"self", "images", "thumbnail"})
EMBEDDED_FIELDS = frozenset({"links"})
PAGE_FIELDS = frozenset({"total", "query", "_embedded", "_links"})
