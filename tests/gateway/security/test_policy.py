"""Authorisation policy: grants by identity and method pattern, the centre a caller reads for,
and record visibility."""

from __future__ import annotations

import pytest

from gateway.security.policy import LOCAL_IDENTITY, Grant, Policy

POLICY = Policy(
    (
        Grant(("urn:liaison:client:customs-*",), ("liaison.v1.RecordExchange/Submit",)),
        Grant(
            ("urn:liaison:client:analyst",), ("liaison.v1.RecordExchange/*",), "INTERPOL-CCC-LYON"
        ),
        Grant(("urn:liaison:centre:*",), ("liaison.v1.Federation/*",)),
        Grant((LOCAL_IDENTITY,), ("*",)),
    )
)


@pytest.mark.parametrize(
    ("identity", "method", "allowed"),
    [
        ("urn:liaison:client:customs-be", "/liaison.v1.RecordExchange/Submit", True),
        ("urn:liaison:client:customs-be", "/liaison.v1.RecordExchange/Get", False),
        ("urn:liaison:client:analyst", "liaison.v1.RecordExchange/Get", True),
        ("urn:liaison:client:analyst", "/liaison.v1.Translation/Ingest", False),
        ("urn:liaison:centre:WCO-I2C", "/liaison.v1.Federation/Deliver", True),
        ("urn:liaison:centre:WCO-I2C", "/liaison.v1.RecordExchange/Get", False),
        ("urn:liaison:client:Customs-be", "/liaison.v1.RecordExchange/Submit", False),
        (LOCAL_IDENTITY, "/grpc.health.v1.Health/Check", True),
        ("urn:liaison:client:unknown", "/liaison.v1.RecordExchange/Submit", False),
    ],
)
def test_grants(identity: str, method: str, allowed: bool) -> None:
    assert POLICY.allows(identity, method) is allowed


def test_an_empty_policy_denies_everything() -> None:
    assert not Policy().allows(LOCAL_IDENTITY, "/liaison.v1.RecordExchange/Get")


def test_the_centre_a_caller_reads_for() -> None:
    assert POLICY.centre_of("urn:liaison:centre:INTERPOL-RB-BUENOSAIRES", "WCO-I2C") == (
        "INTERPOL-RB-BUENOSAIRES"
    )
    assert POLICY.centre_of("urn:liaison:client:analyst", "WCO-I2C") == "INTERPOL-CCC-LYON"
    assert POLICY.centre_of("urn:liaison:client:customs-be", "WCO-I2C") == "WCO-I2C"
