"""A routing rule may name every record body as a kind: screening hits included, so that a
centre can send its hits to the centres that issued the entries."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import pytest

from gateway.federation.settings import SettingsError, parse_settings
from liaison.rules.indexing import KIND_BY_BODY

CENTRE = """
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
"""


def routes(kinds: list[str]) -> dict[str, Any]:
    document = tomllib.loads(CENTRE)
    document["routes"] = [{"name": "hits", "peers": ["INTERPOL-CCC-LYON"], "kinds": kinds}]
    return document


def test_a_route_for_screening_hits() -> None:
    settings = parse_settings(routes(["screening_hit"]), Path("/etc/liaison"), "WCO-I2C")
    (rule,) = settings.routes
    assert rule.kinds == {"screening_hit"}
    assert rule.matches("screening_hit", "H1", "WCO-I2C")


def test_every_record_body_is_a_route_kind_and_nothing_else() -> None:
    settings = parse_settings(routes(sorted(KIND_BY_BODY)), Path("/etc/liaison"), "WCO-I2C")
    assert settings.routes[0].kinds == set(KIND_BY_BODY)
    with pytest.raises(SettingsError, match=r"kinds must be among .*screening_hit"):
        parse_settings(routes(["screening_hits"]), Path("/etc/liaison"), "WCO-I2C")
