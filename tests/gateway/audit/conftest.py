"""Fixtures of the audit tests: logs on both backends (tests/support/audit_logs)."""

from __future__ import annotations

from tests.support.audit_logs import audit_logs
from tests.support.postgresql import postgresql_database

__all__ = ["audit_logs", "postgresql_database"]
