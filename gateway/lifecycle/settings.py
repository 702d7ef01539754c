"""The ``[lifecycle]`` configuration: retention per kind, review reminders, reply deadlines.

::

    [lifecycle]
    default_retention = "5y"          # kinds not listed below ("" or absent: 5 years)
    review_reminder = "6m"            # remind this long before a record's review is due
    check_interval_seconds = 30       # how often expiry, reminders and deadlines are checked
    urgent_reply = "8h"               # reply deadlines of requests that name none
    normal_reply = "7d"

    [lifecycle.retention]             # per kind (the body field's name)
    notice = "5y"
    person = "5y"
    passenger_manifest = "6m"

Periods are a count and a unit: ``y`` years, ``m`` months, ``w`` weeks, ``d`` days, ``h`` hours.
A record's review falls at the end of its retention period (INTERPOL's rule: the source confirms
the data before the period ends), and its gateway reminds the originating centre
``review_reminder`` ahead. Pure: no gRPC, no store.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from liaison.rules.errors import SetupError
from liaison.rules.indexing import KIND_BY_BODY
from liaison.rules.lifecycle import (
    DAY_US,
    TOMBSTONE_KIND,
    RetentionDefaults,
    RetentionPeriod,
    parse_period,
)

__all__ = [
    "DEFAULT_RETENTION",
    "LifecycleSettings",
    "LifecycleSettingsError",
    "parse_lifecycle",
]

_FIVE_YEARS = parse_period("5y")
DEFAULT_RETENTION = RetentionDefaults(
    periods={
        "notice": RetentionPeriod(_FIVE_YEARS, _FIVE_YEARS),
        "person": RetentionPeriod(_FIVE_YEARS, _FIVE_YEARS),
        "passenger_manifest": RetentionPeriod(parse_period("6m"), parse_period("6m")),
    },
    default=RetentionPeriod(_FIVE_YEARS, _FIVE_YEARS),
)
"""INTERPOL's five years for notices, persons and every other kind; six months for manifests."""

_KEYS = {
    "default_retention",
    "review_reminder",
    "check_interval_seconds",
    "retention",
    "urgent_reply",
    "normal_reply",
}


class LifecycleSettingsError(SetupError, ValueError):
    """A ``[lifecycle]`` table that cannot be used; the message names the key."""


@dataclass(frozen=True, slots=True)
class LifecycleSettings:
    """How this centre keeps its records."""

    retention: RetentionDefaults = field(default_factory=lambda: DEFAULT_RETENTION)
    """The dates stamped on this centre's records that arrive without them, per kind."""
    review_reminder_us: int = parse_period("6m")
    """How long before a record's review is due its reminder is raised (microseconds)."""
    check_interval_seconds: float = 30.0
    """How often expiry and reminders are checked: a record is withdrawn at most this long
    after its expiry (it is never *served* past it: reads check the time themselves)."""
    urgent_reply_us: int = parse_period("8h")
    """The reply deadline of an urgent request that names none (2006/960/JHA: 8 hours)."""
    normal_reply_us: int = parse_period("7d")
    """The reply deadline of any other request that names none (a week)."""


def parse_lifecycle(table: Mapping[str, Any]) -> LifecycleSettings:
    """Read a ``[lifecycle]`` table (empty: the defaults).

    Raises:
        LifecycleSettingsError: an unknown key, kind or malformed period.
    """
    unknown = sorted(set(table) - _KEYS)
    if unknown:
        raise LifecycleSettingsError(
            f"[lifecycle] unknown key(s) {', '.join(unknown)}; known: {', '.join(sorted(_KEYS))}"
        )
    default = DEFAULT_RETENTION.default
    if "default_retention" in table:
        us = _period(table["default_retention"], "default_retention")
        default = RetentionPeriod(us, us)
    periods = dict(DEFAULT_RETENTION.periods)
    kinds = table.get("retention", {})
    if not isinstance(kinds, Mapping):
        raise LifecycleSettingsError("[lifecycle.retention] must be a table of kind = period")
    known_kinds = set(KIND_BY_BODY) - {TOMBSTONE_KIND}
    for kind, value in kinds.items():
        if kind not in known_kinds:
            raise LifecycleSettingsError(
                f"[lifecycle.retention] {kind!r} is not a record kind; known: "
                f"{', '.join(sorted(known_kinds))}"
            )
        us = _period(value, f"retention.{kind}")
        periods[kind] = RetentionPeriod(us, us)
    reminder = parse_period("6m")
    if "review_reminder" in table:
        reminder = _period(table["review_reminder"], "review_reminder")
    interval = table.get("check_interval_seconds", 30.0)
    if (
        isinstance(interval, bool)
        or not isinstance(interval, int | float)
        or not 1 <= interval <= 60
    ):
        raise LifecycleSettingsError(
            "[lifecycle] check_interval_seconds must be a number from 1 to 60 (an expired record "
            f"is withdrawn within a minute), got {interval!r}"
        )
    urgent = _reply_period(table, "urgent_reply", parse_period("8h"))
    normal = _reply_period(table, "normal_reply", parse_period("7d"))
    return LifecycleSettings(
        RetentionDefaults(periods, default), reminder, float(interval), urgent, normal
    )


def _reply_period(table: Mapping[str, Any], key: str, default: int) -> int:
    value = table.get(key)
    if value is None:
        return default
    if not isinstance(value, str):
        raise LifecycleSettingsError(f'[lifecycle] {key} must be a period like "8h" or "7d"')
    try:
        return parse_period(value)
    except ValueError as error:
        raise LifecycleSettingsError(f"[lifecycle] {key}: {error}") from None


def _period(value: object, key: str) -> int:
    if not isinstance(value, str):
        raise LifecycleSettingsError(f'[lifecycle] {key} must be a period like "5y" or "6m"')
    try:
        us = parse_period(value)
    except ValueError as error:
        raise LifecycleSettingsError(f"[lifecycle] {key}: {error}") from None
    if us < DAY_US:
        raise LifecycleSettingsError(f"[lifecycle] {key} must be at least a day, got {value!r}")
    return us
