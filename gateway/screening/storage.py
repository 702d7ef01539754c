"""Compact storage of list entries: one byte buffer, an offsets array and a liveness flag.

Millions of entries as Python objects would cost kilobytes each; encoded (see
:mod:`gateway.screening.codec`) they cost their text. A slot, once written, never moves: a new
version of a record is written to a new slot and the old one is marked dead.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt

__all__ = ["EntryStorage"]


class EntryStorage:
    """Append-only encoded entries addressed by slot number."""

    def __init__(self) -> None:
        self._blob = bytearray()
        self._ends = np.zeros(1024, dtype=np.int64)
        self._alive = np.zeros(1024, dtype=np.bool_)
        self._count = 0
        self._live = 0

    def __len__(self) -> int:
        """Slots written, dead ones included."""
        return self._count

    @property
    def live(self) -> int:
        """Slots not marked dead."""
        return self._live

    def append(self, data: bytes) -> int:
        """Write ``data`` to a new slot and return its number."""
        slot = self._count
        if slot >= len(self._ends):
            self._grow()
        self._blob += data
        self._ends[slot] = len(self._blob)
        self._alive[slot] = True
        self._count += 1
        self._live += 1
        return slot

    def get(self, slot: int) -> bytes:
        """The bytes written to ``slot`` (dead or alive)."""
        start = int(self._ends[slot - 1]) if slot else 0
        return bytes(self._blob[start : int(self._ends[slot])])

    def kill(self, slot: int) -> None:
        """Mark ``slot`` dead (it is kept until the storage is rebuilt)."""
        if self._alive[slot]:
            self._alive[slot] = False
            self._live -= 1

    def is_alive(self, slot: int) -> bool:
        """Whether ``slot`` is alive."""
        return bool(self._alive[slot])

    def alive_mask(self, slots: npt.NDArray[np.uint32]) -> npt.NDArray[np.bool_]:
        """Liveness of each of ``slots``."""
        return self._alive[slots]

    @property
    def nbytes(self) -> int:
        """Bytes held (buffer and arrays, spare capacity included)."""
        return len(self._blob) + self._ends.nbytes + self._alive.nbytes

    def _grow(self) -> None:
        size = len(self._ends) * 2
        self._ends = np.resize(self._ends, size)
        alive = np.zeros(size, dtype=np.bool_)
        alive[: self._count] = self._alive[: self._count]
        self._alive = alive
