"""The size of a request's repeated filters: bounded, and refused beyond with the limit named.

A repeated filter (record kinds, originating centres, delivery states, record ids) costs the
gateway per value - one SQL variable each, one membership test per version streamed - while a
client gains nothing from repeating a value. Beyond :data:`MAX_FILTER_VALUES` values (or the
method's own limit) the request is refused with INVALID_ARGUMENT, one field violation per
oversized filter naming the limit, before anything is read; never an SQLite "too many SQL
variables" escaping as UNKNOWN.
"""

from __future__ import annotations

from collections.abc import Sized

from gateway.errors import FieldViolation, InvalidArgumentError

__all__ = ["MAX_FILTER_VALUES", "check_filter_sizes"]

MAX_FILTER_VALUES = 1000
"""Most values one repeated filter may carry (far more than the distinct values of any)."""


def check_filter_sizes(limit: int = MAX_FILTER_VALUES, **filters: Sized) -> None:
    """Refuse a request whose repeated filters (given by field name) exceed ``limit`` values.

    Raises:
        InvalidArgumentError: with a violation per oversized filter, naming the limit.
    """
    violations = [
        FieldViolation(name, f"has {len(values)} values; at most {limit} are accepted")
        for name, values in filters.items()
        if len(values) > limit
    ]
    if violations:
        raise InvalidArgumentError(
            f"a filter has more than {limit} values; split the request or drop repeated values",
            violations,
        )
