"""Text the gateway would refuse, found where an adapter reads it: one error code for every format.

The contract refuses control characters, bidi overrides and isolates and noncharacters in text
fields (:mod:`liaison.rules.text`; free-text fields may have lines). An adapter that copied such a
value into a record would hand Ingest a record the gateway refuses, with no location in the
payload; instead it checks each value as it reads it and reports ``FORBIDDEN_CHARACTER`` at the
value's location, naming the record, which is then not stored. The message names the code point
and its position in the value, never the value.
"""

from __future__ import annotations

from collections.abc import Iterable

from adapters.collector import Collector, Concerned
from adapters.diagnostics import Location
from liaison.rules.text import describe, forbidden_in

__all__ = ["FORBIDDEN_CHARACTER", "report_forbidden"]

FORBIDDEN_CHARACTER = "FORBIDDEN_CHARACTER"
"""Error code of a value holding a character no record's text may hold."""


def report_forbidden(
    out: Collector,
    value: str,
    location: Location,
    *,
    free_text: bool = False,
    records: Iterable[Concerned] = (),
) -> bool:
    """Report an error when ``value`` holds a forbidden character; True when it holds none.

    Args:
        out: Where the diagnostic goes.
        value: The text as read from the payload.
        location: Where the value is in the payload.
        free_text: The value goes to a free-text field (TAB, LF and CR allowed).
        records: The records the value belongs to (they are not stored).
    """
    forbidden = forbidden_in(value, free_text=free_text)
    if forbidden is None:
        return True
    out.error(FORBIDDEN_CHARACTER, f"a text value {describe(forbidden)}", location, records=records)
    return False
