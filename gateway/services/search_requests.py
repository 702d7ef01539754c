"""Search requests: from the wire to a :class:`SearchQuery`, and resumable page cursors.

A cursor is ``v1.<position>.<fingerprint>``: the sequence number of the last hit delivered and a
short hash of the criteria. Results are ordered by the sequence of each record's latest version,
so resuming after a position never skips a record (an update moves a record forward, where it is
found again with its new content). The fingerprint makes a cursor used with other criteria fail
loudly instead of silently paging through a different result set.
"""

from __future__ import annotations

import hashlib

from gateway.errors import FieldViolation, InvalidArgumentError
from gateway.services.filters import check_filter_sizes
from gateway.store.base import SearchQuery
from liaison.rules.indexing import (
    KIND_BY_BODY,
    body_of_kind,
    normalize_document_number,
    normalize_name,
)
from liaison.rules.validation import validate_partial_date, validate_timestamp
from liaison.v1 import exchange_pb2

__all__ = ["decode_cursor", "encode_cursor", "query_from_request"]

_KINDS = frozenset(KIND_BY_BODY.values())


def query_from_request(request: exchange_pb2.SearchRequest) -> SearchQuery:
    """The store query for ``request``.

    Raises:
        InvalidArgumentError: naming each inconsistent or malformed criterion, or an oversized
            filter.
    """
    check_filter_sizes(kinds=request.kinds)
    violations: list[FieldViolation] = []
    document_number = normalize_document_number(request.document_number)
    if request.document_number and not document_number:
        violations.append(FieldViolation("document_number", "has no letters or digits"))
    if request.issuing_state and not request.document_number:
        violations.append(FieldViolation("issuing_state", "is only used with document_number"))
    family_name = normalize_name(request.family_name)
    if request.family_name and not family_name:
        violations.append(FieldViolation("family_name", "has no letters or digits"))
    birth = request.birth_date
    if request.HasField("birth_date") and (birth.year or birth.month or birth.day):
        if not request.family_name:
            violations.append(FieldViolation("birth_date", "is only used with family_name"))
        validate_partial_date(birth, "birth_date", violations)
    for index, kind in enumerate(request.kinds):
        if kind not in _KINDS:
            violations.append(FieldViolation(f"kinds[{index}]", f"unknown record kind {kind}"))
    for name in ("committed_after", "committed_before"):
        if request.HasField(name):
            validate_timestamp(getattr(request, name), name, violations)
    after = _micros(request, "committed_after")
    before = _micros(request, "committed_before")
    if after and before and after >= before:
        violations.append(FieldViolation("committed_before", "must be later than committed_after"))
    if violations:
        raise InvalidArgumentError("invalid search criteria", violations)
    return SearchQuery(
        document_number=document_number,
        issuing_state=request.issuing_state.upper(),
        family_name=family_name,
        birth_year=birth.year,
        birth_month=birth.month,
        birth_day=birth.day,
        kinds=frozenset(body_of_kind(kind) for kind in request.kinds),
        originating_centre=request.originating_centre,
        committed_after_us=after,
        committed_before_us=before,
    )


def _micros(request: exchange_pb2.SearchRequest, field: str) -> int:
    if not request.HasField(field):  # type: ignore[arg-type]
        return 0
    stamp = getattr(request, field)
    return int(stamp.seconds) * 1_000_000 + int(stamp.nanos) // 1000


def _fingerprint(query: SearchQuery) -> str:
    # Built from sorted values, not repr(): set order varies between processes, and a cursor must
    # survive a gateway restart.
    parts = [
        query.document_number,
        query.issuing_state,
        query.family_name,
        f"{query.birth_year}-{query.birth_month}-{query.birth_day}",
        ",".join(sorted(query.kinds)),
        query.originating_centre,
        str(query.committed_after_us),
        str(query.committed_before_us),
    ]
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()[:16]


def encode_cursor(query: SearchQuery, position: int) -> str:
    """A cursor that resumes ``query`` after the hit at sequence ``position``."""
    return f"v1.{position}.{_fingerprint(query)}"


def decode_cursor(query: SearchQuery, cursor: str) -> int:
    """The position a cursor resumes after (0 for an empty cursor).

    Raises:
        InvalidArgumentError: the cursor is malformed or was issued for other criteria.
    """
    if not cursor:
        return 0
    version, _, rest = cursor.partition(".")
    position, _, fingerprint = rest.partition(".")
    # isascii: str.isdigit() accepts other scripts' digits, which int() would then refuse.
    if version != "v1" or not (position.isascii() and position.isdigit()) or len(position) > 19:
        raise InvalidArgumentError(
            "invalid cursor", [FieldViolation("cursor", "is not a cursor issued by this gateway")]
        )
    if fingerprint != _fingerprint(query):
        raise InvalidArgumentError(
            "invalid cursor",
            [FieldViolation("cursor", "was issued for other search criteria")],
        )
    return int(position)
