"""Two centres exchange audit checkpoints over mutual TLS on loopback: each deposits its signed
checkpoints with the other, which keeps them; an operator fetches what the peer keeps
(``liaison audit checkpoints``) and verifies the log against it (``liaison audit verify
--checkpoint``), which then catches a truncation no chain check alone can see.

The centres run the gateway's own pieces - the authorisation interceptor, the Federation and
FederationAdmin servicers with their checkpoint handlers, keyed audit logs, the checkpointer
depositing through ``GrpcPeerLink`` - assembled here as the runtime will assemble them once it
loads the centres' signing keys.
"""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import grpc
import pytest
from grpc import aio

from gateway.audit.keys import create_key_file
from gateway.audit.log import AuditLog
from gateway.audit.settings import CheckpointPolicy
from gateway.cli import main
from gateway.client import AsyncLiaisonClient, ClientError
from gateway.config import StorageConfig
from gateway.federation.checkpoints import AuditCheckpoints
from gateway.federation.forwarder import PeerUnavailableError
from gateway.federation.peers import GrpcPeerLink
from gateway.federation.settings import FederationSettings, PeerConfig
from gateway.federation.sqlite_outbox import SqliteOutbox
from gateway.security.authorization import AuthorizationInterceptor
from gateway.security.certs import CertificateAuthority
from gateway.security.gate import RecordGate
from gateway.security.policy import Grant
from gateway.security.tls import (
    TlsConfig,
    channel_credentials,
    peer_channel_options,
    server_credentials,
)
from gateway.security.visibility import NeedToKnow
from gateway.services.federation import (
    ADMIN_SERVICE,
    FEDERATION_SERVICE,
    FederationAdminService,
    FederationService,
)
from gateway.services.registration import add_service
from gateway.signing import KeyRing
from gateway.store import RecordStore, create_store
from tests.support.audit_logs import CENTRE, PEER, SigningCentre, tamper

pytestmark = pytest.mark.timeout(120)

OPERATOR = "operator"
POLICY = CheckpointPolicy(every_entries=5, every_seconds=0.2)


class _Centre:
    """One centre's federation side, served over mutual TLS on a loopback port."""

    def __init__(self, root: Path, centre: str, peer: str, authority: CertificateAuthority) -> None:
        self.centre, self.peer = centre, peer
        self.home = root / centre
        issued = authority.issue_centre(centre)
        self.tls = TlsConfig(issued.certificate, issued.private_key, authority.certificate_path)
        self.signing = SigningCentre(self.home, centre)
        self.key_file = self.home / "audit.key"
        create_key_file(self.key_file)
        self.audit = AuditLog(self.home / "audit.db", self.key_file)
        self.store: RecordStore = create_store(
            StorageConfig(path=self.home / "store.db", synchronous="normal", writer="thread")
        )
        self.outbox = SqliteOutbox(self.home / "outbox.db")
        self.server: aio.Server | None = None
        self.port = 0
        self.link: GrpcPeerLink | None = None
        self.checkpoints: AuditCheckpoints | None = None

    async def bind(self, peer_port: Callable[[], int]) -> None:
        await self.audit.open()
        await self.store.open()
        await self.outbox.open()
        settings = FederationSettings(
            tls=self.tls,
            peers=(PeerConfig(self.peer, "127.0.0.1:0"),),
            grants=(Grant((f"urn:liaison:client:{OPERATOR}",), ("liaison.v1.*",)),),
        )
        server = aio.server(
            interceptors=[AuthorizationInterceptor(settings.policy(), self.centre, self.audit)]
        )
        # Deliveries are not exercised here: no peer's record keys are needed.
        self.receiver = FederationService(self.store, self.centre, self.audit, KeyRing())
        gate = RecordGate(self.store, NeedToKnow(self.centre))
        self.admin = FederationAdminService(self.outbox, lambda peer: None, gate)
        add_service(server, self.receiver, FEDERATION_SERVICE)
        add_service(server, self.admin, ADMIN_SERVICE)
        self.port = server.add_secure_port("127.0.0.1:0", server_credentials(self.tls))
        self.server = server
        self._peer_port = peer_port

    async def start(self, ring: KeyRing) -> None:
        self.link = GrpcPeerLink(
            PeerConfig(self.peer, f"127.0.0.1:{self._peer_port()}"),
            self.tls,
            centre=self.centre,
            key_ring=ring,
        )
        self.checkpoints = AuditCheckpoints(
            centre=self.centre,
            audit=self.audit,
            key_ring=ring,
            signer=self.signing.signer,
            peers={self.peer: self.link},
            policy=POLICY,
        )
        self.receiver.checkpoints = self.admin.checkpoints = self.checkpoints.desk
        await self.checkpoints.open()
        assert self.server is not None
        await self.server.start()

    async def stop_checkpoints(self) -> None:
        if self.checkpoints is not None:
            await self.checkpoints.close()

    async def close(self) -> None:
        if self.server is not None:
            await self.server.stop(None)
        if self.link is not None:
            await self.link.close()
        await self.outbox.close()
        await self.store.close()
        await self.audit.close()


@pytest.fixture
async def centres(tmp_path: Path) -> AsyncIterator[tuple[_Centre, _Centre, CertificateAuthority]]:
    authority = CertificateAuthority.create(tmp_path / "pki")
    authority.issue_client(OPERATOR)
    i2c = _Centre(tmp_path, CENTRE, PEER, authority)
    lyon = _Centre(tmp_path, PEER, CENTRE, authority)
    await i2c.bind(lambda: lyon.port)
    await lyon.bind(lambda: i2c.port)
    ring = KeyRing([i2c.signing.key_info(), lyon.signing.key_info()])
    try:
        await i2c.start(ring)
        await lyon.start(ring)
        yield i2c, lyon, authority
    finally:
        for centre in (i2c, lyon):
            await centre.stop_checkpoints()
        for centre in (i2c, lyon):
            await centre.close()


async def _append(audit: AuditLog, count: int) -> None:
    for index in range(count):
        await audit.append(actor="local", action="read", outcome="ok", record_ids=[f"r{index}"])


async def _until_kept(keeper: _Centre, centre: str, entries: int) -> None:
    assert keeper.checkpoints is not None
    deadline = time.monotonic() + 20
    while True:
        latest = await keeper.checkpoints.book.latest(centre)
        if latest is not None and latest.entries == entries:
            return
        assert time.monotonic() < deadline, f"{keeper.centre} never kept {centre}'s at {entries}"
        await asyncio.sleep(0.05)


def _client(authority: CertificateAuthority, name: str, server: _Centre) -> AsyncLiaisonClient:
    pki = authority.directory
    tls = TlsConfig(
        pki / "clients" / f"{name}.pem", pki / "clients" / f"{name}-key.pem", pki / "ca.pem"
    )
    return AsyncLiaisonClient(
        f"127.0.0.1:{server.port}",
        credentials=channel_credentials(tls),
        options=peer_channel_options(server.centre),
    )


async def test_each_centre_keeps_the_others_checkpoints_and_they_catch_truncation(
    centres: tuple[_Centre, _Centre, CertificateAuthority],
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
) -> None:
    i2c, lyon, authority = centres
    await _append(i2c.audit, 7)
    await _append(lyon.audit, 2)
    await _until_kept(lyon, CENTRE, 7)
    await _until_kept(i2c, PEER, 2)

    async with _client(authority, OPERATOR, lyon) as operator:
        kept = await operator.checkpoints(centre=CENTRE)
        everything = await operator.checkpoints()
    assert kept[0].entries == 7  # newest first
    assert all(c.centre == CENTRE for c in kept)
    assert {c.centre for c in everything} == {CENTRE, PEER}  # Lyon's own are listed too

    exported = tmp_path / "i2c-checkpoints.json"
    pki = authority.directory
    fetch = [
        "--cert", str(pki / "clients" / f"{OPERATOR}.pem"),
        "--key", str(pki / "clients" / f"{OPERATOR}-key.pem"),
        "--ca", str(pki / "ca.pem"),
        "--server-centre", PEER,
        "audit", "checkpoints",
        "--gateway", f"127.0.0.1:{lyon.port}",
        "--centre", CENTRE,
        "--output", str(exported),
    ]  # fmt: skip
    # The blocking client must not hold up the event loop both centres are served on.
    assert await asyncio.to_thread(main, fetch) == 0
    assert f"checkpoint(s) of {CENTRE} from 127.0.0.1:{lyon.port}" in capsys.readouterr().err
    assert json.loads(exported.read_text())["checkpoints"][0]["entries"] == "7"

    log = i2c.audit.path
    verify = [
        "audit", "verify", str(log),
        "--key-file", str(i2c.key_file),
        "--checkpoint", str(exported),
        "--keys", str(i2c.signing.public_key_path),
    ]  # fmt: skip
    assert main(verify) == 0
    assert "7 entries, chain intact, every MAC checked with the key, reaches" in (
        capsys.readouterr().out
    )
    tamper(log, "DELETE FROM audit WHERE position > 4")
    assert main(verify) == 1
    assert "records 7 entries: entries were cut off the end" in capsys.readouterr().out


async def test_a_centre_may_deposit_its_own_signed_checkpoints_only(
    centres: tuple[_Centre, _Centre, CertificateAuthority],
) -> None:
    i2c, lyon, authority = centres
    await _append(i2c.audit, 3)
    await _until_kept(lyon, CENTRE, 3)
    assert i2c.checkpoints is not None
    own = i2c.checkpoints.checkpointer
    assert own is not None
    assert own.latest is not None

    # A client (even one granted everything) is not a centre.
    async with _client(authority, OPERATOR, i2c) as operator:
        with pytest.raises(ClientError) as refused:
            await operator.keep_checkpoint(own.latest)
    assert refused.value.code == grpc.StatusCode.PERMISSION_DENIED
    assert "only peer centres call the Federation service" in refused.value.message

    # Lyon hands I2C's checkpoint back to I2C as if it were its own to deposit.
    assert lyon.link is not None
    with pytest.raises(
        PeerUnavailableError, match="PERMISSION_DENIED: INTERPOL-CCC-LYON may deposit its own"
    ):
        await lyon.link.keep_checkpoint(own.latest)
    forged = lyon.signing.checkpoint(i2c.audit.head)
    forged.entries += 1  # not what Lyon signed
    with pytest.raises(
        PeerUnavailableError, match="PERMISSION_DENIED: checkpoint refused: the signature"
    ):
        await lyon.link.keep_checkpoint(forged)
