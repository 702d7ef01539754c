"""Country codes and places as PAXLST writes them, mapped to and from the contract's types.

The guide asks for ISO 3166-1 alpha-3 country codes (NAT, LOC+174/180/91), with the ICAO Doc
9303 codes that are not ISO (``D``, ``XXA``...) where a travel document carries them, and IATA
three-letter location codes for airports (LOC+125/87/92/178/179).
"""

from __future__ import annotations

import re

from liaison.codes import ICAO_CODES, ISO_ALPHA2_TO_ALPHA3, ISO_ALPHA3
from liaison.v1 import common_pb2

__all__ = ["country_text", "number", "place_code", "set_country", "set_location"]

_UINT32_MAX = 2**32 - 1

_ISO = common_pb2.COUNTRY_CODE_SYSTEM_ISO3166_ALPHA3
_ICAO = common_pb2.COUNTRY_CODE_SYSTEM_ICAO9303
_UNMAPPED = common_pb2.COUNTRY_CODE_SYSTEM_UNMAPPED

# Every code that maps, precomputed: code as written -> (normalised code, system, raw).
_COUNTRIES: dict[str, tuple[str, int, str]] = {
    **{code: (code, _ISO, "") for code in ISO_ALPHA3},
    **{code: (code, _ICAO, "") for code in ICAO_CODES},
    **{alpha2: (alpha3, _ISO, alpha2) for alpha2, alpha3 in ISO_ALPHA2_TO_ALPHA3.items()},
}

_IATA = re.compile(r"[A-Z]{3}")
_UNLOCODE = re.compile(r"[A-Z]{2}[A-Z2-9]{3}")


def set_country(target: common_pb2.CountryCode, value: str) -> bool:
    """Fill ``target`` from a code as written; False when it is no ISO or ICAO code.

    An unknown value is kept in ``raw`` with system UNMAPPED, as the contract asks.
    """
    known = _COUNTRIES.get(value)
    if known is None:
        target.raw = value
        target.system = _UNMAPPED
        return False
    code, system, raw = known
    target.code = code
    target.system = system  # type: ignore[assignment]
    if raw:
        target.raw = raw
    return True


def country_text(country: common_pb2.CountryCode) -> str:
    """The code to write for ``country``.

    The source's own form (``raw``) when PAXLST reads it back as the same code (an ISO alpha-2
    code such as ``DE``), so that a round trip keeps it; the normalised code when the raw form
    belongs to another format (``D<<`` from an MRZ); the raw value when nothing maps.
    """
    raw, code = country.raw, country.code
    if not code:
        return raw
    if raw:
        known = _COUNTRIES.get(raw)
        if known is not None and known[0] == code:
            return raw
    return code


def set_location(target: common_pb2.Place, code: str, name: str) -> None:
    """Fill an airport or city place from LOC C517 3225 (code) and 3224 (name)."""
    if code:
        if _IATA.fullmatch(code):
            target.iata_code = code
        elif _UNLOCODE.fullmatch(code):
            target.unlocode = code
        else:
            target.other_code = code
    if name:
        target.name = name


def place_code(place: common_pb2.Place) -> str:
    """The LOC 3225 code of an airport or city place."""
    return place.iata_code or place.unlocode or place.other_code


def number(text: str) -> int | None:
    """A count as EDIFACT writes it (ASCII digits), when it fits the contract's uint32."""
    if not (text.isascii() and text.isdigit()) or len(text) > 10:
        return None
    value = int(text)
    return value if value <= _UINT32_MAX else None
