"""Where a server stream can be resumed: the cursor an SSE event id carries, and how a
``Last-Event-ID`` puts it back into the request.

Subscribe resumes after a store sequence (``after_sequence``); Search after a hit's cursor
(``cursor``). The id of each event is the position to resume after, so a browser's
``EventSource``, which reconnects with the last id it received, misses nothing and repeats
nothing.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from google.protobuf.message import Message

from liaison.v1 import exchange_pb2

__all__ = ["RESUMABLE", "Resumable"]


@dataclass(frozen=True, slots=True)
class Resumable:
    """How one streaming method resumes."""

    event_id: Callable[[Message], str]
    """The cursor after a response ("" when the response moves no cursor)."""
    resume: Callable[[Message, str], bool]
    """Set the request to resume after the cursor; ``False`` when the cursor is not valid."""


def _subscribe_id(response: Message) -> str:
    assert isinstance(response, exchange_pb2.SubscribeResponse)
    kind = response.WhichOneof("event")
    if kind == "record_event":
        return str(response.record_event.metadata.sequence)
    if kind == "record_events" and response.record_events.events:
        return str(response.record_events.events[-1].metadata.sequence)
    if kind == "caught_up":
        return str(response.caught_up.sequence)
    return ""


def _subscribe_resume(request: Message, cursor: str) -> bool:
    assert isinstance(request, exchange_pb2.SubscribeRequest)
    if not cursor.isascii() or not cursor.isdigit() or len(cursor) > 20:
        return False
    sequence = int(cursor)
    if sequence >= 2**64:
        return False
    request.after_sequence = sequence
    return True


def _search_id(response: Message) -> str:
    assert isinstance(response, exchange_pb2.SearchResponse)
    kind = response.WhichOneof("item")
    if kind == "hit":
        return response.hit.cursor
    if kind == "page_end":
        return response.page_end.next_cursor
    return ""


def _search_resume(request: Message, cursor: str) -> bool:
    assert isinstance(request, exchange_pb2.SearchRequest)
    request.cursor = cursor  # the service refuses a cursor that is not one of its own
    return True


RESUMABLE: dict[str, Resumable] = {
    "/liaison.v1.RecordExchange/Subscribe": Resumable(_subscribe_id, _subscribe_resume),
    "/liaison.v1.RecordExchange/Search": Resumable(_search_id, _search_resume),
}
"""The server-streaming methods, by path, and how each resumes."""
