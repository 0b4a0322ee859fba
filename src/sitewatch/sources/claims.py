"""Claims: quoted or reported statements, with speaker, stance and the sites they concern.

Rule-based and measured (``benchmarks/claims_eval.py``). A sentence is a claim when it
quotes someone or carries a reporting verb (said, told, according to, 밝혔다...). The
speaker is the noun phrase before the verb (its last appositive: "co-author of the
report, Joseph Bermudez Jr., told" -> Joseph Bermudez Jr.), the one after an inverted
verb ("... ," said Victor Cha) or after "according to"; a pronoun takes the last named
speaker, and "the report" the publisher of the report the source cites. A sentence that
is nothing but a quote continues the claim before it. The stance is read from cue
words, the first rule that fires winning: dismantlement reported, denial, dispute,
warning, call for action, activity asserted; else neutral. A claim's date is the
source's publication date (the sentence's dates are usually the events', not the
statement's); its sites are those named in it, else the one site the source names.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from sitewatch.sources.patterns import Found

STANCES = (
    "reports_dismantlement", "denies", "disputes", "warns", "calls_for_action",
    "asserts_activity", "neutral",
)  # fmt: skip
_STANCE_CUES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("reports_dismantlement", re.compile(
        r"\b(?:(?:has|have|had|were|was|been|being) (?:been )?(?:dismantled|demolished|razed|"
        r"destroyed|decommissioned)|dismantling|demolition|torn down|tore down|"
        r"removed (?:\w+ ){0,4}(?:structures?|buildings?|facilit\w+)|decommissioning of)\b|"
        r"폐기했|해체|철거", re.I)),
    ("denies", re.compile(
        r"\b(?:denied|denies|deny|groundless|fabricat\w+|does not exist|never existed|no such)\b"
        r"|부인했|사실무근", re.I)),
    ("disputes", re.compile(
        r"nothing new|not appropriate|months[- ]old|overstat\w+|exaggerat\w+|misleading|"
        r"does not mean|not cheating|already (?:known|aware)|long suspected|known to|"
        r"이미 파악|통상적 수준|과장", re.I)),
    ("warns", re.compile(r"\b(?:threat\w*|warn\w*|reconsider\w*|retaliat\w+)\b|경고", re.I)),
    ("calls_for_action", re.compile(
        r"\b(?:must|should|would (?:presumably )?have to|need(?:s)? (?:for|to)|have to|urg\w+|"
        r"calls? (?:for|on))\b|해야|강조", re.I)),
    ("asserts_activity", re.compile(
        r"\b(?:active|still|continu\w+|maintain\w*|improv\w+|develop\w*|operat\w+|houses|"
        r"deploy\w*|capabilit\w+|capable|building|impressive|maximi[sz]e|expand\w*|"
        r"construct\w*|rebuil\w+|undeclared|secret|changes? (?:\w+ ){0,2}(?:sighted|seen|"
        r"observed|spotted))\b|활동|운용|배치|가동|재건|복구|짓는|계속|공사", re.I)),
)  # fmt: skip

_VERBS = (
    r"said|says|say|told|tells|stated|states|stating|added|noted|notes|warned|warns|"
    r"claimed|claims|denied|denies|threatened|points? out|pointed out|revealed|reported|"
    r"wrote|writes|argued|argues|explained|insisted|concluded|concedes|conceded|stressed|"
    r"urged|asserted|identified|gave the following statement|according to"
)
# Case-sensitive: "States" in "the United States" is no verb; only "According to" opens a
# sentence with a capital.
_VERB = re.compile(rf"(?<![\w-])(?:{_VERBS}|According to)(?![\w-])")
_KOREAN_VERB = re.compile(r"(?:밝혔|말했|전했|보고했|주장했|설명했|강조했|덧붙였|지적했|발표했)")
#: A quotation, of bounded length: an unclosed quotation mark must not make every match
#: scan the rest of a long text (quadratic time on a hostile file).
_QUOTE = re.compile(
    r"\u201c[^\u201d]{3,3000}\u201d|\"[^\"]{3,3000}\"|\u2018[^\u2019]{12,3000}\u2019"
)
#: Characters a sentence may hold while a quotation is open before it is cut anyway.
MAX_SENTENCE = 5000
_PRONOUNS = frozenset({"he", "she", "they", "it", "we", "i"})
_SENTENCE_END = re.compile(r"(?<=[.!?。])[\u201d\"\u2019]?\s+(?=[\u201c\"\u2018(]?[A-Z가-힣])|\n+")
_LEADING = re.compile(
    r"^(?:(?:Meanwhile|However|But|And|Also|Earlier|Later|Instead|Moreover|Previously|Still),?\s+)+",
    re.I,
)
_TITLE_WORDS = re.compile(r"\b(?:spokes(?:man|woman|person)|analyst|official|minister|president|"
                          r"co-author|author|researcher|expert|professor|chair|director|"
                          r"secretary|ambassador|envoy|report|ministry|department|media|officials?|"
                          r"sources|agency|government|military|analysts)\b", re.I)  # fmt: skip


@dataclass
class ExtractedClaim:
    """A claim found in a text: its span, the words quoted, speaker, stance, sites."""

    start: int
    end: int
    quote: str
    speaker: str | None
    stance: str
    site_ids: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "start": self.start,
            "end": self.end,
            "speaker": self.speaker,
            "stance": self.stance,
            "quote": self.quote,
            "site_ids": list(self.site_ids),
        }


def sentences(text: str) -> list[tuple[int, int]]:
    """(start, end) of each sentence, a quotation never cut in two."""
    spans: list[tuple[int, int]] = []
    start = 0
    for match in _SENTENCE_END.finditer(text):
        end = match.start() + len(match.group(0).rstrip())
        piece = text[start:end]
        unbalanced = piece.count("\u201c") > piece.count("\u201d") or piece.count('"') % 2
        if unbalanced and len(piece) < MAX_SENTENCE:
            continue  # inside a quotation: read on
        if piece.strip():
            spans.append(_trimmed(text, start, end))
        start = match.end()
    if text[start:].strip():
        spans.append(_trimmed(text, start, len(text)))
    return spans


def _trimmed(text: str, start: int, end: int) -> tuple[int, int]:
    piece = text[start:end]
    return start + len(piece) - len(piece.lstrip()), start + len(piece.rstrip())


def find_claims(
    text: str, sites: Sequence[Found], organisations: Sequence[Found]
) -> list[ExtractedClaim]:
    """The claims of ``text``; ``sites`` are its resolved site mentions, ``organisations``
    its organisation mentions (to name "the report" by its publisher)."""
    publisher = report_publisher(text, organisations)
    named_sites = list(dict.fromkeys(s.value for s in sites))
    claims: list[ExtractedClaim] = []
    last_person: str | None = None
    for start, end in sentences(text):
        sentence = text[start:end]
        quotes = _QUOTE.findall(sentence)
        verb = _VERB.search(sentence) or _KOREAN_VERB.search(sentence)
        if not quotes and not verb:
            continue
        if quotes and not verb and claims and _only_quote(sentence):
            claims[-1].end = end  # a quotation that runs on from the sentence before
            claims[-1].quote += " " + " ".join(q.strip('\u201c\u201d"\u2018\u2019') for q in quotes)
            continue
        speaker = _speaker(sentence, verb, organisations, start) if verb else None
        if verb and speaker is None:
            speaker = _sentence_subject(sentence)
        if speaker and speaker.lower() in _PRONOUNS:
            speaker = last_person
        elif speaker and (_REPORTERS.fullmatch(speaker) or _REPORTERS.fullmatch(_clean(speaker))):
            speaker = publisher or speaker
        if speaker:
            last_person = speaker
        in_span = [s.value for s in sites if start <= s.start < end]
        quote = (
            " ".join(q.strip('\u201c\u201d"\u2018\u2019') for q in quotes) if quotes else sentence
        )
        claims.append(
            ExtractedClaim(
                start=start,
                end=end,
                quote=quote,
                speaker=speaker,
                stance=stance_of(sentence),
                site_ids=list(dict.fromkeys(in_span))
                or (named_sites if len(named_sites) == 1 else []),
            )
        )
    return claims


def stance_of(sentence: str) -> str:
    """The first stance whose cue words the sentence holds (see the module docstring)."""
    for stance, cue in _STANCE_CUES:
        if cue.search(sentence):
            return stance
    return "neutral"


def _only_quote(sentence: str) -> bool:
    return _QUOTE.sub("", sentence).strip(" .,;") == ""


def report_publisher(text: str, organisations: Sequence[Found]) -> str | None:
    """The publisher of the report a source cites: the organisation named in the first
    sentence that speaks of a report, most specific
    (the Beyond Parallel program over CSIS as a whole)."""
    for start, end in sentences(text):
        if re.search(r"\breport\b|보고서", text[start:end], re.I):
            named = [o.value for o in organisations if start <= o.start < end]
            if named:
                return max(named, key=len)
    return None


def _speaker(
    sentence: str, verb: re.Match[str], organisations: Sequence[Found], offset: int
) -> str | None:
    words = verb.group(0).lower()
    after = sentence[verb.end() :]
    if words == "according to":
        phrase = re.match(r"\s*(?:a statement from |the )?([^,.;\u201c\"]{2,80})", after)
        return _clean(phrase.group(1)) if phrase else None
    if _KOREAN_VERB.fullmatch(verb.group(0)):
        named = [o.value for o in organisations if offset <= o.start < offset + len(sentence)]
        if named:
            return named[0]
        topic = re.search(r"((?:\S+\s){0,3}?)(\S{2,20}?)(?:은|는)\s", sentence)
        return _clean(topic.group(1) + topic.group(2)) if topic else None
    before = _LEADING.sub("", sentence[: verb.start()]).rstrip()
    if before.endswith(("\u201d", '"', ",\u201d", ',"')) or not before:  # "...," said Victor Cha
        inverted = re.match(
            r"\s*((?:[a-z-]+\s){0,3}[A-Z][\w.'\u2019-]*(?:\s+[A-Z][\w.'\u2019-]*){0,4})", after
        )
        return _clean(inverted.group(1)) if inverted else None
    return _subject(before)


def _subject(before: str) -> str | None:
    """The noun phrase that ends ``before``: its last comma-separated part that names
    someone, cut at a quotation or a clause (that, as, and ...) before it."""
    before = before.rstrip(" ,")
    before = re.split(r"[\u201d\"]|\b(?:that|as|while|because|which|who)\b", before)[-1]
    parts = [p.strip() for p in before.split(",") if p.strip()]
    for part in reversed(parts):
        words = part.split()
        if not words or len(words) > 12:
            continue
        if part.lower() in _PRONOUNS or _REPORTERS.fullmatch(_clean(part)):
            return _clean(part)
        if any(w[0].isupper() for w in words) or _TITLE_WORDS.search(part):
            return _clean(part)
    return None


_AUXILIARIES = re.compile(
    r"(?:\s+(?:also|had|has|have|was|were|is|later|earlier|then|reportedly|previously|"
    r"in \w+|this \w+|last \w+))+$",
    re.I,
)
_REPORTERS = re.compile(r"(?:(?:the|this|its|a|new|latest) )*(?:report|think tank|study)", re.I)


def _clean(phrase: str) -> str:
    """A speaker as written, without its article, auxiliaries or odd spaces."""
    phrase = " ".join(phrase.split()).strip(" ,.;:")
    phrase = _AUXILIARIES.sub("", phrase)
    phrase = re.sub(r"^(?:the|a|an)\s+", "", phrase, flags=re.I)
    return phrase.strip()


def _sentence_subject(sentence: str) -> str | None:
    """The capitalised name that opens a sentence ("Pompeo had ... and said")."""
    match = re.match(
        r"([A-Z][\w.'\u2019-]+(?:\s+[A-Z][\w.'\u2019-]+){0,3})[\s,]", _LEADING.sub("", sentence)
    )
    if match and match.group(1).split()[0] not in ("This", "That", "The", "A", "An", "It", "When"):
        return _clean(match.group(1))
    return None
