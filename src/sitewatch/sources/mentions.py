"""Catalog sites named in a text, by their name and every alias, across transliterations.

Names are compared by :func:`sitewatch.verify.names.name_key` (Sino-ri = Sinori = 신오리):
every window of one to six words of the text (capitalised in Latin script; Hangul words
also without the particles that follow them: 신오리는 -> 신오리) is keyed and looked up.

A name is matched silently only when it is distinctive: it ends in a settlement suffix
(-ri, -ni, -dong), it is a site's full name, or a Hangul name of three syllables or more.
A bare town or district name (Hwangju for "Hwangju launch area", Sunan for the airport,
구성 = Kusong, a common Korean word too), a name two sites share, or a name that is
also a missile's (Taepo-dong, Musudan) is listed as *ambiguous* with its candidate
sites, and resolved only when a word like "base", "launch", "airbase" or 기지 follows it.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sitewatch.sources.patterns import Found
from sitewatch.verify.names import GENERIC_WORDS, name_key, name_keys

MAX_WINDOW = 6
_WORD = re.compile(r"[A-Za-zÀ-ɏ][\w'\u2019\u02bc-]*|[\uac00-\ud7a3]+")
_HANGUL = re.compile(r"[\uac00-\ud7a3]")
_SETTLEMENT_SUFFIX = ("li", "ni", "tong")
#: Words after a bare name that make it the site rather than the town.
_QUALIFIERS = GENERIC_WORDS | {
    "airbase", "airfield", "airport", "shipyard", "plant", "complex", "reactor", "range",
    "기지", "발사장", "핵시설", "미사일", "비행장", "조선소", "핵실험장",
}  # fmt: skip
#: Keys of missile names that are also place names: never a site by themselves.
_MISSILE_KEYS = frozenset(name_key(n) for n in ("Musudan", "Taepodong", "Nodong", "Unha"))


@dataclass(frozen=True)
class SiteName:
    """One name of one catalog site, and whether it may be matched without a qualifier."""

    site_id: str
    name: str
    distinctive: bool


@dataclass(frozen=True)
class SiteMention:
    """A span naming a site; ``site_id`` None when ``candidates`` are several or it is bare."""

    start: int
    end: int
    text: str
    site_id: str | None
    candidates: tuple[str, ...]

    @property
    def ambiguous(self) -> bool:
        return self.site_id is None

    def as_found(self) -> Found:
        return Found("site", self.start, self.end, self.text, self.site_id or "?")


class SiteIndex:
    """Every key of every name of the catalog's sites, to look windows of text up in."""

    def __init__(self, sites: Iterable[tuple[str, str, Sequence[str]]]) -> None:
        """``sites``: (id, name, aliases) of each catalog site."""
        self.names: dict[str, list[SiteName]] = defaultdict(list)
        for site_id, name, aliases in sites:
            for written in (name, *aliases):
                full = name_key(written)
                for key in name_keys(written):
                    distinctive = _distinctive(written, key, full, is_name=written == name)
                    self.names[key].append(SiteName(site_id, written, distinctive))

        self._keys: dict[str, str] = {}

    def lookup(self, written: str) -> list[SiteName]:
        """The site names ``written`` (a window of text) stands for; keys are remembered,
        since an article repeats its words."""
        key = self._keys.get(written)
        if key is None:
            key = self._keys[written] = name_key(written)
        return self.names.get(key, [])


def _distinctive(written: str, key: str, full: str, *, is_name: bool) -> bool:
    if key in _MISSILE_KEYS:
        return False
    if key.endswith(_SETTLEMENT_SUFFIX):
        return True
    hangul = len(_HANGUL.findall(written))
    if hangul:
        return hangul >= 3 and key == full
    return key == full and (is_name or " " in written.strip())


def find_sites(text: str, index: SiteIndex) -> list[SiteMention]:
    """Site mentions in ``text``, longest name first, without overlaps."""
    words = [(m.start(), m.end(), m.group(0)) for m in _WORD.finditer(text)]
    mentions: list[SiteMention] = []
    position = 0
    while position < len(words):
        found = _longest_at(text, words, position, index)
        if found is None:
            position += 1
            continue
        mention, used = found
        mentions.append(mention)
        position += used
    return mentions


def _longest_at(
    text: str, words: list[tuple[int, int, str]], position: int, index: SiteIndex
) -> tuple[SiteMention, int] | None:
    first = words[position][2]
    if not (first[0].isupper() or _HANGUL.match(first)):
        return None
    for size in range(min(MAX_WINDOW, len(words) - position), 0, -1):
        start, end = words[position][0], words[position + size - 1][1]
        for cut in _hangul_cuts(text[start:end]) if size == 1 else (text[start:end],):
            names = index.lookup(cut)
            if names and not _is_missile_designation(text, start + len(cut)):
                following = words[position + size][2] if position + size < len(words) else ""
                return _resolve(start, start + len(cut), cut, names, following), size
    return None


def _hangul_cuts(word: str) -> list[str]:
    """A Hangul word and its stems down to two syllables (particles trail Korean nouns)."""
    if not _HANGUL.match(word):
        return [word]
    return [word[:length] for length in range(len(word), 1, -1)]


def _is_missile_designation(text: str, end: int) -> bool:
    """``Taepodong-2``, ``Musudan 1``: a name followed by a number is a missile."""
    return re.match(r"[- ]?\d", text[end : end + 2]) is not None


def _resolve(
    start: int, end: int, written: str, names: list[SiteName], following: str
) -> SiteMention:
    sites = tuple(dict.fromkeys(n.site_id for n in names))
    qualified = following.lower() in _QUALIFIERS or following[:2] in ("기지", "발사")
    single = len(sites) == 1
    if single and (any(n.distinctive for n in names) or qualified):
        return SiteMention(start, end, written, sites[0], sites)
    return SiteMention(start, end, written, None, sites)
