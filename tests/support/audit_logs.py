"""Real audit logs for the attacks: written by ``AuditLog`` (a SQLite file) or
``PostgresAuditLog`` (a schema of the run's database), tampered with through the database, and
checkpointed with signing keys made in the test."""

from __future__ import annotations

import datetime as dt
import sqlite3
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from gateway.audit.chain import ChainHead, VerifyReport
from gateway.audit.checkpoints import checkpoints_document, sign_checkpoint
from gateway.audit.log import AuditLog, verify_file
from gateway.audit.postgresql_log import PostgresAuditLog
from gateway.audit.postgresql_read import verify_database
from gateway.signing import (
    KeyRing,
    PublicKeyInfo,
    RecordSigner,
    create_centre_signing_key,
    load_private_key,
    load_public_key,
)
from liaison.v1 import federation_pb2
from tests.support.postgresql import unique_schema

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


class AuditLogs:
    """Audit logs on one backend (``sqlite``: files under a folder; ``postgresql``: schemas of
    the run's database), named by the test: write, tamper with and verify them alike."""

    def __init__(self, backend: str, directory: Path, dsn: str = "") -> None:
        self.backend = backend
        self.directory = directory
        self.dsn = dsn
        self._schemas: dict[str, str] = {}

    def schema(self, name: str) -> str:
        if name not in self._schemas:
            self._schemas[name] = unique_schema(name)
        return self._schemas[name]

    def log(self, name: str, key_path: Path | None = None) -> AuditLog:
        """An unopened log (a new replica of it, on PostgreSQL)."""
        path = self.directory / f"{name}.db"
        if self.backend == "postgresql":
            return PostgresAuditLog(
                self.dsn, schema=self.schema(name), key_path=key_path, path=path
            )
        return AuditLog(path, key_path)

    def tamper(self, name: str, *statements: str) -> None:
        """What someone with write access to the database does, outside the gateway."""
        if self.backend == "postgresql":
            with psycopg.connect(self.dsn, autocommit=True) as connection:
                connection.execute(
                    sql.SQL("SET search_path TO {}").format(sql.Identifier(self.schema(name)))
                )
                with connection.transaction():
                    for statement in statements:
                        connection.execute(statement.encode())
            return
        tamper(self.directory / f"{name}.db", *statements)

    def verify(
        self, name: str, *, expect_head: ChainHead | None = None, key: bytes | None = None
    ) -> VerifyReport:
        if self.backend == "postgresql":
            return verify_database(self.dsn, self.schema(name), expect_head=expect_head, key=key)
        return verify_file(self.directory / f"{name}.db", expect_head=expect_head, key=key)


@pytest.fixture(params=("sqlite", "postgresql"))
def audit_logs(request: pytest.FixtureRequest, tmp_path: Path) -> AuditLogs:
    """:class:`AuditLogs` on each backend (PostgreSQL: skipped where no server answers)."""
    backend = str(request.param)
    dsn = request.getfixturevalue("postgresql_database") if backend == "postgresql" else ""
    return AuditLogs(backend, tmp_path, dsn)
