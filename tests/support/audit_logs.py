"""Real audit logs for the attacks: written by ``AuditLog``, tampered with through SQLite, and
checkpointed with signing keys made in the test."""

from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path

from gateway.audit.chain import ChainHead
from gateway.audit.checkpoints import checkpoints_document, sign_checkpoint
from gateway.audit.log import AuditLog
from gateway.signing import (
    KeyRing,
    PublicKeyInfo,
    RecordSigner,
    create_centre_signing_key,
    load_private_key,
    load_public_key,
)
from liaison.v1 import federation_pb2

CENTRE = "WCO-I2C"
PEER = "INTERPOL-CCC-LYON"
ACTOR = "urn:liaison:client:customs-be"


async def write_log(path: Path, count: int, key_path: Path | None = None) -> ChainHead:
    """Append ``count`` read entries (record ids ``r0``, ``r1``, ...) with the gateway's writer;
    returns the head."""
    log = AuditLog(path, key_path)
    await log.open()
    try:
        for index in range(count):
            await log.append(actor=ACTOR, action="read", outcome="ok", record_ids=[f"r{index}"])
    finally:
        await log.close()
    return log.head


def tamper(path: Path, *statements: str, parameters: tuple[object, ...] = ()) -> None:
    """What someone with write access to the file does, outside the gateway."""
    connection = sqlite3.connect(path)
    with connection:
        for statement in statements:
            connection.execute(statement, parameters)
    connection.close()


def stored_text(path: Path, position: int) -> str:
    connection = sqlite3.connect(path)
    try:
        (text,) = connection.execute(
            "SELECT entry FROM audit WHERE position = ?", (position,)
        ).fetchone()
    finally:
        connection.close()
    assert isinstance(text, str)
    return text


class SigningCentre:
    """A centre's record-signing key pair, made in the test, and a key ring that trusts it."""

    def __init__(
        self, directory: Path, centre: str = CENTRE, *, made: dt.datetime | None = None
    ) -> None:
        """A key pair in ``directory``; ``made`` sets its id (``CENTRE/<made>``) apart from
        another key of the same centre made in the same second."""
        self.centre = centre
        self.spec, private = create_centre_signing_key(directory / "signing", centre, now=made)
        self.public_key_path = self.spec.public_key
        self.signer = RecordSigner(centre, self.spec.key_id, load_private_key(private))

    def key_info(self) -> PublicKeyInfo:
        return PublicKeyInfo(
            key_id=self.spec.key_id,
            centre=self.centre,
            public_key=load_public_key(self.spec.public_key),
            not_before=self.spec.not_before,
            not_after=self.spec.not_after,
        )

    def checkpoint(self, head: ChainHead) -> federation_pb2.AuditCheckpoint:
        return sign_checkpoint(self.signer, head, dt.datetime.now(dt.UTC))


def key_ring(*centres: SigningCentre) -> KeyRing:
    return KeyRing(centre.key_info() for centre in centres)


def write_checkpoints(path: Path, *checkpoints: federation_pb2.AuditCheckpoint) -> Path:
    """A checkpoint file as ``liaison audit checkpoints`` writes it."""
    path.write_text(checkpoints_document(checkpoints), encoding="utf-8")
    return path
