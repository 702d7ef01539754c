"""Compact storage of list entries: one byte buffer, an offsets array and a liveness flag.

Millions of entries as Python objects would cost kilobytes each; encoded (see
:mod:`gateway.screening.codec`) they cost their text. A slot, once written, never moves: a new
version of a record is written to a new slot and the old one is marked dead. Appending is a few
C-level calls (``bytearray`` and ``array`` grow in place), so a bulk load of ten million entries
spends its time encoding, not storing.
"""

from __future__ import annotations

from array import array

import numpy as np
import numpy.typing as npt

__all__ = ["EntryStorage"]


class EntryStorage:
    """Append-only encoded entries addressed by slot number."""

    def __init__(self) -> None:
        """Empty storage."""
        self._blob = bytearray()
        self._ends = array("Q")
        self._alive = bytearray()
        self._live = 0

    def __len__(self) -> int:
        """Slots written, dead ones included."""
        return len(self._ends)

    @property
    def live(self) -> int:
        """Slots not marked dead."""
        return self._live

    def append(self, data: bytes) -> int:
        """Write ``data`` to a new slot and return its number."""
        self._blob += data
        self._ends.append(len(self._blob))
        self._alive.append(1)
        self._live += 1
        return len(self._ends) - 1

    def get(self, slot: int) -> bytearray:
        """The bytes written to ``slot`` (dead or alive)."""
        start = self._ends[slot - 1] if slot else 0
        return self._blob[start : self._ends[slot]]

    def kill(self, slot: int) -> None:
        """Mark ``slot`` dead (it is kept until the storage is rebuilt)."""
        if self._alive[slot]:
            self._alive[slot] = 0
            self._live -= 1

    def is_alive(self, slot: int) -> bool:
        """Whether ``slot`` is alive."""
        return bool(self._alive[slot])

    def alive_mask(self, slots: npt.NDArray[np.integer]) -> npt.NDArray[np.bool_]:
        """Liveness of each of ``slots``."""
        # A view of the bytearray only for the length of this call: a view kept alive would
        # forbid the bytearray to grow.
        return np.frombuffer(self._alive, dtype=np.bool_)[slots] if len(slots) else _NONE

    @property
    def nbytes(self) -> int:
        """Bytes held (buffer and arrays, spare capacity excluded)."""
        return len(self._blob) + self._ends.itemsize * len(self._ends) + len(self._alive)


_NONE: npt.NDArray[np.bool_] = np.empty(0, dtype=np.bool_)
