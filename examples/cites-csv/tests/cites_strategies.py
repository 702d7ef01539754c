"""Hypothesis strategies: rows of a comparative tabulation, as the records they decode to.

The records are built here from the row values, spelling out the mapping the adapter documents
(the year as the date, ``Taxon (term)`` as the description, origin-exporter-importer as the
route, the quantity with its Recommendation 20 unit), so that a round trip through the adapter
is compared against an independent statement of what it should give.
"""

from __future__ import annotations

from collections import Counter

from hypothesis import strategies as st
from liaison_cites_csv import record_id

from liaison.codes import ISO_ALPHA2_TO_ALPHA3
from liaison.v1 import common_pb2, record_pb2, seizure_pb2

__all__ = ["trade_records"]

_UNITS = {"": "H87", "kg": "KGM", "g": "GRM", "l": "LTR", "m": "MTR", "m2": "MTK", "cm3": "CMQ"}

_taxa = st.one_of(
    st.sampled_from(["Loxodonta africana", "Psittacus erithacus", "Scleractinia spp.", "Hybrid"]),
    st.from_regex(r"[A-Z][a-z]{2,10}( [a-z.-]{2,10}){0,2}", fullmatch=True),
)
# Terms may hold what CSV must quote (commas, quotes) and parentheses, as real ones do.
_terms = st.one_of(
    st.just(""),
    st.sampled_from(["live", "tusks", "leather products (small)", "shells, polished"]),
    st.from_regex(r'[a-z][a-z ,"()]{0,12}[a-z)]', fullmatch=True),
)
_countries = st.one_of(st.sampled_from(sorted(ISO_ALPHA2_TO_ALPHA3)), st.just("XX"))
_amounts = st.one_of(st.just(""), st.from_regex(r"[0-9]{1,6}(\.[0-9]{1,3})?", fullmatch=True))


def _country(raw: str) -> common_pb2.CountryCode:
    alpha3 = ISO_ALPHA2_TO_ALPHA3.get(raw)
    if alpha3 is None:
        return common_pb2.CountryCode(system=common_pb2.COUNTRY_CODE_SYSTEM_UNMAPPED, raw=raw)
    return common_pb2.CountryCode(
        code=alpha3, system=common_pb2.COUNTRY_CODE_SYSTEM_ISO3166_ALPHA3, raw=raw
    )


_rows = st.tuples(
    st.integers(min_value=1975, max_value=9999),
    _taxa,
    _terms,
    st.one_of(st.just(""), _countries),
    _countries,
    _countries,
    _amounts,
    st.sampled_from(sorted(_UNITS)),
)

Row = tuple[int, str, str, str, str, str, str, str]


def _records(rows: list[Row]) -> list[record_pb2.Record]:
    records = []
    seen: Counter[tuple[str, ...]] = Counter()
    for year, taxon, term, origin, exporter, importer, amount, unit in rows:
        seizure = seizure_pb2.Seizure(
            commodity_category=seizure_pb2.COMMODITY_CATEGORY_CITES_SPECIES,
            date=common_pb2.PartialDate(year=year),
            commodity_description=f"{taxon} ({term})" if term else taxon,
            route_countries=[_country(raw) for raw in (origin, exporter, importer) if raw],
        )
        if amount:
            seizure.quantity.amount = amount
            seizure.quantity.unit = _UNITS[unit]
        route = tuple(c.code or c.raw for c in seizure.route_countries)
        key = (
            str(year),
            seizure.commodity_description,
            *route,
            seizure.quantity.amount,
            seizure.quantity.unit,
        )
        identifier = record_id(
            str(year),
            seizure.commodity_description,
            route,
            seizure.quantity.amount,
            seizure.quantity.unit,
            seen[key],
        )
        seen[key] += 1
        records.append(record_pb2.Record(record_id=identifier, seizure=seizure))
    return records


def trade_records(max_rows: int = 6) -> st.SearchStrategy[list[record_pb2.Record]]:
    """Lists of records as the adapter decodes them from a comparative tabulation."""
    return st.lists(_rows, max_size=max_rows).map(_records)
