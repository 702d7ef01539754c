"""From a decoded payload to what the store ingests: the error policy, handling, and intake.

A decoded record goes through the same intake as a submitted one (:func:`prepare_record`), so a
record the gateway would refuse from Submit is never stored through Ingest either. The request's
handling is given to every record that has none of its own first.

The error policy follows ``IngestRequest.accept_partial``. By default any error - an adapter's
error diagnostic, or a decoded record that fails validation - refuses the whole payload with
INVALID_ARGUMENT, listing the errors as field violations. With ``accept_partial`` the records no
error concerns are stored, the others are skipped and named, and each validation failure is
reported as a diagnostic of its own (code :data:`RECORD_INVALID`).

Everything here is pure CPU work, run on a worker thread by the Translation service.
"""

from __future__ import annotations

from dataclasses import dataclass

from adapters import DecodeResult, Diagnostic, Location, Severity
from gateway.errors import FieldViolation, InvalidArgumentError
from gateway.store.base import Ingestion, WriteItem
from liaison.rules.intake import prepare_record
from liaison.rules.validation import validate_record
from liaison.v1 import record_pb2

__all__ = [
    "MAX_REFUSAL_VIOLATIONS",
    "RECORD_INVALID",
    "PreparedIngestion",
    "handling_violations",
    "prepare_ingestion",
]

RECORD_INVALID = "LIAISON_RECORD_INVALID"
"""Diagnostic code of a decoded record that fails the gateway's validation."""

MAX_REFUSAL_VIOLATIONS = 16
"""Most field violations a refusal lists (one more says how many were left out). The details
travel in a trailer, and gRPC refuses trailers beyond a few kilobytes."""

_MAX_DESCRIPTION_CHARS = 120


@dataclass(frozen=True, slots=True)
class PreparedIngestion:
    """What to store for one payload, and what to tell the caller about it."""

    ingestion: Ingestion
    """The records to store, in decode order."""
    diagnostics: tuple[Diagnostic, ...]
    """The adapter's diagnostics, then one per decoded record that failed validation."""
    skipped_record_ids: tuple[str, ...]
    """Records not stored because an error concerns them, in decode order, each once."""


def handling_violations(handling: record_pb2.Handling) -> list[FieldViolation]:
    """The violations of ``handling`` (paths ``handling.…``), checked as on any record."""
    # The handling rules live in the record validator; a probe record applies exactly them.
    probe = record_pb2.Record(record_id="probe", handling=handling)
    probe.person.SetInParent()
    return [v for v in validate_record(probe) if v.field.startswith("handling")]


def prepare_ingestion(
    result: DecodeResult,
    *,
    adapter: str,
    payload_sha256: bytes,
    centre_id: str,
    handling: record_pb2.Handling | None = None,
    accept_partial: bool = False,
) -> PreparedIngestion:
    """Apply the error policy and the intake to a decode result.

    The records of ``result`` are modified in place (handling given, version cleared, provenance
    stamped): the result must be a fresh decode that nobody else uses.

    Args:
        result: The adapter's decode of the payload.
        adapter: The adapter's name.
        payload_sha256: SHA-256 of the payload.
        centre_id: This gateway's centre, for records whose provenance names none.
        handling: Given to every record that has no handling of its own.
        accept_partial: Store the records no error concerns instead of refusing the payload.

    Raises:
        ForeignRecordError: a decoded record is another centre's (its provenance names another
            originating centre): the payload is refused whole, with or without
            ``accept_partial`` - speaking for another centre is a permission problem, not one
            bad record among good ones.
        InvalidArgumentError: without ``accept_partial``, when there is any error; it lists the
            adapter's error diagnostics (field: their location) and the validation failures
            (field: the path from the record, the description ending ``(decoded record #i)``).
    """
    tainted = result.tainted_ids
    items: list[WriteItem] = []
    invalid: list[tuple[int, str, tuple[FieldViolation, ...]]] = []
    for index, record in enumerate(result.records):
        if record.record_id in tainted:
            continue
        if handling is not None and not record.HasField("handling"):
            record.handling.CopyFrom(handling)
        # A decoded record is never an update against a version its source could have seen.
        record.version = 0
        try:
            items.append(prepare_record(record, centre_id))
        except InvalidArgumentError as error:
            invalid.append((index, record.record_id, error.violations))
    if not accept_partial and (result.has_errors or invalid):
        raise _refusal(result, invalid)
    skipped = dict.fromkeys(
        [r.record_id for r in result.records if r.record_id in tainted]
        + [record_id for _, record_id, _ in invalid]
    )
    return PreparedIngestion(
        ingestion=Ingestion(adapter, payload_sha256, tuple(items)),
        diagnostics=result.diagnostics + tuple(_invalid_record(*entry) for entry in invalid),
        skipped_record_ids=tuple(skipped),
    )


def _invalid_record(
    index: int, record_id: str, violations: tuple[FieldViolation, ...]
) -> Diagnostic:
    # Field paths only: some of the validator's descriptions quote the refused value (a date),
    # and diagnostics must carry no personal data. The refusal of Submit and of Ingest without
    # accept_partial gives the descriptions to the caller.
    fields = ", ".join(dict.fromkeys(v.field for v in violations))
    return Diagnostic(
        Severity.ERROR,
        RECORD_INVALID,
        f"decoded record #{index} fails the gateway's validation in {fields}",
        Location(),
        (record_id,),
    )


def _refusal(
    result: DecodeResult, invalid: list[tuple[int, str, tuple[FieldViolation, ...]]]
) -> InvalidArgumentError:
    errors = [d for d in result.diagnostics if d.severity is Severity.ERROR]
    violations = [
        FieldViolation(str(d.location), _shortened(f"{d.code}: {d.message}")) for d in errors
    ] + [
        violation.in_record(f"decoded record #{index}")
        for index, _, record_violations in invalid
        for violation in record_violations
    ]
    if len(violations) > MAX_REFUSAL_VIOLATIONS:
        left_out = len(violations) - MAX_REFUSAL_VIOLATIONS
        violations = [
            *violations[:MAX_REFUSAL_VIOLATIONS],
            FieldViolation("payload", f"{left_out} more; Translate the payload to see them all"),
        ]
    parts = []
    if errors:
        parts.append(f"{len(errors)} error diagnostic(s)")
    if invalid:
        parts.append(f"{len(invalid)} decoded record(s) failing validation")
    return InvalidArgumentError(
        f"the payload has {' and '.join(parts)}; nothing was stored "
        "(accept_partial stores the records no error concerns)",
        violations,
    )


def _shortened(text: str) -> str:
    if len(text) <= _MAX_DESCRIPTION_CHARS:
        return text
    return text[: _MAX_DESCRIPTION_CHARS - 1] + "…"
