"""Things named in reporting that are not catalog sites: dates, missiles, organisations,
quantities. Each finder returns :class:`Found` spans (character offsets into the text)
with a normalised ``value`` ("2018-11-13", "ICBM", "CSIS Beyond Parallel", "16 bases").

Rule-based on purpose: the vocabularies are small and closed (missile designations,
the agencies and outlets that report on these sites), the rules are read and measured
(``benchmarks/claims_eval.py``), and nothing is downloaded.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

MONTHS = {
    name: number
    for number, names in enumerate(
        (
            ("january", "jan"), ("february", "feb"), ("march", "mar"), ("april", "apr"),
            ("may",), ("june", "jun"), ("july", "jul"), ("august", "aug"),
            ("september", "sep", "sept"), ("october", "oct"), ("november", "nov"),
            ("december", "dec"),
        ),
        start=1,
    )
    for name in names
}  # fmt: skip
_MONTH = "|".join(sorted(MONTHS, key=len, reverse=True))
_YEAR = r"(?P<year>(?:19|20)\d\d)"
_DATE_PATTERNS = (
    # November 13, 2018 / Nov. 13 2018 / March 29
    re.compile(
        rf"\b(?P<month>{_MONTH})\.?\s+(?P<day>\d{{1,2}})(?:st|nd|rd|th)?(?:,?\s+{_YEAR})?\b", re.I
    ),
    # 13 November 2018
    re.compile(rf"\b(?P<day>\d{{1,2}})\s+(?P<month>{_MONTH})\.?,?\s+{_YEAR}\b", re.I),
    # 2018-11-13, 2019.01.22, 2019/01/22
    re.compile(r"\b(?P<year>(?:19|20)\d\d)[-./](?P<month>\d{1,2})[-./](?P<day>\d{1,2})\b"),
    # 2018년 11월 14일, 2018년 3월
    re.compile(r"(?P<year>(?:19|20)\d\d)년\s*(?P<month>\d{1,2})월(?:\s*(?P<day>\d{1,2})일)?"),
    # 3월 29일 (the year is the source's)
    re.compile(r"(?<![년\d])(?P<month>\d{1,2})월\s*(?P<day>\d{1,2})일"),
    # November 2018 / in 2018
    re.compile(rf"\b(?P<month>{_MONTH})\.?\s+(?P<year>(?:19|20)\d\d)\b", re.I),
)  # fmt: skip

#: Missile classes, and the systems by name, each with the designation shown.
MISSILE_CLASSES = ("SRBM", "MRBM", "IRBM", "ICBM", "SLBM", "SLCM", "GLCM")
_CLASS_WORDS = (
    (r"short[- ]range ballistic missiles?", "SRBM"),
    (r"medium[- ]range ballistic missiles?", "MRBM"),
    (r"intermediate[- ]range ballistic missiles?", "IRBM"),
    (r"intercontinental ballistic missiles?", "ICBM"),
    (r"submarine[- ]launched ballistic missiles?", "SLBM"),
    (r"단거리 탄도\s?미사일", "SRBM"),
    (r"중거리 탄도\s?미사일", "MRBM"),
    (r"대륙간\s?탄도\s?미사일", "ICBM"),
    (r"잠수함\s?발사\s?탄도\s?미사일", "SLBM"),
)
_SYSTEMS = (
    (r"(?:Nodong|Rodong|No-dong|Ro-dong)(?:[- ]?(?P<n>\d))?", "Nodong"),
    (r"Scud(?:[- ](?P<n>[A-Z]|ER))?", "Scud"),
    (r"Hwasong[- ]?(?P<n>\d{1,2})", "Hwasong"),
    (r"KN[- ]?(?P<n>\d{2})", "KN"),
    (r"Musudan(?![- ]?(?:ri|ni)\b)", "Musudan"),
    (r"Pukguksong(?:[- ]?(?P<n>\d))?", "Pukguksong"),
    (r"Taepodong(?:[- ]?(?P<n>\d))?", "Taepodong"),
    (r"Unha(?:[- ]?(?P<n>\d))?", "Unha"),
    (r"Toksa|KN-02", "Toksa"),
    (r"노동\s?(?:미사일|1호)", "Nodong"),
    (r"스커드", "Scud"),
    (r"화성\s?-?(?P<n>\d{1,2})\s?호?", "Hwasong"),
    (r"북극성\s?(?P<n>\d)\s?호?", "Pukguksong"),
    (r"무수단(?!리)", "Musudan"),
)

#: Organisations that make or report claims about these sites, with one name each.
ORGANISATIONS = (
    (r"Beyond Parallel(?: program| project)?(?: (?:at|of) the (?:Center|Centre) for Strategic "
     r"and International Studies)?|분단을 넘어", "CSIS Beyond Parallel"),
    (r"(?:Center|Centre) for Strategic and International Studies|CSIS|"
     r"(?:미 )?(?:전략국제문제연구소|국제전략문제연구소)", "CSIS"),
    (r"(?:U\.S\. )?State Department|Department of State", "U.S. State Department"),
    (r"(?:North Korean |DPRK |North Korea's )Foreign Ministry|Ministry of Foreign Affairs of "
     r"the DPRK", "DPRK Foreign Ministry"),
    (r"Korean Central News Agency|KCNA|조선중앙통신", "KCNA"),
    (r"Korean People's Army(?: Strategic (?:Rocket )?Forces?)?|Strategic Rocket Forces|"
     r"조선인민군(?: 전략군)?", "Korean People's Army"),
    (r"National Intelligence Service|NIS|국정원|국가정보원", "NIS (South Korea)"),
    (r"Blue House|Cheong Wa Dae|청와대", "Blue House (South Korea)"),
    (r"Joint Chiefs of Staff|JCS|합동참모본부|합참", "Joint Chiefs of Staff (South Korea)"),
    (r"Pentagon|Department of Defense", "U.S. Department of Defense"),
    (r"White House", "White House"),
    (r"James Martin Center for Nonproliferation Studies|CNS|Middlebury Institute",
     "James Martin CNS"),
    (r"38 North", "38 North"),
    (r"Nuclear Threat Initiative|NTI", "NTI"),
    (r"International Atomic Energy Agency|IAEA", "IAEA"),
    (r"United Nations|UN Security Council|\bUN\b", "United Nations"),
    (r"New York Times|the Times\b|NYT|뉴욕타임스", "The New York Times"),
    (r"Reuters|로이터", "Reuters"),
    (r"Yonhap|연합뉴스", "Yonhap"),
    (r"NBC(?: News)?", "NBC News"),
    (r"Washington Post", "The Washington Post"),
    (r"DigitalGlobe|디지털 글로브|Planet Labs|Maxar", "commercial imagery provider"),
)  # fmt: skip

_NUMBER_WORDS = {
    "two": 2, "three": 3, "four": 4, "five": 5, "six": 6, "seven": 7, "eight": 8,
    "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "thirteen": 13, "sixteen": 16,
    "twenty": 20, "a dozen": 12, "dozens of": 24,
}  # fmt: skip
_COUNTED = (
    r"(?:missile )?(?:bases?|sites?|facilities|installations|launchers?|missiles?|"
    r"(?:missile )?operating bases|tunnels|buildings|regiments?|brigades?|km|kilometers|"
    r"kilometres|miles|square[- ](?:km|miles))"
)
_QUANTITY = re.compile(
    rf"\b(?P<count>\d[\d,.]*|{'|'.join(_NUMBER_WORDS)})(?:\s+(?:of\s+)?(?:the\s+)?"
    rf"(?:about\s+)?(?:[a-z]+(?:ed|ret|ous|al|le|ive)\s+){{0,2}})?(?P<what>{_COUNTED})\b"
    r"|(?P<kcount>\d+)\s?(?P<kwhat>곳|개|㎞|km|대)",
    re.I,
)


@dataclass(frozen=True)
class Found:
    """One span of text with what it stands for."""

    kind: str
    start: int
    end: int
    text: str
    value: str


def _iter(pattern: re.Pattern[str], text: str, kind: str, value_of) -> list[Found]:  # type: ignore[no-untyped-def]
    found = []
    for match in pattern.finditer(text):
        value = value_of(match)
        if value:
            found.append(Found(kind, match.start(), match.end(), match.group(0), value))
    return found


def find_dates(text: str) -> list[Found]:
    """Calendar dates, as ISO 8601 (partial when the text gives no day or no year)."""
    found: list[Found] = []
    taken: list[range] = []
    for pattern in _DATE_PATTERNS:
        for match in pattern.finditer(text):
            if any(match.start() in span for span in taken):
                continue
            parts = match.groupdict()
            month = parts.get("month") or ""
            month_number = (
                MONTHS.get(month.lower().rstrip(".")) if not month.isdigit() else int(month)
            )
            if not month_number or not 1 <= month_number <= 12:
                continue
            day = int(parts["day"]) if parts.get("day") else None
            if day is not None and not 1 <= day <= 31:
                continue
            year = parts.get("year")
            value = f"{year or '----'}-{month_number:02d}" + (f"-{day:02d}" if day else "")
            if year is None and day is None:
                continue
            found.append(Found("date", match.start(), match.end(), match.group(0), value))
            taken.append(range(match.start(), match.end()))
    return sorted(found, key=lambda f: f.start)


def find_missiles(text: str) -> list[Found]:
    """Missile classes (SRBM ... ICBM, in full words too) and systems (Nodong-1, KN-15...)."""
    found = _iter(
        re.compile(rf"\b(?:{'|'.join(MISSILE_CLASSES)})s?\b"), text, "missile",
        lambda m: m.group(0).rstrip("s"),
    )  # fmt: skip
    for words, value in _CLASS_WORDS:
        found += _iter(re.compile(words, re.I), text, "missile", lambda m, v=value: v)
    for words, name in _SYSTEMS:
        pattern = re.compile(rf"(?<![\w-])(?:{words})", re.I if name != "KN" else 0)
        found += _iter(pattern, text, "missile", lambda m, n=name: _system(n, m))
    return _without_overlaps(found)


def _system(name: str, match: re.Match[str]) -> str:
    number = match.groupdict().get("n")
    return f"{name}-{number.upper()}" if number else name


def find_organisations(text: str) -> list[Found]:
    """Agencies, institutes and outlets, each under one name."""
    found: list[Found] = []
    for words, name in ORGANISATIONS:
        pattern = re.compile(rf"(?<![\w-])(?:{words})(?![\w-])")
        found += _iter(pattern, text, "organisation", lambda m, n=name: n)
    return _without_overlaps(found)


def find_quantities(text: str) -> list[Found]:
    """Counted things: "16 secret bases", "13 sites", "212 kilometers", "20곳"."""

    def value_of(match: re.Match[str]) -> str:
        if match.group("kcount"):
            return f"{match.group('kcount')} {match.group('kwhat')}"
        count = match.group("count").lower()
        number = _NUMBER_WORDS.get(count, count)
        return f"{number} {match.group('what').lower()}"

    return _iter(_QUANTITY, text, "quantity", value_of)


def _without_overlaps(found: list[Found]) -> list[Found]:
    """The longest of overlapping spans (``medium-range ballistic missiles`` over ``missiles``)."""
    kept: list[Found] = []
    for item in sorted(found, key=lambda f: (f.start, -(f.end - f.start))):
        if kept and item.start < kept[-1].end:
            continue
        kept.append(item)
    return kept
