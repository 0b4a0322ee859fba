"""The one rule for text that users and files supply, and for printing stored text safely.

At the bottom of the layers (it imports nothing of sitewatch but the errors): every input
path (site records, declarations, assessments, triage, keys) refuses what
:func:`check_text` refuses, and every presentation (the command line, later the web pages
and reports) shows stored text through :func:`escape_unsafe`.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from pathlib import Path

from sitewatch.errors import InputError

#: Characters refused in any text a user or a file supplies: controls (ESC, NUL, C1 codes),
#: format characters (bidi overrides and isolates, zero-width spaces, invisible marks),
#: line/paragraph separators and lone surrogates; also the noncharacters (U+FFFE, U+FDD0...,
#: unassigned forever). They make a name display as something other than what is stored,
#: drive the terminal that prints it, or break the XML of a KML export (XML allows
#: neither NUL nor U+FFFE, not even as a character reference).
_UNSAFE_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})
#: Zero-width non-joiner and joiner: invisible, but Persian, Indic and emoji spelling need them.
_JOINERS = frozenset("\u200c\u200d")
#: What free text (notes, reasons, inventories) may hold besides printable characters.
FREE_TEXT_LAYOUT = frozenset("\t\n\r")


def is_unsafe_character(character: str) -> bool:
    """True for a control, invisible format or non-character (see ``_UNSAFE_CATEGORIES``)."""
    code = ord(character)
    if code & 0xFFFE == 0xFFFE or 0xFDD0 <= code <= 0xFDEF:
        return True
    return unicodedata.category(character) in _UNSAFE_CATEGORIES and character not in _JOINERS


def python_escape(character: str) -> str:
    """How Python spells a character in a string literal: ``\\x1b``, ``\\u202e``."""
    return repr(character)[1:-1]


def escape_unsafe(
    text: str, *, keep: frozenset[str] = frozenset(), escape: Callable[[str], str] = python_escape
) -> str:
    """``text`` with each control or invisible character (but those in ``keep``) escaped.

    For text that was stored before :func:`check_text` refused such characters: shown,
    exported and re-saved as the visible escape, never handed on to a terminal or a file.
    """
    if text.isprintable():  # the common case, at C speed
        return text
    return "".join(escape(c) if is_unsafe_character(c) and c not in keep else c for c in text)


def check_text(
    value: str, field: str, *, multiline: bool = False, source: str | Path | None = None
) -> str:
    """``value`` if it holds no control or invisible character, else InputError naming ``field``.

    The one rule for all text that enters the workspace (site names and aliases, source
    titles, declaration text, analysts' notes, dismissal reasons): ``multiline`` free text
    may also hold tabs and line breaks (``FREE_TEXT_LAYOUT``; CRLF from Windows files).
    ``source`` names the file the text came from, if any.
    """
    allowed = FREE_TEXT_LAYOUT if multiline else frozenset()
    for position, character in enumerate(value, start=1):
        if is_unsafe_character(character) and character not in allowed:
            raise InputError(
                f"holds {_describe(character)} at character {position}; remove it",
                source=source,
                item=field,
            )
    return value


def _describe(character: str) -> str:
    code = f"U+{ord(character):04X}"
    if unicodedata.category(character) == "Cs":  # a JSON "\\ud800" escape, no character
        return f"a lone surrogate {code} (not a Unicode character)"
    name = unicodedata.name(character, "control character")
    return f"the invisible or control character {code} ({name})"


def has_lone_surrogate(text: str) -> bool:
    """True if ``text`` holds a lone surrogate (a JSON ``\\ud800`` escape): no character,
    it cannot be encoded, so it can be neither stored nor printed. :func:`check_text`
    refuses it with the other unsafe characters; this finds it in any JSON value."""
    return any("\ud800" <= char <= "\udfff" for char in text)
