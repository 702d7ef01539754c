"""Records of any number over several SubmitStream calls, and their results as one response.

A gateway takes at most ``[limits] max_records_per_stream`` records per SubmitStream call, so a
larger input is sent as consecutive calls of at most ``records_per_stream`` records each. Each
call's results are renumbered to the records' positions in the whole input, and the calls'
responses add up to one, as if a single call had carried everything.
"""

from __future__ import annotations

from liaison.v1 import exchange_pb2

__all__ = ["check_records_per_stream", "merge", "renumbered"]


def check_records_per_stream(records_per_stream: int) -> None:
    """Raises ValueError when ``records_per_stream`` is below 1."""
    if records_per_stream < 1:
        raise ValueError(f"records_per_stream must be at least 1, got {records_per_stream}")


def renumbered(
    response: exchange_pb2.SubmitStreamResponse, first_index: int
) -> exchange_pb2.SubmitStreamResponse:
    """``response`` of a call whose first record is input record ``first_index``, with its
    results' indexes made positions in the whole input (in place; returned for convenience)."""
    if first_index:
        for result in response.results:
            result.index += first_index
    return response


def merge(
    total: exchange_pb2.SubmitStreamResponse, response: exchange_pb2.SubmitStreamResponse
) -> None:
    """Add a (renumbered) call's ``response`` to ``total``."""
    total.received += response.received
    total.stored += response.stored
    total.duplicates += response.duplicates
    total.rejected += response.rejected
    total.results.extend(response.results)
