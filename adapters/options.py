"""How an adapter decodes: strictness and the limits that bound the cost of bad input.

Options belong to an adapter instance (``Adapter.options``); ``Adapter.configured`` returns a copy
with other options, so a registry's shared instance is never changed. Every adapter honours the
limits without code of its own: ``DecodeBuilder`` applies them (see ``adapters.collector``).
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["DEFAULT_MAX_ERRORS", "DEFAULT_MAX_PER_CODE", "DEFAULT_OPTIONS", "DecodeOptions"]

DEFAULT_MAX_ERRORS = 1000
"""Error diagnostics a decode lists before it stops (with one ``TOO_MANY_ERRORS`` error)."""

DEFAULT_MAX_PER_CODE = 1000
"""Warnings (or infos) of one code a decode lists; the rest are counted in one summary."""


@dataclass(frozen=True, slots=True)
class DecodeOptions:
    """Options of one adapter instance.

    Raises:
        ValueError: a limit is not positive.
    """

    strict: bool = False
    """Refuse what the adapter otherwise tolerates with a warning: a deviation from the format's
    standard that genuine documents are known to carry (a national variant). Adapters without
    such tolerances decode the same way in both modes."""
    max_errors: int = DEFAULT_MAX_ERRORS
    """Decoding stops at the error after this many, which becomes one ``TOO_MANY_ERRORS`` error
    located where decoding stopped; no record of that decode counts as clean."""
    max_per_code: int = DEFAULT_MAX_PER_CODE
    """Warnings and infos listed per diagnostic code; further ones are counted in one
    ``DIAGNOSTICS_OMITTED`` info per code at the end. Decoding goes on."""

    def __post_init__(self) -> None:
        if self.max_errors < 1 or self.max_per_code < 1:
            raise ValueError("max_errors and max_per_code must be at least 1")


DEFAULT_OPTIONS = DecodeOptions()
"""The options of an adapter nobody configured."""
