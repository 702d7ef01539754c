"""The ``liaison.v1.Screening`` service: screen subjects, decide on hits, list stored hits.

Need-to-know applies to every answer:

* ``Screen`` returns a full hit (entry id, score, explanation) and the entry record only when the
  caller may see the entry; otherwise a redacted hit - that there is one, on which list, and
  which centre to contact. Entries at H3 are never in the index.
* ``Decide`` and ``ListHits`` read hit records through the visibility gate; a hit is handled as
  the stricter of its subject's and its entry's handling, so only callers who may see both see
  it. A decision is a new version of the hit record, so it is signed, audited and federated
  like any other record.
"""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime

from gateway.errors import (
    ConflictError,
    FailedPreconditionError,
    FieldViolation,
    InvalidArgumentError,
    LimitExceededError,
    NotFoundError,
)
from gateway.screening import (
    ScreeningInputError,
    hit_from_match,
    redacted_hit,
    subjects_from_records,
)
from gateway.security.authorization import current_caller
from gateway.security.gate import RecordGate
from gateway.security.policy import LOCAL_IDENTITY
from gateway.services.exchange import require_publisher
from gateway.services.filters import check_filter_sizes
from gateway.services.screening_desk import HIT_KIND, ScreeningDesk
from gateway.services.statuses import Context, ack_of, statuses
from gateway.store import RecordStore, StoredRecord
from gateway.store.base import SearchQuery, StoredVersion, VersionConflict
from liaison.rules.ids import LIST_NAME_PATTERN, MAX_VERSION, RECORD_ID_PATTERN
from liaison.rules.intake import prepare_record
from liaison.rules.validation import validate_record, validate_timestamp
from liaison.v1 import (
    record_pb2,
    screening_hit_pb2,
    screening_pb2,
    screening_pb2_grpc,
    translation_pb2,
)

__all__ = ["MAX_NOTE_CHARS", "MAX_SUBJECTS", "SERVICE_NAME", "ScreeningService"]

SERVICE_NAME = screening_pb2.DESCRIPTOR.services_by_name["Screening"].full_name
MAX_SUBJECTS = 10_000
"""Most subject records one Screen call may carry (a large manifest with its travellers)."""
MAX_NOTE_CHARS = 4000
_MAX_LISTS = 64
_SCREENABLE = frozenset({"person", "travel_document", "passenger_manifest"})
_DECISIONS = frozenset(
    {
        screening_hit_pb2.SCREENING_DECISION_KIND_MATCH,
        screening_hit_pb2.SCREENING_DECISION_KIND_NO_MATCH,
        screening_hit_pb2.SCREENING_DECISION_KIND_UNSURE,
    }
)
_SCAN = 500

Decoder = Callable[
    [str, bytes], Awaitable[tuple[list[record_pb2.Record], list[translation_pb2.Diagnostic]]]
]


class ScreeningService(screening_pb2_grpc.ScreeningServicer):
    """Serves ``liaison.v1.Screening``; see the module documentation."""

    def __init__(
        self,
        desk: ScreeningDesk,
        store: RecordStore,
        gate: RecordGate,
        centre_id: str,
        decode: Decoder,
        *,
        max_page_size: int = 1000,
        default_page_size: int = 100,
        clock: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._desk = desk
        self._store = store
        self._gate = gate
        self._centre = centre_id
        self._decode = decode
        self._max_page = max_page_size
        self._default_page = default_page_size
        self._clock = clock

    # -- Screen ------------------------------------------------------------------------------

    async def Screen(
        self, request: screening_pb2.ScreenRequest, context: Context
    ) -> screening_pb2.ScreenResponse:
        async with statuses(context):
            _check_lists(request.lists)
            records, diagnostics = await self._subjects(request)
            try:
                # Off the loop: joining 10,000 subjects held it for over a second, and Health
                # checks and every other call waited.
                subjects = await asyncio.to_thread(subjects_from_records, records)
            except ScreeningInputError as error:
                raise InvalidArgumentError(
                    "the subjects cannot be screened", [FieldViolation("subjects", error.message)]
                ) from None
            found = await self._desk.screen(subjects, list(request.lists) or None)
            response = screening_pb2.ScreenResponse(subjects=records, diagnostics=diagnostics)
            reader = self._gate.reader()
            shown: dict[str, record_pb2.Record] = {}
            now = self._clock()
            # Every entry matched, read in one go (a manifest's hits are many store reads else).
            keys = sorted({(m.entry.record_id, m.entry.version) for ms in found for m in ms})
            read = await self._store.get_versions(keys)
            # An entry past its expiry is used by no screening, even before the retention
            # keeper (or, for another centre's entry, its origin's tombstone) withdraws it.
            entries = {
                key: stored
                for key, stored in zip(keys, read, strict=True)
                if stored is not None and self._gate.serves_content(stored)
            }
            for subject, matches in zip(subjects, found, strict=True):
                redacted: list[screening_hit_pb2.ScreeningHit] = []
                for match in matches:
                    entry = entries.get((match.entry.record_id, match.entry.version))
                    if entry is None:
                        continue
                    hit = hit_from_match(match, subject, now)
                    if self._gate.visible(entry, reader):
                        response.hits.append(hit)
                        shown.setdefault(entry.record_id, entry.to_message())
                    else:
                        if self._gate.on_hidden is not None:
                            self._gate.on_hidden([entry.record_id])
                        redacted.append(redacted_hit(hit))
                # After the visible hits, in an order of their own: a redacted hit ranked among
                # visible ones would bound its score, which it must not reveal.
                redacted.sort(key=lambda hit: (hit.list, hit.entry_centre, -hit.band))
                response.hits.extend(redacted)
            response.entries.extend(shown.values())
            return response
        raise AssertionError("unreachable: statuses aborts the call")

    async def _subjects(
        self, request: screening_pb2.ScreenRequest
    ) -> tuple[list[record_pb2.Record], list[translation_pb2.Diagnostic]]:
        if request.subjects and (request.adapter or request.payload):
            raise InvalidArgumentError(
                "give subjects or a payload, not both",
                [FieldViolation("payload", "must be empty when subjects are given")],
            )
        diagnostics: list[translation_pb2.Diagnostic] = []
        if request.adapter or request.payload:
            records, diagnostics = await self._decode(request.adapter, request.payload)
        else:
            records = list(request.subjects)
        if not records:
            if diagnostics:
                return [], diagnostics
            raise InvalidArgumentError(
                "nothing to screen",
                [FieldViolation("subjects", "give subject records, or an adapter and a payload")],
            )
        if len(records) > MAX_SUBJECTS:
            raise LimitExceededError(
                f"{len(records)} subject records; one Screen call takes at most {MAX_SUBJECTS}"
            )
        # Off the loop, as the join below (10,000 records to validate).
        violations = await asyncio.to_thread(_checked_subjects, records)
        if violations:
            raise InvalidArgumentError("invalid subjects", violations)
        return records, diagnostics

    # -- Decide ------------------------------------------------------------------------------

    async def Decide(
        self, request: screening_pb2.DecideRequest, context: Context
    ) -> screening_pb2.DecideResponse:
        async with statuses(context):
            _check_decision(request)
            # Before reading: a decision is a version of this centre's hit record, published
            # only by callers acting for this centre - the same answer whatever the hit.
            require_publisher(self._gate)
            stored = await self._gate.get(request.hit_record_id)
            if stored is None or stored.kind != HIT_KIND:
                raise NotFoundError(f"hit {request.hit_record_id} not found")
            if stored.originating_centre != self._centre:
                raise FailedPreconditionError(
                    f"hit {request.hit_record_id} was screened at {stored.originating_centre}: "
                    "decide there (only the centre that screened publishes its versions)"
                )
            caller = current_caller()
            analyst = caller.identity if caller is not None else LOCAL_IDENTITY
            standing = stored.to_message().screening_hit.decision
            if (standing.kind, standing.note, standing.analyst) == (
                request.decision,
                request.note,
                analyst,
            ):
                # The same analyst's same decision again - most often the retry of a call whose
                # decision was stored but not audited: the stored version is the answer.
                return screening_pb2.DecideResponse(
                    ack=ack_of(_already_stored(stored)), hit=stored.to_message()
                )
            if request.expected_version and request.expected_version != stored.version:
                raise ConflictError(
                    f"hit {request.hit_record_id} is at version {stored.version}, "
                    f"not {request.expected_version}: read it again before deciding"
                )
            record = stored.to_message()
            decision = record.screening_hit.decision
            decision.kind = request.decision
            decision.note = request.note
            decision.analyst = analyst
            decision.decided_at.FromDatetime(self._clock())
            item = dataclasses.replace(
                prepare_record(record, self._centre, screening_hit=True),
                expected_version=stored.version,
            )
            (outcome,) = await self._store.write([item])
            if isinstance(outcome, VersionConflict):
                raise ConflictError(
                    f"hit {request.hit_record_id} moved to version {outcome.latest_version} "
                    "meanwhile: read it again before deciding"
                )
            if not isinstance(outcome, StoredVersion):
                raise FailedPreconditionError(f"hit {request.hit_record_id} cannot be decided here")
            record.version = outcome.version
            return screening_pb2.DecideResponse(ack=ack_of(outcome), hit=record)
        raise AssertionError("unreachable: statuses aborts the call")

    # -- ListHits ----------------------------------------------------------------------------

    async def ListHits(
        self, request: screening_pb2.ListHitsRequest, context: Context
    ) -> screening_pb2.ListHitsResponse:
        async with statuses(context):
            _check_list_hits(request)
            fingerprint = _fingerprint(request)
            position = _decode_cursor(request.cursor, fingerprint)
            size = min(request.page_size or self._default_page, self._max_page)
            wanted = _hit_filter(request)
            query = SearchQuery(kinds=frozenset({HIT_KIND}))
            page: list[StoredRecord] = []
            more = False
            while True:
                scanned = await self._gate.search(query, position, _SCAN)
                for stored in scanned.records:
                    position = stored.sequence
                    if not wanted(stored.to_message().screening_hit):
                        continue
                    if len(page) == size:
                        more = True
                        break
                    page.append(stored)
                if more or not scanned.has_more:
                    break
            response = screening_pb2.ListHitsResponse(
                hits=[stored.to_message() for stored in page], has_more=more
            )
            if page:
                response.next_cursor = _encode_cursor(page[-1].sequence, fingerprint)
            elif request.cursor:
                response.next_cursor = request.cursor
            return response
        raise AssertionError("unreachable: statuses aborts the call")


def _checked_subjects(records: Sequence[record_pb2.Record]) -> list[FieldViolation]:
    """What is wrong with the subject records (naming those without an id ``subject-N``)."""
    violations: list[FieldViolation] = []
    for position, record in enumerate(records):
        where = f"subjects[{position}]"
        if not record.record_id:
            record.record_id = f"subject-{position + 1}"
        body = record.WhichOneof("body")
        if body not in _SCREENABLE:
            violations.append(
                FieldViolation(where, "must be a person, travel_document or passenger_manifest")
            )
            continue
        violations.extend(
            v.in_record(where) if v.field else FieldViolation(where, v.description)
            for v in validate_record(record)
        )
    return violations


def _check_lists(lists: Sequence[str]) -> None:
    if len(lists) > _MAX_LISTS:
        raise InvalidArgumentError(
            "too many lists", [FieldViolation("lists", f"at most {_MAX_LISTS} names")]
        )
    bad = [i for i, name in enumerate(lists) if not LIST_NAME_PATTERN.fullmatch(name)]
    if bad:
        raise InvalidArgumentError(
            "invalid list names",
            [FieldViolation(f"lists[{i}]", "is not a list name") for i in bad],
        )


def _already_stored(stored: StoredRecord) -> StoredVersion:
    return StoredVersion(
        record_id=stored.record_id,
        version=stored.version,
        sequence=stored.sequence,
        committed_at_us=stored.committed_at_us,
        content_sha256=stored.content_sha256,
        duplicate=True,
    )


def _check_list_hits(request: screening_pb2.ListHitsRequest) -> None:
    _check_lists(request.lists)
    check_filter_sizes(bands=request.bands, decisions=request.decisions)
    violations: list[FieldViolation] = []
    for name in ("screened_after", "screened_before"):
        if request.HasField(name):
            validate_timestamp(getattr(request, name), name, violations)
    if violations:
        raise InvalidArgumentError("invalid hit criteria", violations)


def _check_decision(request: screening_pb2.DecideRequest) -> None:
    violations = []
    if request.expected_version > MAX_VERSION:
        violations.append(FieldViolation("expected_version", f"must be at most {MAX_VERSION}"))
    if not RECORD_ID_PATTERN.fullmatch(request.hit_record_id):
        violations.append(FieldViolation("hit_record_id", "must be a valid record id"))
    if request.decision not in _DECISIONS:
        violations.append(FieldViolation("decision", "must be MATCH, NO_MATCH or UNSURE"))
    if len(request.note) > MAX_NOTE_CHARS:
        violations.append(FieldViolation("note", f"must be at most {MAX_NOTE_CHARS} characters"))
    if violations:
        raise InvalidArgumentError("invalid decision", violations)


def _hit_filter(
    request: screening_pb2.ListHitsRequest,
) -> Callable[[screening_hit_pb2.ScreeningHit], bool]:
    bands = set(request.bands)
    decisions = set(request.decisions)
    lists = set(request.lists)
    after = request.screened_after.ToNanoseconds() if request.HasField("screened_after") else None
    before = (
        request.screened_before.ToNanoseconds() if request.HasField("screened_before") else None
    )

    def wanted(hit: screening_hit_pb2.ScreeningHit) -> bool:
        if bands and hit.band not in bands:
            return False
        if decisions and hit.decision.kind not in decisions:
            return False
        if lists and hit.list not in lists:
            return False
        at = hit.screened_at.ToNanoseconds()
        if after is not None and at < after:
            return False
        return before is None or at < before

    return wanted


def _fingerprint(request: screening_pb2.ListHitsRequest) -> str:
    criteria = screening_pb2.ListHitsRequest()
    criteria.CopyFrom(request)
    criteria.ClearField("cursor")
    criteria.ClearField("page_size")
    criteria.bands.sort()
    criteria.decisions.sort()
    criteria.lists.sort()
    data = criteria.SerializeToString(deterministic=True)
    return hashlib.sha256(data).hexdigest()[:16]


def _encode_cursor(position: int, fingerprint: str) -> str:
    return f"h1.{position}.{fingerprint}"


def _decode_cursor(cursor: str, fingerprint: str) -> int:
    if not cursor:
        return 0
    version, _, rest = cursor.partition(".")
    position, _, given = rest.partition(".")
    if version != "h1" or not (position.isascii() and position.isdigit()) or len(position) > 19:
        raise InvalidArgumentError(
            "invalid cursor", [FieldViolation("cursor", "is not a cursor issued by ListHits")]
        )
    if given != fingerprint:
        raise InvalidArgumentError(
            "invalid cursor", [FieldViolation("cursor", "was issued for other criteria")]
        )
    return int(position)
