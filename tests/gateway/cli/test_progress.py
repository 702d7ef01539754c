"""The progress line: drawn on a terminal only, redrawn in place at most every interval."""

from __future__ import annotations

import io

from gateway.cli.progress import Progress

ERASE = "\r\x1b[K"


class Terminal(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_nothing_is_drawn_off_a_terminal() -> None:
    stream = io.StringIO()
    progress = Progress(stream)
    progress.show(lambda: "1 record read", now=True)
    progress.print("record #0 (P-0): refused")
    progress.clear()
    assert not progress.enabled
    assert stream.getvalue() == "record #0 (P-0): refused\n"


def test_the_line_is_redrawn_in_place_at_most_every_interval() -> None:
    now = [0.0]
    stream = Terminal()
    progress = Progress(stream, interval=0.2, clock=lambda: now[0])
    drawn: list[int] = []

    def describe() -> str:
        drawn.append(len(drawn))
        return f"{len(drawn)} read"

    progress.show(describe)
    now[0] = 0.1
    progress.show(describe)  # too soon: not even described
    now[0] = 0.25
    progress.show(describe)
    progress.show(describe, now=True)
    assert drawn == [0, 1, 2]
    assert stream.getvalue() == f"{ERASE}1 read{ERASE}2 read{ERASE}3 read"


def test_lines_printed_meanwhile_take_the_progress_line_away() -> None:
    stream = Terminal()
    progress = Progress(stream)
    progress.show(lambda: "5 read")
    progress.print("record #3 (P-3): refused")
    progress.clear()  # nothing left to erase
    progress.show(lambda: "9 read", now=True)
    progress.clear()
    assert stream.getvalue() == (
        f"{ERASE}5 read{ERASE}record #3 (P-3): refused\n{ERASE}9 read{ERASE}"
    )
