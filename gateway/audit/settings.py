"""The ``[audit]`` settings that shape checkpoints: how often the log's head is signed and sent.

::

    [audit]
    checkpoint_entries = 1000     # a checkpoint after this many new entries ...
    checkpoint_seconds = 300      # ... or this long after the last one, if the log grew at all

The defaults bound what a truncation can hide to the entries of the last five minutes (or the
last thousand), at the cost of one signature and one small call per peer per checkpoint.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["CHECKPOINT_KEYS", "CheckpointPolicy", "parse_checkpoint_policy"]

CHECKPOINT_KEYS = frozenset({"checkpoint_entries", "checkpoint_seconds"})
"""The ``[audit]`` keys this module reads."""


@dataclass(frozen=True, slots=True)
class CheckpointPolicy:
    """When a centre checkpoints its audit log."""

    every_entries: int = 1000
    """A checkpoint is taken as soon as the log has grown by this many entries since the last."""
    every_seconds: float = 300.0
    """A checkpoint is taken this long after the last one when the log has grown at all; peers
    that missed the last one are sent it again at this pace."""


def parse_checkpoint_policy(table: Mapping[str, Any]) -> CheckpointPolicy:
    """Read ``checkpoint_entries`` and ``checkpoint_seconds`` from the ``[audit]`` table (other
    keys are left to the caller).

    Raises:
        ValueError: a value is not a positive number (an integer for the entries).
    """
    default = CheckpointPolicy()
    entries = table.get("checkpoint_entries", default.every_entries)
    if isinstance(entries, bool) or not isinstance(entries, int) or entries < 1:
        raise ValueError("[audit] checkpoint_entries must be a positive integer")
    seconds = table.get("checkpoint_seconds", default.every_seconds)
    if isinstance(seconds, bool) or not isinstance(seconds, int | float) or not seconds > 0:
        raise ValueError("[audit] checkpoint_seconds must be a positive number")
    return CheckpointPolicy(every_entries=entries, every_seconds=float(seconds))
