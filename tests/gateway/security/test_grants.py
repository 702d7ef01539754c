"""Grants (issue 10, item 6): ``acts_for`` comes from the grant that allows the method; grants that
would disagree are refused at start; the Federation service is for peer centres only."""

from __future__ import annotations

import fnmatch
import itertools
import re
import tomllib
from pathlib import Path
from typing import Any

import grpc
import pytest
from grpc import aio
from hypothesis import given, settings
from hypothesis import strategies as st

from gateway.federation.settings import SettingsError, parse_settings
from gateway.security.globs import common_match
from gateway.security.policy import Grant, Policy, PolicyError, grant_conflicts
from liaison.v1 import exchange_pb2, exchange_pb2_grpc, federation_pb2, federation_pb2_grpc
from tests.support.factories import person
from tests.support.mtls import I2C, LYON, SINGAPORE, Pki, channel, denials, tls_gateway

OPERATOR = "urn:liaison:client:operator"
PARTNER = "urn:liaison:client:lyon-partner"


async def test_acts_for_comes_from_the_grant_that_allows_the_method(
    tmp_path: Path, pki: Pki
) -> None:
    grants = (
        # Broad and harmless on its own: Translate reads no records.
        Grant(("urn:liaison:client:*",), ("liaison.v1.Translation/Translate",), acts_for=I2C),
        Grant((PARTNER,), ("liaison.v1.RecordExchange/Get",), acts_for=LYON),
        Grant((OPERATOR,), ("liaison.v1.RecordExchange/*",)),
    )
    record = person("WCO-I2C:person:internal", centre=I2C)
    record.handling.releasable_to.append(I2C)
    async with tls_gateway(tmp_path, pki, grants) as gateway:
        async with channel(gateway, pki, pki.client("operator")) as opened:
            operator = exchange_pb2_grpc.RecordExchangeStub(opened)
            await operator.Submit(exchange_pb2.SubmitRequest(record=record), timeout=10)
            own = await operator.Get(exchange_pb2.GetRequest(record_id=record.record_id))
            assert own.record.record_id == record.record_id
        async with channel(gateway, pki, pki.client("lyon-partner")) as opened:
            partner = exchange_pb2_grpc.RecordExchangeStub(opened)
            with pytest.raises(aio.AioRpcError) as caught:
                await partner.Get(exchange_pb2.GetRequest(record_id=record.record_id), timeout=10)
    # The partner reads for Lyon, to which the record is not releasable: as if absent.
    assert caught.value.code() == grpc.StatusCode.NOT_FOUND


def _forged() -> federation_pb2.DeliverRequest:
    record = person("INTERPOL-CCC-LYON:person:forged", centre=LYON)
    record.version = 1
    return federation_pb2.DeliverRequest(records=[federation_pb2.ForwardedRecord(record=record)])


async def test_a_client_granted_everything_cannot_deliver_as_a_centre(
    tmp_path: Path, pki: Pki
) -> None:
    grants = (
        Grant((OPERATOR,), ("liaison.v1.*",)),
        Grant(("urn:liaison:centre:*",), ("*",)),
    )
    async with tls_gateway(tmp_path, pki, grants) as gateway:
        for caller in (pki.client("operator"), pki.singapore):
            async with channel(gateway, pki, caller) as opened:
                federation = federation_pb2_grpc.FederationStub(opened)
                with pytest.raises(aio.AioRpcError) as caught:
                    await federation.Deliver(_forged(), timeout=10)
            assert caught.value.code() == grpc.StatusCode.PERMISSION_DENIED
            assert "only peer centres" in (caught.value.details() or "")
        async with channel(gateway, pki, pki.client("operator")) as opened:
            operator = exchange_pb2_grpc.RecordExchangeStub(opened)
            with pytest.raises(aio.AioRpcError) as missing:
                await operator.Get(
                    exchange_pb2.GetRequest(record_id="INTERPOL-CCC-LYON:person:forged")
                )
        assert missing.value.code() == grpc.StatusCode.NOT_FOUND, "the forged record was stored"
        refused = denials(gateway, "not-a-peer")
        assert [entry["actor"] for entry in refused] == [
            OPERATOR,
            f"urn:liaison:centre:{SINGAPORE}",
        ]
        # The configured peer passes authorisation (what Deliver then does is its own business).
        async with channel(gateway, pki, pki.lyon) as opened:
            code = await _status_of_empty_delivery(federation_pb2_grpc.FederationStub(opened))
        assert code not in (grpc.StatusCode.PERMISSION_DENIED, grpc.StatusCode.UNAUTHENTICATED)


async def _status_of_empty_delivery(federation: federation_pb2_grpc.FederationAsyncStub) -> Any:
    try:
        await federation.Deliver(federation_pb2.DeliverRequest(), timeout=10)
    except aio.AioRpcError as error:
        return error.code()
    return grpc.StatusCode.OK


# -- conflicting grants are refused at start ----------------------------------------------------

TLS = '[tls]\ncertificate = "a.pem"\nprivate_key = "a-key.pem"\ntrusted_cas = "ca.pem"\n'


def _settings(grants: str) -> None:
    parse_settings(tomllib.loads(TLS + grants), Path("/etc/liaison"), I2C)


def test_overlapping_grants_with_different_acts_for_are_refused_at_start() -> None:
    with pytest.raises(SettingsError) as caught:
        _settings(
            "[[grants]]\n"
            'identities = ["urn:liaison:client:*"]\n'
            'methods = ["liaison.v1.Translation/*"]\n'
            f'acts_for = "{I2C}"\n'
            "[[grants]]\n"
            'identities = ["urn:liaison:client:lyon-*"]\n'
            'methods = ["liaison.v1.*/Trans[a-z]ate"]\n'
            f'acts_for = "{LYON}"\n'
        )
    message = str(caught.value)
    found = re.fullmatch(
        r"\[\[grants\]\] #1 and #2 both allow '(.*)' to call '(.*)' but act for (.*): .*", message
    )
    assert found is not None, message
    identity, method, centres = found.groups()
    assert fnmatch.fnmatchcase(identity, "urn:liaison:client:lyon-*")
    assert fnmatch.fnmatchcase(method, "liaison.v1.Translation/Trans[a-z]ate")
    assert centres == f"{I2C} and {LYON}"


@pytest.mark.parametrize(
    "second",
    [
        # Same methods, identities that no client matches both.
        'identities = ["urn:liaison:client:lyon-*"]\nmethods = ["*"]',
        # Same identities, disjoint methods.
        'identities = ["urn:liaison:client:*"]\nmethods = ["liaison.v1.RecordExchange/*"]',
        # Overlapping only on centre identities, which always act for themselves.
        'identities = ["urn:liaison:centre:*"]\nmethods = ["*"]',
    ],
)
def test_grants_that_cannot_meet_may_act_for_different_centres(second: str) -> None:
    _settings(
        "[[grants]]\n"
        'identities = ["urn:liaison:client:i2c-*"]\n'
        'methods = ["liaison.v1.Translation/*"]\n'
        f'acts_for = "{I2C}"\n'
        f'[[grants]]\n{second}\nacts_for = "{LYON}"\n'
    )


def test_an_identity_pattern_that_matches_nobody_is_refused() -> None:
    with pytest.raises(SettingsError, match=r"#1 identity 'analyst' matches no identity"):
        _settings('[[grants]]\nidentities = ["analyst"]\nmethods = ["*"]\n')


def test_a_hand_built_policy_refuses_conflicts_too() -> None:
    with pytest.raises(PolicyError, match="#1 and #2"):
        Policy((Grant(("*",), ("*",), "A"), Grant(("*",), ("*",), "B")))
    assert grant_conflicts((Grant(("*",), ("*",), "A"), Grant(("*",), ("*",), "A"))) == []


def test_the_federation_service_is_for_peers_whatever_the_grants_say() -> None:
    policy = Policy((Grant(("*",), ("*",)),), peers=frozenset({LYON}))
    deliver = "/liaison.v1.Federation/Deliver"
    assert policy.allows(f"urn:liaison:centre:{LYON}", deliver)
    assert not policy.allows(f"urn:liaison:centre:{SINGAPORE}", deliver)
    assert not policy.allows(OPERATOR, deliver)
    assert policy.allows(OPERATOR, "/liaison.v1.FederationAdmin/ListDeliveries")
    assert not policy.allows("", "/liaison.v1.RecordExchange/Get"), "* never matches nobody"


def test_a_centre_reads_for_itself_whatever_acts_for_says() -> None:
    policy = Policy((Grant(("urn:liaison:*",), ("*",), acts_for=I2C),))
    assert policy.centre_of(f"urn:liaison:centre:{LYON}", I2C, "/x.Y/Z") == LYON
    assert policy.centre_of(OPERATOR, "LOCAL", "/x.Y/Z") == I2C
    with pytest.raises(ValueError, match="control characters"):
        policy.centre_of(OPERATOR + "\0", "LOCAL", "/x.Y/Z")


# -- the pattern intersection the conflict rule rests on -----------------------------------------

PATTERN = st.text(alphabet="a*?[!]-", max_size=4)
TEXT_ALPHABET = "a*?[!]-c"  # the patterns' characters and one they never spell


@settings(max_examples=60, deadline=None)
@given(st.lists(PATTERN, min_size=1, max_size=2))
def test_common_match_is_exact(patterns: list[str]) -> None:
    found = common_match(patterns)
    if found is not None:
        assert all(fnmatch.fnmatchcase(found, p) for p in patterns), found
        return
    # None must mean none. A shortest common match reads one character per single-character
    # test at most (a character read while every pattern sits on a star could be dropped), so
    # trying every text up to that length over these characters is a complete check.
    # (A pattern without a star fixes the length outright.)
    fixed = [len(p) for p in patterns if "*" not in p]
    longest = min(fixed) if fixed else sum(len(p.replace("*", "")) for p in patterns)
    for length in range(longest + 1):
        for letters in itertools.product(TEXT_ALPHABET, repeat=length):
            text = "".join(letters)
            assert not all(fnmatch.fnmatchcase(text, p) for p in patterns), text
