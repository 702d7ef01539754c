"""What the score bound needs to know about an entry or a subject, as small integers.

For each distinct significant word of a name: its letters as a bit set (A-Z, one bit for any
digit), its length and its initial; for the person: sex, nationalities as 16-bit codes, how many
words its longest name form has, and whether it has a single form. Entries keep these in a
table of fixed-width rows ordered by slot (:class:`EntryFactsTable`); a manifest's subjects are
described the same way when they are screened (:class:`SubjectFacts`).
"""

from __future__ import annotations

import hashlib
from array import array
from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from gateway.screening.memo import memoized
from gateway.screening.names import NameForm
from gateway.screening.postings import MAX_WORDS

__all__ = [
    "MAX_SUBJECT_FORMS",
    "MAX_SUBJECT_NATIONALITIES",
    "MAX_SUBJECT_WORDS",
    "SEVERAL",
    "EntryFactsTable",
    "SubjectFacts",
    "letter_mask",
    "nationality_code",
]

MAX_SUBJECT_WORDS = 16
MAX_SUBJECT_FORMS = 8
MAX_SUBJECT_NATIONALITIES = 4
SEVERAL = 0xFFFF
"""Nationality code of an entry with more than one nationality (the bound assumes a match)."""
_DIGIT_BIT = 1 << 26
_OTHER_BIT = 1 << 27
_SINGLE_FORM = 1 << 8
_BOUNDED = 1 << 9
_SEX_SHIFT = 10
_NATIONALITY_SHIFT = 16


@memoized(maxsize=65_536)
def letter_mask(text: str) -> int:
    """The set of letters in ``text`` as bits (A = bit 0; any digit one bit; anything else one)."""
    mask = 0
    for char in text:
        if "A" <= char <= "Z":
            mask |= 1 << (ord(char) - 65)
        elif "0" <= char <= "9":
            mask |= _DIGIT_BIT
        else:
            mask |= _OTHER_BIT
    return mask


@memoized(maxsize=4096)
def nationality_code(country: str) -> int:
    """A 16-bit code of a nationality, never 0 or :data:`SEVERAL`; exact for three letters.

    Equal nationalities always get equal codes; different ones almost always differ (a
    collision only makes the bound assume a match, which is safe).
    """
    if len(country) == 3 and country.isascii() and country.isalpha() and country.isupper():
        a, b, c = (ord(char) - 65 for char in country)
        return 1 + a * 676 + b * 26 + c
    digest = int.from_bytes(hashlib.blake2b(country.encode(), digest_size=4).digest(), "big")
    return 17_577 + digest % (SEVERAL - 17_577)


@memoized(maxsize=65_536)
def _word_facts(word: str) -> tuple[int, int, int]:
    """(letters, length capped at 255, initial) of a word."""
    return letter_mask(word), min(len(word), 255), _initial(word)


_ZEROS = [0] * MAX_WORDS


def _initial(word: str) -> int:
    # Words are upper-case ASCII (see gateway.screening.scripts); anything else is one value.
    return ord(word[0]) if word[0].isascii() else 0x7F


def _entry_nationality(nationalities: Sequence[str]) -> int:
    if not nationalities:
        return 0
    if len(nationalities) > 1:
        return SEVERAL
    return nationality_code(nationalities[0])


class EntryFactsTable:
    """Fixed-width facts of every entry that has a name, in slot order (slots only grow)."""

    def __init__(self) -> None:
        """An empty table."""
        self._slots = array("I")
        self._heads = array("I")
        self._masks = array("I")
        self._lengths = bytearray()
        self._initials = bytearray()

    def __len__(self) -> int:
        """Rows."""
        return len(self._slots)

    def append(
        self,
        slot: int,
        forms: Sequence[NameForm],
        pool: Sequence[str],
        sex: int,
        nationalities: Sequence[str],
    ) -> None:
        """Add the row of the entry in ``slot`` (greater than every slot already added)."""
        slots = self._slots
        if slots and slot <= slots[-1]:
            raise ValueError(f"facts of slot {slot} added after slot {slots[-1]}")
        head = min(max([len(form.tokens) for form in forms]), 255)
        if len(forms) == 1:
            head |= _SINGLE_FORM
        if len(pool) <= MAX_WORDS:
            head |= _BOUNDED
        if sex == 1 or sex == 2:
            head |= sex << _SEX_SHIFT
        head |= _entry_nationality(nationalities) << _NATIONALITY_SHIFT
        slots.append(slot)
        self._heads.append(head)
        masks, lengths, initials = self._masks, self._lengths, self._initials
        for word in pool[:MAX_WORDS]:
            mask, length, initial = _word_facts(word)
            masks.append(mask)
            lengths.append(length)
            initials.append(initial)
        padding = MAX_WORDS - min(len(pool), MAX_WORDS)
        if padding:
            masks.extend(_ZEROS[:padding])
            lengths.extend(_ZEROS[:padding])
            initials.extend(_ZEROS[:padding])

    @property
    def nbytes(self) -> int:
        """Bytes held."""
        return (
            self._slots.itemsize * len(self._slots)
            + self._heads.itemsize * len(self._heads)
            + self._masks.itemsize * len(self._masks)
            + len(self._lengths)
            + len(self._initials)
        )

    def rows(self, slots: npt.NDArray[np.int64]) -> npt.NDArray[np.int64]:
        """The row of each slot, -1 where the slot has no facts."""
        known = np.frombuffer(self._slots, dtype=np.uint32) if self._slots else _NO_SLOTS
        rows = np.searchsorted(known, slots).astype(np.int64)
        inside = rows < len(known)
        found = np.zeros(len(slots), dtype=np.bool_)
        found[inside] = known[rows[inside]] == slots[inside]
        return np.where(found, rows, -1)

    def columns(
        self, rows: npt.NDArray[np.int64]
    ) -> tuple[
        npt.NDArray[np.uint32],
        npt.NDArray[np.uint32],
        npt.NDArray[np.uint8],
        npt.NDArray[np.uint8],
    ]:
        """(head, word masks, word lengths, word initials) of ``rows`` (each row valid)."""
        heads = np.frombuffer(self._heads, dtype=np.uint32)[rows]
        masks = np.frombuffer(self._masks, dtype=np.uint32).reshape(-1, MAX_WORDS)[rows]
        lengths = np.frombuffer(self._lengths, dtype=np.uint8).reshape(-1, MAX_WORDS)[rows]
        initials = np.frombuffer(self._initials, dtype=np.uint8).reshape(-1, MAX_WORDS)[rows]
        return heads, masks, lengths, initials


_NO_SLOTS: npt.NDArray[np.uint32] = np.empty(0, dtype=np.uint32)


def head_fields(
    heads: npt.NDArray[np.uint32],
) -> tuple[
    npt.NDArray[np.int64],
    npt.NDArray[np.bool_],
    npt.NDArray[np.bool_],
    npt.NDArray[np.int64],
    npt.NDArray[np.int64],
]:
    """(longest form's word count, single form, bounded, sex, nationality code) of rows."""
    wide = heads.astype(np.int64)
    return (
        wide & 0xFF,
        (wide & _SINGLE_FORM) != 0,
        (wide & _BOUNDED) != 0,
        (wide >> _SEX_SHIFT) & 0x3,
        (wide >> _NATIONALITY_SHIFT) & 0xFFFF,
    )


class SubjectFacts:
    """The facts of the subjects of one screening call, as arrays indexed by subject.

    A subject's words are the significant words of each of its forms in turn (a word in two
    forms, or twice in one, has two places), so that each form can be bounded on its own.
    Described one by one with :meth:`set` (plain lists), then turned into arrays at once by
    :meth:`freeze`.
    """

    def __init__(self, count: int) -> None:
        """Room for ``count`` subjects, all unbounded until :meth:`set` describes them."""
        self._count = count
        words, forms = count * MAX_SUBJECT_WORDS, count * MAX_SUBJECT_FORMS
        self._masks = [0] * words
        self._lengths = [0] * words
        self._initials = [0] * words
        self._form_words = [0] * forms
        self._form_tokens = [0] * forms
        self._nationalities = [0] * (count * MAX_SUBJECT_NATIONALITIES)
        self._words = [0] * count
        self._forms = [0] * count
        self._sex = [0] * count
        self._bounded = [False] * count
        # The arrays the bound reads, filled by freeze().
        self.masks: npt.NDArray[np.uint32] = np.empty((0, MAX_SUBJECT_WORDS), dtype=np.uint32)
        self.lengths: npt.NDArray[np.int64] = np.empty((0, MAX_SUBJECT_WORDS), dtype=np.int64)
        self.initials: npt.NDArray[np.uint8] = np.empty((0, MAX_SUBJECT_WORDS), dtype=np.uint8)
        self.form_words: npt.NDArray[np.int64] = np.empty((0, MAX_SUBJECT_FORMS), dtype=np.int64)
        """Each form's places as bits (0 for no form)."""
        self.form_tokens: npt.NDArray[np.int64] = np.empty((0, MAX_SUBJECT_FORMS), dtype=np.int64)
        """Each form's words, particles included."""
        self.nationalities: npt.NDArray[np.int64] = np.empty(
            (0, MAX_SUBJECT_NATIONALITIES), dtype=np.int64
        )
        self.words: npt.NDArray[np.int64] = np.empty(0, dtype=np.int64)
        """Places used in the word arrays."""
        self.forms: npt.NDArray[np.int64] = np.empty(0, dtype=np.int64)
        self.sex: npt.NDArray[np.int64] = np.empty(0, dtype=np.int64)
        self.bounded: npt.NDArray[np.bool_] = np.empty(0, dtype=np.bool_)

    def set(
        self, index: int, forms: Sequence[NameForm], sex: int, nationalities: Sequence[str]
    ) -> dict[str, int]:
        """Describe subject ``index``; returns the bits of the places of each word text.

        A subject with no name, too many words or forms, or too many nationalities stays
        unbounded (its candidates are never left out).
        """
        bits: dict[str, int] = {}
        places = [(f, token.text) for f, form in enumerate(forms) for token in form.significant]
        codes = {nationality_code(country) for country in nationalities}
        if (
            not places
            or len(places) > MAX_SUBJECT_WORDS
            or len(forms) > MAX_SUBJECT_FORMS
            or len(codes) > MAX_SUBJECT_NATIONALITIES
        ):
            return bits
        words = index * MAX_SUBJECT_WORDS
        first_form = index * MAX_SUBJECT_FORMS
        for place, (form, word) in enumerate(places):
            bit = 1 << place
            bits[word] = bits.get(word, 0) | bit
            self._masks[words + place] = letter_mask(word)
            self._lengths[words + place] = len(word)
            self._initials[words + place] = _initial(word)
            self._form_words[first_form + form] |= bit
        for form, name in enumerate(forms):
            self._form_tokens[first_form + form] = len(name.tokens)
        for position, code in enumerate(sorted(codes)):
            self._nationalities[index * MAX_SUBJECT_NATIONALITIES + position] = code
        self._words[index] = len(places)
        self._forms[index] = len(forms)
        self._sex[index] = sex if sex in (1, 2) else 0
        self._bounded[index] = True
        return bits

    def freeze(self) -> None:
        """Turn the descriptions into the arrays the bound reads."""
        count = self._count
        self.masks = np.array(self._masks, dtype=np.uint32).reshape(count, MAX_SUBJECT_WORDS)
        self.lengths = np.array(self._lengths, dtype=np.int64).reshape(count, MAX_SUBJECT_WORDS)
        self.initials = np.array(self._initials, dtype=np.uint8).reshape(count, MAX_SUBJECT_WORDS)
        self.form_words = np.array(self._form_words, dtype=np.int64).reshape(
            count, MAX_SUBJECT_FORMS
        )
        self.form_tokens = np.array(self._form_tokens, dtype=np.int64).reshape(
            count, MAX_SUBJECT_FORMS
        )
        self.nationalities = np.array(self._nationalities, dtype=np.int64).reshape(
            count, MAX_SUBJECT_NATIONALITIES
        )
        self.words = np.array(self._words, dtype=np.int64)
        self.forms = np.array(self._forms, dtype=np.int64)
        self.sex = np.array(self._sex, dtype=np.int64)
        self.bounded = np.array(self._bounded, dtype=np.bool_)
