"""The sanitiser: every control character becomes a visible placeholder; nothing else changes."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from imtui.safetext import clean, is_clean

CONTROLS = [chr(c) for c in range(0x20) if c not in (0x0A, 0x09)] + ["\x7f"] + [chr(c) for c in range(0x80, 0xA0)]


@given(st.text())
def test_output_never_holds_a_control_character(text: str) -> None:
    for multiline in (False, True):
        out = clean(text, multiline=multiline)
        assert is_clean(out)
        assert not any(c in out for c in CONTROLS)
        if not multiline:
            assert "\n" not in out and "\t" not in out


@given(st.text(alphabet=st.characters(blacklist_categories=("Cc", "Cf", "Zl", "Zp"))))
def test_printable_text_is_unchanged(text: str) -> None:
    assert clean(text) == text
    assert clean(text, multiline=True) == text


def test_placeholders_are_visible() -> None:
    assert clean("a\x1b]52;c;x\x07b") == "a␛]52;c;x␇b"
    assert clean("\x9b2J\u202e") == "�2J�"
    assert clean("one\ntwo") == "one␤two"
    assert clean("one\ntwo\tx", multiline=True) == "one\ntwo\tx"
    assert clean(None) == ""
    assert clean("[bold]x[/]") == "[bold]x[/]"  # markup is not this function's business: Text() is
