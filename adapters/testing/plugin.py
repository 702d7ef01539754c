"""pytest plugin (entry point ``pytest11``) of the adapter conformance kit.

pytest imports this module at every start in an environment where Liaison is installed, whatever
is being tested, so it imports nothing but pytest and the standard library: the kit itself
(``adapters.testing``) is imported only by the test modules that use it.

It adds:

- ``--liaison-update-golden``: golden tests rewrite ``NAME.expected.json`` from what the adapter
  decodes instead of comparing; review the rewrite with ``git diff`` before committing it;
- a terminal summary of the throughput the kit measured, the cost of hostile payloads it
  checked, and of the golden files it rewrote.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pytest

__all__ = [
    "UPDATE_GOLDEN_OPTION",
    "KitReport",
    "Throughput",
    "format_throughput",
    "kit_report",
    "update_golden_requested",
]

UPDATE_GOLDEN_OPTION = "--liaison-update-golden"


@dataclass(frozen=True, slots=True)
class Throughput:
    """Decode (and encode) speed of one adapter on one payload, as the kit measured it."""

    adapter: str
    payload: str
    """What was decoded: "golden samples" or "throughput payload"."""
    payload_bytes: int
    records: int
    """Records per decode of the payload."""
    decode_records_per_s: float
    decode_mb_per_s: float
    encode_records_per_s: float | None = None
    """None when the adapter cannot encode or the payload gave no clean records."""


@dataclass(slots=True)
class KitReport:
    """What the kit's tests leave for the terminal summary of one pytest run."""

    throughput: list[Throughput] = field(default_factory=list)
    rewritten_golden_files: list[Path] = field(default_factory=list)
    costs: list[str] = field(default_factory=list)
    """One line per adapter and hostile kind: the sizes, CPU times, ratio and memory peak."""


_REPORT_KEY = pytest.StashKey[KitReport]()


def kit_report(config: pytest.Config) -> KitReport:
    """The run's report, created on first use."""
    report = config.stash.get(_REPORT_KEY, None)
    if report is None:
        report = config.stash[_REPORT_KEY] = KitReport()
    return report


def update_golden_requested(config: pytest.Config) -> bool:
    """True when this run rewrites golden files instead of comparing against them.

    False when the plugin is disabled (``-p no:liaison-adapters``): the option does not exist.
    """
    return bool(config.getoption(UPDATE_GOLDEN_OPTION, default=False))


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("liaison-adapters", "Liaison adapter conformance kit")
    group.addoption(
        UPDATE_GOLDEN_OPTION,
        action="store_true",
        default=False,
        help="rewrite the golden NAME.expected.json files from the adapters' current output "
        "instead of comparing (review the result with git diff)",
    )


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    report = terminalreporter.config.stash.get(_REPORT_KEY, None)
    if report is None:
        return
    if report.throughput:
        terminalreporter.write_sep("-", "liaison adapter throughput (reported, not asserted)")
        for line in format_throughput(report.throughput):
            terminalreporter.write_line(line)
    if report.costs:
        terminalreporter.write_sep("-", "liaison adapter cost of hostile payloads (checked)")
        for line in report.costs:
            terminalreporter.write_line(line)
    if report.rewritten_golden_files:
        terminalreporter.write_sep("-", "liaison golden files rewritten: review with git diff")
        for path in sorted(report.rewritten_golden_files):
            terminalreporter.write_line(str(path))


def format_throughput(figures: list[Throughput]) -> list[str]:
    """One line per measurement, aligned."""
    lines = []
    for figure in figures:
        encode = (
            f", encode {figure.encode_records_per_s:,.0f} records/s"
            if figure.encode_records_per_s is not None
            else ""
        )
        lines.append(
            f"{figure.adapter:<20} {figure.payload:<18} {figure.payload_bytes:>10,} B "
            f"{figure.records:>7,} records: decode {figure.decode_records_per_s:,.0f} records/s, "
            f"{figure.decode_mb_per_s:.2f} MB/s{encode}"
        )
    return lines
