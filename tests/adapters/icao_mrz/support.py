"""Shared test data: the Doc 9303 specimens, a reference date, an independent check digit."""

from __future__ import annotations

import datetime
from pathlib import Path

from adapters.icao_mrz import IcaoMrzAdapter

SAMPLES = Path(__file__).parent / "samples"

TODAY = datetime.date(2026, 1, 15)
"""The reference date of the tests: two-digit years resolve against it."""

TD3 = (
    "P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<",
    "L898902C36UTO7408122F1204159ZE184226B<<<<<10",
)
"""Doc 9303 Part 4, specimen MRP (TD3)."""
TD1 = (
    "I<UTOD231458907<<<<<<<<<<<<<<<",
    "7408122F1204159UTO<<<<<<<<<<<6",
    "ERIKSSON<<ANNA<MARIA<<<<<<<<<<",
)
"""Doc 9303 Part 5, specimen TD1."""
TD2 = (
    "I<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<",
    "D231458907UTO7408122F1204159<<<<<<<6",
)
"""Doc 9303 Part 6, specimen TD2."""
MRV_A = (
    "V<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<",
    "L8988901C4XXX4009078F96121096ZE184226B<<<<<<",
)
"""Doc 9303 Part 7, specimen MRV-A."""
MRV_B = (
    "V<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<",
    "L8988901C4XXX4009078F9612109<<<<<<<<",
)
"""Doc 9303 Part 7, specimen MRV-B."""
TD1_LONG_NUMBER = (
    "I<UTOD23145890<7349<<<<<<<<<<<",
    "3407127M9507122UTO<<<<<<<<<<<2",
    "STEVENSON<<PETER<JOHN<<<<<<<<<",
)
"""Doc 9303 Part 11 Appendix D.2: a TD1 with a twelve-character document number."""


def adapter() -> IcaoMrzAdapter:
    """The adapter with the tests' reference date."""
    return IcaoMrzAdapter(today=TODAY)


def payload(*mrzs: tuple[str, ...]) -> bytes:
    """MRZs as a payload: lines ended by LF, a blank line between MRZs."""
    return "\n\n".join("\n".join(mrz) for mrz in mrzs).encode("ascii") + b"\n"


def reference_check_digit(data: str) -> int:
    """Doc 9303 Part 3 §4.9 written out plainly: an oracle independent of the adapter's."""
    weights = (7, 3, 1)
    total = 0
    for index, char in enumerate(data):
        if char.isdigit():
            value = int(char)
        elif char == "<":
            value = 0
        else:
            value = ord(char) - ord("A") + 10
        total += value * weights[index % 3]
    return total % 10


def replace(line: str, column: int, char: str) -> str:
    """``line`` with the character at 1-based ``column`` replaced."""
    return line[: column - 1] + char + line[column:]


def authored_td3(
    *,
    state: str = "FRA",
    name: str = "SPECIMEN<<TEST",
    number: str = "X00000001",
    nationality: str = "FRA",
    birth: str = "740812",
    sex: str = "F",
    expiry: str = "300101",
    personal: str = "",
    code: str = "P<",
) -> tuple[str, str]:
    """A TD3 MRZ (Part 4 §4.2.2) built with the reference check digit, for hand-made cases."""
    number_field, personal_field = number.ljust(9, "<"), personal.ljust(14, "<")
    line = (
        f"{number_field}{reference_check_digit(number_field)}{nationality}"
        f"{birth}{reference_check_digit(birth)}{sex}{expiry}{reference_check_digit(expiry)}"
        f"{personal_field}{reference_check_digit(personal_field)}"
    )
    composite = reference_check_digit(line[0:10] + line[13:20] + line[21:43])
    return f"{code}{state}{name.ljust(39, '<')}", f"{line}{composite}"
