"""Fixtures of the federation tests: outboxes on both backends (tests/support/outboxes)."""

from __future__ import annotations

from tests.support.outboxes import outbox_backend, outbox_maker
from tests.support.postgresql import postgresql_database

__all__ = ["outbox_backend", "outbox_maker", "postgresql_database"]
