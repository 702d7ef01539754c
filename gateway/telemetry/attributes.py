"""The attribute names Liaison's telemetry uses: semantic conventions, and the ``liaison.*`` ones.

Stable semantic-convention names come from ``opentelemetry.semconv``. The RPC ones are only in
its private ``_incubating`` package, which may rename or drop them in any release; they are
written out here (they are the names the official gRPC instrumentation emits and operators'
dashboards query), and ``tests/gateway/telemetry/test_opentelemetry_internals.py`` compares them
with the installed package. Ours live under ``liaison.`` and are documented in
``docs/operations.md``. Every value Liaison sets is a count, a size, a code, a name of software or
a centre id: never content of a record.
"""

from __future__ import annotations

from typing import Final

from opentelemetry.semconv.attributes.exception_attributes import EXCEPTION_TYPE
from opentelemetry.semconv.attributes.network_attributes import (
    NETWORK_PEER_ADDRESS,
    NETWORK_PEER_PORT,
    NETWORK_PROTOCOL_NAME,
    NETWORK_PROTOCOL_VERSION,
)
from opentelemetry.semconv.attributes.server_attributes import SERVER_ADDRESS, SERVER_PORT

__all__ = [
    "ADAPTER_NAME",
    "ADAPTER_OPERATION",
    "ADAPTER_VERSION",
    "CENTRE_ID",
    "DELIVERY_OUTCOME",
    "DIAGNOSTICS_ERROR",
    "DIAGNOSTICS_INFO",
    "DIAGNOSTICS_WARNING",
    "DIAGNOSTIC_CODE",
    "DIAGNOSTIC_EVENT",
    "DIAGNOSTIC_SEVERITY",
    "EXCEPTION_TYPE",
    "LOCATION_BYTE_OFFSET",
    "LOCATION_COLUMN",
    "LOCATION_JSON_POINTER",
    "LOCATION_LINE",
    "LOCATION_SEGMENT_INDEX",
    "NETWORK_PEER_ADDRESS",
    "NETWORK_PEER_PORT",
    "NETWORK_PROTOCOL_NAME",
    "NETWORK_PROTOCOL_VERSION",
    "ORIGINATING_CENTRE",
    "PAYLOAD_SIZE",
    "PEER_CENTRE",
    "RECORDS_COUNT",
    "RECORDS_DUPLICATE",
    "RECORDS_REJECTED",
    "RECORDS_STORED",
    "REJECTION_REASON",
    "RPC_GRPC_STATUS_CODE",
    "RPC_METHOD",
    "RPC_PROTOCOL",
    "RPC_SERVICE",
    "RPC_SYSTEM",
    "SERVER_ADDRESS",
    "SERVER_PORT",
    "SUBSCRIPTION_LAG",
    "VIOLATIONS_COUNT",
]

RPC_SYSTEM: Final = "rpc.system"
"""Semantic conventions (incubating): the RPC system, ``grpc``, or ``connect_rpc`` for a call
in the Connect protocol over HTTP (:mod:`gateway.telemetry.protocols`)."""
RPC_SERVICE: Final = "rpc.service"
"""Semantic conventions (incubating): the full service name (``liaison.v1.RecordExchange``)."""
RPC_METHOD: Final = "rpc.method"
"""Semantic conventions (incubating): the method name (``Submit``)."""
RPC_GRPC_STATUS_CODE: Final = "rpc.grpc.status_code"
"""Semantic conventions (incubating): the call's numeric gRPC status code."""

RPC_PROTOCOL: Final = "liaison.rpc.protocol"
"""Of a call that came over HTTP: the exact wire form (``connect``, ``ndjson``, ``sse``,
``grpc-web``, ``grpc-web-text``; :mod:`gateway.telemetry.protocols`). Absent on native gRPC."""

CENTRE_ID: Final = "liaison.centre.id"
"""Resource attribute: the centre whose gateway emits the telemetry."""
ORIGINATING_CENTRE: Final = "liaison.originating_centre"
"""Metric attribute: the centre a record comes from (a centre id, never free text)."""

RECORDS_COUNT: Final = "liaison.records.count"
"""Records a step handled (validated, written, decoded, encoded, delivered)."""
RECORDS_STORED: Final = "liaison.records.stored"
"""Of a store write: new versions committed."""
RECORDS_DUPLICATE: Final = "liaison.records.duplicate"
"""Of a store write: records recognised as already stored."""
RECORDS_REJECTED: Final = "liaison.records.rejected"
"""Records refused by validation or by a version conflict."""
VIOLATIONS_COUNT: Final = "liaison.validation.violations"
"""Field violations validation found (their field paths and texts are not recorded)."""
REJECTION_REASON: Final = "liaison.rejection.reason"
"""Metric attribute: why records were refused (``invalid``, ``conflict``, ``store``,
``diagnostics``)."""

ADAPTER_NAME: Final = "liaison.adapter.name"
"""The adapter's registry name (``paxlst``); ``liaison.v1`` for records submitted as such."""
ADAPTER_VERSION: Final = "liaison.adapter.version"
"""The adapter's version."""
ADAPTER_OPERATION: Final = "liaison.adapter.operation"
"""``decode`` or ``encode``."""
PAYLOAD_SIZE: Final = "liaison.payload.size"
"""Bytes of the legacy payload decoded or produced (its content is never recorded)."""
DIAGNOSTICS_ERROR: Final = "liaison.diagnostics.error"
"""Error diagnostics an adapter reported."""
DIAGNOSTICS_WARNING: Final = "liaison.diagnostics.warning"
"""Warning diagnostics an adapter reported."""
DIAGNOSTICS_INFO: Final = "liaison.diagnostics.info"
"""Informational diagnostics an adapter reported."""

DIAGNOSTIC_EVENT: Final = "liaison.diagnostic"
"""Span event name of one diagnostic: its code, severity and location, never its message."""
DIAGNOSTIC_CODE: Final = "liaison.diagnostic.code"
"""The diagnostic's stable code (``MRZ_CHECK_DIGIT``)."""
DIAGNOSTIC_SEVERITY: Final = "liaison.diagnostic.severity"
"""``error``, ``warning`` or ``info``."""
LOCATION_LINE: Final = "liaison.location.line"
"""1-based line in the payload."""
LOCATION_COLUMN: Final = "liaison.location.column"
"""1-based column in the payload."""
LOCATION_BYTE_OFFSET: Final = "liaison.location.byte_offset"
"""0-based byte offset in the payload."""
LOCATION_SEGMENT_INDEX: Final = "liaison.location.segment_index"
"""0-based segment index (EDIFACT, ANSI/NIST records)."""
LOCATION_JSON_POINTER: Final = "liaison.location.json_pointer"
"""RFC 6901 pointer into a JSON payload (its keys are structure, not values)."""

SUBSCRIPTION_LAG: Final = "liaison.subscription.lag"
"""Versions committed but not yet delivered to a subscriber when a delivery starts."""
PEER_CENTRE: Final = "liaison.peer.centre"
"""The peer centre a record is forwarded to or received from (a centre id, not a person)."""
DELIVERY_OUTCOME: Final = "liaison.delivery.outcome"
"""``delivered``, ``duplicate``, ``refused`` or ``unavailable``."""
TASK_NAME: Final = "liaison.task.name"
"""A supervised background task: ``federation:router``, ``delivery:<peer centre id>``,
``federation:audit``, ``audit:checkpoints`` (names and centre ids, never data)."""
