"""The trace trees ``docs/operations.md`` shows are produced by real calls, as shown."""

from __future__ import annotations

from pathlib import Path

from tests.gateway.telemetry.capture_tree import capture


def _shape(section: str) -> list[tuple[int, str]]:
    """(depth, first word) of each line of a tree section, without its title."""
    shape = []
    for line in section.splitlines()[1:]:
        stripped = line.lstrip(" ")
        shape.append(((len(line) - len(stripped)) // 4, stripped.split(" ")[0]))
    return shape


async def test_the_documented_trees(tmp_path: Path, pipeline: str) -> None:
    sections = {
        section.splitlines()[0]: section
        for section in (await capture(tmp_path, pipeline)).split("\n\n")
    }
    assert _shape(sections["# Submit"]) == [
        (0, "/liaison.v1.RecordExchange/Submit"),
        (1, "/liaison.v1.RecordExchange/Submit"),
        (2, "liaison.validate"),
        (2, "liaison.store.write"),
    ]
    assert "[CLIENT]" in sections["# Submit"].splitlines()[1]
    assert "[SERVER] (remote parent)" in sections["# Submit"].splitlines()[2]
    assert _shape(sections["# SubmitStream (2 messages)"])[2:] == [
        (2, "liaison.validate"),
        (2, "liaison.store.write"),
        (2, "liaison.validate"),
        (2, "liaison.store.write"),
    ]
    assert _shape(sections["# Search"]) == [
        (0, "/liaison.v1.RecordExchange/Search"),
        (1, "/liaison.v1.RecordExchange/Search"),
        (2, "liaison.store.read"),
    ]
    assert _shape(sections["# Ingest (one record refused by its diagnostics)"])[2:] == [
        (2, "liaison.adapter.decode"),
        (3, "event"),
        (3, "event"),
        (2, "liaison.store.write"),
    ]
