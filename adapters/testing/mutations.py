"""Damaged payloads: the ways legacy files really arrive broken, as hypothesis strategies.

A mutation is a small value (``Truncate(at=17)``) applied to a golden sample, so a failing case
is reported, and shrunk, as a readable description rather than as a blob of bytes. Offsets are
taken modulo the payload length, so any mutation applies to any payload.
"""

from __future__ import annotations

import abc
from collections.abc import Sequence
from dataclasses import dataclass

from hypothesis import strategies as st

__all__ = [
    "FORBIDDEN_TEXT",
    "INVALID_UTF8",
    "DeleteBytes",
    "FlipBit",
    "InsertBytes",
    "InsertInvalidUtf8",
    "Mutation",
    "Truncate",
    "apply_all",
    "mutation_lists",
]

INVALID_UTF8: tuple[bytes, ...] = (
    b"\xff",  # never valid in UTF-8
    b"\xc3",  # a lead byte without its continuation
    b"\x80",  # a continuation byte without a lead
    b"\xc0\xaf",  # an overlong encoding of "/"
    b"\xed\xa0\x80",  # a UTF-16 surrogate, which UTF-8 must not encode
    b"\xf4\x90\x80\x80",  # above U+10FFFF
)
"""Byte sequences that no valid UTF-8 text contains."""


FORBIDDEN_TEXT: tuple[bytes, ...] = (
    b"\x00",  # NUL: cuts C strings short
    b"\x1b",  # ESC: terminal escape sequences in logs
    b"\x07",  # BEL
    b"\x7f",  # DEL
    b"\n",  # a line break: forged log and CSV lines, in a single-line field
    "\u0085".encode(),  # NEL, a C1 control (in Latin-1 text: "\xc2" then the control)
    "\u202e".encode(),  # RIGHT-TO-LEFT OVERRIDE
    "\u2067".encode(),  # RIGHT-TO-LEFT ISOLATE
    "\ufffe".encode(),  # a noncharacter
)
"""Characters no record's text may hold (``liaison.rules.text``), as UTF-8 bytes."""


def _position(offset: int, payload: bytes) -> int:
    return offset % (len(payload) + 1)


class Mutation(abc.ABC):
    """One change to a payload."""

    @abc.abstractmethod
    def apply(self, payload: bytes) -> bytes:
        """The mutated payload."""


@dataclass(frozen=True, slots=True)
class Truncate(Mutation):
    """Keep only the first bytes: a transfer cut short."""

    at: int

    def apply(self, payload: bytes) -> bytes:
        return payload[: _position(self.at, payload)]


@dataclass(frozen=True, slots=True)
class FlipBit(Mutation):
    """Flip one bit: line noise, a bad disk sector."""

    offset: int
    bit: int

    def apply(self, payload: bytes) -> bytes:
        if not payload:
            return payload
        index = self.offset % len(payload)
        flipped = payload[index] ^ (1 << (self.bit % 8))
        return payload[:index] + bytes([flipped]) + payload[index + 1 :]


@dataclass(frozen=True, slots=True)
class InsertBytes(Mutation):
    """Insert bytes: a stray separator, a duplicated fragment."""

    offset: int
    data: bytes

    def apply(self, payload: bytes) -> bytes:
        index = _position(self.offset, payload)
        return payload[:index] + self.data + payload[index:]


@dataclass(frozen=True, slots=True)
class DeleteBytes(Mutation):
    """Delete a run of bytes: a lost fragment, a missing separator."""

    offset: int
    length: int

    def apply(self, payload: bytes) -> bytes:
        index = _position(self.offset, payload)
        return payload[:index] + payload[index + self.length :]


@dataclass(frozen=True, slots=True)
class InsertInvalidUtf8(Mutation):
    """Insert a byte sequence that is not UTF-8: text from a system using another charset."""

    offset: int
    sequence: bytes

    def apply(self, payload: bytes) -> bytes:
        index = _position(self.offset, payload)
        return payload[:index] + self.sequence + payload[index:]


def _mutations() -> st.SearchStrategy[Mutation]:
    offsets = st.integers(min_value=0, max_value=2**20)
    return st.one_of(
        st.builds(Truncate, at=offsets),
        st.builds(FlipBit, offset=offsets, bit=st.integers(min_value=0, max_value=7)),
        st.builds(InsertBytes, offset=offsets, data=st.binary(min_size=1, max_size=16)),
        st.builds(DeleteBytes, offset=offsets, length=st.integers(min_value=1, max_value=64)),
        st.builds(InsertInvalidUtf8, offset=offsets, sequence=st.sampled_from(INVALID_UTF8)),
    )


def mutation_lists(max_size: int = 4) -> st.SearchStrategy[list[Mutation]]:
    """One to ``max_size`` mutations, applied in order."""
    return st.lists(_mutations(), min_size=1, max_size=max_size)


def apply_all(mutations: Sequence[Mutation], payload: bytes) -> bytes:
    """``payload`` with each mutation applied in turn."""
    for mutation in mutations:
        payload = mutation.apply(payload)
    return payload
