"""Federation and security settings: parsed strictly, with messages that name the key."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pytest

from gateway.federation.settings import SettingsError, parse_settings
from gateway.security.policy import LOCAL_IDENTITY
from liaison.rules.indexing import KIND_BY_BODY

BASE = Path("/etc/liaison")
GOOD = """
[tls]
certificate = "pki/i2c.pem"
private_key = "pki/i2c-key.pem"
trusted_cas = "/pki/ca.pem"

[signing]
key_id = "WCO-I2C/1"
private_key = "keys/i2c-1.key"

[[signing.keys]]
id = "WCO-I2C/1"
public_key = "keys/i2c-1.pub"
not_before = 2026-01-01T00:00:00Z
not_after = 2028-01-01T00:00:00Z

[[peers]]
centre = "INTERPOL-CCC-LYON"
address = "127.0.0.1:50052"

[[peers.signing_keys]]
id = "LYON/1"
public_key = "keys/lyon-1.pub"
not_before = 2026-01-01T00:00:00Z
not_after = 2028-01-01T00:00:00Z

[[peers]]
centre = "INTERPOL-IGCI-SINGAPORE"
address = "[::1]:50053"
trusted_cas = "other-ca.pem"

[[peers.signing_keys]]
id = "SINGAPORE/1"
public_key = "keys/sg-1.pub"
not_before = 2026-01-01T00:00:00Z
not_after = 2028-01-01T00:00:00Z

[[routes]]
name = "notices"
peers = ["INTERPOL-CCC-LYON"]
kinds = ["notice", "person"]
handling = ["H0", "H2"]
allow_h2 = true

[[routes]]
peers = ["INTERPOL-IGCI-SINGAPORE"]
originating_centres = ["WCO-I2C"]

[delivery]
max_attempts = 3
max_age_seconds = 60
initial_backoff_seconds = 0.1

[[grants]]
identities = ["urn:liaison:client:customs-*"]
methods = ["liaison.v1.RecordExchange/*"]
acts_for = "WCO-I2C"

[audit]
path = "audit/i2c.db"
key_file = "secrets/audit.key"
"""


def _parse(text: str) -> Any:
    return parse_settings(tomllib.loads(text), BASE, "WCO-I2C")


def test_a_full_configuration() -> None:
    settings = _parse(GOOD)
    assert settings.tls is not None
    assert settings.tls.certificate == BASE / "pki/i2c.pem"
    assert settings.tls.trusted_cas == Path("/pki/ca.pem")
    lyon, singapore = settings.peers
    assert lyon.trusted_cas is None
    assert singapore.trusted_cas == BASE / "other-ca.pem"
    assert singapore.address == "[::1]:50053"
    notices, second = settings.routes
    assert notices.kinds == {"notice", "person"}
    assert notices.handling_codes == {"H0", "H2"}
    assert notices.allow_h2
    assert second.name == "route 2"
    assert second.originating_centres == {"WCO-I2C"}
    assert settings.backoff.max_attempts == 3
    assert settings.backoff.initial_seconds == pytest.approx(0.1)
    assert settings.backoff.max_seconds == 300.0  # default kept
    assert settings.audit_path == BASE / "audit/i2c.db"
    assert settings.audit_key_path == BASE / "secrets/audit.key"
    policy = settings.policy()
    assert policy.allows("urn:liaison:client:customs-be", "/liaison.v1.RecordExchange/Get")
    assert policy.allows("urn:liaison:centre:INTERPOL-CCC-LYON", "/liaison.v1.Federation/Deliver")
    assert not policy.allows("urn:liaison:centre:XX", "/liaison.v1.Federation/Deliver")
    assert not policy.allows(LOCAL_IDENTITY, "/liaison.v1.RecordExchange/Get")
    assert settings.peer("INTERPOL-CCC-LYON") == lyon
    assert settings.peer("NOPE") is None


def test_without_tls_the_loopback_caller_may_do_everything() -> None:
    settings = _parse("")
    assert settings.tls is None
    assert settings.policy().allows(LOCAL_IDENTITY, "/liaison.v1.RecordExchange/Submit")
    assert settings.audit_path is None
    assert settings.audit_key_path is None


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ('[tls]\ncertificate = "a"', r"\[tls\] needs private_key, trusted_cas"),
        ('[tls]\ncertificate = "a"\nprivate_key = "b"\ntrusted_cas = "c"\nextra = 1', "unknown"),
        ('[[peers]]\ncentre = "X"\naddress = "gw.example:1"', "not on loopback"),
        ('[[grants]]\nidentities = ["a"]\nmethods = ["*"]', "need \\[tls\\]"),
        ('[[peers]]\ncentre = "lower"\naddress = "h:1"', "not a centre id"),
        ('[[peers]]\ncentre = "X"\naddress = "nohost"', "host:port"),
        ('[[peers]]\ncentre = "WCO-I2C"\naddress = "h:1"', "this centre itself"),
        (
            '[[peers]]\ncentre = "X"\naddress = "h:1"\n[[peers]]\ncentre = "X"\naddress = "h:2"',
            "more than once",
        ),
        ('[[routes]]\npeers = ["NOBODY"]', "unknown: NOBODY"),
        ("[[routes]]\npeers = []", "must name configured"),
        ("[delivery]\nmax_attempts = 0", "positive"),
        ("[delivery]\nmax_attempts = 1.5", "integer"),
        ("[delivery]\nretries = 1", "unknown key"),
        ("[audit]\npath = 3", "string"),
        ("[audit]\nkey_file = 3", "string"),
        (
            "[audit]\nkey = 'x'",
            "unknown key.*known: checkpoint_entries, checkpoint_seconds, key_file",
        ),
        ("peers = 3", "array of tables"),
    ],
)
def test_bad_settings_are_named(text: str, message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        _parse(text)


@pytest.mark.parametrize(
    ("route", "message"),
    [
        ('kinds = ["spaceship"]', "kinds must be among"),
        ('handling = ["H9"]', "handling must be among"),
        ('allow_h2 = "yes"', "true or false"),
        ('originating_centres = ["bad id"]', "not a centre id"),
    ],
)
def test_bad_routes_are_named(route: str, message: str) -> None:
    tls = '[tls]\ncertificate = "a"\nprivate_key = "b"\ntrusted_cas = "c"\n'
    peers = '[[peers]]\ncentre = "X"\naddress = "h:1"\n'
    with pytest.raises(SettingsError, match=message):
        _parse(f'{tls}{peers}[[routes]]\npeers = ["X"]\n{route}')


def test_grants_need_identities_and_methods() -> None:
    tls = '[tls]\ncertificate = "a"\nprivate_key = "b"\ntrusted_cas = "c"\n'
    with pytest.raises(SettingsError, match="must not be empty"):
        _parse(f'{tls}[[grants]]\nidentities = []\nmethods = ["*"]')
    with pytest.raises(SettingsError, match="not a centre id"):
        _parse(f'{tls}[[grants]]\nidentities = ["a"]\nmethods = ["*"]\nacts_for = "x"')


SIGNING = """
[signing]
key_id = "WCO-I2C/1"
private_key = "keys/i2c-1.key"

[[signing.keys]]
id = "WCO-I2C/1"
public_key = "keys/i2c-1.pub"
not_before = 2026-01-01T00:00:00Z
not_after = 2028-01-01T00:00:00Z
"""
PEER_X = """
[[peers]]
centre = "X"
address = "127.0.0.1:5"
"""
PEER_X_KEY = """
[[peers.signing_keys]]
id = "X/1"
public_key = "keys/x-1.pub"
not_before = 2026-01-01T00:00:00Z
not_after = 2028-01-01T00:00:00Z
"""


def test_peers_on_loopback_may_go_without_tls() -> None:
    settings = _parse(SIGNING + PEER_X + PEER_X_KEY)
    assert settings.tls is None
    assert [p.centre for p in settings.peers] == ["X"]
    [key] = settings.peers[0].signing_keys
    assert key.key_id == "X/1"
    assert key.public_key == BASE / "keys/x-1.pub"
    assert settings.signing is not None
    assert settings.signing.private_key == BASE / "keys/i2c-1.key"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (PEER_X + PEER_X_KEY, r"configure \[signing\]"),
        (SIGNING + PEER_X, r"X need their \[\[peers.signing_keys\]\]"),
        (
            SIGNING.replace('key_id = "WCO-I2C/1"', 'key_id = "WCO-I2C/2"'),
            "must be one of its",
        ),
        (SIGNING + PEER_X + PEER_X_KEY.replace("X/1", "WCO-I2C/1"), "listed more than once"),
        (
            SIGNING.replace("not_after = 2028-01-01T00:00:00Z", "not_after = 2025-01-01T00:00:00Z"),
            "later than not_before",
        ),
        (
            SIGNING.replace("not_before = 2026-01-01T00:00:00Z", "not_before = 2026-01-01"),
            "with a time zone",
        ),
        (
            SIGNING.replace(
                "not_before = 2026-01-01T00:00:00Z", "not_before = 2026-01-01T00:00:00"
            ),
            "with a time zone",
        ),
        (SIGNING.replace('private_key = "keys/i2c-1.key"\n', ""), "needs private_key"),
        (SIGNING + "extra = 1\n", "unknown key"),
    ],
)
def test_bad_signing_settings_are_named(text: str, message: str) -> None:
    with pytest.raises(SettingsError, match=message):
        _parse(text)


def _route_of_kinds(kinds: list[str]) -> Any:
    document = tomllib.loads(GOOD)
    document["routes"] = [{"name": "hits", "peers": ["INTERPOL-CCC-LYON"], "kinds": kinds}]
    return parse_settings(document, BASE, "WCO-I2C")


def test_every_record_body_is_a_route_kind_screening_hits_included() -> None:
    # A centre sends its hits to the centres that issued the entries.
    (rule,) = _route_of_kinds(["screening_hit"]).routes
    assert rule.kinds == {"screening_hit"}
    assert rule.matches("screening_hit", "H1", "WCO-I2C")
    assert _route_of_kinds(sorted(KIND_BY_BODY)).routes[0].kinds == set(KIND_BY_BODY)
    with pytest.raises(SettingsError, match=r"kinds must be among .*screening_hit"):
        _route_of_kinds(["screening_hits"])
