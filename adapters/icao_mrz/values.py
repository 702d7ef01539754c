"""Coded MRZ values and their contract equivalents: country codes, document codes, sex.

* Issuing state and nationality (Doc 9303 Part 3 §5, codes for nationality, place of birth and
  issuing State or organization): ISO 3166-1 alpha-3 codes with ICAO's additions — ``D<<`` for
  Germany, ``XXA`` stateless, ``XXB``/``XXC`` refugees, ``XXX`` unspecified, ``UNO``/``UNA``/
  ``UNK`` for the United Nations, ``XPO`` INTERPOL and the other organisations of Part D. They map
  to ``CountryCode`` through ``liaison.codes``; a code in neither list keeps its raw value with
  system UNMAPPED.
* Document code (Parts 4-7, positions 1-2): the first letter says the kind of document.
* Sex (Part 3): ``F``, ``M``, ``X`` (unspecified) or ``<`` (not stated).
"""

from __future__ import annotations

from liaison.codes import ICAO_CODES, ISO_ALPHA3
from liaison.v1 import common_pb2, travel_document_pb2

__all__ = [
    "LETTER_BY_SEX",
    "SEX_BY_LETTER",
    "country_field",
    "default_document_code",
    "document_type",
    "read_country",
]

_ISO = common_pb2.COUNTRY_CODE_SYSTEM_ISO3166_ALPHA3
_ICAO = common_pb2.COUNTRY_CODE_SYSTEM_ICAO9303
_UNMAPPED = common_pb2.COUNTRY_CODE_SYSTEM_UNMAPPED

_Known = tuple[str, common_pb2.CountryCodeSystem.ValueType, str]


def _known_codes() -> dict[str, _Known]:
    """Every known code by its three MRZ characters -> (code, system, raw value to keep)."""
    known: dict[str, _Known] = {code: (code, _ISO, "") for code in ISO_ALPHA3}
    for code in ICAO_CODES:
        field = code.ljust(3, "<")
        known[field] = (code, _ICAO, field if field != code else "")
    return known


_KNOWN = _known_codes()


def read_country(field: str, into: common_pb2.CountryCode) -> bool:
    """Fill ``into`` from a three-character MRZ country field; False when the code is unknown.

    An all-filler field leaves ``into`` untouched (the field is empty, not unknown).
    """
    known = _KNOWN.get(field)
    if known is not None:
        into.code, into.system, raw = known
        if raw:
            into.raw = raw
        return True
    if field.strip("<"):
        into.system = _UNMAPPED
        into.raw = field
        return False
    return True


def country_field(country: common_pb2.CountryCode) -> str | None:
    """The MRZ characters for ``country`` (padded with fillers), None when it has none usable.

    The normalised code is written when there is one (``D`` as ``D<<``); otherwise a raw value
    that is itself MRZ text of one to three characters (an unmapped code such as ``UTO``).
    """
    value = country.code or country.raw
    if not value or len(value) > 3:
        return None
    field = value.ljust(3, "<")
    if not all("A" <= c <= "Z" or c == "<" for c in field) or not field.strip("<"):
        return None
    return field


_TYPE_BY_LETTER = {
    "P": travel_document_pb2.DOCUMENT_TYPE_PASSPORT,
    "V": travel_document_pb2.DOCUMENT_TYPE_VISA,
    "I": travel_document_pb2.DOCUMENT_TYPE_IDENTITY_CARD,
    "A": travel_document_pb2.DOCUMENT_TYPE_IDENTITY_CARD,
    "C": travel_document_pb2.DOCUMENT_TYPE_IDENTITY_CARD,
}


def document_type(code: str) -> travel_document_pb2.DocumentType.ValueType:
    """The contract's document type for a two-character MRZ document code.

    ``P`` passports (Part 4), ``V`` visas (Part 7), ``I``/``A``/``C`` official travel documents of
    card size (Parts 5 and 6), except ``AC``, the crew member certificate (Part 5). Anything else
    is OTHER, with the code kept in ``document_code``.
    """
    if code == "AC":
        return travel_document_pb2.DOCUMENT_TYPE_CREW_MEMBER_CERTIFICATE
    return _TYPE_BY_LETTER.get(code[:1], travel_document_pb2.DOCUMENT_TYPE_OTHER)


_DEFAULT_CODE_BY_TYPE = {
    travel_document_pb2.DOCUMENT_TYPE_PASSPORT: "P<",
    travel_document_pb2.DOCUMENT_TYPE_VISA: "V<",
    travel_document_pb2.DOCUMENT_TYPE_IDENTITY_CARD: "I<",
    travel_document_pb2.DOCUMENT_TYPE_CREW_MEMBER_CERTIFICATE: "AC",
}


def default_document_code(kind: travel_document_pb2.DocumentType.ValueType) -> str | None:
    """The document code to write for a document type when the record gives none."""
    return _DEFAULT_CODE_BY_TYPE.get(kind)


SEX_BY_LETTER: dict[str, common_pb2.Sex.ValueType] = {
    "F": common_pb2.SEX_FEMALE,
    "M": common_pb2.SEX_MALE,
    "X": common_pb2.SEX_X,
    "<": common_pb2.SEX_UNSPECIFIED,
}
"""The sex a one-character MRZ field stands for."""

LETTER_BY_SEX: dict[int, str] = {value: letter for letter, value in SEX_BY_LETTER.items()}
"""The MRZ character for each sex."""
