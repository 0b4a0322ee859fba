"""One parser for source documents: bytes in, main text and metadata out, or one error.

HTML goes through trafilatura (main text without navigation and boilerplate; title,
site name, date and authors from the page's metadata); PDF through pypdf's text layer;
plain text is taken as it is, its title the first line that reads like one. Everything a
file could do to hurt the reader is refused before any parser sees it: a file past
``limits.SOURCE_BYTES``, NUL-laden binary, an empty file, text in no encoding we can
name, XML entity declarations (billion laughs) and nesting bombs.
"""

from __future__ import annotations

import codecs
import io
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sitewatch import limits
from sitewatch.errors import InputError
from sitewatch.sources.patterns import find_dates

HTML = "text/html"
PDF = "application/pdf"
TEXT = "text/plain"

_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?([A-Za-z0-9_.:-]+)""", re.I)
_XML_ENCODING = re.compile(rb"""<\?xml[^>]+encoding\s*=\s*["']([A-Za-z0-9_.:-]+)""", re.I)
_HTML_START = re.compile(rb"^\s*(<!doctype html|<html|<head|<body|<\?xml|<!--|<meta|<title)", re.I)
_TAG = re.compile(rb"<(/?)([A-Za-z][A-Za-z0-9]*)([^>]*?)(/?)>")
#: Elements whose end tag HTML lets an author leave out (and void ones that have none):
#: they do not deepen the nesting that the depth bound is about.
_NO_DEPTH = frozenset(
    b"p li td th tr dt dd option thead tbody tfoot colgroup rb rt rp optgroup "
    b"area base br col embed hr img input link meta source track wbr param".split()
)
_BOILERPLATE_LINE = re.compile(
    r"telegram|subscribe|newsletter|cookie|sign up|join our|advertisement|click here", re.I
)


@dataclass(frozen=True)
class Extracted:
    """What one document says about itself, and its main text."""

    text: str
    media_type: str
    extractor: str
    title: str = ""
    publisher: str | None = None
    published_on: str | None = None
    authors: list[str] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        return {
            "title": self.title,
            "publisher": self.publisher,
            "published_on": self.published_on,
            "authors": list(self.authors),
            "media_type": self.media_type,
            "extractor": self.extractor,
            "characters": len(self.text),
        }


def extract_document(data: bytes, source: str | Path) -> Extracted:
    """The main text and metadata of ``data`` (named ``source`` in errors)."""
    if len(data) > limits.SOURCE_BYTES:
        raise InputError(
            f"larger than {limits.SOURCE_BYTES:,} bytes: not an article or report", source=source
        )
    if not data.strip():
        raise InputError("empty file: no text", source=source)
    if data.startswith(b"%PDF-"):
        extracted = _pdf(data, source)
    else:
        if b"\x00" in data[:65536] and not data.startswith(
            (codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)
        ):
            raise InputError("binary data (NUL bytes): not HTML, text or PDF", source=source)
        text = _decode(data, source)
        _refuse_control_heavy(text, source)
        if _HTML_START.match(data) or re.search(rb"<(html|body|article)\b", data[:4096], re.I):
            extracted = _html(data, text, source)
        else:
            extracted = _plain(text)
    if not extracted.text.strip():
        raise InputError("no text found in it", source=source)
    if len(extracted.text) > limits.SOURCE_TEXT_CHARS:
        raise InputError(
            f"more than {limits.SOURCE_TEXT_CHARS:,} characters of text: not an article",
            source=source,
        )
    return extracted


def _decode(data: bytes, source: str | Path) -> str:
    """Text by BOM, else the declared charset, else UTF-8; an unknown name is refused."""
    for bom, name in ((codecs.BOM_UTF8, "utf-8-sig"), (codecs.BOM_UTF16_LE, "utf-16"),
                      (codecs.BOM_UTF16_BE, "utf-16")):  # fmt: skip
        if data.startswith(bom):
            return _decode_as(data, name, source)
    declared = _CHARSET.search(data[:4096]) or _XML_ENCODING.search(data[:4096])
    if declared:
        name = declared.group(1).decode("ascii")
        try:
            codecs.lookup(name)
        except LookupError:
            raise InputError(f"declares an unknown encoding {name!r}", source=source) from None
        return _decode_as(data, name, source)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise InputError(
            f"unknown encoding: not UTF-8 (bad byte at offset {error.start}) and no charset "
            "declared; convert it to UTF-8",
            source=source,
        ) from None


def _decode_as(data: bytes, name: str, source: str | Path) -> str:
    try:
        return data.decode(name)
    except UnicodeDecodeError as error:
        raise InputError(
            f"not {name} text as it declares (bad byte at offset {error.start})", source=source
        ) from None


def _refuse_control_heavy(text: str, source: str | Path) -> None:
    """Binary junk that happens to decode: more than 1 in 20 characters are controls."""
    sample = text[:65536]
    controls = sum(1 for c in sample if c < " " and c not in "\t\n\r\f")
    if controls * 20 > len(sample):
        raise InputError("binary data (control characters): not HTML, text or PDF", source=source)


def _check_markup(data: bytes, source: str | Path) -> None:
    if re.search(rb"<!ENTITY", data, re.I):
        raise InputError("declares XML entities (an entity bomb?): refused", source=source)
    depth = deepest = elements = 0
    for match in _TAG.finditer(data):
        closing, name, _attributes, self_closing = match.groups()
        if name.lower() in _NO_DEPTH or self_closing:
            continue
        elements += 1
        depth += -1 if closing else 1
        deepest = max(deepest, depth)
        if elements > limits.HTML_ELEMENTS or deepest > limits.HTML_DEPTH:
            raise InputError(
                f"HTML nested deeper than {limits.HTML_DEPTH} or with more than "
                f"{limits.HTML_ELEMENTS:,} elements (a nesting bomb?): refused",
                source=source,
            )


def _html(data: bytes, text: str, source: str | Path) -> Extracted:
    import trafilatura  # imported on use: lxml and its friends cost a quarter second

    _check_markup(data, source)
    document = trafilatura.bare_extraction(
        text, with_metadata=True, include_comments=False, include_tables=False, favor_recall=True
    )
    if document is None or not (document.text or "").strip():
        raise InputError("no main text found in this HTML page", source=source)
    authors = [a.strip() for a in re.split(r";|,| and ", document.author or "") if a.strip()]
    return Extracted(
        text=document.text,
        media_type=HTML,
        extractor=f"trafilatura {trafilatura.__version__}",
        title=(document.title or "").strip(),
        publisher=(document.sitename or None),
        published_on=_iso_date(document.date),
        authors=authors,
    )


def _pdf(data: bytes, source: str | Path) -> Extracted:
    import pypdf  # imported on use

    try:
        reader = pypdf.PdfReader(io.BytesIO(data))
        pages = [page.extract_text() or "" for page in reader.pages]
        info = reader.metadata or {}
    except Exception as error:  # pypdf raises many kinds on a damaged file
        raise InputError(f"not a readable PDF ({type(error).__name__})", source=source) from None
    text = "\n\n".join(pages)
    if not text.strip():
        raise InputError("PDF without a text layer (scanned?): no text", source=source)
    title = str(info.get("/Title") or "").strip() or _plain(text).title
    author = str(info.get("/Author") or "")
    return Extracted(
        text=text,
        media_type=PDF,
        extractor=f"pypdf {pypdf.__version__}",
        title=title,
        authors=[a.strip() for a in re.split(r";|,| and ", author) if a.strip()],
        published_on=_pdf_date(str(info.get("/CreationDate") or "")),
    )


def _plain(text: str) -> Extracted:
    """Plain text: the title is the first short line that is not boilerplate; the date the
    first date in the opening lines."""
    lines = [line.strip() for line in text.splitlines()]
    title = next(
        (
            line
            for line in lines
            if line
            and len(line) <= 200
            and not _BOILERPLATE_LINE.search(line)
            and not line.endswith(".")
        ),
        "",
    )
    dated_lines = [line for line in lines[:12] if _whole_date(line)]
    head = dated_lines[0] if dated_lines else "\n".join(lines[:12])
    dates = [d for d in find_dates(head) if len(d.value) == 10 and d.value[0] != "-"]
    return Extracted(
        text=text,
        media_type=TEXT,
        extractor="plain",
        title=title,
        published_on=dates[0].value if dates else None,
    )


def _whole_date(line: str) -> bool:
    """A line that is a date and nothing else: an article's dateline."""
    dates = find_dates(line)
    return len(dates) == 1 and dates[0].text.strip() == line.strip(" .")


def _iso_date(text: str | None) -> str | None:
    match = re.match(r"(\d{4})(-\d{2})?(-\d{2})?", text or "")
    return match.group(0) if match else None


def _pdf_date(text: str) -> str | None:
    match = re.match(r"D:(\d{4})(\d{2})(\d{2})", text)
    return "-".join(match.groups()) if match else None
