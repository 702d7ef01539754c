"""The federation and security parts of a centre's TOML file.

::

    [tls]                                   # mutual TLS on the listener and to every peer
    certificate = "pki/centres/WCO-I2C.pem"
    private_key = "pki/centres/WCO-I2C-key.pem"
    trusted_cas = "pki/ca.pem"

    [signing]                               # this centre signs every version it publishes
    key_id = "WCO-I2C/2026-12"              # the key it signs with now
    private_key = "pki/signing/WCO-I2C-2026-12.key"

    [[signing.keys]]                        # its public keys, current and past, with validity
    id = "WCO-I2C/2026-12"
    public_key = "pki/signing/WCO-I2C-2026-12.pub"
    not_before = 2026-12-01T00:00:00Z
    not_after = 2028-12-01T00:00:00Z

    [[peers]]
    centre = "INTERPOL-CCC-LYON"
    address = "127.0.0.1:50052"
    trusted_cas = "pki/ca.pem"              # optional: who may sign this peer's certificate

    [[peers.signing_keys]]                  # the peer's public keys (required for every peer)
    id = "INTERPOL-CCC-LYON/2026-12"
    public_key = "pki/signing/INTERPOL-CCC-LYON-2026-12.pub"
    not_before = 2026-12-01T00:00:00Z
    not_after = 2028-12-01T00:00:00Z

    [[routes]]                               # which records go where (every criterion optional)
    name = "notices-to-interpol"
    peers = ["INTERPOL-CCC-LYON"]
    kinds = ["notice", "person"]
    handling = ["H0", "H1"]
    originating_centres = ["WCO-I2C"]
    allow_h2 = false                         # explicit provider permission to forward H2

    [delivery]                               # store-and-forward retries (these are the defaults)
    max_age_seconds = 86400                  # an undelivered record is dead-lettered after this
    initial_backoff_seconds = 0.5
    max_backoff_seconds = 300                # a peer that is down is tried at least this often
    max_attempts = 10                        # other failures only: unreachable peers wait for age

    [[grants]]                               # who may call what (with [tls]; default: deny)
    identities = ["urn:liaison:client:customs-*"]
    methods = ["liaison.v1.RecordExchange/*"]
    acts_for = ""                            # the centre these clients read for

    [audit]
    path = "var/audit.db"
    key_file = "secrets/audit.key"           # HMAC-SHA256 key: `liaison audit keygen`
    checkpoint_entries = 1000                # signed checkpoints for peers: gateway.audit.settings
    checkpoint_seconds = 300

Only the ``[[peers]]`` may call the Federation service, whatever the grants say. Grants that could
give one client the same method while acting for different centres are refused (see
``gateway.security.policy.grant_conflicts``), and so is an identity pattern that no Liaison
identity can match.

Parsing raises ``SettingsError`` naming the section and key; ``gateway.config`` adds the file.
Relative paths are relative to the file's folder.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from gateway.audit.settings import CHECKPOINT_KEYS, CheckpointPolicy, parse_checkpoint_policy
from gateway.federation.outbox import Backoff
from gateway.federation.routing import HANDLING_LABELS, RoutingRule
from gateway.security.certs import CENTRE_URI_PREFIX, CLIENT_URI_PREFIX
from gateway.security.globs import common_match
from gateway.security.policy import LOCAL_IDENTITY, Grant, Policy, grant_conflicts
from gateway.security.tls import TlsConfig, is_loopback
from gateway.signing import SigningKeySpec
from liaison.rules.errors import SetupError
from liaison.rules.ids import CENTRE_ID_PATTERN
from liaison.rules.indexing import KIND_BY_BODY

__all__ = [
    "FEDERATION_SECTIONS",
    "FederationSettings",
    "PeerConfig",
    "SettingsError",
    "SigningSettings",
    "parse_settings",
]

FEDERATION_SECTIONS = frozenset(
    {"tls", "signing", "peers", "routes", "delivery", "grants", "audit"}
)
_KINDS = frozenset(KIND_BY_BODY)
"""Every record body, screening hits included (forwarded like any record: to the centre that
issued the entry, for instance)."""
# What an identity pattern must be able to match: some centre or client identity.
_ANY_IDENTITY = (CENTRE_URI_PREFIX + "[A-Z0-9]*", CLIENT_URI_PREFIX + "[A-Za-z0-9]*")


class SettingsError(SetupError, ValueError):
    """A federation or security setting is missing or wrong; the message says which."""


@dataclass(frozen=True, slots=True)
class SigningSettings:
    """How this centre signs the record versions it publishes (and its audit checkpoints)."""

    key_id: str
    """The key it signs with now: one of ``keys``."""
    private_key: Path
    """That key's private half (PEM, PKCS#8, mode 0600)."""
    keys: tuple[SigningKeySpec, ...]
    """Every public key of this centre, current and past; peers list the same."""


@dataclass(frozen=True, slots=True)
class PeerConfig:
    """A peer centre this centre forwards to and accepts deliveries from."""

    centre: str
    """Its centre id (the identity its certificate must carry)."""
    address: str
    """``host:port`` of its listener."""
    trusted_cas: Path | None = None
    """CA bundle that signs its certificate; ``None``: the centre's own ``[tls] trusted_cas``."""
    signing_keys: tuple[SigningKeySpec, ...] = ()
    """The peer's public signing keys: what its record versions and checkpoints verify with."""


@dataclass(frozen=True, slots=True)
class FederationSettings:
    """TLS, peers, routing, delivery, grants and the audit log of one centre."""

    tls: TlsConfig | None = None
    """Mutual TLS; ``None`` serves plaintext, which is allowed on loopback only."""
    signing: SigningSettings | None = None
    """This centre's signing keys; required when it has peers."""
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
        With TLS, the configured grants apply, and the peers - they alone - may call the
        Federation service.
        """
        peers = frozenset(peer.centre for peer in self.peers)
        if self.tls is None:
            return Policy((Grant((LOCAL_IDENTITY,), ("*",)),), peers)
        return Policy(self.grants, peers)

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
    _check_grants(grants)
    if tls is None:
        remote = [p.centre for p in peers if not is_loopback(p.address.rpartition(":")[0])]
        if remote:
            raise SettingsError(
                f"peers {', '.join(remote)} are not on loopback: centres talk over mutual TLS, "
                "configure [tls]"
            )
    signing = _signing_settings(document.get("signing"), base, peers)
    audit_path, audit_key_path, audit_checkpoints = _audit(document.get("audit", {}), base)
    return FederationSettings(
        tls=tls,
        signing=signing,
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
    if not CENTRE_ID_PATTERN.fullmatch(value):
        raise SettingsError(f"{where}: {value!r} is not a centre id")
    return value


def _peer(table: dict[str, Any], index: int, base: Path) -> PeerConfig:
    name = f"[[peers]] #{index + 1}"
    known = {"centre", "address", "trusted_cas", "signing_keys"}
    _keys(table, known, {"centre", "address"}, name)
    address = _string(table, "address", name)
    host, _, port = address.rpartition(":")
    if not host or not port.isdigit() or not 0 < int(port) <= 65535:
        raise SettingsError(f"{name} address must be host:port, got {address!r}")
    centre = _centre(_string(table, "centre", name), name)
    keys = _signing_keys(table, "signing_keys", f"{name} ({centre})", base)
    return PeerConfig(
        centre=centre,
        address=address,
        trusted_cas=_path(table, "trusted_cas", name, base) if "trusted_cas" in table else None,
        signing_keys=keys,
    )


def _signing_settings(
    value: Any, base: Path, peers: tuple[PeerConfig, ...]
) -> SigningSettings | None:
    """``[signing]``, required (with every peer's keys) as soon as the centre has peers: peers
    verify every version it publishes, and it verifies theirs."""
    signing = _signing(value, base)
    if peers and signing is None:
        raise SettingsError(
            "a centre with [[peers]] signs the records it publishes: configure [signing] "
            "(`liaison certs` makes signing keys)"
        )
    unkeyed = [peer.centre for peer in peers if not peer.signing_keys]
    if unkeyed:
        raise SettingsError(
            f"[[peers]] {', '.join(unkeyed)} need their [[peers.signing_keys]]: every version a "
            "peer sends is verified with its keys"
        )
    key_ids = [key.key_id for key in signing.keys] if signing is not None else []
    key_ids += [key.key_id for peer in peers for key in peer.signing_keys]
    repeated = sorted({key for key in key_ids if key_ids.count(key) > 1})
    if repeated:
        raise SettingsError(f"signing key id(s) listed more than once: {', '.join(repeated)}")
    return signing


def _signing(value: Any, base: Path) -> SigningSettings | None:
    if value is None:
        return None
    table = _table(value, "[signing]")
    _keys(table, {"key_id", "private_key", "keys"}, {"key_id", "private_key", "keys"}, "[signing]")
    keys = _signing_keys(table, "keys", "[signing]", base)
    key_id = _string(table, "key_id", "[signing]")
    if key_id not in {key.key_id for key in keys}:
        raise SettingsError(f"[signing] key_id {key_id!r} must be one of its [[signing.keys]]")
    return SigningSettings(
        key_id=key_id,
        private_key=_path(table, "private_key", "[signing]", base),
        keys=keys,
    )


def _signing_keys(
    table: dict[str, Any], key: str, owner: str, base: Path
) -> tuple[SigningKeySpec, ...]:
    entries = table.get(key, [])
    if not isinstance(entries, list) or not all(isinstance(e, dict) for e in entries):
        raise SettingsError(f"{owner} {key} must be an array of tables")
    specs: list[SigningKeySpec] = []
    for index, entry in enumerate(entries):
        where = f"{owner} {key} #{index + 1}"
        fields = {"id", "public_key", "not_before", "not_after"}
        _keys(entry, fields, fields, where)
        key_id = _string(entry, "id", where)
        if not key_id or not key_id.isprintable() or len(key_id) > 128:
            raise SettingsError(f"{where} id must be 1 to 128 printable characters")
        not_before = _instant(entry, "not_before", where)
        not_after = _instant(entry, "not_after", where)
        if not_after <= not_before:
            raise SettingsError(f"{where} not_after must be later than not_before")
        specs.append(
            SigningKeySpec(
                key_id=key_id,
                public_key=_path(entry, "public_key", where, base),
                not_before=not_before,
                not_after=not_after,
            )
        )
    return tuple(specs)


def _instant(table: dict[str, Any], key: str, where: str) -> dt.datetime:
    value = table[key]
    if not isinstance(value, dt.datetime) or value.tzinfo is None:
        raise SettingsError(
            f"{where} {key} must be a TOML date-time with a time zone, e.g. 2026-12-01T00:00:00Z"
        )
    return value


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


def _check_grants(grants: tuple[Grant, ...]) -> None:
    for index, grant in enumerate(grants, start=1):
        for pattern in grant.identities:
            if all(common_match((pattern, anyone)) is None for anyone in _ANY_IDENTITY):
                raise SettingsError(
                    f"[[grants]] #{index} identity {pattern!r} matches no identity: identities "
                    f"are {CENTRE_URI_PREFIX}<ID> and {CLIENT_URI_PREFIX}<name>"
                )
    conflicts = grant_conflicts(grants)
    if conflicts:
        raise SettingsError("[[grants]] " + "; ".join(conflicts))


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
