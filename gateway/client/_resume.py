"""Subscriptions that survive the gateway going away: where to resume, and whether to.

A gateway that shuts down (or a connection that drops) ends a Subscribe call with UNAVAILABLE.
The client then calls Subscribe again after the last sequence number it saw - of a record
event, or of the caught-up marker - so that nothing is missed and nothing delivered twice. It
waits as the channel's retry policy does between attempts, and gives up after
``attempts`` failures in a row (any event received starts the count again), or when the
subscription's own deadline would pass.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable

import grpc

from gateway.client._channel import RETRY_BACKOFF
from liaison.v1 import exchange_pb2, record_pb2

__all__ = ["EVENTS_PER_RESPONSE", "Resumption", "events_of", "subscribe_request"]

EVENTS_PER_RESPONSE = 100
"""The clients ask for batches of up to this many versions (one message each instead of one per
version: what the gateway pays per message is what limits a busy subscription) and hand them
out one event at a time, so batching is invisible to their callers."""


def subscribe_request(
    after_sequence: int | None,
    kinds: Iterable[record_pb2.RecordKind.ValueType],
    originating_centres: Iterable[str],
) -> exchange_pb2.SubscribeRequest:
    """The first request of a subscription."""
    request = exchange_pb2.SubscribeRequest(
        kinds=list(kinds),
        originating_centres=list(originating_centres),
        max_events_per_response=EVENTS_PER_RESPONSE,
    )
    if after_sequence is not None:
        request.after_sequence = after_sequence
    return request


def events_of(
    response: exchange_pb2.SubscribeResponse,
) -> list[exchange_pb2.SubscribeResponse]:
    """A response as the one-event responses the clients yield (a batch split in order)."""
    if not response.HasField("record_events"):
        return [response]
    return [
        exchange_pb2.SubscribeResponse(record_event=event)
        for event in response.record_events.events
    ]


class Resumption:
    """The state of one subscription across its Subscribe calls.

    Args:
        request: The first request.
        attempts: Most resumptions in a row without an event in between; 0 never resumes.
        timeout: Seconds the whole subscription may last; ``None`` for no deadline.
        clock: Monotonic seconds (tests pass their own).

    Raises:
        ValueError: ``attempts`` is negative.
    """

    def __init__(
        self,
        request: exchange_pb2.SubscribeRequest,
        attempts: int,
        timeout: float | None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if attempts < 0:
            raise ValueError(f"resume_attempts must not be negative, got {attempts}")
        self._request = request
        self._attempts = attempts
        self._failures = 0
        self._clock = clock
        self._deadline = None if timeout is None else clock() + timeout

    @property
    def request(self) -> exchange_pb2.SubscribeRequest:
        """The request of the next call: the first one, after the last sequence seen."""
        return self._request

    def timeout(self) -> float | None:
        """Seconds left of the subscription's deadline (``None``: no deadline)."""
        if self._deadline is None:
            return None
        return max(self._deadline - self._clock(), 0.0)

    def seen(self, response: exchange_pb2.SubscribeResponse) -> None:
        """Note a response: the subscription now resumes after it."""
        if response.HasField("record_event"):
            self._request.after_sequence = response.record_event.metadata.sequence
        elif response.HasField("record_events") and response.record_events.events:
            self._request.after_sequence = response.record_events.events[-1].metadata.sequence
        elif response.HasField("caught_up"):
            self._request.after_sequence = response.caught_up.sequence
        self._failures = 0

    def delay(self, error: grpc.RpcError) -> float | None:
        """Seconds to wait before resuming after ``error``, or ``None`` to give up (it is not
        UNAVAILABLE, the attempts are spent, or the deadline would pass)."""
        if error.code() != grpc.StatusCode.UNAVAILABLE or self._failures >= self._attempts:
            return None
        wait: float = RETRY_BACKOFF[min(self._failures, len(RETRY_BACKOFF) - 1)]
        left = self.timeout()
        if left is not None and left <= wait:
            return None
        self._failures += 1
        return wait
