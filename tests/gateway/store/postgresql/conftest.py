"""Fixtures of the PostgreSQL store's own tests: the run's database (tests/support/postgresql)."""

from __future__ import annotations

from tests.support.postgresql import postgresql_database

__all__ = ["postgresql_database"]
