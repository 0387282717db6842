"""The one sanitiser for user text on its way to a terminal.

Rich and Textual strip only BEL, BS, VT, FF and CR from text; ESC, the other C0 codes, DEL and the
C1 range (8-bit CSI 0x9B, OSC 0x9D, ...) pass straight through to the terminal, where they can
clear the screen, retitle the window or write the clipboard (OSC 52).  Everything that shows text a
user, a camera or an import supplied goes through :func:`clean` first.  The database keeps the exact
bytes (forensic fidelity); only what is drawn is changed, into visible placeholders so an operator
can still see that something odd was typed.

No Textual import here: the CLI and the PDF report use it too.
"""

from __future__ import annotations

import re

_C0_PICTURES = {code: chr(0x2400 + code) for code in range(0x20)}  # U+2400 "␀" ... U+241B "␛"
_DEL_PICTURE = "\u2421"  # ␡
_NEWLINE_PICTURE = "\u2424"  # ␤
_REPLACEMENT = "\ufffd"  # �
# Characters that reorder or hide text on screen (bidi overrides and isolates, marks, separators).
_INVISIBLE = set(range(0x202A, 0x202F)) | set(range(0x2066, 0x206A)) | {0x200E, 0x200F, 0x061C}
_SEPARATORS = {0x2028, 0x2029, 0x85}

_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u2028\u2029\u200e\u200f\u061c\u202a-\u202e\u2066-\u2069]")


def _replace(char: str, *, multiline: bool) -> str:
    code = ord(char)
    if code == 0x0A:
        return "\n" if multiline else _NEWLINE_PICTURE
    if code == 0x09:
        return "\t" if multiline else " "
    if code in _SEPARATORS:
        return "\n" if multiline else _NEWLINE_PICTURE
    if code < 0x20:
        return _C0_PICTURES[code]
    if code == 0x7F:
        return _DEL_PICTURE
    return _REPLACEMENT  # C1 controls and invisible reordering marks


def clean(text: object, *, multiline: bool = False) -> str:
    """Return ``text`` with every control character replaced by a visible placeholder.

    ``multiline`` keeps line feeds and tabs for text areas; single-line places such as table
    cells get "␤" and a space instead so a row never spills.  ``None`` becomes the empty string.
    """
    if text is None:
        return ""
    value = str(text)
    if value.isprintable() and "\u2028" not in value:  # fast path: nothing to do (most strings)
        return value
    return _UNSAFE.sub(lambda m: _replace(m.group(), multiline=multiline), value)


def is_clean(text: str) -> bool:
    """True when ``text`` holds no character :func:`clean` would replace (line feeds and tabs allowed)."""
    return _UNSAFE.search(text.replace("\n", "").replace("\t", "")) is None
