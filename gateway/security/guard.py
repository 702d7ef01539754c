"""Need-to-know and audit around the record services, without touching them.

``RecordGuardInterceptor`` runs after ``AuthorizationInterceptor`` (which establishes the
caller). For the record-reading RPCs it enforces each record's handling against the caller's
centre — a record the caller may not see behaves as if it did not exist: ``Get`` answers
NOT_FOUND, ``Search`` and ``Subscribe`` leave it out — and every denial is audited. For every
RPC it appends what was done to the audit log: who, which action, which record ids (never their
content, never search criteria, which are personal data), and the outcome.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from typing import Any

import grpc

from gateway.audit.log import AuditLog
from gateway.security.authorization import Caller, current_caller
from gateway.security.policy import may_see
from gateway.validation import RECORD_ID_PATTERN
from liaison.v1 import exchange_pb2, record_pb2, translation_pb2

__all__ = ["RecordGuardInterceptor"]

_log = logging.getLogger(__name__)

_EXCHANGE = "/liaison.v1.RecordExchange/"
_TRANSLATION = "/liaison.v1.Translation/"


class RecordGuardInterceptor(grpc.aio.ServerInterceptor):  # type: ignore[type-arg]
    """Filters what callers may not see and audits every record RPC."""

    def __init__(self, audit: AuditLog | None, local_centre: str) -> None:
        self._audit = audit
        self._local_centre = local_centre
        self._pending: set[asyncio.Future[Any]] = set()

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[Any]],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> Any:
        handler = await continuation(handler_call_details)
        method: str = handler_call_details.method
        if handler is None:
            return handler
        name = method.rsplit("/", 1)[-1]
        if method.startswith(_EXCHANGE):
            wrap = {
                "Submit": self._submit,
                "SubmitStream": self._submit_stream,
                "Get": self._get,
                "Search": self._search,
                "Subscribe": self._subscribe,
            }.get(name)
        elif method.startswith(_TRANSLATION):
            wrap = {"Ingest": self._ingest, "Export": self._export}.get(name)
        else:
            wrap = None
        return handler if wrap is None else wrap(handler)

    # -- helpers ---------------------------------------------------------------------------

    def _caller(self) -> Caller:
        return current_caller() or Caller("local", self._local_centre)

    async def _log(
        self,
        action: str,
        outcome: str,
        record_ids: Iterable[str] = (),
        **detail: str | int,
    ) -> None:
        if self._audit is not None:
            await self._audit.append(
                actor=self._caller().identity,
                action=action,
                outcome=outcome,
                record_ids=record_ids,
                detail=detail,
            )

    def _log_soon(
        self, action: str, outcome: str, record_ids: list[str], **detail: str | int
    ) -> None:
        """Queue an entry without waiting for its commit.

        For Subscribe's events: waiting for each entry's commit before the next event would cap a
        subscription at one audit commit per record, while the log group-commits entries queued
        together. The entry is durable within a commit or two and is never dropped: closing the
        log commits everything queued.
        """
        if self._audit is None:
            return
        # The task copies this context, so the entry names the caller of this stream.
        task = asyncio.ensure_future(self._log(action, outcome, record_ids, **detail))
        self._pending.add(task)
        task.add_done_callback(self._appended)

    def _appended(self, task: asyncio.Future[Any]) -> None:
        self._pending.discard(task)
        if not task.cancelled() and task.exception() is not None:
            _log.error("audit entry not written: %s", type(task.exception()).__name__)

    def _visible(self, record: record_pb2.Record) -> bool:
        return may_see(record, self._caller().centre)

    # -- unary -----------------------------------------------------------------------------

    def _submit(self, handler: Any) -> Any:
        inner = handler.unary_unary

        async def submit(request: Any, context: Any) -> Any:
            record_id = _record_id(request)
            try:
                response: exchange_pb2.SubmitResponse = await inner(request, context)
            except BaseException:
                await self._log("submit", _failure(context), _ids(record_id))
                raise
            ack = response.ack
            await self._log(
                "submit",
                "duplicate" if ack.duplicate else "ok",
                [ack.record_id],
                version=ack.version,
            )
            return response

        return _unary(submit, handler)

    def _get(self, handler: Any) -> Any:
        inner = handler.unary_unary

        async def get(request: Any, context: Any) -> Any:
            record_id = request.record_id if isinstance(request, exchange_pb2.GetRequest) else ""
            try:
                response: exchange_pb2.GetResponse = await inner(request, context)
            except BaseException:
                await self._log("read", _failure(context), _ids(record_id))
                raise
            if not self._visible(response.record):
                await self._log("deny", "denied", [record_id], method="Get", reason="handling")
                await context.abort(grpc.StatusCode.NOT_FOUND, f"record {record_id} not found")
            await self._log("read", "ok", [record_id], version=response.record.version)
            return response

        return _unary(get, handler)

    def _ingest(self, handler: Any) -> Any:
        inner = handler.unary_unary

        async def ingest(request: Any, context: Any) -> Any:
            try:
                response: translation_pb2.IngestResponse = await inner(request, context)
            except BaseException:
                await self._log("ingest", _failure(context))
                raise
            ids = [ack.record_id for ack in response.acks]
            await self._log("ingest", "duplicate" if response.duplicate else "ok", ids)
            return response

        return _unary(ingest, handler)

    def _export(self, handler: Any) -> Any:
        inner = handler.unary_unary

        async def export(request: Any, context: Any) -> Any:
            ids: list[str] = []
            if isinstance(request, translation_pb2.ExportRequest):
                ids = [ref.record_id for ref in request.record_refs]
            try:
                response = await inner(request, context)
            except BaseException:
                await self._log("export", _failure(context), ids)
                raise
            await self._log("export", "ok", ids)
            return response

        return _unary(export, handler)

    # -- streaming -------------------------------------------------------------------------

    def _submit_stream(self, handler: Any) -> Any:
        inner = handler.stream_unary

        async def submit_stream(requests: Any, context: Any) -> Any:
            try:
                response: exchange_pb2.SubmitStreamResponse = await inner(requests, context)
            except BaseException:
                await self._log("submit", _failure(context))
                raise
            stored = [r.ack.record_id for r in response.results if r.HasField("ack")]
            await self._log(
                "submit", "ok", stored, received=response.received, rejected=response.rejected
            )
            return response

        return grpc.stream_unary_rpc_method_handler(
            submit_stream, handler.request_deserializer, handler.response_serializer
        )

    def _search(self, handler: Any) -> Any:
        inner = handler.unary_stream

        async def search(request: Any, context: Any) -> AsyncIterator[Any]:
            shown: list[str] = []
            hidden: list[str] = []
            try:
                async for response in inner(request, context):
                    if response.HasField("hit"):
                        record = response.hit.record
                        if not self._visible(record):
                            hidden.append(record.record_id)
                            continue
                        shown.append(record.record_id)
                    yield response
            finally:
                # Criteria are never logged: names and document numbers are personal data.
                await self._log("search", "ok", shown)
                if hidden:
                    await self._log("deny", "denied", hidden, method="Search", reason="handling")

        return grpc.unary_stream_rpc_method_handler(
            search, handler.request_deserializer, handler.response_serializer
        )

    def _subscribe(self, handler: Any) -> Any:
        inner = handler.unary_stream

        async def subscribe(request: Any, context: Any) -> AsyncIterator[Any]:
            async for response in inner(request, context):
                if response.HasField("record_event"):
                    record = response.record_event.record
                    if not self._visible(record):
                        self._log_soon(
                            "deny",
                            "denied",
                            [record.record_id],
                            method="Subscribe",
                            reason="handling",
                        )
                        continue
                    self._log_soon("read", "ok", [record.record_id], method="Subscribe")
                yield response

        return grpc.unary_stream_rpc_method_handler(
            subscribe, handler.request_deserializer, handler.response_serializer
        )


def _unary(behaviour: Any, handler: Any) -> Any:
    return grpc.unary_unary_rpc_method_handler(
        behaviour, handler.request_deserializer, handler.response_serializer
    )


def _record_id(request: Any) -> str:
    if isinstance(request, exchange_pb2.SubmitRequest):
        return request.record.record_id
    return ""


def _ids(record_id: str) -> list[str]:
    # Ids of refused requests are echoed only when well-formed: they could be anything.
    return [record_id] if record_id and RECORD_ID_PATTERN.fullmatch(record_id) else []


def _failure(context: Any) -> str:
    code = context.code()
    if isinstance(code, grpc.StatusCode):
        return code.name.lower().replace("_", "-")
    return "failed"
