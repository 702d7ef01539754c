"""Red team: what a relay can still change in a version the originating centre signed.

Lyon relays a version of Singapore's record to the i2c (a real mutual-TLS gateway), with
Singapore's genuine signature, after changing a field outside the signed content hash.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from gateway.security.policy import Grant
from gateway.server import Gateway
from liaison.v1 import record_pb2
from tests.gateway.security.test_origin_authority import deliver, signed
from tests.support.factories import person
from tests.support.mtls import LYON, SINGAPORE, Pki, tls_gateway

ORIGIN_RECEIVED_AT = 1_800_000_000
"""When Singapore's gateway received the record (``signed`` stamps it)."""


@pytest.fixture
async def gateway(tmp_path: Path, pki: Pki) -> AsyncIterator[Gateway]:
    grants = (Grant(("urn:liaison:client:operator",), ("liaison.v1.*",)),)
    async with tls_gateway(tmp_path, pki, grants, peers=(LYON, SINGAPORE)) as started:
        yield started


async def test_a_relay_cannot_change_when_the_origin_received_the_record(
    gateway: Gateway, pki: Pki
) -> None:
    """WRONG: ``provenance.received_at`` - "when the originating gateway received the record"
    (record.proto) - is left out of the signed content hash, so a relay can set it to any time
    and the receiver stores the relay's value as the origin's: here Lyon moves Singapore's
    receipt a year back, the signature still verifies, and the i2c (and every centre after it)
    serves the forged time. For police records the time a centre learned something is
    evidence; the docs say a relay "cannot alter a field".

    RIGHT: what the origin stamped is what the origin signed: the receipt time is covered by the
    signature (or the receiver stamps its own time instead of keeping an unsigned claim), so a
    relayed version with an altered receipt time is refused or stored with the origin's.
    """
    relayed = signed(person("sg-received-1"), 1, pki.keys[SINGAPORE])
    forged = ORIGIN_RECEIVED_AT - 365 * 24 * 3600
    relayed.provenance.received_at.seconds = forged
    [result] = await deliver(gateway, pki, relayed)
    if result.HasField("ack"):
        stored = await gateway.store.get("sg-received-1")
        assert stored is not None
        kept: record_pb2.Record = stored.to_message()
        served = kept.provenance.received_at.seconds
        assert served != forged, "the relay's receipt time is served as Singapore's"
