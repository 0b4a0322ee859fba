"""Place names that survive transliteration: Sino-ri = Sinori = Sin-o-ri = 신오리.

Korean place names reach a catalog through McCune-Reischauer (Kŭmch'ŏn-ni), Revised
Romanisation (Geumcheon-ri), ad-hoc spellings (Kumchon-ni) and Hangul. A declaration will
use whichever its author prefers, so names are compared by a *key*: Hangul is romanised
(Revised Romanisation, syllable by syllable, from the jamo tables below), then the
differences between the systems are folded away: breves and apostrophes, voiced and
voiceless stops (g/k, d/t, b/p, j/ch), eo/ŏ -> o, eu/ŭ -> u, shi -> si, r/l, the n/l
assimilation of -ri after a final n (Kumchon-ni, Sil-li), and doubled letters.

Folding loses information on purpose; it can make two different names equal. Matching
only pairs a declared item with catalog sites of the declaration's scope, and the verdict
says which name matched, so an analyst can see a false pair.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable

_HANGUL_FIRST, _HANGUL_LAST = 0xAC00, 0xD7A3
_MEDIALS_TIMES_FINALS = 21 * 28
INITIALS = (
    "g", "kk", "n", "d", "tt", "r", "m", "b", "pp", "s",
    "ss", "", "j", "jj", "ch", "k", "t", "p", "h",
)  # fmt: skip
MEDIALS = (
    "a", "ae", "ya", "yae", "eo", "e", "yeo", "ye", "o", "wa", "wae",
    "oe", "yo", "u", "wo", "we", "wi", "yu", "eu", "ui", "i",
)  # fmt: skip
FINALS = (
    "", "k", "k", "k", "n", "n", "n", "t", "l", "k", "m", "l", "l", "l",
    "p", "l", "m", "p", "p", "t", "t", "ng", "t", "t", "k", "t", "p", "t",
)  # fmt: skip

# Words that say what a place is rather than which place it is: "Sino-ri Missile Base"
# is the same place as "Sino-ri".
GENERIC_WORDS = frozenset(
    (
        "missile", "missiles", "operating", "operations", "base", "bases", "site", "facility",
        "facilities", "complex", "area", "station", "the", "of", "support", "bm", "ballistic",
        "nuclear", "test", "testing", "ground", "launch", "launching", "satellite", "research",
        "scientific", "center", "centre",
    )
)  # fmt: skip
_PARENTHESES = re.compile(r"\([^)]*\)|\[[^\]]*\]")
_FOLDS = (
    (re.compile(r"eo"), "o"),
    (re.compile(r"eu"), "u"),
    (re.compile(r"sh"), "s"),
    (re.compile(r"j"), "ch"),
    (re.compile(r"(?<!n)g"), "k"),
    (re.compile(r"d"), "t"),
    (re.compile(r"b"), "p"),
    (re.compile(r"r"), "l"),
    (re.compile(r"(ng|m)l"), r"\1n"),  # Yongrim = Yongnim: l after ng/m is said n
    (re.compile(r"[nl]{2,}"), "l"),  # Sil-li = Sinri, Kumchon-ni = Kumchonri
    (re.compile(r"(.)\1+"), r"\1"),  # Kittaeryong = Kitaeryong, kk = k
)


def romanise_hangul(text: str) -> str:
    """Hangul syllables in Revised Romanisation, letter by letter; other text unchanged.

    Syllables are romanised one by one (신오리 -> sinori, 금천리 -> geumcheonri): the
    sound changes between syllables are left to :func:`name_key`'s folding.
    """
    out: list[str] = []
    for char in text:
        code = ord(char)
        if _HANGUL_FIRST <= code <= _HANGUL_LAST:
            offset = code - _HANGUL_FIRST
            initial, rest = divmod(offset, _MEDIALS_TIMES_FINALS)
            medial, final = divmod(rest, 28)
            out.append(INITIALS[initial] + MEDIALS[medial] + FINALS[final])
        else:
            out.append(char)
    return "".join(out)


def _letters(text: str) -> str:
    """Lowercase ASCII letters and digits only: breves, apostrophes and hyphens dropped."""
    decomposed = unicodedata.normalize("NFKD", romanise_hangul(unicodedata.normalize("NFC", text)))
    ascii_text = decomposed.encode("ascii", "ignore").decode("ascii").lower()
    return re.sub(r"[^a-z0-9]+", "", ascii_text)


def name_key(text: str) -> str:
    """The transliteration-tolerant key of one name: equal keys mean "the same name"."""
    key = _letters(text)
    for pattern, replacement in _FOLDS:
        key = pattern.sub(replacement, key)
    return key


def name_keys(text: str) -> set[str]:
    """Keys of a name as written, without parentheses, and without generic words.

    "Ridgeview test range (synthetic)" also answers to "Ridgeview test range";
    "Sino-ri Missile Operating Base" also to "Sino-ri". Empty keys are dropped.
    """
    variants = {text, _PARENTHESES.sub(" ", text)}
    for variant in list(variants):
        words = re.split(r"[\s/,;]+", variant)
        kept = [w for w in words if _letters(w) and _letters(w) not in GENERIC_WORDS]
        if kept:
            variants.add(" ".join(kept))
    return {key for key in (name_key(variant) for variant in variants) if key}


def matching_name(name: str, candidates: Iterable[str]) -> str | None:
    """The first of ``candidates`` (a site's name and aliases) that names the same place."""
    wanted = name_keys(name)
    for candidate in candidates:
        if wanted & name_keys(candidate):
            return candidate
    return None
