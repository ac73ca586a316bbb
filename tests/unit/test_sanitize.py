"""Untrusted text is inert: no escapes, no controls, no bidi overrides."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from turnout.backend.sanitize import inert


def test_osc_title_and_csi_are_removed() -> None:
    hostile = "pod\x1b]0;pwned\x07-a\x1b[31mred\x1b[0m\x9b2J"
    assert inert(hostile) == "pod-ared"


def test_bidi_override_is_removed_and_text_kept() -> None:
    assert inert("abc\u202edcba\u2066x") == "abcdcbax"


def test_markup_is_left_as_text() -> None:
    assert inert("[@click=app.quit]x[/]") == "[@click=app.quit]x[/]"


def test_single_line_folds_newlines() -> None:
    assert inert("a\nb\tc", single_line=True) == "a b c"


@given(st.text())
def test_nothing_dangerous_survives(text: str) -> None:
    cleaned = inert(text)
    assert "\x1b" not in cleaned
    assert not any(0x80 <= ord(c) <= 0x9F or (ord(c) < 0x20 and c not in "\t\n") for c in cleaned)
    assert not any(c in cleaned for c in "\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
