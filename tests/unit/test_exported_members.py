"""The public surface of each package is its explicit ``__all__``; this pins it.

A name added to or removed from a public module is an API change for agency services and adapter
authors: it must show up here, in review, not slip through.
"""

from __future__ import annotations

import importlib

import pytest

PUBLIC = {
    "adapters": {
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
    },
    "adapters.jsonform": {"dumps", "result_from_dict", "result_to_dict"},
    "gateway.client": {
        "AsyncLiaisonClient",
        "DEFAULT_BATCH_SIZE",
        "DEFAULT_MAX_MESSAGE_BYTES",
        "DEFAULT_TIMEOUT",
        "GatewayUnavailableError",
        "InvalidRecordError",
        "LiaisonClient",
        "LiaisonError",
        "RecordNotFoundError",
        "SERVICE_NAME",
        "VersionConflictError",
        "channel_options",
    },
    "gateway.config": {
        "CentreConfig",
        "ConfigError",
        "DEFAULT_CENTRE_ID",
        "DEFAULT_DB_PATH",
        "DEFAULT_LISTEN",
        "LimitsConfig",
        "ServerConfig",
        "StorageConfig",
        "TelemetryConfig",
        "load_config",
    },
    "gateway.errors": {
        "ConflictError",
        "FailedPreconditionError",
        "FieldViolation",
        "GatewayError",
        "InvalidArgumentError",
        "LimitExceededError",
        "NotFoundError",
        "abort",
        "record_error",
        "to_status",
    },
    "gateway.jsonio": {"RecordFileError", "iter_records", "record_to_json"},
    "gateway.server": {"Gateway", "ServeError", "run"},
    "gateway.telemetry": {
        "NATIVE_ADAPTER",
        "AdapterSpan",
        "AllowlistSpanExporter",
        "ChildSpan",
        "GatewayMetrics",
        "JsonLogFormatter",
        "ServerTelemetryInterceptor",
        "Telemetry",
        "TelemetrySettings",
        "adapter_span",
        "configure_logging",
        "redact_span",
        "resolve_settings",
    },
    "gateway.store": {
        "CommitListener",
        "DocumentKey",
        "IndexKeys",
        "IngestOutcome",
        "Ingestion",
        "NameKey",
        "RecordStore",
        "SearchQuery",
        "SqliteRecordStore",
        "StoreClosedError",
        "StoreError",
        "StoredRecord",
        "StoredVersion",
        "VersionConflict",
        "WriteItem",
        "WriteOutcome",
        "create_store",
    },
    "liaison.codes": {"ICAO_CODES", "ISO_ALPHA2_TO_ALPHA3", "ISO_ALPHA3", "is_known_country_code"},
}


@pytest.mark.parametrize("module_name", sorted(PUBLIC))
def test_public_names(module_name: str) -> None:
    module = importlib.import_module(module_name)
    assert set(module.__all__) == PUBLIC[module_name]
    missing = [name for name in module.__all__ if not hasattr(module, name)]
    assert missing == [], f"{module_name}.__all__ names what it does not define"
