"""Liaison adapters: legacy formats in and out of ``liaison.v1`` records.

The public surface for adapter authors is re-exported here: subclass ``Adapter``, build results
with ``Adapter.builder`` and report findings as ``Diagnostic`` values; ``DecodeOptions`` and
``Adapter.configured`` set strictness and the limits every decode is held to.
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
from adapters.characters import FORBIDDEN_CHARACTER
from adapters.collector import DIAGNOSTICS_OMITTED, TOO_MANY_ERRORS, Subject
from adapters.diagnostics import Diagnostic, Location, Severity
from adapters.options import DEFAULT_MAX_ERRORS, DEFAULT_MAX_PER_CODE, DecodeOptions
from adapters.registry import (
    ENTRY_POINT_GROUP,
    AdapterRegistry,
    UnknownAdapterError,
    default_registry,
    get_adapter,
)

__all__ = [
    "DEFAULT_MAX_ERRORS",
    "DEFAULT_MAX_PER_CODE",
    "DIAGNOSTICS_OMITTED",
    "ENTRY_POINT_GROUP",
    "FORBIDDEN_CHARACTER",
    "TOO_MANY_ERRORS",
    "Adapter",
    "AdapterRegistry",
    "DecodeBuilder",
    "DecodeOptions",
    "DecodeResult",
    "Diagnostic",
    "EncodeBuilder",
    "EncodeNotSupportedError",
    "EncodeResult",
    "Location",
    "Severity",
    "Subject",
    "UnknownAdapterError",
    "default_registry",
    "get_adapter",
    "stable_record_id",
]
