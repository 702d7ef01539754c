"""The blocking client. Its requests, responses, errors and retries come from the shared layer
(``_calls``, ``_failures``, ``_batches``, ``_split``, ``_resume``); only the calls are made here."""

from __future__ import annotations

import itertools
import time
from collections.abc import Generator, Iterable, Iterator, Sequence
from datetime import timedelta
from types import TracebackType
from typing import Any, Self, TypeVar

import grpc

from gateway.client import _calls as calls
from gateway.client._batches import Batcher, check_batch_size
from gateway.client._channel import (
    DEFAULT_BATCH_SIZE,
    DEFAULT_MAX_MESSAGE_BYTES,
    DEFAULT_RECORDS_PER_STREAM,
    DEFAULT_RESUME_ATTEMPTS,
    DEFAULT_TIMEOUT,
    channel_options,
)
from gateway.client._errors import ClientError
from gateway.client._failures import error_from_rpc
from gateway.client._handshake import Transport
from gateway.client._resume import Resumption, events_of, subscribe_request
from gateway.client._split import check_records_per_stream, merge, renumbered
from liaison.v1 import (
    exchange_pb2,
    federation_pb2,
    record_pb2,
    screening_hit_pb2,
    screening_pb2,
    translation_pb2,
)

__all__ = ["LiaisonClient"]

_ResultT = TypeVar("_ResultT")


class LiaisonClient:
    """A blocking client for one gateway.

    Failures are raised as :class:`ClientError` subclasses chosen by status code, carrying the
    field violations the gateway sent in its ``google.rpc.BadRequest`` details; a refused TLS
    handshake is a :class:`HandshakeError` that names its likely cause.

    Args:
        target: The gateway's ``host:port`` (any gRPC target string).
        timeout: Default deadline in seconds of unary calls and of each Search page.
        credentials: TLS credentials; ``None`` for a plaintext channel.
        max_message_bytes: Largest message sent or received.
        options: Extra gRPC channel options (``peer_channel_options(centre)`` to accept only
            that centre's certificate).
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
        self._transport = Transport.of(target, credentials, options)
        all_options = channel_options(max_message_bytes, options)
        if credentials is None:
            channel = grpc.insecure_channel(target, all_options)
        else:
            channel = grpc.secure_channel(target, credentials, all_options)
        self._channel = grpc.intercept_channel(channel, *interceptors) if interceptors else channel
        self._callables = calls.Callables(self._channel)

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
            ClientError: Any other refusal.
        """
        return self._unary(calls.submit(record), timeout)

    def submit_many(
        self,
        records: Iterable[record_pb2.Record],
        batch_size: int = DEFAULT_BATCH_SIZE,
        *,
        records_per_stream: int = DEFAULT_RECORDS_PER_STREAM,
        timeout: float | None = None,
    ) -> exchange_pb2.SubmitStreamResponse:
        """Store many records with SubmitStream, ``batch_size`` records per message, over as many
        calls of at most ``records_per_stream`` records as they need.

        ``records`` is consumed lazily, so a generator reading a large file streams it.

        Args:
            records: The records, in the order their results are reported.
            batch_size: Most records per stream message.
            records_per_stream: Most records per call: at most the gateway's
                ``[limits] max_records_per_stream``.
            timeout: Deadline in seconds of each call; none when ``None``.

        Returns:
            The counts of all calls, and one result per record (an acknowledgement or why it
            was refused), indexed by the record's position in ``records``.

        Raises:
            ValueError: ``batch_size`` or ``records_per_stream`` is below 1.
            StreamLimitError: The gateway takes fewer records per call than
                ``records_per_stream``; ``max_records`` says how many.
            GatewayUnavailableError: No answer, even after retrying.
            ClientError: The gateway refused a call (e.g. RESOURCE_EXHAUSTED).
            Exception: Whatever iterating ``records`` raised. What was sent before it may have
                been stored; submitting it again is harmless (duplicates).
        """
        total = exchange_pb2.SubmitStreamResponse()
        for response in self.submit_streams(
            records, batch_size, records_per_stream=records_per_stream, timeout=timeout
        ):
            merge(total, response)
        return total

    def submit_streams(
        self,
        records: Iterable[record_pb2.Record],
        batch_size: int = DEFAULT_BATCH_SIZE,
        *,
        records_per_stream: int = DEFAULT_RECORDS_PER_STREAM,
        timeout: float | None = None,
    ) -> Generator[exchange_pb2.SubmitStreamResponse, None, None]:
        """:meth:`submit_many`, yielding each call's response as it completes: the records
        before a failure are then known to be stored.

        Yields:
            Each call's response, its results indexed by position in ``records``; at least one
            (of no records, when there are none).

        Raises:
            The errors of :meth:`submit_many`.
        """
        check_batch_size(batch_size)
        check_records_per_stream(records_per_stream)
        remaining = iter(records)
        first_index = 0
        while True:
            batcher = Batcher(batch_size)
            response = self._submit_stream(
                itertools.islice(remaining, records_per_stream), batcher, timeout
            )
            yield renumbered(response, first_index)
            first_index += batcher.records
            if batcher.records < records_per_stream:
                return
            following = next(remaining, None)
            if following is None:
                return
            remaining = itertools.chain([following], remaining)

    def _submit_stream(
        self, records: Iterator[record_pb2.Record], batcher: Batcher, timeout: float | None
    ) -> exchange_pb2.SubmitStreamResponse:
        failure: list[BaseException] = []
        try:
            response: exchange_pb2.SubmitStreamResponse = self._callables.stream_unary(
                calls.SUBMIT_STREAM
            )(_messages(records, batcher, failure), timeout=timeout)
        except grpc.RpcError as error:
            if failure:
                raise failure[0] from None
            raise self._error(error, calls.SUBMIT_STREAM, stream_limit=True) from error
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
            ClientError: Any other refusal.
        """
        return self._unary(calls.get(record_id, version), timeout)

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
            ClientError: Any other refusal.
        """
        call = self._callables.unary_stream(calls.SEARCH)(request, timeout=self._deadline(timeout))
        try:
            yield from call
        except grpc.RpcError as error:
            raise self._error(error, calls.SEARCH) from error
        finally:
            call.cancel()

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
            ClientError: As :meth:`search`, for any page.
        """
        page: exchange_pb2.SearchRequest | None = request
        while page is not None:
            current, page = page, None
            for response in self.search(current, timeout=timeout):
                if response.HasField("hit"):
                    yield response.hit
                elif response.HasField("page_end"):
                    page = calls.next_page(current, response.page_end)

    def subscribe(
        self,
        after_sequence: int | None = None,
        kinds: Iterable[record_pb2.RecordKind.ValueType] = (),
        originating_centres: Iterable[str] = (),
        *,
        timeout: float | None = None,
        resume_attempts: int = DEFAULT_RESUME_ATTEMPTS,
    ) -> Generator[exchange_pb2.SubscribeResponse, None, None]:
        """Follow records as they are committed.

        When the gateway goes away (UNAVAILABLE: it shuts down, the connection drops), the
        subscription resumes after the last sequence number seen, so that no record is missed
        or delivered twice; each resumption delivers a caught-up marker again.

        Args:
            after_sequence: Start after this sequence number (0 for everything stored);
                ``None`` for records committed from now on.
            kinds: Only these kinds; all when empty.
            originating_centres: Only records from these centres; all when empty.
            timeout: Deadline in seconds of the whole subscription; none when ``None``.
            resume_attempts: Most resumptions in a row without an event in between (backing
                off as the retry policy does); 0 never resumes.

        Yields:
            Record events, and a caught-up marker once the backlog is delivered. The stream
            does not end on its own; close the generator to cancel it.

        Raises:
            ValueError: ``resume_attempts`` is negative.
            GatewayUnavailableError: The gateway cannot be reached, or stayed away.
            ClientError: Any other refusal.
        """
        resumption = Resumption(
            subscribe_request(after_sequence, kinds, originating_centres), resume_attempts, timeout
        )
        while True:
            call = self._callables.unary_stream(calls.SUBSCRIBE)(
                resumption.request, timeout=resumption.timeout()
            )
            try:
                for response in call:
                    resumption.seen(response)
                    yield from events_of(response)
                return
            except grpc.RpcError as error:
                wait = resumption.delay(error)
                if wait is None:
                    raise self._error(error, calls.SUBSCRIBE) from error
            finally:
                call.cancel()
            time.sleep(wait)

    def health(self, service: str = "", *, timeout: float | None = None) -> str:
        """The serving status of the gateway (``""``) or of one of its services.

        Returns:
            The status name: ``SERVING``, ``NOT_SERVING``, or ``SERVICE_UNKNOWN`` when the
            gateway does not know ``service``.

        Raises:
            GatewayUnavailableError: No answer, even after retrying.
            ClientError: Any other failure.
        """
        return self._unary(calls.health(service), timeout)

    def list_adapters(self, *, timeout: float | None = None) -> list[translation_pb2.AdapterInfo]:
        """The adapters the gateway can translate with, by name.

        Raises:
            GatewayUnavailableError: No answer, even after retrying.
            ClientError: Any other failure.
        """
        return self._unary(calls.list_adapters(), timeout)

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
            ClientError: Any other refusal (RESOURCE_EXHAUSTED for a payload over the limit).
        """
        return self._unary(calls.translate(adapter, payload, source_reference), timeout)

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
            ClientError: Any other refusal (RESOURCE_EXHAUSTED: a payload over the limit).
        """
        return self._unary(
            calls.ingest(adapter, payload, source_reference, handling, accept_partial), timeout
        )

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
            ClientError: Any other refusal (FAILED_PRECONDITION: the adapter cannot encode).
        """
        return self._unary(calls.export(adapter, record_refs, records), timeout)

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
            timeout: Deadline in seconds; the client's default when ``None``.
        """
        return self._unary(calls.deliveries(record_id, peer, states, limit), timeout)

    def replay_dead_letters(
        self,
        *,
        peer: str = "",
        record_ids: Sequence[str] = (),
        timeout: float | None = None,
    ) -> list[federation_pb2.DeliveryStatus]:
        """Re-queue dead-lettered deliveries (of ``peer``, of ``record_ids``; all when empty).

        Returns:
            The deliveries re-queued.
        """
        return self._unary(calls.replay_dead_letters(peer, record_ids), timeout)

    def checkpoints(
        self, *, centre: str = "", limit: int = 0, timeout: float | None = None
    ) -> list[federation_pb2.AuditCheckpoint]:
        """The audit checkpoints the gateway keeps for its peers (and its own), newest first
        (FederationAdmin.ListCheckpoints); write them with
        ``gateway.audit.checkpoints.checkpoints_document`` for ``liaison audit verify``.

        Args:
            centre: Only this centre's checkpoints (all centres when empty).
            limit: At most this many per centre (0: the gateway's default, 100).
            timeout: Deadline in seconds; the client's default when ``None``.
        """
        return self._unary(calls.checkpoints(centre, limit), timeout)

    def keep_checkpoint(
        self, checkpoint: federation_pb2.AuditCheckpoint, *, timeout: float | None = None
    ) -> int:
        """Deposit a signed audit checkpoint of the calling centre (Federation.KeepCheckpoint;
        the channel must present that centre's certificate).

        Returns:
            How many of the calling centre's checkpoints the gateway keeps now.
        """
        return self._unary(calls.keep_checkpoint(checkpoint), timeout)

    def screen(
        self,
        records: Iterable[record_pb2.Record] = (),
        *,
        adapter: str = "",
        payload: bytes = b"",
        lists: Iterable[str] = (),
        timeout: float | None = None,
    ) -> screening_pb2.ScreenResponse:
        """Screen subjects against the screening lists; the gateway stores nothing.

        Give the subjects as ``records`` (persons, travel documents, passenger manifests with
        their travellers' records), or as a legacy ``payload`` with the ``adapter`` to decode it.

        Args:
            records: The subject records; those without an id are given one in the response.
            adapter: The adapter's name, with ``payload``.
            payload: A legacy payload, instead of ``records``.
            lists: Only these lists (all the gateway's lists when empty).
            timeout: Deadline in seconds; the client's default when ``None``.

        Returns:
            The subjects as screened, their hits (strongest first within each subject), the
            entries of those hits the caller may see, and the adapter's diagnostics. A hit on an
            entry the caller may not see names only its list and the centre to contact.

        Raises:
            InvalidRecordError: Nothing to screen, both records and a payload, a subject that
                cannot be screened, an unknown list; ``field_violations`` says which.
            GatewayUnavailableError: No answer, even after retrying.
            ClientError: Any other refusal (RESOURCE_EXHAUSTED: too many subjects).
        """
        return self._unary(calls.screen(records, adapter, payload, lists), timeout)

    def withdraw(
        self,
        record_id: str,
        reason: record_pb2.WithdrawalReason.ValueType,
        note: str = "",
        *,
        timeout: float | None = None,
    ) -> exchange_pb2.SubmitAck:
        """Withdraw one of this centre's records: a tombstone version, after which no version's
        content is served anywhere.

        Args:
            record_id: The record; it must originate at the caller's centre.
            reason: Why (``WITHDRAWAL_REASON_CANCELLED``, ``_ERRONEOUS``, ...; not ``_EXPIRED``).
            note: Free text for the recipients (required with ``_OTHER``), no personal data.
            timeout: Deadline in seconds; the client's default when ``None``.

        Returns:
            The tombstone's acknowledgement (``duplicate`` when it was withdrawn already).

        Raises:
            InvalidRecordError: A malformed id, no reason, ``EXPIRED``, a missing note.
            RecordNotFoundError: No such record that the caller may see.
            VersionConflictError: A correction was stored meanwhile.
            GatewayUnavailableError: No answer, even after retrying.
            ClientError: Any other refusal (PERMISSION_DENIED: another centre's record).
        """
        return self._unary(calls.withdraw(record_id, reason, note), timeout)

    def extend_retention(
        self,
        record_id: str,
        extend_by: timedelta,
        note: str = "",
        *,
        timeout: float | None = None,
    ) -> exchange_pb2.Retention:
        """Keep one of this centre's records longer: its expiry becomes now plus ``extend_by``
        (never earlier than it was), its review moves with it.

        Args:
            record_id: The record; it must originate at the caller's centre.
            extend_by: From one day to ten years.
            note: Why it is still needed, for the audit trail, no personal data.
            timeout: Deadline in seconds; the client's default when ``None``.

        Returns:
            The record's review date and expiry after the extension.

        Raises:
            InvalidRecordError: A malformed id or a period out of range.
            RecordNotFoundError: No such record that the caller may see.
            GatewayUnavailableError: No answer, even after retrying.
            ClientError: Any other refusal (PERMISSION_DENIED: another centre's record;
                FAILED_PRECONDITION: withdrawn or expired).
        """
        return self._unary(calls.extend_retention(record_id, extend_by, note), timeout)

    def reviews(
        self,
        within: timedelta | None = None,
        page_size: int = 0,
        *,
        timeout: float | None = None,
    ) -> list[exchange_pb2.Retention]:
        """This centre's records whose review is due within ``within`` (default: the gateway's
        reminder lead), overdue ones included, soonest first.

        Raises:
            GatewayUnavailableError: No answer, even after retrying.
            ClientError: Any refusal (PERMISSION_DENIED: acting for another centre).
        """
        return self._unary(calls.list_reviews(within, page_size), timeout)

    def threads(
        self, open_only: bool = False, *, timeout: float | None = None
    ) -> list[exchange_pb2.Thread]:
        """The request/reply threads this centre takes part in, with their states (sent,
        delivered, read, answered) and whether they are overdue, most recent request first.

        Raises:
            GatewayUnavailableError: No answer, even after retrying.
            ClientError: Any refusal.
        """
        return self._unary(calls.list_threads(open_only), timeout)

    def decide(
        self,
        hit_record_id: str,
        decision: screening_hit_pb2.ScreeningDecisionKind.ValueType,
        note: str = "",
        expected_version: int = 0,
        *,
        timeout: float | None = None,
    ) -> screening_pb2.DecideResponse:
        """Record an analyst's decision on a stored hit, as a new version of the hit record.

        A ``SCREENING_DECISION_KIND_NO_MATCH`` suppresses the same pair (subject identity, entry)
        in later screenings while the entry's version is unchanged.

        Args:
            hit_record_id: The hit record's id.
            decision: ``SCREENING_DECISION_KIND_MATCH``, ``_NO_MATCH`` or ``_UNSURE``.
            note: The analyst's note.
            expected_version: The hit version the analyst looked at; 0 for the latest.
            timeout: Deadline in seconds; the client's default when ``None``.

        Returns:
            The acknowledgement of the hit's new version, and the hit as now stored.

        Raises:
            InvalidRecordError: A malformed id, no decision, a note too long.
            RecordNotFoundError: No such hit that the caller may see.
            VersionConflictError: The hit moved on from ``expected_version``.
            GatewayUnavailableError: No answer, even after retrying.
            ClientError: Any other refusal (FAILED_PRECONDITION: the hit was screened at
                another centre, which alone may decide it).
        """
        return self._unary(calls.decide(hit_record_id, decision, note, expected_version), timeout)

    def hits(
        self,
        *,
        bands: Iterable[screening_hit_pb2.ScreeningBand.ValueType] = (),
        decisions: Iterable[screening_hit_pb2.ScreeningDecisionKind.ValueType] = (),
        lists: Iterable[str] = (),
        screened_after: calls.Moment | None = None,
        screened_before: calls.Moment | None = None,
        page_size: int = 0,
        timeout: float | None = None,
    ) -> Generator[record_pb2.Record, None, None]:
        """Every stored hit the caller may see, following ListHits from page to page.

        Args:
            bands: Only these bands (all when empty).
            decisions: Only hits with these decisions; ``SCREENING_DECISION_KIND_UNSPECIFIED``
                selects undecided hits (all when empty).
            lists: Only these lists (all when empty).
            screened_after: Only hits screened at or after this time (timezone-aware).
            screened_before: Only hits screened before this time (timezone-aware).
            page_size: Hits per page (0: the gateway's default).
            timeout: Deadline in seconds of each page; the client's default when ``None``.

        Yields:
            Each ``ScreeningHit`` record, in the gateway's order.

        Raises:
            ValueError: A datetime without a timezone.
            InvalidRecordError: A malformed list name.
            GatewayUnavailableError: No answer, even after retrying.
            ClientError: Any other refusal.
        """
        page: screening_pb2.ListHitsRequest | None = calls.hits_request(
            bands, decisions, lists, screened_after, screened_before, page_size
        )
        while page is not None:
            response = self._unary(calls.list_hits(page), timeout)
            yield from response.hits
            page = calls.next_hits_page(page, response)

    def _unary(self, call: calls.Unary[Any, Any, _ResultT], timeout: float | None) -> _ResultT:
        try:
            response = self._callables.unary_unary(call.method)(
                call.request, timeout=self._deadline(timeout)
            )
        except grpc.RpcError as error:
            if error.code() in call.fallbacks:
                return call.fallbacks[error.code()]
            raise self._error(error, call.method) from error
        return call.result(response)

    def _deadline(self, timeout: float | None) -> float:
        return self._timeout if timeout is None else timeout

    def _error(
        self, error: grpc.RpcError, method: calls.Method[Any, Any], *, stream_limit: bool = False
    ) -> ClientError:
        return error_from_rpc(error, method.errors, self._transport, stream_limit=stream_limit)


def _messages(
    records: Iterator[record_pb2.Record], batcher: Batcher, failure: list[BaseException]
) -> Iterator[exchange_pb2.SubmitStreamRequest]:
    """The stream messages of ``records``.

    An exception from ``records`` (a file that turns out to be malformed) is stored in
    ``failure`` and ends the stream cleanly, so that the caller can raise it instead of the
    CANCELLED status (and logged traceback) gRPC would make of it.
    """
    try:
        for record in records:
            full = batcher.add(record)
            if full is not None:
                yield full
    except Exception as error:
        failure.append(error)
        return
    last = batcher.flush()
    if last is not None:
        yield last
