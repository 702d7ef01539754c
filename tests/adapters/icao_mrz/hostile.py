"""Hostile MRZ payloads of any size: issue 12 measured a 50 MB MRZ file at 37 s and 3.3 GB."""

from __future__ import annotations

from adapters.testing import PayloadBuilder
from tests.adapters.icao_mrz.support import authored_td3

_MRZ_BYTES = len("\n".join(authored_td3())) + 2


def distinct_mrzs(size: int) -> bytes:
    """Valid TD3 MRZs with distinct document numbers, a blank line between, about ``size``."""
    count = max(1, size // _MRZ_BYTES)
    return b"".join(
        "\n".join(authored_td3(number=f"X{index:08d}")).encode("ascii") + b"\n\n"
        for index in range(count)
    )


def bad_check_digits(size: int) -> bytes:
    """TD3 MRZs whose document number check digit is wrong: errors all the way."""
    first, second = authored_td3()
    wrong = str((int(second[9]) + 1) % 10)
    unit = f"{first}\n{second[:9]}{wrong}{second[10:]}\n\n".encode("ascii")
    return unit * max(1, size // len(unit))


HOSTILE_PAYLOADS: dict[str, PayloadBuilder] = {
    "distinct-mrzs": distinct_mrzs,
    "bad-check-digits": bad_check_digits,
}
