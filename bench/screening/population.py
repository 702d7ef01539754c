"""Synthetic people at scale for the speed benchmark: names, birth dates, documents.

Names follow the Latin-script naming cultures of the evaluation set (``cultures.py``): a given
name of the culture, and a family name that is the culture's own three times in ten and an
invented one otherwise (a real family name with a common ending, cut short, plus a random
syllable), so that a million names are not a few thousand repeated. Random draws are made with
numpy in blocks; only the string assembly is per person.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from bench.screening.cultures import CULTURES

__all__ = ["BLOCK", "People", "Population"]

BLOCK = 50_000
"""People drawn per block of random numbers."""
_ENDINGS = ("", "SKI", "EN", "SON", "ER", "AN", "OV", "IC")
_CONSONANTS = "BCDFGKLMNPRSTVZ"
_VOWELS = "AEIOU"
_CODAS = ("", "N", "R", "S", "L")
_FIRST_YEAR, _LAST_YEAR = 1940, 2005
_DOCUMENT_LETTERS = "ABCDEFGHJKLMNPRTUVWXY"


def _ascii(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c) and ord(c) < 128).upper()


@dataclass(frozen=True, slots=True)
class People:
    """One block of people, column by column (plain lists, ready for a Python loop)."""

    family: list[str]
    given: list[str]
    sex: list[int]
    """1 female, 2 male."""
    nationality: list[str]
    year: list[int]
    month: list[int]
    """0 when only the year is known."""
    day: list[int]
    """0 when only the year, or the year and month, are known."""
    document: list[str]
    """A passport number: a letter and eight digits."""

    def __len__(self) -> int:
        return len(self.family)


class Population:
    """Deterministic blocks of people for a seed."""

    def __init__(self, seed: int) -> None:
        """People drawn from numpy's generator seeded with ``seed``."""
        self._random = np.random.default_rng(seed)
        latin = [c for c in CULTURES if c.script == "Latn"]
        self._nationalities = [c.nationality for c in latin]
        self._families = [[_ascii(f) for f in c.families] for c in latin]
        self._given = [([_ascii(g) for g in c.female], [_ascii(g) for g in c.male]) for c in latin]

    def blocks(self, count: int, *, partial_dates: bool) -> Iterator[People]:
        """``count`` people in blocks of :data:`BLOCK`; with ``partial_dates``, one in ten is
        born in a known year only and one in twenty in a known year and month (notices)."""
        for first in range(0, count, BLOCK):
            yield self._block(min(BLOCK, count - first), partial_dates)

    def documents(self, count: int) -> Iterator[tuple[list[str], list[str], list[int]]]:
        """``count`` passports in blocks of :data:`BLOCK`: (issuing state, number, holder's sex)
        column by column, without names (cheaper: a stolen passport is found by its number)."""
        for first in range(0, count, BLOCK):
            size = min(BLOCK, count - first)
            states = self._random.integers(0, len(self._nationalities), size)
            yield (
                [self._nationalities[i] for i in states],
                self._documents(size),
                self._random.integers(1, 3, size).tolist(),
            )

    def _block(self, size: int, partial_dates: bool) -> People:
        draw = self._random
        culture = draw.integers(0, len(self._families), size)
        sex = draw.integers(1, 3, size)
        given_at, family_at, cut_at = draw.random(size), draw.random(size), draw.random(size)
        invented = draw.random(size) < 0.7
        ending = draw.integers(0, len(_ENDINGS), size)
        syllables = np.stack(
            [
                draw.integers(0, len(_CONSONANTS), size),
                draw.integers(0, len(_VOWELS), size),
                draw.integers(0, len(_CODAS), size),
            ],
            axis=1,
        )
        family, given = [], []
        for row in range(size):
            names = self._families[culture[row]]
            base = names[int(family_at[row] * len(names))]
            firsts = self._given[culture[row]][sex[row] - 1]
            given.append(firsts[int(given_at[row] * len(firsts))])
            if invented[row]:
                base += _ENDINGS[ending[row]]
                shortest = min(3, len(base))
                base = base[: shortest + int(cut_at[row] * (len(base) - shortest + 1))]
                consonant, vowel, coda = syllables[row]
                base += _CONSONANTS[consonant] + _VOWELS[vowel] + _CODAS[coda]
            family.append(base)
        year, month, day = self._dates(size, partial_dates)
        return People(
            family=family,
            given=given,
            sex=sex.tolist(),
            nationality=[
                self._nationalities[i] for i in draw.integers(0, len(self._nationalities), size)
            ],
            year=year.tolist(),
            month=month.tolist(),
            day=day.tolist(),
            document=self._documents(size),
        )

    def _dates(
        self, size: int, partial: bool
    ) -> tuple[npt.NDArray[np.int64], npt.NDArray[np.int64], npt.NDArray[np.int64]]:
        draw = self._random
        year = draw.integers(_FIRST_YEAR, _LAST_YEAR + 1, size)
        month = draw.integers(1, 13, size)
        day = draw.integers(1, 29, size)
        if partial:
            precision = draw.random(size)
            month = np.where(precision < 0.1, 0, month)
            day = np.where(precision < 0.15, 0, day)
        return year, month, day

    def _documents(self, size: int) -> list[str]:
        letters = self._random.integers(0, len(_DOCUMENT_LETTERS), size).tolist()
        numbers = self._random.integers(0, 100_000_000, size).tolist()
        return [f"{_DOCUMENT_LETTERS[a]}{n:08d}" for a, n in zip(letters, numbers, strict=True)]
