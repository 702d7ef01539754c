"""Names as matchable tokens: particles, Arabic compounds, spelling-insensitive and phonetic keys.

A name becomes a :class:`NameForm`: its words in upper-case ASCII (see
:mod:`gateway.screening.scripts`), each marked family or given, and each with two keys:

- the **spelling key** folds the conventions in which transliterations of one name differ
  (Doc 9303, German, French, English and Slavic habits): doubled letters, Y/J/I, OU/OO/U, W/V,
  PH/F, Q/K, hard C/K, X/KS, KH/H, TH/DH/GH/T/D/G, and the sibilant spellings SH, SCH, CH, TCH,
  TSCH, SHCH, CZ, SZ, CS, TS, TZ. "IURII", "YURIY" and "JURIJ" share the key "IURI";
  "SHCHERBAKOV", "SCHTSCHERBAKOW" and "CHTCHERBAKOV" share "SERBAKOV".
- the **skeleton** keeps consonant classes only (vowels, W, Y and J dropped; B; P; F/V; D/T;
  G/K/Q/hard C; S/Z and the sibilants; H; L; M; N; R), so that vowel differences between Latin
  spellings of Arabic names ("MOHAMMED", "MUHAMMAD", Arabic script "MHMD") and Greek or Cyrillic
  romanisations disappear. It is the blocking key of the index.

English-centric phonetic codes (Soundex, Metaphone, NYSIIS in ``jellyfish``) do not fold
transliteration conventions: Metaphone gives "YR", "IR" and "JRJ" for YURI, IURII, JURIJ, and
"XXRBKF" and "SXTSXRBK" for the two spellings of Shcherbakov, hence these keys of our own.

Particles (de, van, von, al, bin, ...) are kept but are not significant: they neither count for
nor against a match. "Abd" compounds are joined whatever their spelling ("ABD AL RAHMAN",
"ABDEL RAHMAN", "ABDULRAHMAN", "ABDURRAHMAN" → "ABDRAHMAN"), and a leading Arabic article glued
to a word ("ALHASSAN") gives the word without it as an alternative.
"""

from __future__ import annotations

import re
from typing import NamedTuple

from gateway.screening.memo import memoized, memoized_call
from gateway.screening.scripts import LatinForms, latin_forms

__all__ = [
    "PARTICLES",
    "NameForm",
    "Token",
    "consonant_skeleton",
    "contracted",
    "folded_spelling",
    "name_forms",
    "skeleton",
    "spelling_key",
]

PARTICLES = frozenset(
    [
        "DE",
        "DA",
        "DI",
        "DO",
        "DOS",
        "DAS",
        "DEL",
        "DELLA",
        "DELLE",
        "DER",
        "DEN",
        "DES",
        "DU",
        "LA",
        "LE",
        "LO",
        "VAN",
        "VON",
        "TER",
        "TEN",
        "TE",
        "ZU",
        "Y",
        "E",
        "AL",
        "EL",
        "UL",
        "AD",
        "AR",
        "AS",
        "ASH",
        "AT",
        "AZ",
        "AN",
        "ADH",
        "BIN",
        "BEN",
        "IBN",
        "BINT",
        "BINTI",
        "BNT",
        "OULD",
        "ULD",
        "OULED",
        "AIT",
        "MAC",
    ]
)
"""Words that join a name to a place, a family or a father: kept, but not significant."""

_ABD_PREFIX = re.compile(r"^ABD(?:OUL|UL|EL|OL|AL|IL|U|E|O|A|I)?")
_GLUED_ARTICLE = re.compile(r"^(?:AL|EL|UL)(?=[B-DF-HJ-NP-TV-Z][A-Z]{3,})")

_SPELLING_RULES: tuple[tuple[str, str], ...] = (
    # Longest first: each rule is applied to what the previous ones left.
    ("SHTSCH", "S"),
    ("SCHTSCH", "S"),
    ("SHCH", "S"),
    ("TSCH", "S"),
    ("SCH", "S"),
    ("TCH", "S"),
    ("TSH", "S"),
    ("CH", "S"),
    ("SH", "S"),
    ("CZ", "S"),
    ("SZ", "S"),
    ("CS", "S"),
    ("TS", "S"),
    ("TZ", "S"),
    ("ZH", "Z"),
    ("DZ", "Z"),
    ("KH", "H"),
    ("GH", "G"),
    ("PH", "F"),
    ("TH", "T"),
    ("DH", "D"),
    ("CK", "K"),
    ("X", "KS"),
    ("Q", "K"),
    ("W", "V"),
    ("OU", "U"),
    ("OO", "U"),
    ("EE", "I"),
    ("Y", "I"),
    ("J", "I"),
)
_ANY_RULE = re.compile("CH|SH|CZ|SZ|CS|TS|TZ|ZH|DZ|KH|GH|PH|TH|DH|CK|OU|OO|EE|[XQWYJ]")
"""Matches a word to which some spelling rule applies (every longer pattern contains one of
these), so that most words skip the rules altogether."""
_SOFT_C = re.compile(r"C(?=[EI])")
_DOUBLED = re.compile(r"(.)\1+")

_SKELETON_CLASSES = str.maketrans(
    {
        "A": ".",
        "E": ".",
        "I": ".",
        "O": ".",
        "U": ".",
        "Y": ".",
        "J": ".",
        "W": ".",
        "V": "F",
        "D": "T",
        "G": "K",
        "C": "K",
        "Q": "K",
        "Z": "S",
    }
)


_SKELETON_ASCII = bytes.maketrans(b"AEIOUYJWVDGCQZ", b"........FTKKKS")
""":data:`_SKELETON_CLASSES` for ASCII text (names' Latin forms are ASCII)."""


def _first_of_run(match: re.Match[str]) -> str:
    return match.group(1)


def _collapsed(text: str) -> str:
    """Runs of one character written once ("KOWALLSKI" → "KOWALSKI")."""
    return _DOUBLED.sub(_first_of_run, text)


def folded_spelling(word: str) -> str:
    """:func:`spelling_key` without memoisation (for words seen once, such as glued ones)."""
    text = word
    if _ANY_RULE.search(text) is not None:
        for old, new in _SPELLING_RULES:
            if old in text:
                text = text.replace(old, new)
    if "C" in text:
        text = _SOFT_C.sub("S", text).replace("C", "K")
    if len(text) > 2 and text.endswith("H"):
        text = text[:-1]
    return _collapsed(text)


def consonant_skeleton(key: str) -> str:
    """The consonant classes of a spelling key, adjacent runs of one class collapsed."""
    if key.isascii():
        classes = key.encode("ascii").translate(_SKELETON_ASCII).decode("ascii")
    else:
        classes = key.translate(_SKELETON_CLASSES)
    return _collapsed(classes).replace(".", "")


@memoized(maxsize=131_072)
def spelling_key(word: str) -> str:
    """The word with transliteration and spelling conventions folded (see the module doc)."""
    return folded_spelling(word)


@memoized(maxsize=131_072)
def skeleton(word: str) -> str:
    """The consonant classes of the word's spelling key, adjacent runs of one class collapsed."""
    return consonant_skeleton(spelling_key(word))


def contracted(text: str) -> str:
    """The word with umlauts written as vowel + E contracted ("MUELLER" → "MULLER")."""
    return text.replace("AE", "A").replace("OE", "O").replace("UE", "U")


class Token(NamedTuple):
    """One word of a name (a named tuple: millions are made while an index is built)."""

    text: str
    """Upper-case ASCII."""
    family: bool
    """Part of the family name (else of the given names or an unsplit name)."""
    particle: bool
    """A particle ("VAN", "AL", "BIN"): neither for nor against a match."""
    spelling: str
    """:func:`spelling_key` of the text."""
    skeleton: str
    """:func:`skeleton` of the text."""
    code: str
    """What the index finds the word by: its skeleton, or ``"~"`` and its spelling key when
    the skeleton has fewer than two consonant classes."""
    source: str
    """The word as the record writes it (original script and diacritics)."""
    transliterated: bool
    """Romanised from another script."""
    alternative: str
    """The word without a glued Arabic article ("ALHASSAN" → "HASSAN"), when it has one."""

    @property
    def accented(self) -> bool:
        """The source word is Latin with diacritics (not ASCII, not another script)."""
        return not self.transliterated and not self.source.isascii()


class NameForm(NamedTuple):
    """One Latin rendering of one name, as tokens."""

    tokens: tuple[Token, ...]
    text: str
    """The rendering as one string (family first), for explanations."""
    has_family: bool
    """The source splits family from given names (so a swap of the two can be told)."""
    significant: tuple[Token, ...]
    """The tokens that count: every token but particles."""


def name_forms(family: str, given: str) -> tuple[NameForm, ...]:
    """Every Latin rendering of a name given as family and given parts (either may be empty).

    A name without a family/given split goes in ``given`` (its words are then not marked
    family). Returns one form per Latin rendering: the ICAO one, then the folded one when a word
    has an umlaut or a ring (Ü → UE, then Ü → U).
    """
    return _name_forms(family, given)


_WORD_SEPARATORS = re.compile(
    r"[\s\-‐‑–—/,;.()]+"  # noqa: RUF001 (every dash separates words)
)


@memoized_call(maxsize=4096)
def _name_forms(family: str, given: str) -> tuple[NameForm, ...]:
    family_words = _words(family)
    given_words = _words(given)
    has_family = bool(family_words) and bool(given_words)
    several = any(len(latin) > 1 for _, (latin, _) in family_words) or any(
        len(latin) > 1 for _, (latin, _) in given_words
    )
    forms: list[NameForm] = []
    for variant in (0, 1) if several else (0,):
        family_text = [
            (latin[min(variant, len(latin) - 1)], source, transliterated)
            for source, (latin, transliterated) in family_words
        ]
        given_text = [
            (latin[min(variant, len(latin) - 1)], source, transliterated)
            for source, (latin, transliterated) in given_words
        ]
        tokens = _tokens(family_text, True) + _tokens(given_text, False)
        if not tokens:
            break
        if forms and forms[0].tokens == tokens:
            break
        forms.append(
            NameForm(
                tokens,
                " ".join([token.text for token in tokens]),
                has_family,
                tuple([token for token in tokens if not token.particle]),
            )
        )
    return tuple(forms)


def _words(text: str) -> list[tuple[str, LatinForms]]:
    """The words of a name part with their Latin forms (words romanising to nothing dropped)."""
    out = []
    # A part without separators is one word (most are): no need for the regular expression.
    words = [text] if text.isalnum() else _WORD_SEPARATORS.split(text)
    for word in words:
        forms = latin_forms(word) if word else None
        if forms is not None and forms[0]:
            # A word may romanise to several ("王伟" → "WANGWEI" stays one; "D'ARCY" one).
            out.append((word, forms))
    return out


def _tokens(words: list[tuple[str, str, bool]], family: bool) -> tuple[Token, ...]:
    expanded: list[tuple[str, str, bool]] = []
    abd = False
    for latin, source, transliterated in words:
        if " " in latin:
            expanded.extend((part, source, transliterated) for part in latin.split())
            abd = abd or " ABD" in latin
        else:
            expanded.append((latin, source, transliterated))
        abd = abd or latin.startswith("ABD")
    joined = _join_abd(expanded) if abd else expanded
    tokens = []
    for index, (word, source, transliterated) in enumerate(joined):
        # A particle alone, or last, is a name ("LE" as a Vietnamese family name).
        particle = word in PARTICLES and index < len(joined) - 1
        tokens.append(_token(word, family, particle, source, transliterated))
    return tuple(tokens)


@memoized_call(maxsize=8192)
def _token(word: str, family: bool, particle: bool, source: str, transliterated: bool) -> Token:
    alternative = ""
    glued = _GLUED_ARTICLE.match(word)
    if glued and not particle:
        alternative = word[glued.end() :]
    spelling = spelling_key(word)
    bones = skeleton(word)
    return Token(
        word,
        family,
        particle,
        spelling,
        bones,
        bones if len(bones) >= 2 else "~" + spelling,
        source,
        transliterated,
        alternative,
    )


def _join_abd(words: list[tuple[str, str, bool]]) -> list[tuple[str, str, bool]]:
    """Join "Abd" compounds, whatever their spelling, into "ABD" + the divine name."""
    out: list[tuple[str, str, bool]] = []
    index = 0
    while index < len(words):
        word, source, transliterated = words[index]
        prefix = _ABD_PREFIX.match(word)
        index += 1
        if prefix is None:
            out.append((word, source, transliterated))
            continue
        rest = word[prefix.end() :]
        if not rest:
            # "ABD AL RAHMAN", "ABDEL RAHMAN": the next word, articles skipped.
            look = index
            while look < len(words) - 1 and words[look][0] in PARTICLES:
                look += 1
            if look >= len(words):
                out.append((word, source, transliterated))
                continue
            rest, next_source, _ = words[look]
            source = f"{source} {next_source}"
            index = look + 1
        elif len(rest) < 3 and prefix.group() == "ABD":
            out.append((word, source, transliterated))  # "ABDI", "ABDO": names of their own
            continue
        out.append(("ABD" + _strip_article(rest), source, transliterated))
    return out


def _strip_article(rest: str) -> str:
    """ "ALLAH" → "LAH", "RRAHMAN" (assimilated article) → "RAHMAN"."""
    for article in ("AL", "EL", "UL"):
        if rest.startswith(article) and len(rest) > len(article) + 2:
            rest = rest[len(article) :]
            break
    if len(rest) > 3 and rest[0] == rest[1]:
        rest = rest[1:]
    return rest
