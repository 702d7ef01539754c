"""The federation and security parts of a centre's TOML file.

::

    [tls]                                   # mutual TLS on the listener and to every peer
    certificate = "pki/centres/WCO-I2C.pem"
    private_key = "pki/centres/WCO-I2C-key.pem"
    trusted_cas = "pki/ca.pem"

    [[peers]]
    centre = "INTERPOL-CCC-LYON"
    address = "127.0.0.1:50052"
    trusted_cas = "pki/ca.pem"              # optional: who may sign this peer's certificate

    [[routes]]                               # which records go where (every criterion optional)
    name = "notices-to-interpol"
    peers = ["INTERPOL-CCC-LYON"]
    kinds = ["notice", "person"]
    handling = ["H0", "H1"]
    originating_centres = ["WCO-I2C"]
    allow_h2 = false                         # explicit provider permission to forward H2

    [delivery]                               # store-and-forward retries
    max_attempts = 10
    max_age_seconds = 86400
    initial_backoff_seconds = 0.5
    max_backoff_seconds = 60

    [[grants]]                               # who may call what (with [tls]; default: deny)
    identities = ["urn:liaison:client:customs-*"]
    methods = ["liaison.v1.RecordExchange/*"]
    acts_for = ""                            # the centre these clients read for

    [audit]
    path = "var/audit.db"
    key_file = "secrets/audit.key"           # HMAC-SHA256 key: `liaison audit keygen`
    checkpoint_entries = 1000                # signed checkpoints for peers: gateway.audit.settings
    checkpoint_seconds = 300

Parsing raises ``SettingsError`` naming the section and key; ``gateway.config`` adds the file.
Relative paths are relative to the file's folder.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gateway.audit.settings import CHECKPOINT_KEYS, CheckpointPolicy, parse_checkpoint_policy
from gateway.federation.outbox import Backoff
from gateway.federation.routing import HANDLING_LABELS, RoutingRule
from gateway.security.policy import LOCAL_IDENTITY, Grant, Policy
from gateway.security.tls import TlsConfig, is_loopback

__all__ = [
    "FEDERATION_SECTIONS",
    "FederationSettings",
    "PeerConfig",
    "SettingsError",
    "parse_settings",
]

FEDERATION_SECTIONS = frozenset({"tls", "peers", "routes", "delivery", "grants", "audit"})
_CENTRE_ID = re.compile(r"^[A-Z0-9](?:[A-Z0-9-]{0,62}[A-Z0-9])?$")
_KINDS = frozenset(
    {
        "person",
        "travel_document",
        "vehicle",
        "seizure",
        "notice",
        "passenger_manifest",
        "cultural_object",
    }
)
FEDERATION_METHODS = ("liaison.v1.Federation/*",)
"""What every configured peer centre is granted."""


class SettingsError(ValueError):
    """A federation or security setting is missing or wrong; the message says which."""


@dataclass(frozen=True, slots=True)
class PeerConfig:
    """A peer centre this centre forwards to and accepts deliveries from."""

    centre: str
    """Its centre id (the identity its certificate must carry)."""
    address: str
    """``host:port`` of its listener."""
    trusted_cas: Path | None = None
    """CA bundle that signs its certificate; ``None``: the centre's own ``[tls] trusted_cas``."""


@dataclass(frozen=True, slots=True)
class FederationSettings:
    """TLS, peers, routing, delivery, grants and the audit log of one centre."""

    tls: TlsConfig | None = None
    """Mutual TLS; ``None`` serves plaintext, which is allowed on loopback only."""
    peers: tuple[PeerConfig, ...] = ()
    routes: tuple[RoutingRule, ...] = ()
    backoff: Backoff = field(default_factory=Backoff)
    grants: tuple[Grant, ...] = ()
    audit_path: Path | None = None
    """The audit log file; ``None``: next to the store (``<store>.audit.db``)."""
    audit_key_path: Path | None = None
    """The audit log's key file; ``None``: entries are hashed without a key."""
    audit_checkpoints: CheckpointPolicy = field(default_factory=CheckpointPolicy)
    """When the audit log's head is signed and deposited with the peers."""

    def policy(self) -> Policy:
        """The authorisation policy.

        Without TLS every caller is the loopback ``local`` identity and may call everything.
        With TLS, the configured grants apply, and every peer may call the Federation service.
        """
        if self.tls is None:
            return Policy((Grant((LOCAL_IDENTITY,), ("*",)),))
        peers = tuple(f"urn:liaison:centre:{peer.centre}" for peer in self.peers)
        implicit = (Grant(peers, FEDERATION_METHODS),) if peers else ()
        return Policy(self.grants + implicit)

    def peer(self, centre: str) -> PeerConfig | None:
        return next((p for p in self.peers if p.centre == centre), None)


def parse_settings(document: dict[str, Any], base: Path, centre_id: str) -> FederationSettings:
    """Read the federation and security sections of a parsed TOML document."""
    tls = _tls(document.get("tls"), base)
    peers = tuple(_peer(item, i, base) for i, item in enumerate(_array(document, "peers")))
    names = [p.centre for p in peers]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise SettingsError(f"[[peers]] lists {', '.join(duplicates)} more than once")
    if centre_id in names:
        raise SettingsError(f"[[peers]] lists this centre itself ({centre_id})")
    routes = tuple(
        _route(item, i, frozenset(names)) for i, item in enumerate(_array(document, "routes"))
    )
    grants = tuple(_grant(item, i) for i, item in enumerate(_array(document, "grants")))
    if grants and tls is None:
        raise SettingsError("[[grants]] need [tls]: identities come from verified certificates")
    if tls is None:
        remote = [p.centre for p in peers if not is_loopback(p.address.rpartition(":")[0])]
        if remote:
            raise SettingsError(
                f"peers {', '.join(remote)} are not on loopback: centres talk over mutual TLS, "
                "configure [tls]"
            )
    audit_path, audit_key_path, audit_checkpoints = _audit(document.get("audit", {}), base)
    return FederationSettings(
        tls=tls,
        peers=peers,
        routes=routes,
        backoff=_backoff(document.get("delivery", {})),
        grants=grants,
        audit_path=audit_path,
        audit_key_path=audit_key_path,
        audit_checkpoints=audit_checkpoints,
    )


def _table(value: Any, name: str) -> dict[str, Any]:
    if not isinstance(value, dict):
        raise SettingsError(f"{name} must be a table")
    return value


def _array(document: dict[str, Any], name: str) -> list[dict[str, Any]]:
    value = document.get(name, [])
    if not isinstance(value, list) or not all(isinstance(v, dict) for v in value):
        raise SettingsError(f"[[{name}]] must be an array of tables")
    return value


def _keys(table: dict[str, Any], known: set[str], required: set[str], name: str) -> None:
    unknown = sorted(set(table) - known)
    if unknown:
        raise SettingsError(
            f"unknown key(s) in {name}: {', '.join(unknown)}; known: {', '.join(sorted(known))}"
        )
    missing = sorted(required - set(table))
    if missing:
        raise SettingsError(f"{name} needs {', '.join(missing)}")


def _string(table: dict[str, Any], key: str, name: str, default: str = "") -> str:
    value = table.get(key, default)
    if not isinstance(value, str):
        raise SettingsError(f"{name} {key} must be a string")
    return value


def _strings(table: dict[str, Any], key: str, name: str) -> tuple[str, ...]:
    value = table.get(key, [])
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise SettingsError(f"{name} {key} must be an array of strings")
    return tuple(value)


def _path(table: dict[str, Any], key: str, name: str, base: Path) -> Path:
    value = Path(_string(table, key, name))
    return value if value.is_absolute() else base / value


def _tls(value: Any, base: Path) -> TlsConfig | None:
    if value is None:
        return None
    table = _table(value, "[tls]")
    keys = {"certificate", "private_key", "trusted_cas"}
    _keys(table, keys, keys, "[tls]")
    return TlsConfig(
        certificate=_path(table, "certificate", "[tls]", base),
        private_key=_path(table, "private_key", "[tls]", base),
        trusted_cas=_path(table, "trusted_cas", "[tls]", base),
    )


def _centre(value: str, where: str) -> str:
    if not _CENTRE_ID.fullmatch(value):
        raise SettingsError(f"{where}: {value!r} is not a centre id")
    return value


def _peer(table: dict[str, Any], index: int, base: Path) -> PeerConfig:
    name = f"[[peers]] #{index + 1}"
    _keys(table, {"centre", "address", "trusted_cas"}, {"centre", "address"}, name)
    address = _string(table, "address", name)
    host, _, port = address.rpartition(":")
    if not host or not port.isdigit() or not 0 < int(port) <= 65535:
        raise SettingsError(f"{name} address must be host:port, got {address!r}")
    return PeerConfig(
        centre=_centre(_string(table, "centre", name), name),
        address=address,
        trusted_cas=_path(table, "trusted_cas", name, base) if "trusted_cas" in table else None,
    )


def _route(table: dict[str, Any], index: int, peers: frozenset[str]) -> RoutingRule:
    name = f"[[routes]] #{index + 1}"
    known = {"name", "peers", "kinds", "handling", "originating_centres", "allow_h2"}
    _keys(table, known, {"peers"}, name)
    targets = _strings(table, "peers", name)
    unknown_peers = sorted(set(targets) - peers)
    if not targets or unknown_peers:
        raise SettingsError(
            f"{name} peers must name configured [[peers]]"
            + (f"; unknown: {', '.join(unknown_peers)}" if unknown_peers else "")
        )
    kinds = _strings(table, "kinds", name)
    if set(kinds) - _KINDS:
        raise SettingsError(f"{name} kinds must be among {', '.join(sorted(_KINDS))}")
    handling = _strings(table, "handling", name)
    labels = set(HANDLING_LABELS.values())
    if set(handling) - labels:
        raise SettingsError(f"{name} handling must be among {', '.join(sorted(labels))}")
    allow_h2 = table.get("allow_h2", False)
    if not isinstance(allow_h2, bool):
        raise SettingsError(f"{name} allow_h2 must be true or false")
    return RoutingRule(
        peers=targets,
        kinds=frozenset(kinds),
        handling_codes=frozenset(handling),
        originating_centres=frozenset(
            _centre(c, name) for c in _strings(table, "originating_centres", name)
        ),
        allow_h2=allow_h2,
        name=_string(table, "name", name, f"route {index + 1}"),
    )


def _grant(table: dict[str, Any], index: int) -> Grant:
    name = f"[[grants]] #{index + 1}"
    _keys(table, {"identities", "methods", "acts_for"}, {"identities", "methods"}, name)
    acts_for = _string(table, "acts_for", name)
    if acts_for:
        _centre(acts_for, name)
    identities, methods = _strings(table, "identities", name), _strings(table, "methods", name)
    if not identities or not methods:
        raise SettingsError(f"{name} identities and methods must not be empty")
    return Grant(identities, methods, acts_for)


def _backoff(value: Any) -> Backoff:
    table = _table(value, "[delivery]")
    numbers = {
        "max_attempts": int,
        "max_age_seconds": float,
        "initial_backoff_seconds": float,
        "max_backoff_seconds": float,
    }
    _keys(table, set(numbers), set(), "[delivery]")
    values: dict[str, float] = {}
    for key, kind in numbers.items():
        if key not in table:
            continue
        raw = table[key]
        if isinstance(raw, bool) or not isinstance(raw, int | float) or raw <= 0:
            raise SettingsError(f"[delivery] {key} must be a positive number")
        if kind is int and not isinstance(raw, int):
            raise SettingsError(f"[delivery] {key} must be an integer")
        values[key] = raw
    default = Backoff()
    return Backoff(
        initial_seconds=float(values.get("initial_backoff_seconds", default.initial_seconds)),
        max_seconds=float(values.get("max_backoff_seconds", default.max_seconds)),
        max_attempts=int(values.get("max_attempts", default.max_attempts)),
        max_age_seconds=float(values.get("max_age_seconds", default.max_age_seconds)),
    )


def _audit(value: Any, base: Path) -> tuple[Path | None, Path | None, CheckpointPolicy]:
    table = _table(value, "[audit]")
    _keys(table, {"path", "key_file", *CHECKPOINT_KEYS}, set(), "[audit]")
    path = _path(table, "path", "[audit]", base) if "path" in table else None
    key = _path(table, "key_file", "[audit]", base) if "key_file" in table else None
    try:
        checkpoints = parse_checkpoint_policy(table)
    except ValueError as error:
        raise SettingsError(str(error)) from None
    return path, key, checkpoints
