"""The one rule for identifiers and the one rule for free text, and safe terminal output.

Ids and texts reach labflow through `labflow.Lab` commands, the CSV importer,
the ``labflow`` command and documents; each of them asks this module, so a
value one of them accepts is accepted by all. Texts end up on terminals and in
spreadsheets, so what a terminal would obey (ESC, BEL, C1 controls, bidi
overrides) is refused on the way in, and `printable` escapes anything
non-printable on the way out anyway, as a second line of defence.

- An **identifier** is 1 to `MAX_IDENT_LENGTH` printable characters with no
  white space at all: the whole value must match, so ``"kbm-01\\n"`` is not one.
- A **free text** has at most `MAX_TEXT_LENGTH` characters and no control
  characters but newline and tab, no bidi embedding, override or isolate
  controls, no byte-order mark and no lone surrogate.
"""

from __future__ import annotations

import re
from typing import Final

from labflow._limits import MAX_IDENT_LENGTH, MAX_TEXT_LENGTH
from labflow.errors import InvalidCommand

__all__ = [
    "check_ident",
    "check_text",
    "find_forbidden",
    "ident_phrase",
    "ident_problem",
    "is_text",
    "neutral_cell",
    "printable",
    "text_phrase",
    "text_problem",
]

#: What free text may not hold: C0 controls but tab and newline, DEL, C1 controls, the bidi
#: embedding/override/isolate controls, the byte-order mark, and lone surrogates.
_FORBIDDEN: Final = re.compile(
    "[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ufeff\ud800-\udfff]"
)
_NAMES: Final = {
    "\x1b": "an escape character (ESC)",
    "\x07": "a bell character (BEL)",
    "\x00": "a NUL character",
    "\r": "a carriage return",
    "\ufeff": "a byte-order mark",
}


_NAMES_ID: Final = {
    "\x1b": "karakter escape (ESC)",
    "\x07": "karakter bel (BEL)",
    "\x00": "karakter NUL",
    "\r": "carriage return",
    "\ufeff": "byte-order mark",
}

#: A problem in both languages: (English phrase, Indonesian phrase).
Phrase = tuple[str, str]


def _what(char: str) -> Phrase:
    named = _NAMES.get(char)
    if named is not None:
        return named, _NAMES_ID[char]
    code = ord(char)
    if 0x202A <= code <= 0x202E or 0x2066 <= code <= 0x2069:
        return (
            f"a bidirectional override (U+{code:04X})",
            f"pengubah arah teks (U+{code:04X})",
        )
    if 0xD800 <= code <= 0xDFFF:
        return "a character that is not valid Unicode", "karakter yang bukan Unicode sah"
    return f"a control character (U+{code:04X})", f"karakter kendali (U+{code:04X})"


def _not_text(value: object) -> Phrase:
    name = type(value).__name__
    return f"must be text, not {name}", f"harus berupa teks, bukan {name}"


def text_phrase(value: object) -> Phrase | None:
    """Why ``value`` is not a free text, in English and Indonesian; ``None`` when it is one."""
    if not isinstance(value, str):
        return _not_text(value)
    if len(value) > MAX_TEXT_LENGTH:
        return (
            f"is longer than {MAX_TEXT_LENGTH} characters",
            f"lebih panjang dari {MAX_TEXT_LENGTH} karakter",
        )
    found = _FORBIDDEN.search(value)
    if found is not None:
        en, id_ = _what(found.group())
        return (
            f"contains {en} at position {found.start()}",
            f"memuat {id_} pada posisi {found.start()}",
        )
    return None


def ident_phrase(value: object) -> Phrase | None:
    """Why ``value`` is not an identifier, in English and Indonesian; ``None`` when it is one."""
    if not isinstance(value, str):
        return _not_text(value)
    if not value:
        return "must not be empty", "tidak boleh kosong"
    if len(value) > MAX_IDENT_LENGTH:
        return (
            f"is longer than {MAX_IDENT_LENGTH} characters",
            f"lebih panjang dari {MAX_IDENT_LENGTH} karakter",
        )
    # str.isprintable is false for every control, format (bidi, BOM), separator (but the
    # ASCII space), surrogate and unassigned character: with no space, the whole value is
    # printable and free of white space, a full match by construction.
    if value.isprintable() and " " not in value:
        return None
    bad = next(c for c in value if c == " " or not c.isprintable())
    if bad.isspace():
        return "must not contain white space", "tidak boleh memuat spasi"
    if _FORBIDDEN.match(bad):
        en, id_ = _what(bad)
        return f"contains {en}", f"memuat {id_}"
    return (
        f"contains a non-printable character (U+{ord(bad):04X})",
        f"memuat karakter yang tidak dapat dicetak (U+{ord(bad):04X})",
    )


def text_problem(value: object) -> str | None:
    """Why ``value`` is not a free text (an English phrase), or ``None`` when it is one."""
    phrase = text_phrase(value)
    return None if phrase is None else phrase[0]


def ident_problem(value: object) -> str | None:
    """Why ``value`` is not an identifier (an English phrase), or ``None`` when it is one."""
    phrase = ident_phrase(value)
    return None if phrase is None else phrase[0]


def check_text(value: object, what: str, *, empty: bool = True, what_id: str = "") -> str:
    """``value`` if it is a free text (and not blank, unless ``empty``); else `InvalidCommand`
    naming the field ``what`` (``what_id`` in Indonesian)."""
    label = (what_id or what).capitalize()
    phrase = text_phrase(value)
    if phrase is not None:
        raise InvalidCommand(
            f"The {what} {phrase[0]}.",
            f"{label} {phrase[1]}.",
            code="input.text",
            data={"field": what},
        )
    assert isinstance(value, str)
    if not empty and not value.strip():
        raise InvalidCommand(
            f"The {what} must not be empty.",
            f"{label} tidak boleh kosong.",
            code="input.empty",
            data={"field": what},
        )
    return value


def check_ident(value: object, what: str, *, what_id: str = "") -> str:
    """``value`` if it is an identifier; else `InvalidCommand` naming the field ``what``."""
    phrase = ident_phrase(value)
    if phrase is not None:
        shown = f" {_short(value)}" if isinstance(value, str) and value.strip() else ""
        raise InvalidCommand(
            f"The {what}{shown} {phrase[0]}.",
            f"{(what_id or what).capitalize()}{shown} {phrase[1]}.",
            code="input.identifier",
            data={"field": what},
        )
    assert isinstance(value, str)
    return value


def _short(value: str) -> str:
    text = printable(repr(value[:60] + ("..." if len(value) > 60 else "")))
    return text


#: Characters that may need escaping: anything but printable ASCII (and newline and tab).
_ODD: Final = re.compile(r"[^\n\t\x20-\x7e]")
_ODD_IN_LINE: Final = re.compile(r"[^\x20-\x7e]")


def _escape(char: str) -> str:
    code = ord(char)
    if 0xDC80 <= code <= 0xDCFF:  # a byte that was not UTF-8, kept by surrogateescape
        return f"\\x{code - 0xDC00:02x}"
    # \u001b rather than \x1b: inside a JSON string (``labflow export``) it is the same text.
    return f"\\u{code:04x}" if code <= 0xFFFF else f"\\U{code:08x}"


def printable(text: str, *, newlines: bool = True) -> str:
    """``text`` safe for a terminal: every non-printable character shown as an escape.

    ESC, BEL, every other C0 and C1 control, bidi controls, the byte-order mark
    and lone surrogates (the undecodable bytes of an argument) become ``\\u001b``,
    ``\\u202e``, ``\\xff`` ... so nothing written can move the cursor, clear the screen,
    retitle the window or reorder a line. Newlines and tabs are kept unless
    ``newlines`` is false (a table cell keeps to its line).
    """
    return (_ODD if newlines else _ODD_IN_LINE).sub(_shown, text)


def _shown(match: re.Match[str]) -> str:
    char = match.group()
    return char if char.isprintable() else _escape(char)


#: A spreadsheet reads a cell starting with one of these as a formula (or DDE command).
_FORMULA: Final = ("=", "+", "-", "@", "\t", "\r")


def neutral_cell(value: str) -> str:
    """A CSV cell a spreadsheet shows as text: a leading formula character is quoted with ``'``."""
    return "'" + value if value.startswith(_FORMULA) else value


#: The first character the free-text rule refuses in a string (a match), or ``None``.
find_forbidden: Final = _FORBIDDEN.search


def is_text(value: str) -> bool:
    """Whether the string ``value`` is a free text: the hot path of `text_problem`."""
    return len(value) <= MAX_TEXT_LENGTH and _FORBIDDEN.search(value) is None
