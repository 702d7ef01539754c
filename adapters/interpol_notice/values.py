"""Value types of INTERPOL notices: dates, entity ids, country codes, scripts, notice URLs.

Each parser takes the JSON value exactly as the public API serves it and returns the contract's
form, or ``None`` when the value does not follow the API's grammar (the caller reports where).
Each writer does the reverse. Nothing here reports diagnostics or touches a payload.
"""

from __future__ import annotations

import calendar
import re
import unicodedata

from liaison.codes import ISO_ALPHA2_TO_ALPHA3
from liaison.v1 import common_pb2, notice_pb2

__all__ = [
    "API_BASE",
    "country_code",
    "country_text",
    "detect_script",
    "entity_id",
    "is_absent_name",
    "json_pointer",
    "notice_href",
    "notice_type_of_href",
    "page_href",
    "partial_date",
    "partial_date_text",
]

API_BASE = "https://ws-public.interpol.int"
"""The INTERPOL public notices API; its notice URLs are ``{API_BASE}/notices/v1/{kind}/{id}``."""

# The API writes dates as YYYY/MM/DD, YYYY/MM or YYYY (birth dates, event dates, UN listing
# dates). re.ASCII: \d would also accept Arabic-Indic and other Unicode digits.
_PARTIAL_DATE = re.compile(r"([0-9]{4})(?:/([0-9]{2})(?:/([0-9]{2}))?)?", re.ASCII)
# Entity ids are YYYY/NNNNN; URLs (and some detail documents) write them YYYY-NNNNN.
_ENTITY_ID = re.compile(r"([0-9]{4})[/-]([0-9]{1,9})", re.ASCII)
_DAYS_IN_MONTH = (0, 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31)  # February: see partial_date

_ISO_ALPHA3 = common_pb2.COUNTRY_CODE_SYSTEM_ISO3166_ALPHA3
_UNMAPPED = common_pb2.COUNTRY_CODE_SYSTEM_UNMAPPED
_ALPHA3_TO_ALPHA2 = {alpha3: alpha2 for alpha2, alpha3 in ISO_ALPHA2_TO_ALPHA3.items()}
# Built once: a page holds the same few nationalities many times over. Read-only after import.
_ISO_COUNTRIES = {
    alpha2: common_pb2.CountryCode(code=alpha3, system=_ISO_ALPHA3, raw=alpha2)
    for alpha2, alpha3 in ISO_ALPHA2_TO_ALPHA3.items()
}

# Path segment after /notices/v1/ -> notice type. UN notices about persons live under un/persons;
# un/entities (organisations) are not notices about a person and are not mapped.
_TYPE_BY_PATH: dict[str, int] = {
    "red": notice_pb2.NOTICE_TYPE_RED,
    "yellow": notice_pb2.NOTICE_TYPE_YELLOW,
    "un/persons": notice_pb2.NOTICE_TYPE_UN,
    "blue": notice_pb2.NOTICE_TYPE_BLUE,
    "black": notice_pb2.NOTICE_TYPE_BLACK,
    "green": notice_pb2.NOTICE_TYPE_GREEN,
    "orange": notice_pb2.NOTICE_TYPE_ORANGE,
    "purple": notice_pb2.NOTICE_TYPE_PURPLE,
}
_PATH_BY_TYPE = {notice_type: path for path, notice_type in _TYPE_BY_PATH.items()}
_NOTICES_PATH = "/notices/v1/"

# First word of a letter's Unicode name -> ISO 15924 script code, for the scripts INTERPOL
# notices are written in besides Latin.
_SCRIPT_BY_UNICODE_NAME = {
    "LATIN": "Latn",
    "ARABIC": "Arab",
    "CYRILLIC": "Cyrl",
    "GREEK": "Grek",
    "HEBREW": "Hebr",
    "ARMENIAN": "Armn",
    "GEORGIAN": "Geor",
    "DEVANAGARI": "Deva",
    "BENGALI": "Beng",
    "TAMIL": "Taml",
    "THAI": "Thai",
    "ETHIOPIC": "Ethi",
    "CJK": "Hani",
    "HANGUL": "Hang",
    "HIRAGANA": "Hira",
    "KATAKANA": "Kana",
}
_UNKNOWN_SCRIPT = "Zzzz"  # ISO 15924: code for uncoded script


def partial_date(text: str) -> tuple[int, int, int] | None:
    """``YYYY/MM/DD``, ``YYYY/MM`` or ``YYYY`` as (year, month, day), zero where not given.

    ``None`` when the text is not of that form or not a calendar date. A tuple rather than a
    PartialDate: the caller sets the fields of the record's own message, which saves building
    and copying one per notice.
    """
    match = _PARTIAL_DATE.fullmatch(text)
    if match is None:
        return None
    year_text, month_text, day_text = match.groups()
    year = int(year_text)
    if year == 0:
        return None
    if month_text is None:
        return year, 0, 0
    month = int(month_text)
    if not 1 <= month <= 12:
        return None
    if day_text is None:
        return year, month, 0
    day = int(day_text)
    if not 1 <= day <= (_DAYS_IN_MONTH[month] if month != 2 else 28 + calendar.isleap(year)):
        return None
    return year, month, day


def partial_date_text(date: common_pb2.PartialDate) -> str | None:
    """The API's text for a PartialDate, to the precision it has; ``None`` when unset."""
    if not date.year:
        return None
    if not date.month:
        return f"{date.year:04d}"
    if not date.day:
        return f"{date.year:04d}/{date.month:02d}"
    return f"{date.year:04d}/{date.month:02d}/{date.day:02d}"


def entity_id(text: str) -> str | None:
    """The canonical ``YYYY/NNNNN`` form of an entity id written with ``/`` or ``-``."""
    match = _ENTITY_ID.fullmatch(text)
    return None if match is None else f"{match[1]}/{match[2]}"


def country_code(text: str) -> common_pb2.CountryCode:
    """An INTERPOL country code (ISO 3166-1 alpha-2) as a contract CountryCode.

    INTERPOL also uses codes outside ISO 3166-1 (``914`` and others); those are kept as they
    stand in ``raw`` with system UNMAPPED, never guessed. The message returned for an ISO code is
    shared: copy it into a record (``CopyFrom``, ``extend``), never change it.
    """
    country = _ISO_COUNTRIES.get(text)
    if country is None:
        return common_pb2.CountryCode(system=_UNMAPPED, raw=text)
    return country


def country_text(country: common_pb2.CountryCode) -> tuple[str | None, bool]:
    """The INTERPOL code for a CountryCode and whether it is faithful.

    Returns ``(None, True)`` for an unset code. An ISO code becomes its alpha-2 form, an unmapped
    code its raw value; ICAO-only codes (``D`` aside, which is Germany) have no INTERPOL form and
    are written as they are, with ``False`` so the caller can say so.
    """
    if not country.code:
        return (country.raw or None), True
    alpha2 = _ALPHA3_TO_ALPHA2.get(country.code)
    if alpha2 is not None:
        return alpha2, True
    if country.code == "D":
        return "DE", True
    return country.code, False


def is_absent_name(text: str) -> bool:
    """True for the API's placeholders of a name it does not know: empty, blank or ``-``."""
    stripped = text.strip()
    return not stripped or stripped == "-"


def detect_script(text: str) -> str:
    """ISO 15924 code of the script of the first letter in ``text`` (``Zzzz`` if unknown)."""
    for char in text:
        if char.isalpha():
            word = unicodedata.name(char, "").split(" ", 1)[0]
            return _SCRIPT_BY_UNICODE_NAME.get(word, _UNKNOWN_SCRIPT)
    return _UNKNOWN_SCRIPT


def notice_type_of_href(href: str) -> int | None:
    """The notice type an API URL names (``.../notices/v1/red/2019-12345``), if it names one."""
    start = href.find(_NOTICES_PATH)
    if start < 0:
        return None
    path = href[start + len(_NOTICES_PATH) :].split("?", 1)[0]
    kind, _, rest = path.partition("/")
    if kind == "un":
        kind = "un/" + rest.split("/", 1)[0]
    return _TYPE_BY_PATH.get(kind)


def notice_href(notice_type: int, entity: str) -> str | None:
    """The API URL of a notice's detail document; ``None`` for an unspecified type."""
    path = _PATH_BY_TYPE.get(notice_type)
    if path is None:
        return None
    return f"{API_BASE}{_NOTICES_PATH}{path}/{entity.replace('/', '-')}"


def page_href(notice_type: int, count: int) -> str | None:
    """The API URL of a one-page search result of ``count`` notices of one type."""
    path = _PATH_BY_TYPE.get(notice_type)
    if path is None:
        return None
    return f"{API_BASE}{_NOTICES_PATH}{path}?page=1&resultPerPage={count}"


def json_pointer(base: str, key: str | int) -> str:
    """``base`` extended by one RFC 6901 reference token (``~`` and ``/`` escaped)."""
    if isinstance(key, int):
        return f"{base}/{key}"
    if "~" in key or "/" in key:
        key = key.replace("~", "~0").replace("/", "~1")
    return f"{base}/{key}"
