"""Writing EDIFACT text: segments with released service characters, and message counts.

The writer always declares its service characters with ``UNA:+.? '`` (ISO 9735, the defaults
the PAXLST guide's examples use). A component is released by putting the release character
``?`` before each ``?``, ``'``, ``+`` and ``:`` it holds (ISO 9735 clause 7, "release
character"); the repetition position of the UNA is a space, so ``*`` is data. Trailing empty
components and data elements are omitted, as ISO 9735 requires.
"""

from __future__ import annotations

from collections.abc import Sequence

from adapters.paxlst.syntax import DEFAULT_CHARACTERS

__all__ = ["Element", "MessageWriter", "escape", "segment_text"]

Element = str | Sequence[str]
"""A simple data element (a string) or a composite (its components)."""

_RELEASE = DEFAULT_CHARACTERS.release
_ESCAPES = str.maketrans(
    {
        character: _RELEASE + character
        for character in (
            DEFAULT_CHARACTERS.release,
            DEFAULT_CHARACTERS.terminator,
            DEFAULT_CHARACTERS.data,
            DEFAULT_CHARACTERS.component,
        )
    }
)


def escape(value: str) -> str:
    """``value`` with its service characters released."""
    return value.translate(_ESCAPES)


def segment_text(tag: str, elements: Sequence[Element]) -> str:
    """One segment, terminator included."""
    written: list[str] = []
    for element in elements:
        if isinstance(element, str):
            written.append(escape(element))
            continue
        components = [escape(component) for component in element]
        while components and not components[-1]:
            components.pop()
        written.append(DEFAULT_CHARACTERS.component.join(components))
    while written and not written[-1]:
        written.pop()
    data = DEFAULT_CHARACTERS.data
    return tag + "".join(data + value for value in written) + DEFAULT_CHARACTERS.terminator


class MessageWriter:
    """The segments of one message, counted for its UNT."""

    def __init__(self) -> None:
        self.segments: list[str] = []

    def add(self, tag: str, *elements: Element) -> None:
        self.segments.append(segment_text(tag, elements))

    def close(self, reference: str) -> None:
        """Append the UNT: the segment count includes the UNH and the UNT themselves."""
        self.add("UNT", str(len(self.segments) + 1), reference)
