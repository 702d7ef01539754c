"""The record guard: every RPC declared, every call audited with the outcome it really had.

``RecordGuardInterceptor`` runs after ``AuthorizationInterceptor`` (which establishes the
caller). It

* refuses a call to a method that :mod:`gateway.security.access` does not declare (a new RPC
  must say whether it reads through the visibility gate before it can be served);
* appends what was done to the audit log, under the declared action: who, which record ids
  (never content, never search criteria, which are personal data), and the outcome as the
  caller saw it - ``ok``, ``duplicate``, or the status the call ended with (``invalid-argument``,
  ``not-found``, ``cancelled``, ...);
* audits each record the visibility gate kept from the caller (``deny``/``denied``), through
  :meth:`denied`, which the gate calls.

A call whose audit entry cannot be written (the audit log's disk is full) is not answered as if
it had been audited: a read returns nothing (UNAVAILABLE, retry); a write - Submit,
SubmitStream, Ingest, Deliver, Decide - whose records are stored is answered UNAVAILABLE saying so
(:class:`~gateway.errors.UnauditedError`), and the retry the caller makes is answered with the
original acknowledgement, as a duplicate, and audited. A refused call whose refusal cannot be
audited is refused all the same. The status comes from the services' one table, through the
``refuse`` function the server hands the guard.

Need-to-know itself is not applied here: the services read through
:class:`gateway.security.gate.RecordGate`, so that a hidden record is absent in every detail of
an answer (cursors, counts, messages), which filtering answers afterwards cannot achieve.
"""

from __future__ import annotations

import asyncio
import contextvars
import inspect
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Sequence
from typing import Any

import grpc
from google.protobuf.message import DecodeError, Message

from gateway.audit.log import AuditLog, AuditLogError
from gateway.errors import UnauditedError, UnavailableError
from gateway.security.access import access_of
from gateway.security.authorization import current_caller
from gateway.security.policy import LOCAL_IDENTITY
from gateway.store.feed import SerializedEvent
from gateway.wrapping import WrappedHandlers
from liaison.rules.errors import LiaisonError
from liaison.rules.ids import RECORD_ID_PATTERN
from liaison.v1 import exchange_pb2, translation_pb2

__all__ = ["RecordGuardInterceptor", "report_refused"]

_log = logging.getLogger(__name__)

IdsOf = Callable[[Any], list[str]]
Refuse = Callable[[Any, LiaisonError], Awaitable[None]]
"""Ends a call with an error's status (``gateway.services.statuses.abort``); never returns."""

_WRITES = frozenset({"submit", "ingest", "deliver", "decide"})
"""The audit actions of calls that store records before their audit entry is written."""

_DENIALS: contextvars.ContextVar[list[str] | None] = contextvars.ContextVar(
    "liaison_stream_denials", default=None
)
"""Within a server stream: the ids the gate kept from it, written a batch at a time."""
_DENIALS_PER_ENTRY = 500

_REFUSED: contextvars.ContextVar[list[str] | None] = contextvars.ContextVar(
    "liaison_refused_records", default=None
)
"""Within a client stream: the ids of the records its answer refused."""


class RecordGuardInterceptor(grpc.aio.ServerInterceptor):  # type: ignore[type-arg]
    """Refuses undeclared methods and audits every declared one."""

    def __init__(self, audit: AuditLog | None, *, refuse: Refuse) -> None:
        """Args:
        audit: The audit log; ``None``: nothing is audited (and undeclared methods are still
            refused).
        refuse: Ends a call with an error's status, from the one status table.
        """
        self._audit = audit
        self._refuse = refuse
        self._pending: set[asyncio.Future[Any]] = set()
        self._wrapped = WrappedHandlers()

    async def intercept_service(
        self,
        continuation: Callable[[grpc.HandlerCallDetails], Awaitable[Any]],
        handler_call_details: grpc.HandlerCallDetails,
    ) -> Any:
        handler = await continuation(handler_call_details)
        method: str = handler_call_details.method
        if handler is None:
            return handler
        access = access_of(method)
        if access is None:
            return self._wrapped.get(method, handler, lambda: _refusing(handler, self, method))
        if access.audit_action is None or self._audit is None:
            return handler
        action = access.audit_action
        return self._wrapped.get(method, handler, lambda: self._audited(handler, action, method))

    def denied(self, record_ids: Sequence[str]) -> None:
        """Audit records the visibility gate kept from the current caller (queued).

        Within a stream the denials are gathered and written a batch at a time, so that one
        call cannot grow the log by an entry per hidden version."""
        gathered = _DENIALS.get()
        if gathered is None:
            self._log_soon("deny", "denied", list(record_ids), reason="handling")
            return
        gathered.extend(record_ids)
        if len(gathered) >= _DENIALS_PER_ENTRY:
            self._flush_denials(gathered)

    def _flush_denials(self, gathered: list[str]) -> None:
        while gathered:
            batch, gathered[:] = gathered[:_DENIALS_PER_ENTRY], gathered[_DENIALS_PER_ENTRY:]
            self._log_soon("deny", "denied", batch, reason="handling")

    # -- audit -----------------------------------------------------------------------------

    async def _log(
        self,
        action: str,
        outcome: str,
        record_ids: Iterable[str] = (),
        **detail: str | int,
    ) -> None:
        if self._audit is not None:
            caller = current_caller()
            await self._audit.append(
                actor=caller.identity if caller is not None else LOCAL_IDENTITY,
                action=action,
                outcome=outcome,
                record_ids=record_ids,
                detail=detail,
            )

    async def _log_failure(
        self, action: str, outcome: str, record_ids: Iterable[str] = (), **detail: str | int
    ) -> None:
        """Audit a call that failed or was refused; if the log cannot take the entry, the call
        fails as it would have (the audit log logged its own failure)."""
        try:
            await self._log(action, outcome, record_ids, **detail)
        except AuditLogError:
            _log.error("audit entry of a %s call that ended %s not written", action, outcome)

    async def _log_answer(
        self, context: Any, action: str, entries: Sequence[tuple[str, list[str]]]
    ) -> None:
        """Audit an answered call: one entry per ``(outcome, record ids)``. When the log cannot
        take them, the answer is withheld: UNAVAILABLE, saying whether anything was stored."""
        try:
            for outcome, record_ids in entries:
                await self._log(action, outcome, record_ids)
        except AuditLogError:
            refusal: LiaisonError = (
                UnauditedError(
                    "the records are stored, but the audit log could not record the call; retry "
                    "it: the retry is answered with the original acknowledgement (duplicate) "
                    "and audited"
                )
                if action in _WRITES
                else UnavailableError("the audit log could not record the call; retry")
            )
            await self._refuse(context, refusal)
            raise  # the refusal raises; this keeps the type checker and readers sure of it

    def _log_soon(
        self, action: str, outcome: str, record_ids: list[str], **detail: str | int
    ) -> None:
        """Queue an entry without waiting for its commit.

        For streams: waiting for each entry's commit before the next event would cap a
        subscription at one audit commit per record, while the log group-commits entries queued
        together; and a cancelled stream cannot await. The entry is durable within a commit or
        two and is never dropped: closing the log commits everything queued.
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

    # -- wrapping --------------------------------------------------------------------------

    def _audited(self, handler: Any, action: str, method: str) -> Any:
        name = method.rsplit("/", 1)[-1]
        request_ids = _REQUEST_IDS.get(method, _none)
        response_ids = _RESPONSE_IDS.get(method, _none)
        outcome_of = _OUTCOMES.get(method, _ok)
        if handler.unary_unary:
            inner_uu = handler.unary_unary

            async def unary_unary(request: Any, context: Any) -> Any:
                try:
                    response = await inner_uu(request, context)
                except BaseException as error:
                    failure = _failure(context, error)
                    await self._log_failure(action, failure, _ids(request_ids, request))
                    raise
                ids = _ids(response_ids, response) or _ids(request_ids, request)
                await self._log_answer(context, action, [(outcome_of(response), ids)])
                return response

            return grpc.unary_unary_rpc_method_handler(
                unary_unary, handler.request_deserializer, handler.response_serializer
            )
        if handler.stream_unary:
            inner_su = handler.stream_unary

            async def stream_unary(requests: Any, context: Any) -> Any:
                refused: list[str] = []
                token = _REFUSED.set(refused)
                try:
                    response = await inner_su(requests, context)
                except BaseException as error:
                    failure = _failure(context, error)
                    await self._log_failure(action, failure, _well_formed_ids(refused))
                    raise
                finally:
                    _REFUSED.reset(token)
                entries = [(outcome_of(response), _ids(response_ids, response))]
                if refused:
                    entries.append(("refused", _well_formed_ids(refused)))
                await self._log_answer(context, action, entries)
                return response

            return grpc.stream_unary_rpc_method_handler(
                stream_unary, handler.request_deserializer, handler.response_serializer
            )
        if handler.unary_stream and inspect.isasyncgenfunction(handler.unary_stream):
            inner_us = handler.unary_stream
            per_event = name == "Subscribe"

            async def unary_stream(request: Any, context: Any) -> AsyncIterator[Any]:
                shown: list[str] = []
                outcome = "ok"
                gathered: list[str] = []
                token = _DENIALS.set(gathered)
                try:
                    async for response in inner_us(request, context):
                        ids = _ids(response_ids, response)
                        if per_event and ids:
                            self._log_soon("read", "ok", ids, method=name)
                        shown += ids
                        yield response
                except BaseException as error:
                    outcome = _failure(context, error)
                    raise
                finally:
                    _DENIALS.reset(token)
                    self._flush_denials(gathered)
                    # One entry per stream, also when it delivered nothing (events were logged
                    # one by one as they went out).
                    if per_event:
                        self._log_soon(action, outcome, [], delivered=len(shown))
                    else:
                        self._log_soon(action, outcome, shown)

            return grpc.unary_stream_rpc_method_handler(
                unary_stream, handler.request_deserializer, handler.response_serializer
            )
        # Streams of other shapes (none of ours): audited when they end.
        return handler


def _refusing(handler: Any, guard: RecordGuardInterceptor, method: str) -> Any:
    """A handler of the same shape that refuses the undeclared ``method``, audited."""
    shown = method if len(method) <= 200 and method.isprintable() else "(unprintable)"

    async def refuse(context: Any) -> None:
        await guard._log_failure("deny", "undeclared-method", [], method=shown)
        await context.abort(
            grpc.StatusCode.UNIMPLEMENTED,
            f"{shown} is not declared in the gateway's access table",
        )

    async def unary(request: Any, context: Any) -> Any:
        await refuse(context)

    async def streaming(request: Any, context: Any) -> AsyncIterator[Any]:
        await refuse(context)
        yield  # pragma: no cover - abort raises

    if handler.unary_unary:
        return grpc.unary_unary_rpc_method_handler(
            unary, handler.request_deserializer, handler.response_serializer
        )
    if handler.stream_unary:
        return grpc.stream_unary_rpc_method_handler(
            unary, handler.request_deserializer, handler.response_serializer
        )
    if handler.unary_stream:
        return grpc.unary_stream_rpc_method_handler(
            streaming, handler.request_deserializer, handler.response_serializer
        )
    return grpc.stream_stream_rpc_method_handler(
        streaming, handler.request_deserializer, handler.response_serializer
    )


def report_refused(record_ids: Sequence[str]) -> None:
    """Tell the audit of the current (client-streaming) call which records it refused, for
    answers that do not name them (SubmitStream's per-record errors carry only an index)."""
    refused = _REFUSED.get()
    if refused is not None:
        refused.extend(record_ids)


def _ids(extract: IdsOf, message: Any) -> list[str]:
    """The record ids ``extract`` finds in ``message``; none in a request that could not be
    parsed (which has no fields to read). A request served on its raw bytes (``Submit``) is
    parsed here only when its call was refused, to name the record in the audit entry."""
    if isinstance(message, Message):
        return extract(message)
    if isinstance(message, SerializedEvent):
        return list(message.record_ids)
    if isinstance(message, bytes) and extract is _submitted_id:
        try:
            return extract(exchange_pb2.SubmitRequest.FromString(message))
        except DecodeError:
            return []
    return []


def _submitted_id(request: exchange_pb2.SubmitRequest) -> list[str]:
    return _well_formed(request.record.record_id)


def _well_formed_ids(record_ids: Sequence[str]) -> list[str]:
    return [i for record_id in record_ids for i in _well_formed(record_id)]


def _failure(context: Any, error: BaseException) -> str:
    if isinstance(error, asyncio.CancelledError):
        remaining = context.time_remaining()
        return "deadline-exceeded" if remaining is not None and remaining <= 0 else "cancelled"
    code = context.code()
    if isinstance(code, grpc.StatusCode) and code is not grpc.StatusCode.OK:
        return code.name.lower().replace("_", "-")
    return "failed"


def _well_formed(record_id: str) -> list[str]:
    # Ids of refused requests are echoed only when well-formed: they could be anything.
    return [record_id] if record_id and RECORD_ID_PATTERN.fullmatch(record_id) else []


def _none(_: Any) -> list[str]:
    return []


def _ok(_: Any) -> str:
    return "ok"


_REQUEST_IDS: dict[str, IdsOf] = {
    "/liaison.v1.RecordExchange/Submit": _submitted_id,
    "/liaison.v1.RecordExchange/Get": lambda r: _well_formed(r.record_id),
    "/liaison.v1.RecordExchange/Withdraw": lambda r: _well_formed(r.record_id),
    "/liaison.v1.RecordExchange/ExtendRetention": lambda r: _well_formed(r.record_id),
    "/liaison.v1.Translation/Export": lambda r: [
        i for ref in r.record_refs for i in _well_formed(ref.record_id)
    ],
    "/liaison.v1.Screening/Decide": lambda r: _well_formed(r.hit_record_id),
}
"""The record ids a refused call named (for its audit entry)."""

_RESPONSE_IDS: dict[str, IdsOf] = {
    "/liaison.v1.RecordExchange/Submit": lambda r: [r.ack.record_id],
    "/liaison.v1.RecordExchange/SubmitStream": lambda r: [
        x.ack.record_id for x in r.results if x.HasField("ack")
    ],
    "/liaison.v1.RecordExchange/Get": lambda r: [r.record.record_id],
    "/liaison.v1.RecordExchange/Search": lambda r: (
        [r.hit.record.record_id] if r.HasField("hit") else []
    ),
    "/liaison.v1.RecordExchange/Subscribe": lambda r: (
        [r.record_event.record.record_id] if r.HasField("record_event") else []
    ),
    "/liaison.v1.RecordExchange/Withdraw": lambda r: [r.ack.record_id],
    "/liaison.v1.RecordExchange/ExtendRetention": lambda r: [r.retention.record_id],
    "/liaison.v1.RecordExchange/ListReviews": lambda r: [x.record_id for x in r.reviews],
    "/liaison.v1.RecordExchange/ListThreads": lambda r: [x.request_record_id for x in r.threads],
    "/liaison.v1.Translation/Ingest": lambda r: [ack.record_id for ack in r.acks],
    # Screen: the entries shown in full (a redacted hit names no entry).
    "/liaison.v1.Screening/Screen": lambda r: [entry.record_id for entry in r.entries],
    "/liaison.v1.Screening/Decide": lambda r: [r.ack.record_id],
    "/liaison.v1.Screening/ListHits": lambda r: [hit.record_id for hit in r.hits],
}
"""The record ids an answered call concerned."""


def _submit_outcome(response: exchange_pb2.SubmitResponse) -> str:
    return "duplicate" if response.ack.duplicate else "ok"


def _ingest_outcome(response: translation_pb2.IngestResponse) -> str:
    return "duplicate" if response.duplicate else "ok"


def _stream_outcome(response: exchange_pb2.SubmitStreamResponse) -> str:
    if not response.rejected:
        return "ok"
    return "refused" if response.rejected == response.received else "partial"


def _deliver_outcome(response: Any) -> str:
    refused = sum(1 for result in response.results if result.HasField("error"))
    if not refused:
        return "ok"
    return "refused" if refused == len(response.results) else "partial"


_OUTCOMES: dict[str, Callable[[Any], str]] = {
    "/liaison.v1.RecordExchange/SubmitStream": _stream_outcome,
    "/liaison.v1.Federation/Deliver": _deliver_outcome,
    "/liaison.v1.RecordExchange/Submit": _submit_outcome,
    "/liaison.v1.RecordExchange/Withdraw": _submit_outcome,
    "/liaison.v1.Translation/Ingest": _ingest_outcome,
    "/liaison.v1.Screening/Decide": _submit_outcome,
}
"""How an answered call's outcome is named (``ok`` by default)."""
