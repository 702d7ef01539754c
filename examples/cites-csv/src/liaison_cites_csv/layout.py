"""The comparative tabulation layout, and how its values map onto ``liaison.v1`` values.

The CITES Trade Database (trade.cites.org, compiled by UNEP-WCMC for the CITES Secretariat)
exports a comparative tabulation as CSV with one header line and one row per combination of
year, taxon, importer, exporter, origin, term, unit, purpose and source; see "A guide to using the
CITES Trade Database" (version 9, 2022), section 3.1 and annexes 1-3.
"""

from __future__ import annotations

from adapters import stable_record_id
from liaison.codes import ISO_ALPHA2_TO_ALPHA3

__all__ = [
    "CARRIED_COLUMNS",
    "COLUMNS",
    "ISO_ALPHA3_TO_ALPHA2",
    "NUMBER_OF_SPECIMENS",
    "REC20_TO_UNIT",
    "UNIT_TO_REC20",
    "describe",
    "record_id",
    "split_description",
]

COLUMNS: tuple[str, ...] = (
    "Year",
    "App.",
    "Taxon",
    "Class",
    "Order",
    "Family",
    "Genus",
    "Importer",
    "Exporter",
    "Origin",
    "Importer reported quantity",
    "Exporter reported quantity",
    "Term",
    "Unit",
    "Purpose",
    "Source",
)
"""The header of a comparative tabulation export, in order."""

CARRIED_COLUMNS = frozenset(
    (
        "Year",
        "Taxon",
        "Importer",
        "Exporter",
        "Origin",
        "Importer reported quantity",
        "Exporter reported quantity",
        "Term",
        "Unit",
    )
)
"""Columns a ``Seizure`` record carries. Of the two quantities, one: the importer's when both are
reported. The appendix, the taxonomy above the taxon, and the purpose and source codes have no
field in ``liaison.v1.Seizure``; decode reports them as not carried."""

NUMBER_OF_SPECIMENS = "H87"
"""UN/ECE Recommendation 20 "piece": a quantity without unit counts specimens (guide, annex 1)."""

UNIT_TO_REC20: dict[str, str] = {
    "": NUMBER_OF_SPECIMENS,
    "kg": "KGM",
    "g": "GRM",
    "mg": "MGM",
    "l": "LTR",
    "ml": "MLT",
    "m": "MTR",
    "cm": "CMT",
    "m2": "MTK",
    "cm2": "CMK",
    "m3": "MTQ",
    "cm3": "CMQ",
}
"""CITES units of measure (guide, annex 1) with their UN/ECE Recommendation 20 codes. Other units
("bags", "boxes", "flasks", ...) have no Recommendation 20 equivalent here."""

REC20_TO_UNIT: dict[str, str] = {code: unit for unit, code in UNIT_TO_REC20.items()}

ISO_ALPHA3_TO_ALPHA2: dict[str, str] = {a3: a2 for a2, a3 in ISO_ALPHA2_TO_ALPHA3.items()}


def describe(taxon: str, term: str) -> str:
    """The commodity description of a row: ``Loxodonta africana (tusks)``.

    The term (what kind of specimen: live, skins, tusks, ...) has no field of its own in a
    Seizure; it is kept in the description, from which ``split_description`` recovers it.
    """
    return f"{taxon} ({term})" if term else taxon


def split_description(description: str) -> tuple[str, str]:
    """``(taxon, term)`` from a description made by ``describe``.

    Taxon names are Latin names without parentheses, so the term starts at the first `` (``.
    """
    taxon, opening, rest = description.partition(" (")
    if opening and rest.endswith(")"):
        return taxon, rest[:-1]
    return description, ""


def record_id(
    year: str, description: str, route: tuple[str, ...], amount: str, unit: str, occurrence: int
) -> str:
    """The stable id of the record of a row, from the values the record carries.

    Ids depend on content, not on line numbers, so that re-exporting the same data in another
    order gives the same ids (and the gateway recognises the records). Rows that the record
    cannot tell apart (they differ only in columns it does not carry) are numbered by
    ``occurrence``, 0 for the first in the file.
    """
    return stable_record_id(
        "cites", year, description, "/".join(route), amount, unit, str(occurrence)
    )
