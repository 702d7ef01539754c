"""Client library for a Liaison gateway: a blocking and an asyncio client with the same methods.

Both clients retry calls that fail with UNAVAILABLE (the gateway restarting, a connection
dropped before the call was sent) through gRPC's own retry machinery, configured in the
channel's service config: up to 5 attempts with exponential backoff from 0.1 s to 2 s. Retrying
is safe for every method because submitting is idempotent (the same content is stored once).

Failures are raised as :class:`LiaisonError` subclasses chosen by status code, carrying the field
violations the gateway sent in its ``google.rpc.BadRequest`` details::

    with LiaisonClient("127.0.0.1:50051") as client:
        try:
            ack = client.submit(record)
        except InvalidRecordError as error:
            for field, description in error.field_violations:
                ...
"""

from __future__ import annotations

import json
from collections.abc import (
    AsyncGenerator,
    AsyncIterable,
    AsyncIterator,
    Generator,
    Iterable,
    Iterator,
    Sequence,
)
from types import TracebackType
from typing import Any, Final, Self, cast

import grpc
from google.rpc import error_details_pb2
from grpc import aio
from grpc_health.v1 import health_pb2, health_pb2_grpc
from grpc_status import rpc_status

from liaison.v1 import (
    exchange_pb2,
    exchange_pb2_grpc,
    federation_pb2,
    federation_pb2_grpc,
    record_pb2,
    translation_pb2,
    translation_pb2_grpc,
)

__all__ = [
    "DEFAULT_BATCH_SIZE",
    "DEFAULT_MAX_MESSAGE_BYTES",
    "DEFAULT_TIMEOUT",
    "SERVICE_NAME",
    "AsyncLiaisonClient",
    "GatewayUnavailableError",
    "InvalidRecordError",
    "LiaisonClient",
    "LiaisonError",
    "RecordNotFoundError",
    "VersionConflictError",
    "channel_options",
]

SERVICE_NAME: Final = exchange_pb2.DESCRIPTOR.services_by_name["RecordExchange"].full_name
"""Full name of the RecordExchange service (``liaison.v1.RecordExchange``)."""
_HEALTH_SERVICE_NAME: Final = health_pb2.DESCRIPTOR.services_by_name["Health"].full_name
_TRANSLATION_SERVICE_NAME: Final = translation_pb2.DESCRIPTOR.services_by_name[
    "Translation"
].full_name

DEFAULT_TIMEOUT: Final = 10.0
"""Seconds a unary call (Submit, Get, a health check) or one Search page may take. SubmitStream
and Subscribe have no default deadline: the first lasts as long as its input, the second until
the caller stops it; a caller may still give one per call."""
DEFAULT_MAX_MESSAGE_BYTES: Final = 64 * 1024 * 1024
"""Largest message the client sends or accepts."""
DEFAULT_BATCH_SIZE: Final = 500
"""Records per SubmitStream message."""
_MAX_BATCH_BYTES: Final = 1024 * 1024
"""A batch is also closed at this serialized size, well under the gateway's default 4 MiB
message limit, so that large records never push a batch over it."""

_RETRY_POLICY: Final = {
    "maxAttempts": 5,
    "initialBackoff": "0.1s",
    "maxBackoff": "2s",
    "backoffMultiplier": 2,
    "retryableStatusCodes": ["UNAVAILABLE"],
}

_NO_VIOLATIONS: tuple[tuple[str, str], ...] = ()


class LiaisonError(Exception):
    """A call to the gateway failed.

    Attributes:
        code: The gRPC status code.
        message: The status message (the gateway never puts record content in it).
        field_violations: ``(field, description)`` pairs from the status's google.rpc.BadRequest
            details; empty when there are none.
    """

    def __init__(
        self,
        code: grpc.StatusCode,
        message: str,
        field_violations: Sequence[tuple[str, str]] = _NO_VIOLATIONS,
    ) -> None:
        super().__init__(message)
        self.code = code
        self.message = message
        self.field_violations = list(field_violations)

    def __str__(self) -> str:
        return f"{self.message} ({self.code.name})" if self.message else self.code.name


class InvalidRecordError(LiaisonError):
    """The gateway refused the request as invalid (INVALID_ARGUMENT); see ``field_violations``."""


class RecordNotFoundError(LiaisonError):
    """The record or version does not exist (NOT_FOUND)."""


class VersionConflictError(LiaisonError):
    """The record has moved on from the version the caller expected (ABORTED,
    FAILED_PRECONDITION)."""


class GatewayUnavailableError(LiaisonError):
    """The gateway could not be reached, or did not answer in time (UNAVAILABLE,
    DEADLINE_EXCEEDED), after the retries."""


_ERROR_CLASSES: Final[dict[grpc.StatusCode, type[LiaisonError]]] = {
    grpc.StatusCode.INVALID_ARGUMENT: InvalidRecordError,
    grpc.StatusCode.NOT_FOUND: RecordNotFoundError,
    grpc.StatusCode.ABORTED: VersionConflictError,
    grpc.StatusCode.FAILED_PRECONDITION: VersionConflictError,
    grpc.StatusCode.UNAVAILABLE: GatewayUnavailableError,
    grpc.StatusCode.DEADLINE_EXCEEDED: GatewayUnavailableError,
}


_TRANSLATION_ERROR_CLASSES: Final[dict[grpc.StatusCode, type[LiaisonError]]] = {
    code: cls
    for code, cls in _ERROR_CLASSES.items()
    # Translation's FAILED_PRECONDITION is an adapter that cannot encode: no version conflict.
    if code is not grpc.StatusCode.FAILED_PRECONDITION
}


def _error_from_rpc(
    error: grpc.RpcError,
    classes: dict[grpc.StatusCode, type[LiaisonError]] = _ERROR_CLASSES,
) -> LiaisonError:
    """The :class:`LiaisonError` for a failed call (a sync or an asyncio RpcError)."""
    code = error.code()
    message = " ".join((error.details() or "").split())
    cls = classes.get(code, LiaisonError)
    return cls(code, message, _field_violations(error))


def _field_violations(error: grpc.RpcError) -> list[tuple[str, str]]:
    try:
        # Sync errors are grpc.Call objects and asyncio ones have the same methods, which is all
        # from_call uses.
        status = rpc_status.from_call(cast(grpc.Call, error))
    except ValueError:
        # The rich status disagrees with the plain one (a misbehaving proxy): trust neither's
        # details rather than report violations that may belong to another error.
        return []
    if status is None:
        return []
    violations: list[tuple[str, str]] = []
    for detail in status.details:
        if detail.Is(error_details_pb2.BadRequest.DESCRIPTOR):
            bad_request = error_details_pb2.BadRequest()
            detail.Unpack(bad_request)
            violations.extend((v.field, v.description) for v in bad_request.field_violations)
    return violations


def channel_options(
    max_message_bytes: int = DEFAULT_MAX_MESSAGE_BYTES,
    options: Sequence[tuple[str, Any]] = (),
) -> list[tuple[str, Any]]:
    """The channel options both clients use: message limits and the retry service config.

    Args:
        max_message_bytes: Largest message sent or received.
        options: Extra channel options; they replace the defaults of the same name.

    Returns:
        The options, ready for ``grpc.insecure_channel`` and friends.
    """
    service_config = {
        "methodConfig": [
            # Every Translation call is safe to retry too: Ingest is idempotent by payload hash.
            {
                "name": [{"service": SERVICE_NAME}, {"service": _TRANSLATION_SERVICE_NAME}],
                "retryPolicy": _RETRY_POLICY,
            },
            {
                "name": [{"service": _HEALTH_SERVICE_NAME, "method": "Check"}],
                "retryPolicy": _RETRY_POLICY,
            },
        ]
    }
    # Deadlines are not put in the service config: gRPC takes the smaller of the config's and the
    # call's, so a per-call timeout could then only shorten a call, never lengthen it.
    merged: dict[str, Any] = {
        "grpc.max_send_message_length": max_message_bytes,
        "grpc.max_receive_message_length": max_message_bytes,
        "grpc.enable_retries": 1,
        "grpc.service_config": json.dumps(service_config),
    }
    merged.update(options)
    return list(merged.items())


def _or_default(timeout: float | None, default: float) -> float:
    return default if timeout is None else timeout


def _batches(
    records: Iterable[record_pb2.Record], batch_size: int, failure: list[BaseException]
) -> Iterator[exchange_pb2.SubmitStreamRequest]:
    """Group ``records`` into stream messages.

    An exception from ``records`` (a file that turns out to be malformed) is stored in
    ``failure`` and ends the stream cleanly, so that the caller can raise it instead of the
    CANCELLED status (and logged traceback) gRPC would make of it.
    """
    batch = exchange_pb2.SubmitStreamRequest()
    size = 0
    try:
        for record in records:
            record_size = record.ByteSize()
            if batch.records and (
                len(batch.records) >= batch_size or size + record_size > _MAX_BATCH_BYTES
            ):
                yield batch
                batch = exchange_pb2.SubmitStreamRequest()
                size = 0
            batch.records.append(record)
            size += record_size
    except Exception as error:
        failure.append(error)
        return
    if batch.records:
        yield batch


async def _async_batches(
    records: Iterable[record_pb2.Record] | AsyncIterable[record_pb2.Record],
    batch_size: int,
    failure: list[BaseException],
) -> AsyncIterator[exchange_pb2.SubmitStreamRequest]:
    """The asyncio twin of :func:`_batches`."""
    if not isinstance(records, AsyncIterable):
        for batch in _batches(records, batch_size, failure):
            yield batch
        return
    batch = exchange_pb2.SubmitStreamRequest()
    size = 0
    try:
        async for record in records:
            record_size = record.ByteSize()
            if batch.records and (
                len(batch.records) >= batch_size or size + record_size > _MAX_BATCH_BYTES
            ):
                yield batch
                batch = exchange_pb2.SubmitStreamRequest()
                size = 0
            batch.records.append(record)
            size += record_size
    except Exception as error:
        failure.append(error)
        return
    if batch.records:
        yield batch


def _check_batch_size(batch_size: int) -> None:
    if batch_size < 1:
        raise ValueError(f"batch_size must be at least 1, got {batch_size}")


def _next_page(
    request: exchange_pb2.SearchRequest, page_end: exchange_pb2.SearchPageEnd
) -> exchange_pb2.SearchRequest | None:
    """The request for the page after ``page_end``, or ``None`` when the search is complete."""
    if not page_end.has_more:
        return None
    if not page_end.next_cursor or page_end.next_cursor == request.cursor:
        # Following such a page end would ask for the same page forever.
        raise LiaisonError(
            grpc.StatusCode.INTERNAL, "the gateway announced more results without a new cursor"
        )
    following = exchange_pb2.SearchRequest()
    following.CopyFrom(request)
    following.cursor = page_end.next_cursor
    return following


def _subscribe_request(
    after_sequence: int | None,
    kinds: Iterable[record_pb2.RecordKind.ValueType],
    originating_centres: Iterable[str],
) -> exchange_pb2.SubscribeRequest:
    request = exchange_pb2.SubscribeRequest(
        kinds=list(kinds), originating_centres=list(originating_centres)
    )
    if after_sequence is not None:
        request.after_sequence = after_sequence
    return request


def _ingest_request(
    adapter: str,
    payload: bytes,
    source_reference: str,
    handling: record_pb2.Handling | None,
    accept_partial: bool,
) -> translation_pb2.IngestRequest:
    request = translation_pb2.IngestRequest(
        adapter=adapter,
        payload=payload,
        source_reference=source_reference,
        accept_partial=accept_partial,
    )
    if handling is not None:
        request.handling.CopyFrom(handling)
    return request


def _export_request(
    adapter: str,
    record_refs: Iterable[translation_pb2.RecordRef | str],
    records: Iterable[record_pb2.Record],
) -> translation_pb2.ExportRequest:
    return translation_pb2.ExportRequest(
        adapter=adapter,
        record_refs=[
            translation_pb2.RecordRef(record_id=ref) if isinstance(ref, str) else ref
            for ref in record_refs
        ],
        records=records,
    )


def _status_name(response: health_pb2.HealthCheckResponse) -> str:
    name: str = health_pb2.HealthCheckResponse.ServingStatus.Name(response.status)
    return name


class LiaisonClient:
    """A blocking client for one gateway.

    Args:
        target: The gateway's ``host:port`` (any gRPC target string).
        timeout: Default deadline in seconds of unary calls and of each Search page.
        credentials: TLS credentials; ``None`` for a plaintext channel.
        max_message_bytes: Largest message sent or received.
        options: Extra gRPC channel options.
        interceptors: Client interceptors, e.g. ``Telemetry.client_interceptors(target)``
            (``Telemetry.aio_client_interceptors`` for the asyncio client) to trace the calls.
    """

    def __init__(
        self,
        target: str,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        credentials: grpc.ChannelCredentials | None = None,
        max_message_bytes: int = DEFAULT_MAX_MESSAGE_BYTES,
        options: Sequence[tuple[str, Any]] = (),
        interceptors: Sequence[Any] = (),
    ) -> None:
        self.target = target
        self._timeout = timeout
        all_options = channel_options(max_message_bytes, options)
        if credentials is None:
            channel = grpc.insecure_channel(target, all_options)
        else:
            channel = grpc.secure_channel(target, credentials, all_options)
        self._channel = grpc.intercept_channel(channel, *interceptors) if interceptors else channel
        self._stub = exchange_pb2_grpc.RecordExchangeStub(self._channel)
        self._health = health_pb2_grpc.HealthStub(self._channel)
        self._translation = translation_pb2_grpc.TranslationStub(self._channel)
        self._federation_admin = federation_pb2_grpc.FederationAdminStub(self._channel)
        self._federation = federation_pb2_grpc.FederationStub(self._channel)

    def __enter__(self) -> Self:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()

    def close(self) -> None:
        """Close the channel, cancelling calls still running."""
        self._channel.close()

    def submit(
        self, record: record_pb2.Record, *, timeout: float | None = None
    ) -> exchange_pb2.SubmitAck:
        """Store one record; see the Submit RPC.

        Args:
            record: The record.
            timeout: Deadline in seconds; the client's default when ``None``.

        Returns:
            The acknowledgement, received after the gateway committed the record.

        Raises:
            InvalidRecordError: The record is invalid; ``field_violations`` says why.
            VersionConflictError: ``record.version`` is set and no longer the latest.
            GatewayUnavailableError: No answer, even after retrying.
            LiaisonError: Any other refusal.
        """
        try:
            response = self._stub.Submit(
                exchange_pb2.SubmitRequest(record=record),
                timeout=_or_default(timeout, self._timeout),
            )
        except grpc.RpcError as error:
            raise _error_from_rpc(error) from error
        return response.ack

    def submit_many(
        self,
        records: Iterable[record_pb2.Record],
        batch_size: int = DEFAULT_BATCH_SIZE,
        *,
        timeout: float | None = None,
    ) -> exchange_pb2.SubmitStreamResponse:
        """Store many records in one SubmitStream call, ``batch_size`` records per message.

        ``records`` is consumed lazily, so a generator reading a large file streams it.

        Args:
            records: The records, in the order their results are reported.
            batch_size: Most records per stream message.
            timeout: Deadline in seconds for the whole stream; none when ``None``.

        Returns:
            The counts, and one result per record (an acknowledgement or why it was refused).

        Raises:
            ValueError: ``batch_size`` is below 1.
            GatewayUnavailableError: No answer, even after retrying.
            LiaisonError: The gateway refused the whole stream (e.g. RESOURCE_EXHAUSTED).
            Exception: Whatever iterating ``records`` raised. The batches sent before it may
                have been stored; submitting them again is harmless (they are duplicates).
        """
        _check_batch_size(batch_size)
        failure: list[BaseException] = []
        try:
            response = self._stub.SubmitStream(
                _batches(records, batch_size, failure),
                timeout=timeout,
            )
        except grpc.RpcError as error:
            if failure:
                raise failure[0] from None
            raise _error_from_rpc(error) from error
        if failure:
            raise failure[0]
        return response

    def get(
        self, record_id: str, version: int = 0, *, timeout: float | None = None
    ) -> exchange_pb2.GetResponse:
        """Read a record: its latest version, or ``version`` when non-zero.

        Raises:
            RecordNotFoundError: No such record or version.
            GatewayUnavailableError: No answer, even after retrying.
            LiaisonError: Any other refusal.
        """
        try:
            return self._stub.Get(
                exchange_pb2.GetRequest(record_id=record_id, version=version),
                timeout=_or_default(timeout, self._timeout),
            )
        except grpc.RpcError as error:
            raise _error_from_rpc(error) from error

    def search(
        self, request: exchange_pb2.SearchRequest, *, timeout: float | None = None
    ) -> Generator[exchange_pb2.SearchResponse, None, None]:
        """Stream one page of a search: its hits, then its page end.

        Args:
            request: The criteria, page size and cursor.
            timeout: Deadline in seconds of the page; the client's default when ``None``.

        Yields:
            Responses as the gateway sends them. Closing the generator early cancels the call.

        Raises:
            InvalidRecordError: The criteria are invalid (e.g. a malformed cursor).
            GatewayUnavailableError: No answer, even after retrying.
            LiaisonError: Any other refusal.
        """
        call = self._stub.Search(request, timeout=_or_default(timeout, self._timeout))
        try:
            yield from call
        except grpc.RpcError as error:
            raise _error_from_rpc(error) from error
        finally:
            call.cancel()  # type: ignore[no-untyped-call]  # grpc-stubs leaves it untyped

    def search_all(
        self, request: exchange_pb2.SearchRequest, *, timeout: float | None = None
    ) -> Generator[exchange_pb2.SearchHit, None, None]:
        """Stream every hit of a search, following the cursors from page to page.

        Args:
            request: The criteria; its cursor, if any, is where the search starts.
            timeout: Deadline in seconds of each page; the client's default when ``None``.

        Yields:
            Each hit, in the gateway's order.

        Raises:
            LiaisonError: As :meth:`search`, for any page.
        """
        page: exchange_pb2.SearchRequest | None = request
        while page is not None:
            current, page = page, None
            for response in self.search(current, timeout=timeout):
                if response.HasField("hit"):
                    yield response.hit
                elif response.HasField("page_end"):
                    page = _next_page(current, response.page_end)

    def subscribe(
        self,
        after_sequence: int | None = None,
        kinds: Iterable[record_pb2.RecordKind.ValueType] = (),
        originating_centres: Iterable[str] = (),
        *,
        timeout: float | None = None,
    ) -> Generator[exchange_pb2.SubscribeResponse, None, None]:
        """Follow records as they are committed.

        Args:
            after_sequence: Start after this sequence number (0 for everything stored);
                ``None`` for records committed from now on.
            kinds: Only these kinds; all when empty.
            originating_centres: Only records from these centres; all when empty.
            timeout: Deadline in seconds of the whole subscription; none when ``None``.

        Yields:
            Record events, and one caught-up marker once the backlog is delivered. The stream
            does not end on its own; close the generator to cancel it.

        Raises:
            GatewayUnavailableError: The gateway cannot be reached or went away.
            LiaisonError: Any other refusal.
        """
        call = self._stub.Subscribe(
            _subscribe_request(after_sequence, kinds, originating_centres),
            timeout=timeout,
        )
        try:
            yield from call
        except grpc.RpcError as error:
            raise _error_from_rpc(error) from error
        finally:
            call.cancel()  # type: ignore[no-untyped-call]  # grpc-stubs leaves it untyped

    def deliveries(
        self,
        *,
        record_id: str = "",
        peer: str = "",
        states: Sequence[federation_pb2.DeliveryState.ValueType] = (),
        limit: int = 0,
        timeout: float | None = None,
    ) -> list[federation_pb2.DeliveryStatus]:
        """Delivery states of forwarded records (FederationAdmin), newest first.

        Args:
            record_id: Only this record.
            peer: Only this peer centre.
            states: Only these ``DeliveryState`` values.
            limit: At most this many (0: the gateway's default).
            timeout: Deadline in seconds.
        """
        request = federation_pb2.ListDeliveriesRequest(
            record_id=record_id, peer=peer, states=states, limit=limit
        )
        try:
            response = self._federation_admin.ListDeliveries(
                request, timeout=_or_default(timeout, self._timeout)
            )
        except grpc.RpcError as error:
            raise _error_from_rpc(error) from error
        return list(response.deliveries)

    def replay_dead_letters(
        self,
        *,
        peer: str = "",
        record_ids: Sequence[str] = (),
        timeout: float | None = None,
    ) -> list[federation_pb2.DeliveryStatus]:
        """Re-queue dead-lettered deliveries (of ``peer``, of ``record_ids``; all when empty)."""
        request = federation_pb2.ReplayDeadLettersRequest(peer=peer, record_ids=record_ids)
        try:
            response = self._federation_admin.ReplayDeadLetters(
                request, timeout=_or_default(timeout, self._timeout)
            )
        except grpc.RpcError as error:
            raise _error_from_rpc(error) from error
        return list(response.requeued)

    def checkpoints(
        self, *, centre: str = "", limit: int = 0, timeout: float | None = None
    ) -> list[federation_pb2.AuditCheckpoint]:
        """The audit checkpoints the gateway keeps for its peers (and its own), newest first
        (FederationAdmin.ListCheckpoints); write them with
        ``gateway.audit.checkpoints.checkpoints_document`` for ``liaison audit verify``.

        Args:
            centre: Only this centre's checkpoints (all centres when empty).
            limit: At most this many per centre (0: the gateway's default, 100).
            timeout: Deadline in seconds.
        """
        request = federation_pb2.ListCheckpointsRequest(centre=centre, limit=limit)
        try:
            response = self._federation_admin.ListCheckpoints(
                request, timeout=_or_default(timeout, self._timeout)
            )
        except grpc.RpcError as error:
            raise _error_from_rpc(error) from error
        return list(response.checkpoints)

    def keep_checkpoint(
        self, checkpoint: federation_pb2.AuditCheckpoint, *, timeout: float | None = None
    ) -> int:
        """Deposit a signed audit checkpoint of the calling centre (Federation.KeepCheckpoint;
        the channel must present that centre's certificate).

        Returns:
            How many of the calling centre's checkpoints the gateway keeps now.
        """
        request = federation_pb2.KeepCheckpointRequest(checkpoint=checkpoint)
        try:
            response = self._federation.KeepCheckpoint(
                request, timeout=_or_default(timeout, self._timeout)
            )
        except grpc.RpcError as error:
            raise _error_from_rpc(error) from error
        return response.kept

    def health(self, service: str = "", *, timeout: float | None = None) -> str:
        """The serving status of the gateway (``""``) or of one of its services.

        Returns:
            The status name: ``SERVING``, ``NOT_SERVING``, or ``SERVICE_UNKNOWN`` when the
            gateway does not know ``service``.

        Raises:
            GatewayUnavailableError: No answer, even after retrying.
            LiaisonError: Any other failure.
        """
        try:
            response = self._health.Check(
                health_pb2.HealthCheckRequest(service=service),
                timeout=_or_default(timeout, self._timeout),
            )
        except grpc.RpcError as error:
            if error.code() == grpc.StatusCode.NOT_FOUND:
                return "SERVICE_UNKNOWN"
            raise _error_from_rpc(error) from error
        return _status_name(response)

    def list_adapters(self, *, timeout: float | None = None) -> list[translation_pb2.AdapterInfo]:
        """The adapters the gateway can translate with, by name.

        Raises:
            GatewayUnavailableError: No answer, even after retrying.
            LiaisonError: Any other failure.
        """
        try:
            response = self._translation.ListAdapters(
                translation_pb2.ListAdaptersRequest(),
                timeout=_or_default(timeout, self._timeout),
            )
        except grpc.RpcError as error:
            raise _error_from_rpc(error, _TRANSLATION_ERROR_CLASSES) from error
        return list(response.adapters)

    def translate(
        self,
        adapter: str,
        payload: bytes,
        *,
        source_reference: str = "",
        timeout: float | None = None,
    ) -> translation_pb2.TranslateResponse:
        """Decode a legacy payload into records and diagnostics; the gateway stores nothing.

        Args:
            adapter: The adapter's name (``paxlst``, ``icao-mrz``, ...).
            payload: The legacy bytes.
            source_reference: A file name or message id, carried into the records' provenance.
            timeout: Deadline in seconds; the client's default when ``None``.

        Returns:
            The records (also those an error diagnostic concerns) and every diagnostic.

        Raises:
            InvalidRecordError: Unknown adapter or empty payload; ``field_violations`` says which.
            GatewayUnavailableError: No answer, even after retrying.
            LiaisonError: Any other refusal (RESOURCE_EXHAUSTED for a payload over the limit).
        """
        try:
            return self._translation.Translate(
                translation_pb2.TranslateRequest(
                    adapter=adapter, payload=payload, source_reference=source_reference
                ),
                timeout=_or_default(timeout, self._timeout),
            )
        except grpc.RpcError as error:
            raise _error_from_rpc(error, _TRANSLATION_ERROR_CLASSES) from error

    def ingest(
        self,
        adapter: str,
        payload: bytes,
        *,
        source_reference: str = "",
        handling: record_pb2.Handling | None = None,
        accept_partial: bool = False,
        timeout: float | None = None,
    ) -> translation_pb2.IngestResponse:
        """Decode a legacy payload and store its records, all of them or none.

        Ingesting the same payload through the same adapter again stores nothing and returns
        the first acknowledgements, with ``duplicate`` set: retrying is always safe.

        Args:
            adapter: The adapter's name.
            payload: The legacy bytes.
            source_reference: A file name or message id, carried into the records' provenance.
            handling: Given to every record whose source gives none.
            accept_partial: Store the records no error diagnostic concerns, and list the others
                in ``skipped_record_ids``, instead of refusing the payload.
            timeout: Deadline in seconds; the client's default when ``None``.

        Returns:
            The acknowledgements in decode order, the diagnostics and what was skipped.

        Raises:
            InvalidRecordError: The payload has errors (without ``accept_partial``), or the
                request is invalid; ``field_violations`` lists them.
            GatewayUnavailableError: No answer, even after retrying.
            LiaisonError: Any other refusal.
        """
        try:
            return self._translation.Ingest(
                _ingest_request(adapter, payload, source_reference, handling, accept_partial),
                timeout=_or_default(timeout, self._timeout),
            )
        except grpc.RpcError as error:
            raise _error_from_rpc(error, _TRANSLATION_ERROR_CLASSES) from error

    def export(
        self,
        adapter: str,
        *,
        record_refs: Iterable[translation_pb2.RecordRef | str] = (),
        records: Iterable[record_pb2.Record] = (),
        timeout: float | None = None,
    ) -> translation_pb2.ExportResponse:
        """Encode stored records (then the given ones) into an adapter's format.

        Args:
            adapter: The adapter's name.
            record_refs: Stored records: a ``RecordRef`` or a record id (the latest version).
            records: Records given inline.
            timeout: Deadline in seconds; the client's default when ``None``.

        Returns:
            The payload, its media type, and diagnostics for what the format could not carry.

        Raises:
            RecordNotFoundError: A referenced record or version does not exist.
            InvalidRecordError: A bad reference or invalid record; see ``field_violations``.
            GatewayUnavailableError: No answer, even after retrying.
            LiaisonError: Any other refusal (FAILED_PRECONDITION: the adapter cannot encode).
        """
        try:
            return self._translation.Export(
                _export_request(adapter, record_refs, records),
                timeout=_or_default(timeout, self._timeout),
            )
        except grpc.RpcError as error:
            raise _error_from_rpc(error, _TRANSLATION_ERROR_CLASSES) from error


class AsyncLiaisonClient:
    """An asyncio client for one gateway; the methods mirror :class:`LiaisonClient`.

    Create it inside a running event loop (gRPC binds the channel to it). Methods take a
    ``timeout`` rather than leaving it to ``asyncio.timeout`` because it becomes the call's gRPC
    deadline, which the gateway sees and honours too.

    Args:
        target: The gateway's ``host:port`` (any gRPC target string).
        timeout: Default deadline in seconds of unary calls and of each Search page.
        credentials: TLS credentials; ``None`` for a plaintext channel.
        max_message_bytes: Largest message sent or received.
        options: Extra gRPC channel options.
        interceptors: Client interceptors, e.g. ``Telemetry.client_interceptors(target)``
            (``Telemetry.aio_client_interceptors`` for the asyncio client) to trace the calls.
    """

    def __init__(
        self,
        target: str,
        *,
        timeout: float = DEFAULT_TIMEOUT,
        credentials: grpc.ChannelCredentials | None = None,
        max_message_bytes: int = DEFAULT_MAX_MESSAGE_BYTES,
        options: Sequence[tuple[str, Any]] = (),
        interceptors: Sequence[Any] = (),
    ) -> None:
        self.target = target
        self._timeout = timeout
        all_options = channel_options(max_message_bytes, options)
        if credentials is None:
            self._channel = aio.insecure_channel(target, all_options, interceptors=interceptors)
        else:
            self._channel = aio.secure_channel(
                target, credentials, all_options, interceptors=interceptors
            )
        self._stub = exchange_pb2_grpc.RecordExchangeStub(self._channel)
        self._health = health_pb2_grpc.HealthStub(self._channel)
        self._translation = translation_pb2_grpc.TranslationStub(self._channel)
        self._federation_admin = federation_pb2_grpc.FederationAdminStub(self._channel)
        self._federation = federation_pb2_grpc.FederationStub(self._channel)

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.close()

    async def close(self) -> None:
        """Close the channel, cancelling calls still running."""
        await self._channel.close(grace=None)

    async def submit(
        self,
        record: record_pb2.Record,
        *,
        timeout: float | None = None,  # noqa: ASYNC109
    ) -> exchange_pb2.SubmitAck:
        """Store one record; see :meth:`LiaisonClient.submit`."""
        try:
            response = await self._stub.Submit(
                exchange_pb2.SubmitRequest(record=record),
                timeout=_or_default(timeout, self._timeout),
            )
        except grpc.RpcError as error:
            raise _error_from_rpc(error) from error
        return response.ack

    async def submit_many(
        self,
        records: Iterable[record_pb2.Record] | AsyncIterable[record_pb2.Record],
        batch_size: int = DEFAULT_BATCH_SIZE,
        *,
        timeout: float | None = None,  # noqa: ASYNC109
    ) -> exchange_pb2.SubmitStreamResponse:
        """Store many records in one SubmitStream call; see :meth:`LiaisonClient.submit_many`.

        ``records`` may be a plain or an asynchronous iterable.
        """
        _check_batch_size(batch_size)
        failure: list[BaseException] = []
        try:
            response = await self._stub.SubmitStream(
                _async_batches(records, batch_size, failure),
                timeout=timeout,
            )
        except grpc.RpcError as error:
            if failure:
                raise failure[0] from None
            raise _error_from_rpc(error) from error
        if failure:
            raise failure[0]
        return response

    async def get(
        self,
        record_id: str,
        version: int = 0,
        *,
        timeout: float | None = None,  # noqa: ASYNC109
    ) -> exchange_pb2.GetResponse:
        """Read a record; see :meth:`LiaisonClient.get`."""
        try:
            return await self._stub.Get(
                exchange_pb2.GetRequest(record_id=record_id, version=version),
                timeout=_or_default(timeout, self._timeout),
            )
        except grpc.RpcError as error:
            raise _error_from_rpc(error) from error

    async def search(
        self,
        request: exchange_pb2.SearchRequest,
        *,
        timeout: float | None = None,  # noqa: ASYNC109
    ) -> AsyncGenerator[exchange_pb2.SearchResponse, None]:
        """Stream one page of a search; see :meth:`LiaisonClient.search`."""
        call = self._stub.Search(request, timeout=_or_default(timeout, self._timeout))
        try:
            async for response in call:
                yield response
        except grpc.RpcError as error:
            raise _error_from_rpc(error) from error
        finally:
            call.cancel()

    async def search_all(
        self,
        request: exchange_pb2.SearchRequest,
        *,
        timeout: float | None = None,  # noqa: ASYNC109
    ) -> AsyncGenerator[exchange_pb2.SearchHit, None]:
        """Stream every hit of a search; see :meth:`LiaisonClient.search_all`."""
        page: exchange_pb2.SearchRequest | None = request
        while page is not None:
            current, page = page, None
            async for response in self.search(current, timeout=timeout):
                if response.HasField("hit"):
                    yield response.hit
                elif response.HasField("page_end"):
                    page = _next_page(current, response.page_end)

    async def subscribe(
        self,
        after_sequence: int | None = None,
        kinds: Iterable[record_pb2.RecordKind.ValueType] = (),
        originating_centres: Iterable[str] = (),
        *,
        timeout: float | None = None,  # noqa: ASYNC109
    ) -> AsyncGenerator[exchange_pb2.SubscribeResponse, None]:
        """Follow records as they are committed; see :meth:`LiaisonClient.subscribe`."""
        call = self._stub.Subscribe(
            _subscribe_request(after_sequence, kinds, originating_centres),
            timeout=timeout,
        )
        try:
            async for response in call:
                yield response
        except grpc.RpcError as error:
            raise _error_from_rpc(error) from error
        finally:
            call.cancel()

    async def health(
        self,
        service: str = "",
        *,
        timeout: float | None = None,  # noqa: ASYNC109
    ) -> str:
        """The serving status; see :meth:`LiaisonClient.health`."""
        try:
            response = await self._health.Check(
                health_pb2.HealthCheckRequest(service=service),
                timeout=_or_default(timeout, self._timeout),
            )
        except grpc.RpcError as error:
            if error.code() == grpc.StatusCode.NOT_FOUND:
                return "SERVICE_UNKNOWN"
            raise _error_from_rpc(error) from error
        return _status_name(response)

    async def list_adapters(
        self,
        *,
        timeout: float | None = None,  # noqa: ASYNC109
    ) -> list[translation_pb2.AdapterInfo]:
        """The gateway's adapters; see :meth:`LiaisonClient.list_adapters`."""
        try:
            response = await self._translation.ListAdapters(
                translation_pb2.ListAdaptersRequest(),
                timeout=_or_default(timeout, self._timeout),
            )
        except grpc.RpcError as error:
            raise _error_from_rpc(error, _TRANSLATION_ERROR_CLASSES) from error
        return list(response.adapters)

    async def translate(
        self,
        adapter: str,
        payload: bytes,
        *,
        source_reference: str = "",
        timeout: float | None = None,  # noqa: ASYNC109
    ) -> translation_pb2.TranslateResponse:
        """Decode a legacy payload; see :meth:`LiaisonClient.translate`."""
        try:
            return await self._translation.Translate(
                translation_pb2.TranslateRequest(
                    adapter=adapter, payload=payload, source_reference=source_reference
                ),
                timeout=_or_default(timeout, self._timeout),
            )
        except grpc.RpcError as error:
            raise _error_from_rpc(error, _TRANSLATION_ERROR_CLASSES) from error

    async def ingest(
        self,
        adapter: str,
        payload: bytes,
        *,
        source_reference: str = "",
        handling: record_pb2.Handling | None = None,
        accept_partial: bool = False,
        timeout: float | None = None,  # noqa: ASYNC109
    ) -> translation_pb2.IngestResponse:
        """Decode a legacy payload and store its records; see :meth:`LiaisonClient.ingest`."""
        try:
            return await self._translation.Ingest(
                _ingest_request(adapter, payload, source_reference, handling, accept_partial),
                timeout=_or_default(timeout, self._timeout),
            )
        except grpc.RpcError as error:
            raise _error_from_rpc(error, _TRANSLATION_ERROR_CLASSES) from error

    async def export(
        self,
        adapter: str,
        *,
        record_refs: Iterable[translation_pb2.RecordRef | str] = (),
        records: Iterable[record_pb2.Record] = (),
        timeout: float | None = None,  # noqa: ASYNC109
    ) -> translation_pb2.ExportResponse:
        """Encode records into an adapter's format; see :meth:`LiaisonClient.export`."""
        try:
            return await self._translation.Export(
                _export_request(adapter, record_refs, records),
                timeout=_or_default(timeout, self._timeout),
            )
        except grpc.RpcError as error:
            raise _error_from_rpc(error, _TRANSLATION_ERROR_CLASSES) from error

    async def checkpoints(
        self,
        *,
        centre: str = "",
        limit: int = 0,
        timeout: float | None = None,  # noqa: ASYNC109
    ) -> list[federation_pb2.AuditCheckpoint]:
        """The audit checkpoints the gateway keeps; see :meth:`LiaisonClient.checkpoints`."""
        request = federation_pb2.ListCheckpointsRequest(centre=centre, limit=limit)
        try:
            response = await self._federation_admin.ListCheckpoints(
                request, timeout=_or_default(timeout, self._timeout)
            )
        except grpc.RpcError as error:
            raise _error_from_rpc(error) from error
        return list(response.checkpoints)

    async def keep_checkpoint(
        self,
        checkpoint: federation_pb2.AuditCheckpoint,
        *,
        timeout: float | None = None,  # noqa: ASYNC109
    ) -> int:
        """Deposit a signed audit checkpoint; see :meth:`LiaisonClient.keep_checkpoint`."""
        request = federation_pb2.KeepCheckpointRequest(checkpoint=checkpoint)
        try:
            response = await self._federation.KeepCheckpoint(
                request, timeout=_or_default(timeout, self._timeout)
            )
        except grpc.RpcError as error:
            raise _error_from_rpc(error) from error
        return response.kept
