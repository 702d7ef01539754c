"""The ``liaison.v1.Translation`` service: legacy payloads in and out through the adapters.

Decoding and encoding are CPU work that can take a while on a large payload, so they run on a
small pool of worker threads (adapters are thread-safe), never on the event loop: other calls
keep being served meanwhile. A call whose deadline passes while its adapter works is cancelled
at once; the adapter's result is then dropped, and an Ingest stores nothing.
"""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import hashlib
import logging
import re
import traceback
from collections.abc import Callable, Iterable, Mapping, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import ParamSpec, TypeVar

from grpc import aio

from adapters import (
    Adapter,
    AdapterRegistry,
    DecodeResult,
    Diagnostic,
    EncodeNotSupportedError,
    EncodeResult,
    UnknownAdapterError,
)
from gateway.config import LimitsConfig
from gateway.errors import (
    DeadlineExceededError,
    FailedPreconditionError,
    FieldViolation,
    InternalError,
    InvalidArgumentError,
    LimitExceededError,
    NotFoundError,
    PermissionDeniedError,
)
from gateway.security.gate import RecordGate
from gateway.services.exchange import require_publisher
from gateway.services.ingest_policy import PreparedIngestion, handling_violations, prepare_ingestion
from gateway.services.statuses import ack_of, statuses
from gateway.services.streaming import UnknownThread, unknown_thread_message
from gateway.store.base import (
    IngestOutcome,
    RecordStore,
    RecordWithdrawn,
)
from gateway.store.feed import SerializedEvent
from gateway.telemetry import ChildSpan, Telemetry, adapter_span
from gateway.telemetry import attributes as attr
from gateway.telemetry.names import STORE_WRITE_SPAN
from liaison.rules.ids import RECORD_ID_PATTERN
from liaison.rules.intake import WriteItem, namespace_records
from liaison.rules.validation import validate_record
from liaison.v1 import record_pb2, translation_pb2, translation_pb2_grpc

__all__ = ["ADAPTER_THREADS", "MAX_SOURCE_REFERENCE_CHARS", "SERVICE_NAME", "TranslationService"]

SERVICE_NAME: str = translation_pb2.DESCRIPTOR.services_by_name["Translation"].full_name

ADAPTER_THREADS = 2
"""Worker threads running adapters. Decoding holds the GIL, so more threads would not decode
faster; two let a small payload through while a large one is being decoded."""

MAX_SOURCE_REFERENCE_CHARS = 256
"""Longest ``source_reference`` accepted: it is copied into every record's provenance."""

_DEFAULT_MEDIA_TYPE = "application/octet-stream"
# An unknown adapter name is echoed back only when it looks like one (short, no odd characters).
_ADAPTER_NAME = re.compile(r"^[a-z0-9][a-z0-9._-]{0,62}$")

_log = logging.getLogger(__name__)

_P = ParamSpec("_P")
_T = TypeVar("_T")

Context = aio.ServicerContext[object, object]


class TranslationService(translation_pb2_grpc.TranslationServicer):
    """Implements Translation with an :class:`AdapterRegistry` and a :class:`RecordStore`.

    Call :meth:`close` once the server has stopped, to end the adapter threads.
    """

    def __init__(
        self,
        *,
        registry: AdapterRegistry,
        store: RecordStore,
        gate: RecordGate,
        centre_id: str,
        limits: LimitsConfig,
        telemetry: Telemetry | None = None,
        unknown_threads: Callable[[Sequence[WriteItem]], Mapping[int, UnknownThread]] | None = None,
    ) -> None:
        """``unknown_threads`` finds the replies to threads unknown here (the lifecycle's
        check): an Ingest that carries one is refused whole (None: no thread is checked)."""
        self._unknown_threads = unknown_threads
        self._registry = registry
        self._store = store
        self._gate = gate
        self._centre_id = centre_id
        self._limits = limits
        self._telemetry = telemetry if telemetry is not None else Telemetry.disabled()
        # Threads start on first use: a gateway that never translates never runs one.
        self._executor = ThreadPoolExecutor(
            max_workers=ADAPTER_THREADS, thread_name_prefix="liaison-adapter"
        )

    async def close(self) -> None:
        """Wait for the adapter work still running (its results are dropped), then end the
        threads."""
        await asyncio.to_thread(self._executor.shutdown, wait=True, cancel_futures=True)

    async def ListAdapters(
        self, request: translation_pb2.ListAdaptersRequest, context: Context
    ) -> translation_pb2.ListAdaptersResponse:
        return translation_pb2.ListAdaptersResponse(
            adapters=[adapter.info() for adapter in self._registry]
        )

    async def Translate(
        self, request: translation_pb2.TranslateRequest, context: Context
    ) -> translation_pb2.TranslateResponse:
        async with statuses(context):
            adapter = self._adapter(request.adapter)
            self._check_payload(request.payload, request.source_reference)
            with adapter_span(self._telemetry, adapter, "decode", len(request.payload)) as step:
                result, response = await self._offload(
                    _decode_response,
                    adapter,
                    request.payload,
                    request.source_reference,
                    self._centre_id,
                )
                step.result(len(result.records), result.diagnostics)
            # Built and serialized in the adapter thread: a thousand records and diagnostics
            # are tens of milliseconds the event loop would otherwise not serve anyone else.
            return response  # type: ignore[return-value]
        raise AssertionError("unreachable: statuses aborts the call")

    async def Ingest(
        self, request: translation_pb2.IngestRequest, context: Context
    ) -> translation_pb2.IngestResponse:
        async with statuses(context):
            require_publisher(self._gate)
            adapter = self._adapter(request.adapter)
            self._check_payload(request.payload, request.source_reference)
            handling = request.handling if request.HasField("handling") else None
            if handling is not None:
                violations = handling_violations(handling)
                if violations:
                    raise InvalidArgumentError("the handling is invalid", violations)
            payload_sha256 = hashlib.sha256(request.payload).digest()
            with adapter_span(self._telemetry, adapter, "decode", len(request.payload)) as step:
                prepared = await self._offload(
                    _decode_for_ingestion,
                    adapter,
                    request,
                    payload_sha256,
                    self._centre_id,
                    handling,
                )
                decoded = len(prepared.ingestion.items) + len(prepared.skipped_record_ids)
                step.result(decoded, prepared.diagnostics)
            _check_still_wanted(context)
            self._check_threads(prepared.ingestion.items)
            outcome = await self._ingest(adapter.name, prepared)
            conflict = outcome.origin_conflict
            if isinstance(conflict, RecordWithdrawn):
                raise FailedPreconditionError(
                    f"record {conflict.record_id} was withdrawn (version {conflict.version}) and "
                    "takes no new version; nothing of the payload was stored"
                )
            if conflict is not None:
                raise PermissionDeniedError(
                    f"record {conflict.record_id} originates at {conflict.originating_centre}: "
                    "only that centre publishes its versions; nothing of the payload was stored"
                )
            return translation_pb2.IngestResponse(
                acks=[ack_of(stored) for stored in outcome.acks],
                diagnostics=_protos(prepared.diagnostics),
                duplicate=outcome.duplicate,
                payload_sha256=payload_sha256,
                skipped_record_ids=prepared.skipped_record_ids,
            )
        raise AssertionError("unreachable: statuses aborts the call")

    def _check_threads(self, items: Sequence[WriteItem]) -> None:
        refused = {} if self._unknown_threads is None else self._unknown_threads(items)
        if refused:
            first = refused[min(refused)]
            raise FailedPreconditionError(
                (first.message or unknown_thread_message(first.thread_id, first.record_id))
                + "; nothing of the payload was stored"
            )

    async def Export(
        self, request: translation_pb2.ExportRequest, context: Context
    ) -> translation_pb2.ExportResponse:
        async with statuses(context):
            adapter = self._adapter(request.adapter)
            if not adapter.can_encode():
                raise FailedPreconditionError(
                    f"adapter {adapter.name!r} cannot encode, only decode; adapters that can "
                    f"encode: {_listed(a.name for a in self._registry if a.can_encode())}"
                )
            self._check_export_size(request)
            # Validating thousands of inline records is CPU work too: off the loop.
            violations = await self._offload(_export_violations, request)
            if violations:
                raise InvalidArgumentError(
                    "nothing to export"
                    if not (request.record_refs or request.records)
                    else "the export request is invalid",
                    violations,
                )
            records = [*await self._stored(request.record_refs), *request.records]
            with adapter_span(self._telemetry, adapter, "encode") as step:
                result = await self._offload(_encode, adapter, records)
                step.result(len(records), result.diagnostics, payload_size=len(result.payload))
            return translation_pb2.ExportResponse(
                payload=result.payload,
                media_type=adapter.media_types[0] if adapter.media_types else _DEFAULT_MEDIA_TYPE,
                diagnostics=_protos(result.diagnostics),
            )
        raise AssertionError("unreachable: statuses aborts the call")

    async def decode(
        self, name: str, payload: bytes
    ) -> tuple[list[record_pb2.Record], list[translation_pb2.Diagnostic]]:
        """Decode a payload as Translate does (the same adapter lookup, limits and worker
        threads), for services that take legacy payloads too (Screening.Screen).

        Raises:
            InvalidArgumentError: unknown adapter, empty payload.
            LimitExceededError: the payload is over ``[limits] max_payload_bytes``.
        """
        adapter = self._adapter(name)
        self._check_payload(payload, "")
        with adapter_span(self._telemetry, adapter, "decode", len(payload)) as step:
            result = await self._offload(_decode, adapter, payload, "", self._centre_id)
            step.result(len(result.records), result.diagnostics)
        return list(result.records), _protos(result.diagnostics)

    def _adapter(self, name: str) -> Adapter:
        try:
            return self._registry.get(name)
        except UnknownAdapterError as error:
            known = f"known adapters: {_listed(error.known)}"
            if not name:
                raise InvalidArgumentError(
                    "an adapter name is required",
                    [FieldViolation("adapter", f"is required; {known}")],
                ) from None
            shown = repr(name) if _ADAPTER_NAME.fullmatch(name) else "(not an adapter name)"
            raise InvalidArgumentError(
                f"unknown adapter {shown}", [FieldViolation("adapter", f"unknown; {known}")]
            ) from None

    def _check_payload(self, payload: bytes, source_reference: str) -> None:
        limit = self._limits.max_payload_bytes
        if len(payload) > limit:
            raise LimitExceededError(
                f"the payload is {len(payload)} bytes; this gateway decodes at most {limit} "
                "bytes per call ([limits] max_payload_bytes)"
            )
        violations = []
        if not payload:
            violations.append(FieldViolation("payload", "must not be empty"))
        if len(source_reference) > MAX_SOURCE_REFERENCE_CHARS:
            violations.append(
                FieldViolation(
                    "source_reference", f"must be at most {MAX_SOURCE_REFERENCE_CHARS} characters"
                )
            )
        if violations:
            raise InvalidArgumentError(
                "the payload is empty" if not payload else "the source reference is too long",
                violations,
            )

    def _check_export_size(self, request: translation_pb2.ExportRequest) -> None:
        count = len(request.record_refs) + len(request.records)
        if count > self._limits.max_export_records:
            raise LimitExceededError(
                f"an Export call may carry at most {self._limits.max_export_records} records "
                f"([limits] max_export_records), this one has {count}; split it"
            )

    async def _stored(self, refs: Sequence[translation_pb2.RecordRef]) -> list[record_pb2.Record]:
        # Through the gate: a record the caller may not see is not found, exactly as an absent one.
        found = await self._gate.get_versions([(ref.record_id, ref.version) for ref in refs])
        records = []
        for ref, stored in zip(refs, found, strict=True):
            if stored is None:
                what = f"version {ref.version} of " if ref.version else ""
                raise NotFoundError(f"{what}record {ref.record_id} not found")
            records.append(stored.to_message())
        return records

    async def _ingest(self, adapter: str, prepared: PreparedIngestion) -> IngestOutcome:
        """Store an ingestion under its store span, counting what was stored and skipped."""
        metrics = self._telemetry.metrics
        items = len(prepared.ingestion.items)
        with ChildSpan(
            self._telemetry.tracer, STORE_WRITE_SPAN, {attr.RECORDS_COUNT: items}
        ) as span:
            outcome = await self._store.ingest(prepared.ingestion)
            stored = 0 if outcome.duplicate else sum(not ack.duplicate for ack in outcome.acks)
            if span is not None:
                span.set_attributes(
                    {attr.RECORDS_STORED: stored, attr.RECORDS_DUPLICATE: items - stored}
                )
        metrics.ingested(stored, self._centre_id, adapter)
        metrics.rejected(len(prepared.skipped_record_ids), "diagnostics", self._centre_id, adapter)
        return outcome

    async def _offload(self, function: Callable[_P, _T], *args: _P.args, **kwargs: _P.kwargs) -> _T:
        loop = asyncio.get_running_loop()
        return await loop.run_in_executor(
            self._executor, functools.partial(function, *args, **kwargs)
        )


def _check_still_wanted(context: Context) -> None:
    """Refuse to store for a caller who has gone.

    gRPC cancels a handler whose deadline passes, but the cancellation reaches the event loop
    through the completion queue and can arrive after the decode's result does; checking here
    makes "a deadline passed while decoding stores nothing" hold however loaded the machine is.
    """
    remaining = context.time_remaining()
    if context.cancelled() or (remaining is not None and remaining <= 0):
        raise DeadlineExceededError(
            "the deadline passed while the adapter decoded the payload; nothing was stored"
        )


def _decode(
    adapter: Adapter, payload: bytes, source_reference: str, centre_id: str
) -> DecodeResult:
    """Decode ``payload``, with the records' ids minted in this centre's namespace (the
    diagnostics follow them)."""
    result = _decode_raw(adapter, payload, source_reference)
    renamed = namespace_records(result.records, centre_id)
    if not renamed:
        return result
    return dataclasses.replace(
        result,
        diagnostics=tuple(
            dataclasses.replace(
                diagnostic,
                record_ids=tuple(renamed.get(i, i) for i in diagnostic.record_ids),
            )
            for diagnostic in result.diagnostics
        ),
    )


def _decode_response(
    adapter: Adapter, payload: bytes, source_reference: str, centre_id: str
) -> tuple[DecodeResult, SerializedEvent]:
    """Decode ``payload`` and serialize the ``TranslateResponse`` carrying the result."""
    result = _decode(adapter, payload, source_reference, centre_id)
    response = translation_pb2.TranslateResponse(
        records=result.records, diagnostics=_protos(result.diagnostics)
    )
    return result, SerializedEvent(response.SerializeToString(), ())


def _decode_raw(adapter: Adapter, payload: bytes, source_reference: str) -> DecodeResult:
    try:
        return adapter.decode(payload, source_reference=source_reference)
    except Exception as error:
        # The contract says decode never raises; one that does is a defect of that adapter,
        # and its message could quote the payload: only where it was raised is logged.
        _log.error("adapter %s raised while decoding: %s", adapter.name, _where(error))
        raise InternalError(
            f"adapter {adapter.name!r} failed on this payload (an adapter defect, logged by the "
            "gateway); nothing was stored"
        ) from None


def _decode_for_ingestion(
    adapter: Adapter,
    request: translation_pb2.IngestRequest,
    payload_sha256: bytes,
    centre_id: str,
    handling: record_pb2.Handling | None,
) -> PreparedIngestion:
    result = _decode(adapter, request.payload, request.source_reference, centre_id)
    return prepare_ingestion(
        result,
        adapter=adapter.name,
        payload_sha256=payload_sha256,
        centre_id=centre_id,
        handling=handling,
        accept_partial=request.accept_partial,
    )


def _export_violations(request: translation_pb2.ExportRequest) -> list[FieldViolation]:
    violations = [
        FieldViolation(f"record_refs[{i}].record_id", "must be a valid record id")
        for i, ref in enumerate(request.record_refs)
        if not RECORD_ID_PATTERN.fullmatch(ref.record_id)
    ] + [
        violation.in_record(f"records[{i}]")
        for i, record in enumerate(request.records)
        for violation in validate_record(record)
    ]
    if not (request.record_refs or request.records):
        violations.append(FieldViolation("record_refs", "give record_refs or records"))
    return violations


def _encode(adapter: Adapter, records: Sequence[record_pb2.Record]) -> EncodeResult:
    try:
        return adapter.encode(records)
    except EncodeNotSupportedError:
        raise FailedPreconditionError(f"adapter {adapter.name!r} cannot encode") from None
    except Exception as error:
        _log.error("adapter %s raised while encoding: %s", adapter.name, _where(error))
        raise InternalError(
            f"adapter {adapter.name!r} failed on these records (an adapter defect, logged by the "
            "gateway)"
        ) from None


def _where(error: Exception) -> str:
    """An exception's type and where it was raised: never its message, which may hold data."""
    frames = traceback.extract_tb(error.__traceback__)
    if not frames:
        return type(error).__name__
    last = frames[-1]
    return f"{type(error).__name__} at {Path(last.filename).name}:{last.lineno} in {last.name}"


def _listed(names: Iterable[str]) -> str:
    listed = sorted(names)
    return ", ".join(listed) if listed else "none"


def _protos(diagnostics: Sequence[Diagnostic]) -> list[translation_pb2.Diagnostic]:
    return [diagnostic.to_proto() for diagnostic in diagnostics]
