"""``liaison ingest``: a legacy file's records stored in the gateway, whatever the file's size.

A file one Ingest call can carry (``[limits] max_payload_bytes``, 2 MiB unless the gateway's
operator changed it) is sent as it is: the gateway decodes it and stores all its records or
none, once (decision 0008). A larger file is decoded here, by the same adapter installed
locally, held to the same rules - any error diagnostic or record the gateway would refuse
refuses the file, unless ``--accept-partial`` - and its records are submitted over as many
SubmitStream calls as they need (:mod:`gateway.cli.submission`). That path is not atomic: a
failure part-way leaves the records of the calls before it stored. Running it again is safe -
records are idempotent by content - and the summary says which path was taken.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from typing import Final

import grpc
from google.protobuf import json_format

from adapters import DecodeResult, Diagnostic, Severity, UnknownAdapterError, default_registry
from gateway.cli.arguments import positive_int
from gateway.cli.commands import Commands
from gateway.cli.connection import connect
from gateway.cli.exits import EXIT_OK, EXIT_REFUSED, RefusedError, UsageError
from gateway.cli.legacy import decoded, read_payload, source_reference, summarise
from gateway.cli.progress import Progress
from gateway.cli.submission import (
    DecodedRecords,
    Submitted,
    add_stream_options,
    limit_note,
    submit_records,
)
from gateway.cli.translation import add_format_and_path
from gateway.client import ClientError, LiaisonClient
from gateway.config import LimitsConfig
from liaison.rules.errors import FieldViolation
from liaison.rules.validation import validate_record
from liaison.v1 import exchange_pb2, record_pb2, translation_pb2

__all__ = ["MAX_LISTED_VIOLATIONS", "add_commands"]

_DEFAULT_MAX_PAYLOAD_BYTES: Final = LimitsConfig().max_payload_bytes

MAX_LISTED_VIOLATIONS: Final = 16
"""Most refused fields a refusal of a large file lists (one more line says how many more)."""


def add_commands(command: Commands) -> None:
    """Add ``ingest``."""
    ingest = command(
        "ingest",
        "send a legacy file to the gateway, which decodes it and stores all its records or none; "
        "ingesting the same file again stores nothing. A file larger than one Ingest call takes "
        "is decoded here and its records are submitted over streams (not atomically; again is "
        "safe). Exit code 1 when refused or when records were skipped.",
    )
    add_format_and_path(ingest)
    ingest.add_argument(
        "--accept-partial",
        action="store_true",
        help="store the records no error concerns, skip the others (default: refuse the file)",
    )
    ingest.add_argument(
        "--source-reference",
        metavar="REF",
        help="reference carried into provenance (default: the file name)",
    )
    ingest.add_argument("--json", action="store_true", help="print the response as JSON")
    ingest.add_argument(
        "--max-payload-bytes",
        type=positive_int,
        default=_DEFAULT_MAX_PAYLOAD_BYTES,
        metavar="N",
        help="largest file sent in one Ingest call: the gateway's [limits] max_payload_bytes "
        f"(default: {_DEFAULT_MAX_PAYLOAD_BYTES}, the gateway's default); a larger one is "
        "decoded here and submitted over streams",
    )
    add_stream_options(ingest)
    ingest.set_defaults(run=_ingest)


def _ingest(args: argparse.Namespace) -> int:
    payload = read_payload(args.path)
    reference = args.source_reference
    if reference is None:
        reference = source_reference(args.path)
    name = "standard input" if args.path == "-" else args.path
    submitted: Submitted | None = None
    with connect(args) as client:
        response, too_large = _in_one_call(client, args, payload, reference)
        if response is None:
            response, submitted = _ingest_over_streams(
                client, args, payload, reference, name, f"{name} {too_large}"
            )
    if submitted is None:
        summarise(Diagnostic.from_proto(d) for d in response.diagnostics)
        for record_id in response.skipped_record_ids:
            print(f"skipped {record_id}: an error diagnostic concerns it", file=sys.stderr)
    if args.json:
        print(json.dumps(json_format.MessageToDict(response), ensure_ascii=False))
    else:
        _print_acks(response, submitted)
    return EXIT_REFUSED if response.skipped_record_ids else EXIT_OK


def _in_one_call(
    client: LiaisonClient, args: argparse.Namespace, payload: bytes, reference: str
) -> tuple[translation_pb2.IngestResponse | None, str]:
    """The gateway's response to the file in one Ingest call; or ``None`` and why the file is
    too large for one."""
    if len(payload) > args.max_payload_bytes:
        return None, (
            f"is {len(payload)} bytes, more than one Ingest call takes ({args.max_payload_bytes}, "
            "--max-payload-bytes)"
        )
    try:
        response = client.ingest(
            args.format,
            payload,
            source_reference=reference,
            accept_partial=args.accept_partial,
            timeout=args.timeout,
        )
    except ClientError as error:
        # RESOURCE_EXHAUSTED is the only refusal of a payload for its size (the gateway's
        # max_payload_bytes, or its gRPC message limit).
        if error.code is not grpc.StatusCode.RESOURCE_EXHAUSTED:
            raise
        return None, f"is too large for one Ingest call: {error.message}"
    return response, ""


def _ingest_over_streams(
    client: LiaisonClient,
    args: argparse.Namespace,
    payload: bytes,
    reference: str,
    name: str,
    why: str,
) -> tuple[translation_pb2.IngestResponse, Submitted]:
    registry = default_registry()
    try:
        adapter = registry.get(args.format)
    except UnknownAdapterError as error:
        raise UsageError(f"{why}; decoding it here needs that adapter: {error}") from None
    print(
        f"liaison: {why}: decoding it here with {adapter.name} {adapter.version} and storing its "
        "records over streams, not atomically (running it again is safe)",
        file=sys.stderr,
    )
    result = decoded(adapter, payload, reference)
    summarise(result.diagnostics)
    records, skipped = _admitted(result, accept_partial=args.accept_partial)
    for record_id in skipped:
        print(f"skipped {record_id}: an error concerns it", file=sys.stderr)
    acks: list[exchange_pb2.SubmitAck] = []
    progress = Progress()

    def on_result(outcome: exchange_pb2.SubmitResult, record_id: str) -> None:
        if outcome.HasField("ack"):
            acks.append(outcome.ack)
            return
        skipped[record_id] = None
        progress.print(f"skipped {record_id}: the gateway refused it: {outcome.error.message}")

    try:
        submitted = submit_records(
            client,
            DecodedRecords(records, name),
            batch_size=args.batch_size,
            records_per_stream=args.records_per_stream,
            timeout=args.timeout,
            progress=progress,
            on_result=on_result,
        )
    finally:
        progress.clear()
    response = translation_pb2.IngestResponse(
        acks=acks,
        diagnostics=[d.to_proto() for d in result.diagnostics],
        payload_sha256=hashlib.sha256(payload).digest(),
        skipped_record_ids=list(skipped),
    )
    return response, submitted


def _admitted(
    result: DecodeResult, *, accept_partial: bool
) -> tuple[list[record_pb2.Record], dict[str, None]]:
    """The records to submit and the ids of those skipped, by the gateway's Ingest policy: any
    error diagnostic or record failing validation refuses the file, unless ``accept_partial``
    (then the records concerned are skipped).

    Raises:
        RefusedError: The file is refused; it lists the validation failures.
    """
    tainted = result.tainted_ids
    invalid = {
        index: violations
        for index, record in enumerate(result.records)
        if record.record_id not in tainted and (violations := validate_record(record))
    }
    if not accept_partial and (result.has_errors or invalid):
        raise _refusal(result.count(Severity.ERROR), invalid)
    skipped = dict.fromkeys(
        [r.record_id for r in result.records if r.record_id in tainted]
        + [result.records[index].record_id for index in invalid]
    )
    records = [r for r in result.records if r.record_id not in skipped]
    for record in records:
        # A decoded record is never an update against a version its source could have seen.
        record.version = 0
    return records, skipped


def _refusal(errors: int, invalid: dict[int, list[FieldViolation]]) -> RefusedError:
    parts = []
    if errors:
        parts.append(f"{errors} error diagnostic(s)")
    if invalid:
        parts.append(f"{len(invalid)} decoded record(s) failing validation")
    # The gateway's format (decision 0022): the path from the record, which record after it.
    violations = [
        (violation.field, f"{violation.description} (decoded record #{index})")
        for index, record_violations in invalid.items()
        for violation in record_violations
    ]
    if len(violations) > MAX_LISTED_VIOLATIONS:
        left_out = len(violations) - MAX_LISTED_VIOLATIONS
        violations = [*violations[:MAX_LISTED_VIOLATIONS], ("records", f"{left_out} more")]
    return RefusedError(
        f"the file has {' and '.join(parts)}; nothing was stored (--accept-partial stores the "
        "records no error concerns)",
        violations,
    )


def _print_acks(response: translation_pb2.IngestResponse, submitted: Submitted | None) -> None:
    for ack in response.acks:
        print(f"{'duplicate' if ack.duplicate else 'stored'} {ack.record_id} version {ack.version}")
    duplicates = sum(1 for ack in response.acks if ack.duplicate)
    if submitted is None:
        note = " (this file was ingested before)" if response.duplicate else ""
    else:
        streams = "stream" if submitted.streams == 1 else "streams"
        note = f" (over {submitted.streams} {streams}, not atomically)"
    print(
        f"stored {len(response.acks) - duplicates}, duplicates {duplicates}, "
        f"skipped {len(response.skipped_record_ids)}{note}"
    )
    if submitted is not None:
        limit = limit_note(submitted)
        if limit is not None:
            print(f"liaison: note: {limit}", file=sys.stderr)
