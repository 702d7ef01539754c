"""The asyncio client: the methods of :class:`LiaisonClient`, awaited. Requests, responses,
errors and retries come from the shared layer; only the calls are made here."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, AsyncIterable, AsyncIterator, Iterable, Sequence
from datetime import timedelta
from types import TracebackType
from typing import Any, Self, TypeVar

import grpc
from grpc import aio

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

__all__ = ["AsyncLiaisonClient"]

_ResultT = TypeVar("_ResultT")

_Records = Iterable[record_pb2.Record] | AsyncIterable[record_pb2.Record]


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
        options: Extra gRPC channel options (``peer_channel_options(centre)`` to accept only
            that centre's certificate).
        interceptors: Client interceptors, e.g. ``Telemetry.aio_client_interceptors(target)``
            to trace the calls.
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
            self._channel = aio.insecure_channel(target, all_options, interceptors=interceptors)
        else:
            self._channel = aio.secure_channel(
                target, credentials, all_options, interceptors=interceptors
            )
        self._callables = calls.Callables(self._channel)

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
        return await self._unary(calls.submit(record), timeout)

    async def submit_many(
        self,
        records: _Records,
        batch_size: int = DEFAULT_BATCH_SIZE,
        *,
        records_per_stream: int = DEFAULT_RECORDS_PER_STREAM,
        timeout: float | None = None,  # noqa: ASYNC109
    ) -> exchange_pb2.SubmitStreamResponse:
        """Store many records over SubmitStream calls; see :meth:`LiaisonClient.submit_many`.

        ``records`` may be a plain or an asynchronous iterable.
        """
        total = exchange_pb2.SubmitStreamResponse()
        async for response in self.submit_streams(
            records, batch_size, records_per_stream=records_per_stream, timeout=timeout
        ):
            merge(total, response)
        return total

    async def submit_streams(
        self,
        records: _Records,
        batch_size: int = DEFAULT_BATCH_SIZE,
        *,
        records_per_stream: int = DEFAULT_RECORDS_PER_STREAM,
        timeout: float | None = None,  # noqa: ASYNC109
    ) -> AsyncGenerator[exchange_pb2.SubmitStreamResponse, None]:
        """:meth:`submit_many`, yielding each call's response as it completes; see
        :meth:`LiaisonClient.submit_streams`."""
        check_batch_size(batch_size)
        check_records_per_stream(records_per_stream)
        remaining = _Peekable(records)
        first_index = 0
        while True:
            batcher = Batcher(batch_size)
            response = await self._submit_stream(
                remaining.take(records_per_stream), batcher, timeout
            )
            yield renumbered(response, first_index)
            first_index += batcher.records
            if batcher.records < records_per_stream or not await remaining.more():
                return

    async def _submit_stream(
        self,
        records: AsyncIterator[record_pb2.Record],
        batcher: Batcher,
        timeout: float | None,  # noqa: ASYNC109 - the call's gRPC deadline
    ) -> exchange_pb2.SubmitStreamResponse:
        failure: list[BaseException] = []
        try:
            response: exchange_pb2.SubmitStreamResponse = await self._callables.stream_unary(
                calls.SUBMIT_STREAM
            )(_messages(records, batcher, failure), timeout=timeout)
        except grpc.RpcError as error:
            if failure:
                raise failure[0] from None
            raise self._error(error, calls.SUBMIT_STREAM, stream_limit=True) from error
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
        return await self._unary(calls.get(record_id, version), timeout)

    async def search(
        self,
        request: exchange_pb2.SearchRequest,
        *,
        timeout: float | None = None,  # noqa: ASYNC109
    ) -> AsyncGenerator[exchange_pb2.SearchResponse, None]:
        """Stream one page of a search; see :meth:`LiaisonClient.search`."""
        call = self._callables.unary_stream(calls.SEARCH)(request, timeout=self._deadline(timeout))
        try:
            async for response in call:
                yield response
        except grpc.RpcError as error:
            raise self._error(error, calls.SEARCH) from error
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
                    page = calls.next_page(current, response.page_end)

    async def subscribe(
        self,
        after_sequence: int | None = None,
        kinds: Iterable[record_pb2.RecordKind.ValueType] = (),
        originating_centres: Iterable[str] = (),
        *,
        timeout: float | None = None,  # noqa: ASYNC109
        resume_attempts: int = DEFAULT_RESUME_ATTEMPTS,
    ) -> AsyncGenerator[exchange_pb2.SubscribeResponse, None]:
        """Follow records as they are committed, resuming when the gateway goes away; see
        :meth:`LiaisonClient.subscribe`."""
        resumption = Resumption(
            subscribe_request(after_sequence, kinds, originating_centres), resume_attempts, timeout
        )
        while True:
            call = self._callables.unary_stream(calls.SUBSCRIBE)(
                resumption.request, timeout=resumption.timeout()
            )
            try:
                async for response in call:
                    resumption.seen(response)
                    for event in events_of(response):
                        yield event
                return
            except grpc.RpcError as error:
                wait = resumption.delay(error)
                if wait is None:
                    raise self._error(error, calls.SUBSCRIBE) from error
            finally:
                call.cancel()
            await asyncio.sleep(wait)

    async def health(
        self,
        service: str = "",
        *,
        timeout: float | None = None,  # noqa: ASYNC109
    ) -> str:
        """The serving status; see :meth:`LiaisonClient.health`."""
        return await self._unary(calls.health(service), timeout)

    async def list_adapters(
        self,
        *,
        timeout: float | None = None,  # noqa: ASYNC109
    ) -> list[translation_pb2.AdapterInfo]:
        """The gateway's adapters; see :meth:`LiaisonClient.list_adapters`."""
        return await self._unary(calls.list_adapters(), timeout)

    async def translate(
        self,
        adapter: str,
        payload: bytes,
        *,
        source_reference: str = "",
        timeout: float | None = None,  # noqa: ASYNC109
    ) -> translation_pb2.TranslateResponse:
        """Decode a legacy payload; see :meth:`LiaisonClient.translate`."""
        return await self._unary(calls.translate(adapter, payload, source_reference), timeout)

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
        return await self._unary(
            calls.ingest(adapter, payload, source_reference, handling, accept_partial), timeout
        )

    async def export(
        self,
        adapter: str,
        *,
        record_refs: Iterable[translation_pb2.RecordRef | str] = (),
        records: Iterable[record_pb2.Record] = (),
        timeout: float | None = None,  # noqa: ASYNC109
    ) -> translation_pb2.ExportResponse:
        """Encode records into an adapter's format; see :meth:`LiaisonClient.export`."""
        return await self._unary(calls.export(adapter, record_refs, records), timeout)

    async def deliveries(
        self,
        *,
        record_id: str = "",
        peer: str = "",
        states: Sequence[federation_pb2.DeliveryState.ValueType] = (),
        limit: int = 0,
        timeout: float | None = None,  # noqa: ASYNC109
    ) -> list[federation_pb2.DeliveryStatus]:
        """Delivery states of forwarded records; see :meth:`LiaisonClient.deliveries`."""
        return await self._unary(calls.deliveries(record_id, peer, states, limit), timeout)

    async def replay_dead_letters(
        self,
        *,
        peer: str = "",
        record_ids: Sequence[str] = (),
        timeout: float | None = None,  # noqa: ASYNC109
    ) -> list[federation_pb2.DeliveryStatus]:
        """Re-queue dead-lettered deliveries; see :meth:`LiaisonClient.replay_dead_letters`."""
        return await self._unary(calls.replay_dead_letters(peer, record_ids), timeout)

    async def checkpoints(
        self,
        *,
        centre: str = "",
        limit: int = 0,
        timeout: float | None = None,  # noqa: ASYNC109
    ) -> list[federation_pb2.AuditCheckpoint]:
        """The audit checkpoints the gateway keeps; see :meth:`LiaisonClient.checkpoints`."""
        return await self._unary(calls.checkpoints(centre, limit), timeout)

    async def keep_checkpoint(
        self,
        checkpoint: federation_pb2.AuditCheckpoint,
        *,
        timeout: float | None = None,  # noqa: ASYNC109
    ) -> int:
        """Deposit a signed audit checkpoint; see :meth:`LiaisonClient.keep_checkpoint`."""
        return await self._unary(calls.keep_checkpoint(checkpoint), timeout)

    async def screen(
        self,
        records: Iterable[record_pb2.Record] = (),
        *,
        adapter: str = "",
        payload: bytes = b"",
        lists: Iterable[str] = (),
        timeout: float | None = None,  # noqa: ASYNC109
    ) -> screening_pb2.ScreenResponse:
        """Screen subjects against the screening lists; see :meth:`LiaisonClient.screen`."""
        return await self._unary(calls.screen(records, adapter, payload, lists), timeout)

    async def withdraw(
        self,
        record_id: str,
        reason: record_pb2.WithdrawalReason.ValueType,
        note: str = "",
        *,
        timeout: float | None = None,  # noqa: ASYNC109
    ) -> exchange_pb2.SubmitAck:
        """Withdraw one of this centre's records; see :meth:`LiaisonClient.withdraw`."""
        return await self._unary(calls.withdraw(record_id, reason, note), timeout)

    async def extend_retention(
        self,
        record_id: str,
        extend_by: timedelta,
        note: str = "",
        *,
        timeout: float | None = None,  # noqa: ASYNC109
    ) -> exchange_pb2.Retention:
        """Keep a record longer; see :meth:`LiaisonClient.extend_retention`."""
        return await self._unary(calls.extend_retention(record_id, extend_by, note), timeout)

    async def reviews(
        self,
        within: timedelta | None = None,
        page_size: int = 0,
        *,
        timeout: float | None = None,  # noqa: ASYNC109
    ) -> list[exchange_pb2.Retention]:
        """The records due for review; see :meth:`LiaisonClient.reviews`."""
        return await self._unary(calls.list_reviews(within, page_size), timeout)

    async def threads(
        self,
        open_only: bool = False,
        *,
        timeout: float | None = None,  # noqa: ASYNC109
    ) -> list[exchange_pb2.Thread]:
        """The request/reply threads; see :meth:`LiaisonClient.threads`."""
        return await self._unary(calls.list_threads(open_only), timeout)

    async def decide(
        self,
        hit_record_id: str,
        decision: screening_hit_pb2.ScreeningDecisionKind.ValueType,
        note: str = "",
        expected_version: int = 0,
        *,
        timeout: float | None = None,  # noqa: ASYNC109
    ) -> screening_pb2.DecideResponse:
        """Record an analyst's decision on a hit; see :meth:`LiaisonClient.decide`."""
        return await self._unary(
            calls.decide(hit_record_id, decision, note, expected_version), timeout
        )

    async def hits(
        self,
        *,
        bands: Iterable[screening_hit_pb2.ScreeningBand.ValueType] = (),
        decisions: Iterable[screening_hit_pb2.ScreeningDecisionKind.ValueType] = (),
        lists: Iterable[str] = (),
        screened_after: calls.Moment | None = None,
        screened_before: calls.Moment | None = None,
        page_size: int = 0,
        timeout: float | None = None,  # noqa: ASYNC109
    ) -> AsyncGenerator[record_pb2.Record, None]:
        """Every stored hit the caller may see, page after page; see :meth:`LiaisonClient.hits`."""
        page: screening_pb2.ListHitsRequest | None = calls.hits_request(
            bands, decisions, lists, screened_after, screened_before, page_size
        )
        while page is not None:
            response = await self._unary(calls.list_hits(page), timeout)
            for hit in response.hits:
                yield hit
            page = calls.next_hits_page(page, response)

    async def _unary(
        self,
        call: calls.Unary[Any, Any, _ResultT],
        timeout: float | None,  # noqa: ASYNC109 - the call's gRPC deadline
    ) -> _ResultT:
        try:
            response = await self._callables.unary_unary(call.method)(
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


class _Peekable:
    """Records from a plain or an asynchronous iterable, handed out in runs (one per stream)."""

    def __init__(self, records: _Records) -> None:
        self._records: AsyncIterator[record_pb2.Record] = aiter(_as_async(records))
        self._next: record_pb2.Record | None = None

    async def take(self, count: int) -> AsyncIterator[record_pb2.Record]:
        """The next ``count`` records at most."""
        for _ in range(count):
            if self._next is not None:
                record, self._next = self._next, None
            else:
                try:
                    record = await anext(self._records)
                except StopAsyncIteration:
                    return
            yield record

    async def more(self) -> bool:
        """Whether a record remains (it is kept for the next :meth:`take`)."""
        if self._next is None:
            try:
                self._next = await anext(self._records)
            except StopAsyncIteration:
                return False
        return True


async def _as_async(records: _Records) -> AsyncIterator[record_pb2.Record]:
    if isinstance(records, AsyncIterable):
        async for record in records:
            yield record
    else:
        for record in records:
            yield record


async def _messages(
    records: AsyncIterator[record_pb2.Record], batcher: Batcher, failure: list[BaseException]
) -> AsyncIterator[exchange_pb2.SubmitStreamRequest]:
    """The stream messages of ``records``; an exception from ``records`` is stored in
    ``failure`` and ends the stream cleanly (see the blocking client's twin)."""
    try:
        async for record in records:
            full = batcher.add(record)
            if full is not None:
                yield full
    except Exception as error:
        failure.append(error)
        return
    last = batcher.flush()
    if last is not None:
        yield last
