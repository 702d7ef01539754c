"""The best score a candidate could reach, computed for thousands of candidates at once.

Most candidates a manifest brings up are people who share a given name and a birth year with
the traveller, and score far below any review threshold. Decoding and comparing each of them in
Python cost 60-75 µs; this module bounds their score from the index's arrays instead, and the
index leaves out every candidate whose bound is below the lowest review threshold that applies.
The bound never underestimates (``tests/gateway/screening/test_bound.py`` screens with and
without it and compares), so no match is lost; it is the score's own formula
(:mod:`gateway.screening.scoring`) with each term replaced by its largest possible value:

- **birth date**, **sex**, **nationality**: exact (the postings carry the entry's dates, the
  facts table its sex and nationality; an entry with several nationalities is assumed to share
  one);
- **document**: 0, since a candidate with a matching or OCR-confused document was found by its
  document key, and those are never left out;
- **name**: each of the subject's words is worth 1.0 if one of its codes was found among the
  entry's postings (its own code, a glued or contracted form of it: every way two words can be
  similar at 0.8 or more shares such a code), else the best a typo (0.7, 0.5, 0.4: letters and
  lengths must allow an edit distance of one or two) or an initial (0.3) could give; the best
  values are weighted by rank as the score weighs matched words, up to the number of words the
  shorter name has. Words that certainly match nothing on both sides cost what contradictions
  and missing words cost, when the entry has a single name form. A name with no possible match
  at all scores exactly the "nothing in common" weight.
"""

from __future__ import annotations

import math

import numpy as np
import numpy.typing as npt

from gateway.screening.dates import WEIGHTS as DATE_WEIGHTS
from gateway.screening.facts import (
    SEVERAL,
    EntryFactsTable,
    SubjectFacts,
    head_fields,
)
from gateway.screening.name_match import (
    CONTRADICTION_WEIGHTS,
    MISSING_WEIGHT,
    NOTHING_IN_COMMON_WEIGHT,
    RANK_WEIGHTS,
    SIMILARITY,
)
from gateway.screening.postings import MAX_WORDS
from gateway.screening.scoring import NATIONALITY_WEIGHTS, PRIOR, SEX_WEIGHTS

__all__ = ["MARGIN", "date_weights", "floor_logit", "score_bounds"]

MARGIN = 0.01
"""Log-odds added to every bound: weights are rounded to three decimals when scored."""
_FLOAT = np.float64
_MAX_PENALISED = 16


def floor_logit(review_threshold: float) -> float:
    """The log-odds a bound must reach for a score of ``review_threshold`` to be possible.

    Scores are rounded to four decimals, so a raw score 0.00005 below the threshold still
    counts; below 0.00005 nothing can be left out (-inf).
    """
    lowest = review_threshold - 0.00005
    if lowest <= 0.0:
        return -math.inf
    if lowest >= 1.0:
        return math.inf
    return math.log(lowest / (1.0 - lowest)) - MARGIN


def date_weights(
    subject: npt.NDArray[np.int64], entry: npt.NDArray[np.int64]
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.bool_]]:
    """The birth-date weight of each pair of dates, and whether both dates are known.

    Args:
        subject: (n, 3) year, month, day (0: unknown; year 0: no date).
        entry: (n, 3) the same for the entry.
    """
    sy, sm, sd = subject[:, 0], subject[:, 1], subject[:, 2]
    ey, em, ed = entry[:, 0], entry[:, 1], entry[:, 2]
    known = (sy > 0) & (ey > 0)
    apart = np.abs(sy - ey)
    weight = np.where(
        apart == 1, DATE_WEIGHTS["contradiction_year_1"], DATE_WEIGHTS["contradiction_year"]
    )
    same_year = apart == 0
    weight = np.where(same_year, DATE_WEIGHTS["contradiction_day"], weight)
    swapped = (sd > 0) & (ed > 0) & (sm == ed) & (sd == em) & (sm != em)
    weight = np.where(same_year & swapped, DATE_WEIGHTS["day_month_swapped"], weight)
    same_month = same_year & (sm == em) & (sm > 0)
    weight = np.where(
        same_month & ((sd == 0) | (ed == 0)), DATE_WEIGHTS["partial_date_month"], weight
    )
    weight = np.where(same_month & (sd == ed) & (sd > 0), DATE_WEIGHTS["exact"], weight)
    weight = np.where(
        same_year & ((sm == 0) | (em == 0)), DATE_WEIGHTS["partial_date_year"], weight
    )
    return np.where(known, weight, 0.0).astype(_FLOAT), known


def _penalties() -> npt.NDArray[np.float64]:
    """What ``a`` surely unmatched subject words and ``b`` entry words cost at the least."""
    table = np.zeros((_MAX_PENALISED + 1, MAX_WORDS + 1), dtype=_FLOAT)
    for a in range(_MAX_PENALISED + 1):
        for b in range(MAX_WORDS + 1):
            paired = min(a, b)
            cost = sum(
                CONTRADICTION_WEIGHTS[min(i, len(CONTRADICTION_WEIGHTS) - 1)] for i in range(paired)
            )
            table[a, b] = cost + MISSING_WEIGHT * (max(a, b) - paired)
    return table


_PENALTIES = _penalties()


def _rank_weights(count: int) -> npt.NDArray[np.float64]:
    return np.array(
        [RANK_WEIGHTS[min(rank, len(RANK_WEIGHTS) - 1)] for rank in range(count)], dtype=_FLOAT
    )


def _popcount(values: npt.NDArray[np.integer]) -> npt.NDArray[np.int64]:
    counts: npt.NDArray[np.int64] = np.bitwise_count(values).astype(np.int64)
    return counts


def score_bounds(
    subjects: SubjectFacts,
    table: EntryFactsTable,
    subject: npt.NDArray[np.int64],
    rows: npt.NDArray[np.int64],
    subject_hits: npt.NDArray[np.int64],
    entry_hits: npt.NDArray[np.int64],
    date_weight: npt.NDArray[np.float64],
    floor: float,
) -> npt.NDArray[np.bool_]:
    """Whether each candidate's best possible score reaches log-odds ``floor``.

    Args:
        subjects: The facts of the subjects being screened.
        table: The entries' facts.
        subject: Each candidate's subject index.
        rows: Each candidate's row in ``table`` (-1: none, never left out).
        subject_hits: Bits of the subject's word places whose codes were found for the
            candidate.
        entry_hits: Bits of the entry's words whose codes were found.
        date_weight: The best birth-date weight of the candidate's postings (0: none known).
        floor: The log-odds of the lowest review threshold that applies.
    """
    keep = np.ones(len(rows), dtype=np.bool_)
    judged = np.flatnonzero((rows >= 0) & subjects.bounded[subject])
    if not len(judged) or floor == -math.inf:
        return keep
    heads, masks, lengths, initials = table.columns(rows[judged])
    entry_tokens, single_form, bounded, entry_sex, entry_nationality = head_fields(heads)
    who = subject[judged]
    rest = (
        PRIOR
        + MARGIN
        + date_weight[judged]
        + _sex_weights(subjects.sex[who], entry_sex)
        + _nationality_weights(subjects.nationalities[who], entry_nationality)
    )
    width = max(int(subjects.words[who].max()), 1)
    places = np.left_shift(1, np.arange(width, dtype=np.int64))
    valid = np.arange(width)[None, :] < subjects.words[who][:, None]
    hit = ((subject_hits[judged][:, None] & places[None, :]) != 0) & valid
    forms = int(subjects.forms[who].max())
    # Stage 1, cheap: a word not found by its codes is worth at most a typo.
    value = np.where(hit, 1.0, np.where(valid, SIMILARITY["typo"], 0.0))
    first = rest + _best_form(subjects, who, value, entry_tokens, forms, None)
    maybe = ~bounded | (first >= floor)
    stage = np.flatnonzero(bounded & maybe)
    if len(stage):
        value, unreachable = _compared(
            subjects,
            who[stage],
            hit[stage],
            valid[stage],
            masks[stage],
            lengths[stage],
            initials[stage],
            entry_hits[judged][stage],
        )
        penalties = (unreachable, single_form[stage])
        second = _best_form(subjects, who[stage], value, entry_tokens[stage], forms, penalties)
        maybe[stage] = rest[stage] + second >= floor
    keep[judged] = maybe
    return keep


def _best_form(
    subjects: SubjectFacts,
    who: npt.NDArray[np.int64],
    value: npt.NDArray[np.float64],
    entry_tokens: npt.NDArray[np.int64],
    forms: int,
    penalties: tuple[npt.NDArray[np.int64], npt.NDArray[np.bool_]] | None,
) -> npt.NDArray[np.float64]:
    """The best name weight over the subject's forms, each form's words valued by ``value``.

    Without ``penalties`` (stage 1) unmatched words cost nothing; with them, ``(surely
    unmatched entry words, entry has a single form)``, a single-form entry's words that cannot
    match cost what contradictions and missing words cost.
    """
    width = value.shape[1]
    places = np.left_shift(1, np.arange(width, dtype=np.int64))
    ranks = _rank_weights(width)
    possible = ((value > 0) * places[None, :]).sum(axis=1)
    best = np.full(len(who), -np.inf)
    for form in range(forms):
        members = subjects.form_words[who, form]
        inside = (members[:, None] & places[None, :]) != 0
        mine = value * inside
        lines = np.minimum(subjects.form_tokens[who, form], entry_tokens)
        weight = _ranked(mine, lines, ranks)
        anything = (mine > 0).any(axis=1)
        if penalties is not None:
            unreachable, single_form = penalties
            surely_mine = np.minimum(_popcount(members & ~possible), _MAX_PENALISED)
            penalty = np.where(single_form, _PENALTIES[surely_mine, unreachable], 0.0)
            weight = np.maximum(weight + penalty, NOTHING_IN_COMMON_WEIGHT)
        weight = np.where(anything, weight, NOTHING_IN_COMMON_WEIGHT)
        best = np.where(form < subjects.forms[who], np.maximum(best, weight), best)
    return best


def _ranked(
    value: npt.NDArray[np.float64], lines: npt.NDArray[np.int64], ranks: npt.NDArray[np.float64]
) -> npt.NDArray[np.float64]:
    """Sum of rank weight times value over the best ``lines`` values of each row."""
    best = -np.sort(-value, axis=1)
    counted = np.arange(value.shape[1])[None, :] < lines[:, None]
    total: npt.NDArray[np.float64] = (best * ranks[None, :] * counted).sum(axis=1)
    return total


def _compared(
    subjects: SubjectFacts,
    who: npt.NDArray[np.int64],
    hit: npt.NDArray[np.bool_],
    valid: npt.NDArray[np.bool_],
    entry_masks: npt.NDArray[np.uint32],
    entry_lengths: npt.NDArray[np.uint8],
    entry_initials: npt.NDArray[np.uint8],
    entry_hits: npt.NDArray[np.int64],
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.int64]]:
    """Every pair of words compared by letters, length and initial: (the value of each subject
    word, the number of the entry's words that can match nothing of the subject's)."""
    width = hit.shape[1]
    masks = subjects.masks[who, :width]
    lengths = subjects.lengths[who, :width]
    initials = subjects.initials[who, :width]
    theirs = entry_lengths.astype(np.int64)
    present = theirs > 0
    differing = _popcount(masks[:, :, None] ^ entry_masks[:, None, :])
    apart = np.abs(lengths[:, :, None] - theirs[:, None, :])
    shortest = np.minimum(lengths[:, :, None], theirs[:, None, :])
    one_edit = (apart <= 1) & (differing <= 2) & (shortest > 1)
    similarity = np.where(
        one_edit, np.where(shortest >= 4, SIMILARITY["typo"], SIMILARITY["typo_short"]), 0.0
    )
    two_edits = (apart <= 2) & (differing <= 4) & (shortest >= 6)
    similarity = np.maximum(similarity, np.where(two_edits, SIMILARITY["typo_2"], 0.0))
    initial = ((lengths[:, :, None] == 1) | (theirs[:, None, :] == 1)) & (
        initials[:, :, None] == entry_initials[:, None, :]
    )
    similarity = np.maximum(similarity, np.where(initial, SIMILARITY["initial"], 0.0))
    similarity *= valid[:, :, None] & present[:, None, :]
    value = np.where(hit, 1.0, similarity.max(axis=2, initial=0.0))
    entry_bits = np.left_shift(1, np.arange(MAX_WORDS, dtype=np.int64))
    reachable = ((similarity > 0).any(axis=1) * entry_bits[None, :]).sum(axis=1) | entry_hits
    present_bits = (present * entry_bits[None, :]).sum(axis=1)
    return value, _popcount(present_bits & ~reachable)


def _sex_weights(
    mine: npt.NDArray[np.int64], theirs: npt.NDArray[np.int64]
) -> npt.NDArray[np.float64]:
    known = (mine > 0) & (theirs > 0)
    weight = np.where(mine == theirs, SEX_WEIGHTS["match"], SEX_WEIGHTS["contradiction"])
    return np.where(known, weight, 0.0)


def _nationality_weights(
    mine: npt.NDArray[np.int64], theirs: npt.NDArray[np.int64]
) -> npt.NDArray[np.float64]:
    shared = (mine == theirs[:, None]).any(axis=1) | (theirs == SEVERAL)
    weight = np.where(shared, NATIONALITY_WEIGHTS["match"], NATIONALITY_WEIGHTS["contradiction"])
    known = (theirs > 0) & (mine[:, 0] > 0)
    return np.where(known, weight, 0.0)
