"""Names compared token by token, independent of order, with one explanation line per token.

Each significant token of one name is paired with at most one of the other's, best pairs first
(:func:`token_similarity`: exact, diacritics, transliteration, phonetic, typo, initial). The
matched tokens add weight in order of strength (3.0, 2.5, 1.2, 0.6, 0.3 times the similarity):
an exact two-word name weighs the same whether it is "LI WEI" or "KONSTANTINOPOULOS
ALEXANDROS", so short names are not penalised for being short. Unmatched tokens on both sides
contradict each other (a sibling's given name); a token missing on one side only (a second
surname left out, a missing given name, a middle name) costs little. A word glued from two of
the other side's ("VANDENBERG", "WANGWEI") matches them together.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from rapidfuzz.distance import OSA, JaroWinkler

from gateway.screening.model import Evidence, NameRole, PersonName
from gateway.screening.names import NameForm, Token, contracted, name_forms, spelling_key

__all__ = [
    "CONTRADICTION_WEIGHTS",
    "MISSING_WEIGHT",
    "NOTHING_IN_COMMON_WEIGHT",
    "RANK_WEIGHTS",
    "SIMILARITY",
    "NameComparison",
    "compare_names",
    "forms_of",
    "token_similarity",
]

RANK_WEIGHTS = (3.0, 2.5, 1.2, 0.6, 0.3)
"""Weight of the strongest matched token, the second, ...; times the pair's similarity."""
CONTRADICTION_WEIGHTS = (-2.0, -1.0, -0.5)
"""Weight of the first, second, ... pair of tokens unmatched on both sides."""
MISSING_WEIGHT = -0.3
"""Weight of each token unmatched on one side only."""
NOTHING_IN_COMMON_WEIGHT = CONTRADICTION_WEIGHTS[0] * 2
"""The whole name's weight when no word of one matches any word of the other."""

SIMILARITY = {
    "exact": 1.0,
    "diacritics": 1.0,
    "transliteration": 0.93,
    "phonetic": 0.8,
    "phonetic_weak": 0.6,
    "typo": 0.7,
    "typo_short": 0.4,
    "typo_2": 0.5,
    "initial": 0.3,
}


@dataclass(frozen=True, slots=True)
class NameComparison:
    """The best agreement between a subject's and an entry's names."""

    weight: float
    evidence: tuple[Evidence, ...]


def forms_of(names: Iterable[PersonName]) -> tuple[tuple[PersonName, NameForm], ...]:
    """Every Latin form of every name (the source's own transliteration too)."""
    out: list[tuple[PersonName, NameForm]] = []
    seen: set[tuple[int, str]] = set()
    for name in names:
        forms = name_forms(name.family, name.given)
        if name.latin_family or name.latin_given:
            forms += name_forms(name.latin_family, name.latin_given)
        for form in forms:
            # Tokens hold no spaces: the form's text stands for its tokens.
            key = (int(name.role), form.text)
            if key not in seen:
                seen.add(key)
                out.append((name, form))
    return tuple(out)


def compare_names(
    subject: tuple[tuple[PersonName, NameForm], ...],
    entry: tuple[tuple[PersonName, NameForm], ...],
) -> NameComparison | None:
    """The best-scoring pair of forms; None when either side has no name."""
    best: NameComparison | None = None
    for _, mine in subject:
        for name, theirs in entry:
            feature = "alias" if name.role == NameRole.ALIAS else "name"
            comparison = _compare_forms(mine, theirs, feature)
            if best is None or comparison.weight > best.weight:
                best = comparison
    return best


def token_similarity(mine: Token, theirs: Token) -> tuple[float, str, str]:
    """(similarity in [0, 1], outcome, what was seen) for two tokens."""
    if mine.text == theirs.text:
        if mine.transliterated or theirs.transliterated:
            return SIMILARITY["exact"], "transliteration", "same romanisation"
        if mine.source != theirs.source and (mine.accented or theirs.accented):
            return SIMILARITY["diacritics"], "diacritics", "same letters, diacritics folded"
        return SIMILARITY["exact"], "exact", "same"
    if contracted(mine.text) == contracted(theirs.text):
        # MUELLER ~ MULLER: one side wrote the umlaut as a vowel and E, the other dropped it.
        return SIMILARITY["diacritics"], "diacritics", "umlaut written with and without E"
    if mine.spelling == theirs.spelling:
        return SIMILARITY["transliteration"], "transliteration", f"same spelling {mine.spelling}"
    if (mine.alternative and mine.alternative == theirs.text) or (
        theirs.alternative and theirs.alternative == mine.text
    ):
        return SIMILARITY["transliteration"], "transliteration", "same name without article"
    if mine.skeleton == theirs.skeleton and len(mine.skeleton) >= 2:
        if mine.transliterated or theirs.transliterated:
            outcome = "transliteration"
            return SIMILARITY["phonetic"], outcome, f"same consonants {mine.skeleton}"
        close = JaroWinkler.similarity(mine.spelling, theirs.spelling) >= 0.8
        similarity = SIMILARITY["phonetic" if close else "phonetic_weak"]
        return similarity, "phonetic", f"same consonants {mine.skeleton}"
    shortest = min(len(mine.text), len(theirs.text))
    if shortest > 1:
        distance = OSA.distance(mine.text, theirs.text, score_cutoff=2)
        if distance == 1:
            key = "typo" if shortest >= 4 else "typo_short"
            return SIMILARITY[key], "typo", "one letter different"
        if distance == 2 and shortest >= 6:
            return SIMILARITY["typo_2"], "typo", "two letters different"
    if (len(mine.text) == 1 or len(theirs.text) == 1) and mine.text[0] == theirs.text[0]:
        return SIMILARITY["initial"], "initial", "an initial"
    return 0.0, "", ""


def _compare_forms(mine: NameForm, theirs: NameForm, feature: str) -> NameComparison:
    my_tokens = mine.significant
    their_tokens = theirs.significant
    candidates: list[tuple[float, int, int, str, str]] = []
    for i, my_token in enumerate(my_tokens):
        for j, their_token in enumerate(their_tokens):
            similarity, outcome, seen = token_similarity(my_token, their_token)
            if similarity > 0:
                candidates.append((similarity, i, j, outcome, seen))
    # Strongest pairs first; ties in source order, so the result is deterministic.
    candidates.sort(key=lambda item: (-item[0], item[1], item[2]))
    pairs: list[tuple[float, int, int, str, str]] = []
    used_mine: set[int] = set()
    used_theirs: set[int] = set()
    for candidate in candidates:
        if candidate[1] in used_mine or candidate[2] in used_theirs:
            continue
        pairs.append(candidate)
        used_mine.add(candidate[1])
        used_theirs.add(candidate[2])
    joined = _joined(mine, theirs, used_mine, used_theirs) + _joined(
        theirs, mine, used_theirs, used_mine
    )
    evidence: list[Evidence] = []
    total = 0.0
    strengths = sorted(
        [(pair[0], pair) for pair in pairs] + [(0.93, item) for item in joined],
        key=lambda item: -item[0],
    )
    for rank, (similarity, item) in enumerate(strengths):
        weight = round(RANK_WEIGHTS[min(rank, len(RANK_WEIGHTS) - 1)] * similarity, 3)
        total += weight
        if len(item) == 5:
            _, i, j, outcome, seen = item
            a, b = my_tokens[i], their_tokens[j]
            detail = f"{_role(a)} {a.source} ~ {_role(b)} {b.source}: {seen}"
        else:
            outcome, detail = item
        evidence.append(Evidence(feature, outcome, weight, detail))
    swapped = [
        pair
        for pair in pairs
        if mine.has_family
        and theirs.has_family
        and my_tokens[pair[1]].family != their_tokens[pair[2]].family
    ]
    if swapped and strengths:
        evidence.append(
            Evidence(feature, "order", 0.0, "family and given names are swapped on one side")
        )
    unmatched_mine = [t for i, t in enumerate(my_tokens) if i not in used_mine]
    unmatched_theirs = [t for j, t in enumerate(their_tokens) if j not in used_theirs]
    contradictions = min(len(unmatched_mine), len(unmatched_theirs))
    for index in range(contradictions):
        weight = CONTRADICTION_WEIGHTS[min(index, len(CONTRADICTION_WEIGHTS) - 1)]
        a, b = unmatched_mine[index], unmatched_theirs[index]
        detail = f"{_role(a)} {a.source} and {_role(b)} {b.source} differ"
        evidence.append(Evidence(feature, "contradiction", weight, detail))
        total += weight
    for token in unmatched_mine[contradictions:] + unmatched_theirs[contradictions:]:
        side = "subject" if token in unmatched_mine else "entry"
        detail = f"{_role(token)} {token.source} only on the {side}"
        evidence.append(Evidence(feature, "missing", MISSING_WEIGHT, detail))
        total += MISSING_WEIGHT
    if not strengths:
        # Nothing in common: one line, not one per token.
        detail = f"{mine.text} and {theirs.text} have no name in common"
        evidence = [Evidence(feature, "contradiction", NOTHING_IN_COMMON_WEIGHT, detail)]
        total = NOTHING_IN_COMMON_WEIGHT
    return NameComparison(round(total, 3), tuple(evidence))


def _role(token: Token) -> str:
    return "family" if token.family else "given"


def _joined(
    one: NameForm, other: NameForm, used_one: set[int], used_other: set[int]
) -> list[tuple[str, str]]:
    """Match unmatched tokens of ``one`` against two or three adjacent words of ``other`` glued.

    Marks what it matches as used. Returns (outcome, detail) per match.
    """
    out: list[tuple[str, str]] = []
    other_tokens = other.tokens
    significant_index: dict[int, int] = {}
    for position, token in enumerate(other_tokens):
        if not token.particle:
            significant_index[position] = len(significant_index)
    free = {
        position
        for position in range(len(other_tokens))
        if position not in significant_index or significant_index[position] not in used_other
    }
    for i, token in enumerate(one.significant):
        if i in used_one or len(token.text) < 5:
            continue
        for start in range(len(other_tokens)):
            window = _glued_window(token, other_tokens, start, free)
            if window is None:
                continue
            used_one.add(i)
            for position in window:
                free.discard(position)
                if position in significant_index:
                    used_other.add(significant_index[position])
            parts = " ".join(other_tokens[position].source for position in window)
            out.append(("joined", f"{token.source} ~ {parts}: written as one word"))
            break
    return out


def _glued_window(
    token: Token, tokens: tuple[Token, ...], start: int, free: set[int]
) -> range | None:
    for length in (2, 3):
        window = range(start, start + length)
        if window.stop > len(tokens) or not set(window) <= free:
            continue
        glued = "".join(tokens[position].text for position in window)
        if glued == token.text or spelling_key(glued) == token.spelling:
            return window
    return None
