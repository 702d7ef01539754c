"""Hostile PAXLST payloads of any size, for the conformance kit's limit and cost tests.

Issue 12 measured a 10 MB passenger list at 84 s and 4.7 GB; these builders give the kit such
inputs at the sizes it asks for (the generic kinds, such as megabytes of ``'``, come from the
samples: ``adapters.testing.hostile``).
"""

from __future__ import annotations

from adapters.testing import PayloadBuilder
from adapters.testing.hostile import repeat_to
from tests.adapters.paxlst.builders import UNA, UNB
from tests.adapters.paxlst.strategies import passenger_list_payload

_BYTES_PER_TRAVELLER = passenger_list_payload(200).__len__() // 200
_MESSAGE_START = f"{UNA}{UNB}'UNH+1+PAXLST:D:05B:UN:IATA'BGM+745'".encode("ascii")


def large_passenger_list(size: int) -> bytes:
    """A valid D.05B passenger list of about ``size`` bytes (one traveller per 190 bytes)."""
    return passenger_list_payload(max(1, size // _BYTES_PER_TRAVELLER))


def release_errors(size: int) -> bytes:
    """Inside a message, a release character before each line break: an error per segment."""
    return _MESSAGE_START + repeat_to(b"NAD+FL+++DOE?\n'", size)


def unknown_segments(size: int) -> bytes:
    """Inside a message, segments PAXLST does not have: a warning per segment."""
    return _MESSAGE_START + repeat_to(b"XYZ+1'", size)


HOSTILE_PAYLOADS: dict[str, PayloadBuilder] = {
    "large-passenger-list": large_passenger_list,
    "release-errors": release_errors,
    "unknown-segments": unknown_segments,
}
