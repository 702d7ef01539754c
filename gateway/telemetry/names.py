"""Names of Liaison's own spans and of its instrumentation scope.

RPC spans are named after the gRPC method path (``/liaison.v1.RecordExchange/Submit``), as the
official gRPC instrumentation names them; the spans below are Liaison's, nested under them.
"""

from __future__ import annotations

from typing import Final

__all__ = [
    "ADAPTER_DECODE_SPAN",
    "ADAPTER_ENCODE_SPAN",
    "FEDERATION_FORWARD_SPAN",
    "FEDERATION_RECEIVE_SPAN",
    "SCOPE",
    "SPAN_NAMES",
    "STORE_READ_SPAN",
    "STORE_WRITE_SPAN",
    "SUBSCRIPTION_DELIVER_SPAN",
    "VALIDATE_SPAN",
]

SCOPE: Final = "liaison.gateway"
"""Instrumentation scope of every tracer and meter Liaison creates."""

VALIDATE_SPAN: Final = "liaison.validate"
"""Validation, canonicalisation and indexing of the records of one message."""
STORE_WRITE_SPAN: Final = "liaison.store.write"
"""One request's records handed to the store until their transaction committed (queue wait
plus commit: the writer thread commits many requests in one transaction)."""
STORE_READ_SPAN: Final = "liaison.store.read"
"""One query of the store: Get's lookup, or the rows of one Search page (reader pool wait plus
the query); ``liaison.records.count`` is the number of rows it returned."""
SUBSCRIPTION_DELIVER_SPAN: Final = "liaison.subscription.deliver"
"""One pass of a subscription delivering the versions committed since its last pass."""
ADAPTER_DECODE_SPAN: Final = "liaison.adapter.decode"
"""An adapter decoding a legacy payload into records and diagnostics."""
ADAPTER_ENCODE_SPAN: Final = "liaison.adapter.encode"
"""An adapter encoding records into a legacy payload."""

FEDERATION_FORWARD_SPAN: Final = "liaison.federation.forward"
"""A committed record sent to a peer centre; a child of the record's submission span."""
FEDERATION_RECEIVE_SPAN: Final = "liaison.federation.receive"
"""A record received from a peer centre and stored; a child of its submission at the sender,
so one trace runs from one centre to the other."""

SPAN_NAMES: Final = frozenset(
    {
        FEDERATION_FORWARD_SPAN,
        FEDERATION_RECEIVE_SPAN,
        VALIDATE_SPAN,
        STORE_READ_SPAN,
        STORE_WRITE_SPAN,
        SUBSCRIPTION_DELIVER_SPAN,
        ADAPTER_DECODE_SPAN,
        ADAPTER_ENCODE_SPAN,
    }
)
"""Every span name Liaison gives, besides RPC method paths."""
