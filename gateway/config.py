"""Centre configuration: one TOML file per centre, with defaults that run with no file at all.

A file looks like this (every key is optional)::

    [centre]
    id = "WCO-I2C"

    [server]
    listen = "127.0.0.1:50051"

    [http]                         # off unless configured (docs/http.md)
    listen = "127.0.0.1:8080"
    # cors_origins = ["https://app.example"]   # browser pages of other origins (none by default)
    [storage]
    path = "var/liaison.db"        # relative paths are relative to the file's folder
    synchronous = "full"
    # backend = "postgresql"       # replicas sharing one database (docs/operator-guide.md)
    # dsn = "postgresql://liaison@db.example:5432/liaison"   # no password here:
    # password_file = "secrets/pg-password"                  # or LIAISON_STORAGE_DSN

    [limits]
    max_message_bytes = 4194304

    [telemetry]                    # off unless configured; OTEL_* variables override it
    exporter = "otlp"              # "otlp", "console" or "none"
    endpoint = "http://collector:4317"
    sampling_ratio = 0.01
    pipeline = "fast"              # "fast" or "sdk" (the stock OpenTelemetry SDK only)

Unknown sections or keys are refused (a typo must not silently fall back to a default).
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field, fields, replace
from pathlib import Path
from typing import Any, cast
from urllib.parse import urlsplit

from gateway.federation.settings import (
    FEDERATION_SECTIONS,
    FederationSettings,
    SettingsError,
    parse_settings,
)
from gateway.lifecycle.settings import LifecycleSettings, LifecycleSettingsError, parse_lifecycle
from gateway.screening.settings import ScreeningSettings, ScreeningSettingsError, parse_screening
from gateway.store.base import StoreError
from gateway.store.postgresql.dsn import check_storage_settings
from gateway.store.settings import DEFAULT_DB_PATH, StorageConfig
from gateway.telemetry.settings import PIPELINES, TELEMETRY_EXPORTERS, TelemetryConfig
from liaison.rules.errors import SetupError
from liaison.rules.ids import CENTRE_ID_PATTERN

__all__ = [
    "DEFAULT_CENTRE_ID",
    "DEFAULT_DB_PATH",
    "DEFAULT_LISTEN",
    "MAX_UNHEALTHY_AFTER_SECONDS",
    "CentreConfig",
    "ConfigError",
    "HttpConfig",
    "LimitsConfig",
    "ServerConfig",
    "StorageConfig",
    "TelemetryConfig",
    "load_config",
]

DEFAULT_CENTRE_ID = "LOCAL"
DEFAULT_LISTEN = "127.0.0.1:50051"
MAX_UNHEALTHY_AFTER_SECONDS = 86_400.0
"""The longest ``[storage] unhealthy_after_seconds``: failing writes for a day and SERVING
would be health that lies."""

"""Centre ids are upper-case letters, digits and hyphens, e.g. ``INTERPOL-CCC-LYON``."""


class ConfigError(SetupError, ValueError):
    """The configuration file is missing, unreadable or has a bad value; the message says where."""


@dataclass(frozen=True, slots=True)
class ServerConfig:
    """The gRPC listener."""

    listen: str = DEFAULT_LISTEN
    """``host:port`` to listen on; port 0 picks a free port (tests)."""
    grace_seconds: float = 5.0
    """On shutdown, how long in-flight calls may take to finish before they are cancelled."""
    preparation_workers: int = 1
    """Worker processes that parse, validate and index large SubmitStream messages beside the
    event loop; 0 prepares them on the event loop."""


@dataclass(frozen=True, slots=True)
class HttpConfig:
    """The HTTP listener (Connect, NDJSON, Server-Sent Events; decision 0020)."""

    listen: str = ""
    """``host:port`` to serve HTTP on; empty (the default): no HTTP listener. It uses the
    ``[tls]`` material of the gRPC listener (mutual TLS); without ``[tls]``, loopback only."""
    sse_keepalive_seconds: float = 15.0
    """A Server-Sent Events stream (Subscribe) silent for this long gets a comment line, so
    that proxies and load balancers, which close idle connections (often after 30 to 60 s),
    keep it open."""
    cors_origins: tuple[str, ...] = ()
    """Origins (``https://app.example:8443``) whose browser pages may call the API - gRPC-Web,
    Connect - with the browser's identity (CORS, ``gateway/http/cors.py``); empty (the default):
    none, only the gateway's own pages (the console). Named one by one: no ``*``, no path."""


@dataclass(frozen=True, slots=True)
class LimitsConfig:
    """Input limits; exceeding them is refused with a clear status, never truncated."""

    max_message_bytes: int = 4 * 1024 * 1024
    """Largest gRPC message accepted (RESOURCE_EXHAUSTED beyond)."""
    max_records_per_stream: int = 100_000
    """Most records one SubmitStream call may carry (RESOURCE_EXHAUSTED beyond)."""
    max_streams_per_caller: int = 64
    """Most streaming calls (SubmitStream, Search, Subscribe) one caller may have open at once."""
    max_page_size: int = 1000
    """Largest Search page; larger requests are capped."""
    default_page_size: int = 100
    """Search page size when the request gives none."""
    max_payload_bytes: int = 2 * 1024 * 1024
    """Largest legacy payload Translate and Ingest decode (RESOURCE_EXHAUSTED beyond). Bounds the
    time and memory of one decode, whose records can take several times the payload's size."""
    max_export_records: int = 10_000
    """Most records one Export call may encode, stored and inline together (RESOURCE_EXHAUSTED
    beyond)."""


@dataclass(frozen=True, slots=True)
class CentreConfig:
    """Everything one centre's gateway needs."""

    centre_id: str = DEFAULT_CENTRE_ID
    """This centre's id; stamped into the provenance of records submitted without one."""
    server: ServerConfig = field(default_factory=ServerConfig)
    """Listener settings."""
    http: HttpConfig = field(default_factory=HttpConfig)
    """The HTTP listener (off by default)."""
    storage: StorageConfig = field(default_factory=StorageConfig)
    """Store settings."""
    limits: LimitsConfig = field(default_factory=LimitsConfig)
    """Input limits."""
    telemetry: TelemetryConfig = field(default_factory=TelemetryConfig)
    """Traces and metrics export."""
    federation: FederationSettings = field(default_factory=FederationSettings)
    """TLS, peers, routing, delivery retries, grants and the audit log."""
    screening: ScreeningSettings = field(default_factory=ScreeningSettings)
    """``[screening]``: automatic screening on commit and the lists."""
    lifecycle: LifecycleSettings = field(default_factory=LifecycleSettings)
    """``[lifecycle]``: retention per kind, review reminders, expiry checks."""
    source: Path | None = None
    """The file this configuration was read from; ``None`` for the embedded defaults."""


def load_config(path: Path | None = None) -> CentreConfig:
    """Read a centre's TOML file, or return the embedded defaults when ``path`` is ``None``.

    Raises:
        ConfigError: the file cannot be read or parsed, or a value is unknown or invalid.
    """
    if path is None:
        return CentreConfig()
    try:
        with path.open("rb") as handle:
            document = tomllib.load(handle)
    except FileNotFoundError:
        raise ConfigError(f"{path}: no such configuration file") from None
    except OSError as error:
        raise ConfigError(f"{path}: cannot read: {error.strerror}") from None
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{path}: not valid TOML: {error}") from None
    return _from_document(document, path)


def _from_document(document: dict[str, Any], path: Path) -> CentreConfig:
    sections = {
        "centre",
        "server",
        "http",
        "storage",
        "limits",
        "telemetry",
        "screening",
        "lifecycle",
    }
    sections |= FEDERATION_SECTIONS
    unknown = sorted(set(document) - sections)
    if unknown:
        raise ConfigError(
            f"{path}: unknown section(s) {', '.join(unknown)}; known: {', '.join(sorted(sections))}"
        )
    centre = _table(document, "centre", path)
    _reject_unknown(centre, {"id"}, "centre", path)
    centre_id = centre.get("id", DEFAULT_CENTRE_ID)
    if not isinstance(centre_id, str) or not CENTRE_ID_PATTERN.fullmatch(centre_id):
        raise ConfigError(
            f"{path}: [centre] id must be 1-64 upper-case letters, digits or hyphens, "
            f"got {centre_id!r}"
        )
    server = cast(ServerConfig, _section(document, "server", ServerConfig(), path))
    http = cast(HttpConfig, _section(document, "http", HttpConfig(), path))
    if http.listen:
        host, _, port = http.listen.rpartition(":")
        if not host or not port.isdigit() or int(port) > 65535:
            raise ConfigError(f"{path}: [http] listen must be host:port, got {http.listen!r}")
    if not http.sse_keepalive_seconds > 0:
        raise ConfigError(f"{path}: [http] sse_keepalive_seconds must be positive")
    http = replace(http, cors_origins=tuple(_origin(o, path) for o in http.cors_origins))
    storage = cast(StorageConfig, _section(document, "storage", StorageConfig(), path))
    if not storage.path.is_absolute():
        storage = replace(storage, path=path.parent / storage.path)
    if storage.password_file and not Path(storage.password_file).is_absolute():
        storage = replace(storage, password_file=str(path.parent / storage.password_file))
    limits = cast(LimitsConfig, _section(document, "limits", LimitsConfig(), path))
    _check(server, storage, limits, path)
    telemetry = cast(TelemetryConfig, _section(document, "telemetry", TelemetryConfig(), path))
    _check_telemetry(telemetry, path)
    try:
        federation = parse_settings(document, path.parent, centre_id)
        screening = parse_screening(_table(document, "screening", path))
        lifecycle = parse_lifecycle(_table(document, "lifecycle", path))
    except (SettingsError, ScreeningSettingsError, LifecycleSettingsError) as error:
        raise ConfigError(f"{path}: {error}") from None
    return CentreConfig(
        screening=screening,
        lifecycle=lifecycle,
        federation=federation,
        centre_id=centre_id,
        server=server,
        http=http,
        storage=storage,
        limits=limits,
        telemetry=telemetry,
        source=path,
    )


def _table(document: dict[str, Any], name: str, path: Path) -> dict[str, Any]:
    table = document.get(name, {})
    if not isinstance(table, dict):
        raise ConfigError(f"{path}: [{name}] must be a table")
    return table


def _reject_unknown(table: dict[str, Any], known: set[str], name: str, path: Path) -> None:
    unknown = sorted(set(table) - known)
    if unknown:
        raise ConfigError(
            f"{path}: unknown key(s) in [{name}]: {', '.join(unknown)}; known: "
            f"{', '.join(sorted(known))}"
        )


def _section(document: dict[str, Any], name: str, default: Any, path: Path) -> Any:
    table = _table(document, name, path)
    by_name = {item.name: item for item in fields(default)}
    _reject_unknown(table, set(by_name), name, path)
    values: dict[str, Any] = {}
    for key, value in table.items():
        current = getattr(default, key)
        expected: type = type(current)
        if isinstance(current, Path):
            if not isinstance(value, str):
                raise ConfigError(f"{path}: [{name}] {key} must be a string path")
            value = Path(value)
        elif isinstance(current, tuple):
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise ConfigError(f"{path}: [{name}] {key} must be a list of strings")
            value = tuple(value)
        elif expected is float and isinstance(value, int) and not isinstance(value, bool):
            value = float(value)
        elif not isinstance(value, expected) or isinstance(value, bool) != (expected is bool):
            raise ConfigError(
                f"{path}: [{name}] {key} must be {expected.__name__}, got {type(value).__name__}"
            )
        values[key] = value
    return replace(default, **values)


def _origin(given: str, path: Path) -> str:
    """A browser origin as ``Origin`` carries it (``https://host[:port]``, lower case)."""
    parts = urlsplit(given.strip())
    try:
        port = parts.port
    except ValueError:
        port = -1
    if (
        parts.scheme.lower() not in ("http", "https")
        or not parts.hostname
        or port == -1
        or parts.username is not None
        or parts.path not in ("", "/")
        or parts.query
        or parts.fragment
        or "*" in given
    ):
        raise ConfigError(
            f"{path}: [http] cors_origins: {given[:100]!r} is not an origin "
            "(scheme://host[:port], http or https, no path, no wildcard)"
        )
    return f"{parts.scheme.lower()}://{parts.netloc.lower()}"


def _check_backend(storage: StorageConfig, path: Path) -> None:
    if storage.backend not in ("sqlite", "postgresql"):
        raise ConfigError(f'{path}: [storage] backend must be "sqlite" or "postgresql"')
    if storage.backend != "postgresql":
        return
    try:
        check_storage_settings(storage)
    except StoreError as error:
        raise ConfigError(f"{path}: [storage] {error}") from None


def _check(server: ServerConfig, storage: StorageConfig, limits: LimitsConfig, path: Path) -> None:
    host, _, port = server.listen.rpartition(":")
    if not host or not port.isdigit() or int(port) > 65535:
        raise ConfigError(f"{path}: [server] listen must be host:port, got {server.listen!r}")
    if server.grace_seconds < 0:
        raise ConfigError(f"{path}: [server] grace_seconds must not be negative")
    if server.preparation_workers < 0:
        raise ConfigError(f"{path}: [server] preparation_workers must not be negative")
    if storage.synchronous not in ("full", "normal"):
        raise ConfigError(f'{path}: [storage] synchronous must be "full" or "normal"')
    _check_backend(storage, path)
    if storage.max_batch_records < 1:
        raise ConfigError(f"{path}: [storage] max_batch_records must be at least 1")
    if storage.writer not in ("process", "thread"):
        raise ConfigError(f'{path}: [storage] writer must be "process" or "thread"')
    if storage.preparation not in ("writer", "inline"):
        raise ConfigError(f'{path}: [storage] preparation must be "writer" or "inline"')
    if not 0 < storage.unhealthy_after_seconds <= MAX_UNHEALTHY_AFTER_SECONDS:
        raise ConfigError(
            f"{path}: [storage] unhealthy_after_seconds must be above 0 and at most "
            f"{MAX_UNHEALTHY_AFTER_SECONDS:g} (one day), got {storage.unhealthy_after_seconds:g}"
        )
    for key in (
        "max_message_bytes",
        "max_records_per_stream",
        "max_streams_per_caller",
        "max_page_size",
        "default_page_size",
        "max_payload_bytes",
        "max_export_records",
    ):
        if getattr(limits, key) < 1:
            raise ConfigError(f"{path}: [limits] {key} must be at least 1")
    if limits.default_page_size > limits.max_page_size:
        raise ConfigError(f"{path}: [limits] default_page_size exceeds max_page_size")


def _check_telemetry(telemetry: TelemetryConfig, path: Path) -> None:
    if telemetry.exporter not in TELEMETRY_EXPORTERS:
        raise ConfigError(
            f"{path}: [telemetry] exporter must be one of {', '.join(TELEMETRY_EXPORTERS)}, "
            f"got {telemetry.exporter!r}"
        )
    if not 0.0 <= telemetry.sampling_ratio <= 1.0:
        raise ConfigError(f"{path}: [telemetry] sampling_ratio must be between 0 and 1")
    if not telemetry.metrics_interval_seconds > 0:
        raise ConfigError(f"{path}: [telemetry] metrics_interval_seconds must be above 0")
    if not telemetry.service_name:
        raise ConfigError(f"{path}: [telemetry] service_name must not be empty")
    if telemetry.pipeline not in PIPELINES:
        raise ConfigError(
            f"{path}: [telemetry] pipeline must be one of {', '.join(PIPELINES)}, "
            f"got {telemetry.pipeline!r}"
        )
