"""Reading and verifying an audit chain kept in PostgreSQL, from the command line (blocking).

``liaison audit verify --config CENTRE.toml`` reads the entries of the centre's schema in
position order, streamed through a server-side cursor, and verifies them exactly as a file's
(:func:`gateway.audit.chain.verify`).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

import psycopg
from psycopg import sql

from gateway.audit.chain import Anchor, ChainHead, VerifyReport, verify
from gateway.audit.log import AuditLogError

__all__ = ["iter_stored_in_database", "verify_database"]


def iter_stored_in_database(dsn: str, schema: str) -> Iterator[object]:
    """The stored entries of the chain in ``schema``, in position order, read-only.

    Raises:
        AuditLogError: the database cannot be read, or the schema holds no audit chain.
    """
    try:
        with psycopg.connect(dsn, connect_timeout=10) as connection:
            connection.read_only = True
            found = connection.execute(
                "SELECT to_regclass(format('%%I.audit', %s::text)) IS NOT NULL", (schema,)
            ).fetchone()
            if found is None or not found[0]:
                raise AuditLogError(f"no audit log in PostgreSQL schema {schema}")
            with connection.cursor(name="liaison_audit_verify") as cursor:
                cursor.execute(
                    sql.SQL("SELECT entry FROM {}.audit ORDER BY position").format(
                        sql.Identifier(schema)
                    )
                )
                for (entry,) in cursor:
                    yield entry
    except psycopg.Error as error:
        raise AuditLogError(
            f"cannot read the audit log in PostgreSQL schema {schema}: {type(error).__name__}"
        ) from None


def verify_database(
    dsn: str,
    schema: str,
    *,
    expect_head: ChainHead | None = None,
    key: bytes | None = None,
    anchors: Iterable[Anchor] = (),
) -> VerifyReport:
    """Verify the chain in ``schema`` as :func:`gateway.audit.log.verify_file` does a file's."""
    return verify(
        iter_stored_in_database(dsn, schema), expect_head=expect_head, key=key, anchors=anchors
    )
