"""Whether shell-style patterns can match the same text, and an example text when they can.

Grants name identities and methods with ``fnmatch`` patterns (``*``, ``?``, ``[...]``,
``[!...]``; case-sensitive, as ``fnmatch.fnmatchcase``). To refuse two grants that would disagree
about the same caller, the policy needs to know whether some identity matches both - exactly,
not by a heuristic that a differently spelled pattern could slip past.

Each pattern is a small automaton: a sequence of single-character tests and stars. A text
matched by every pattern exists exactly when the product of the automata reaches its end, and the
search below walks that product breadth-first. Character classes are compared on a finite set of
representative characters: a class's membership can only change at a character its pattern
spells (a literal or a range end) or right after one, so those characters, with ``\\0``, stand
for every other. Each class is evaluated by the standard library's own translation of that
bracket expression, so the semantics are ``fnmatch``'s, corner cases included.
"""

from __future__ import annotations

import fnmatch
import re
from collections import deque
from collections.abc import Sequence
from dataclasses import dataclass

__all__ = ["common_match"]

_MAX_CODE_POINT = 0x10FFFF


@dataclass(frozen=True, slots=True)
class _Star:
    """``*``: any text, also empty."""


_STAR = _Star()
_Test = re.Pattern[str] | _Star


def common_match(patterns: Sequence[str]) -> str | None:
    """A text that every pattern matches (``fnmatch.fnmatchcase``), or ``None`` if none exists.

    The answer is exact: ``None`` means no text at all matches every pattern.
    """
    programs = [_compile(pattern) for pattern in patterns]
    alphabet = _representatives(patterns)
    masks = [[_mask(test, alphabet) for test in program] for program in programs]
    everything = (1 << len(alphabet)) - 1
    start = tuple(0 for _ in programs)
    end = tuple(len(program) for program in programs)
    # state -> (previous state, character read to get here, or "" for a move past a star)
    came_from: dict[tuple[int, ...], tuple[tuple[int, ...], str] | None] = {start: None}
    queue = deque([start])
    while queue:
        state = queue.popleft()
        if state == end:
            return _spell(state, came_from)
        for following, character in _moves(state, programs, masks, alphabet, everything):
            if following not in came_from:
                came_from[following] = (state, character)
                queue.append(following)
    return None


def _moves(
    state: tuple[int, ...],
    programs: list[list[_Test]],
    masks: list[list[int]],
    alphabet: list[str],
    everything: int,
) -> list[tuple[tuple[int, ...], str]]:
    moves: list[tuple[tuple[int, ...], str]] = []
    # A star may match nothing more: step past it without reading.
    for index, position in enumerate(state):
        if position < len(programs[index]) and programs[index][position] is _STAR:
            moves.append(((*state[:index], position + 1, *state[index + 1 :]), ""))
    # Read one character that every pattern accepts here; stars stay where they are.
    allowed = everything
    for index, position in enumerate(state):
        if position == len(programs[index]):
            return moves
        allowed &= masks[index][position]
    if allowed:
        character = alphabet[(allowed & -allowed).bit_length() - 1]
        following = tuple(
            position if programs[index][position] is _STAR else position + 1
            for index, position in enumerate(state)
        )
        moves.append((following, character))
    return moves


def _spell(
    state: tuple[int, ...], came_from: dict[tuple[int, ...], tuple[tuple[int, ...], str] | None]
) -> str:
    characters: list[str] = []
    step = came_from[state]
    while step is not None:
        state, character = step
        characters.append(character)
        step = came_from[state]
    return "".join(reversed(characters))


def _compile(pattern: str) -> list[_Test]:
    """The pattern as single-character tests and stars (consecutive stars are one)."""
    program: list[_Test] = []
    index = 0
    while index < len(pattern):
        character = pattern[index]
        if character == "*":
            if not program or program[-1] is not _STAR:
                program.append(_STAR)
            index += 1
            continue
        end = _bracket_end(pattern, index) if character == "[" else index
        # One token, translated by fnmatch itself: a literal, ``?`` or a bracket expression.
        program.append(re.compile(fnmatch.translate(pattern[index : end + 1])))
        index = end + 1
    return program


def _bracket_end(pattern: str, start: int) -> int:
    """Index of the ``]`` closing the bracket at ``start``, or ``start`` when it is a literal
    ``[`` (no closing bracket) - the same scan as ``fnmatch.translate``."""
    index = start + 1
    if index < len(pattern) and pattern[index] == "!":
        index += 1
    if index < len(pattern) and pattern[index] == "]":
        index += 1
    while index < len(pattern) and pattern[index] != "]":
        index += 1
    return index if index < len(pattern) else start


def _representatives(patterns: Sequence[str]) -> list[str]:
    points = {0}
    for pattern in patterns:
        for character in pattern:
            points.add(ord(character))
            points.add(min(ord(character) + 1, _MAX_CODE_POINT))
    return [chr(point) for point in sorted(points)]


def _mask(test: _Test, alphabet: list[str]) -> int:
    if isinstance(test, _Star):
        return (1 << len(alphabet)) - 1
    mask = 0
    for bit, character in enumerate(alphabet):
        if test.match(character):
            mask |= 1 << bit
    return mask
