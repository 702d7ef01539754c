"""Liaison adapters: legacy formats in and out of ``liaison.v1`` records.

The public surface for adapter authors is re-exported here: subclass ``Adapter``, build results
with ``Adapter.builder`` and report findings as ``Diagnostic`` values.
"""

from adapters.base import (
    Adapter,
    DecodeBuilder,
    DecodeResult,
    EncodeBuilder,
    EncodeNotSupportedError,
    EncodeResult,
    stable_record_id,
)
from adapters.diagnostics import Diagnostic, Location, Severity
from adapters.registry import (
    ENTRY_POINT_GROUP,
    AdapterRegistry,
    UnknownAdapterError,
    default_registry,
    get_adapter,
)

__all__ = [
    "ENTRY_POINT_GROUP",
    "Adapter",
    "AdapterRegistry",
    "DecodeBuilder",
    "DecodeResult",
    "Diagnostic",
    "EncodeBuilder",
    "EncodeNotSupportedError",
    "EncodeResult",
    "Location",
    "Severity",
    "UnknownAdapterError",
    "default_registry",
    "get_adapter",
    "stable_record_id",
]
