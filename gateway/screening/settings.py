"""The ``[screening]`` configuration: whether commits are screened, of which kinds, and the lists.

::

    [screening]
    screen_on_commit = ["passenger_manifest", "person", "travel_document"]   # [] turns it off
    worker = "process"           # where the index lives: its own process, or "thread"

    [[screening.lists]]          # a built-in list ("notices", "sltd") takes new thresholds ...
    name = "notices"
    hit_threshold = 0.9

    [[screening.lists]]          # ... and a new name defines a list by kind and centre
    name = "eu-wanted"
    kinds = ["person"]
    centres = ["EUROPOL"]
    review_threshold = 0.5

Pure: no gRPC, no store (the gateway's configuration loader calls :func:`parse_screening`).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Any, Literal

from gateway.screening.lists import DEFAULT_LISTS, ListDefinition
from liaison.rules.errors import SetupError
from liaison.rules.ids import CENTRE_ID_PATTERN, LIST_NAME_PATTERN

__all__ = [
    "DEFAULT_SCREENED_KINDS",
    "SCREENABLE_KINDS",
    "ScreeningSettings",
    "ScreeningSettingsError",
    "parse_screening",
]

SCREENABLE_KINDS = frozenset({"passenger_manifest", "person", "travel_document"})
"""Record kinds that describe travellers (a manifest is screened traveller by traveller)."""
DEFAULT_SCREENED_KINDS = ("passenger_manifest", "person", "travel_document")

_LIST_KEYS = {"name", "kinds", "centres", "hit_threshold", "review_threshold"}


class ScreeningSettingsError(SetupError, ValueError):
    """A ``[screening]`` table that cannot be used; the message names the key."""


@dataclass(frozen=True, slots=True)
class ScreeningSettings:
    """How this centre screens."""

    screen_on_commit: tuple[str, ...] = DEFAULT_SCREENED_KINDS
    """Kinds screened automatically when committed; empty turns automatic screening off."""
    lists: tuple[ListDefinition, ...] = DEFAULT_LISTS
    """The lists, built-in ones first."""
    worker: Literal["process", "thread"] = "process"
    """Where the index is kept, updated and screened against: a worker process of its own (the
    default, decision 0018: its Python does not share the event loop's interpreter lock) or a
    worker thread of the gateway (no process to start: tests that do not test the process)."""


def parse_screening(table: Mapping[str, Any]) -> ScreeningSettings:
    """The settings a ``[screening]`` table gives (defaults for what it leaves out).

    Raises:
        ScreeningSettingsError: an unknown key, a wrong type, an unknown kind, a bad threshold.
    """
    unknown = sorted(set(table) - {"screen_on_commit", "lists", "worker"})
    if unknown:
        raise ScreeningSettingsError(f"unknown key(s) in [screening]: {', '.join(unknown)}")
    kinds = _strings(
        table.get("screen_on_commit", list(DEFAULT_SCREENED_KINDS)), "screen_on_commit"
    )
    wrong = sorted(set(kinds) - SCREENABLE_KINDS)
    if wrong:
        raise ScreeningSettingsError(
            f"[screening] screen_on_commit: {', '.join(wrong)} cannot be screened; "
            f"choose from {', '.join(sorted(SCREENABLE_KINDS))}"
        )
    worker = table.get("worker", "process")
    if worker not in ("process", "thread"):
        raise ScreeningSettingsError(
            f'[screening] worker must be "process" or "thread", got {worker!r}'
        )
    lists = {spec.name: spec for spec in DEFAULT_LISTS}
    raw_lists = table.get("lists", [])
    if not isinstance(raw_lists, list):
        raise ScreeningSettingsError("[[screening.lists]] must be an array of tables")
    for position, raw in enumerate(raw_lists, start=1):
        spec = _list(raw, position, lists)
        lists[spec.name] = spec
    return ScreeningSettings(tuple(dict.fromkeys(kinds)), tuple(lists.values()), worker)


def _list(raw: Any, position: int, known: Mapping[str, ListDefinition]) -> ListDefinition:
    where = f"[[screening.lists]] #{position}"
    if not isinstance(raw, dict):
        raise ScreeningSettingsError(f"{where} must be a table")
    unknown = sorted(set(raw) - _LIST_KEYS)
    if unknown:
        raise ScreeningSettingsError(f"{where}: unknown key(s) {', '.join(unknown)}")
    name = raw.get("name")
    if not isinstance(name, str) or not LIST_NAME_PATTERN.fullmatch(name):
        raise ScreeningSettingsError(
            f"{where}: name must be 1-64 lower-case letters, digits or hyphens, got {name!r}"
        )
    base = known.get(name)
    changes: dict[str, Any] = {}
    if "kinds" in raw:
        changes["kinds"] = frozenset(_strings(raw["kinds"], f"{where} kinds"))
    elif base is None:
        raise ScreeningSettingsError(f"{where} ({name}): a new list needs kinds")
    if "centres" in raw:
        centres = _strings(raw["centres"], f"{where} centres")
        bad = [c for c in centres if not CENTRE_ID_PATTERN.fullmatch(c)]
        if bad:
            raise ScreeningSettingsError(f"{where} centres: not centre ids: {', '.join(bad)}")
        changes["originating_centres"] = frozenset(centres)
    for key in ("hit_threshold", "review_threshold"):
        if key in raw:
            value = raw[key]
            if isinstance(value, bool) or not isinstance(value, int | float):
                raise ScreeningSettingsError(f"{where} {key} must be a number")
            changes[key] = float(value)
    try:
        if base is not None:
            return replace(base, **changes)
        return ListDefinition(name=name, **changes)
    except ValueError as error:
        raise ScreeningSettingsError(f"{where}: {error}") from None


def _strings(value: Any, where: str) -> Sequence[str]:
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise ScreeningSettingsError(f"{where} must be a list of strings")
    return value
