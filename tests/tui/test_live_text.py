"""LiveText: new text is shown, and a text that needs more rows gets them."""

from __future__ import annotations

from rich.text import Text
from textual.app import App, ComposeResult

from turnout.tui.widgets.live_text import LiveText


class _One(App[None]):
    CSS = "LiveText { height: auto; width: 20; }"

    def compose(self) -> ComposeResult:
        yield LiveText(id="t")


async def test_changed_text_is_shown_and_the_height_follows_the_rows() -> None:
    app = _One()
    async with app.run_test(size=(40, 12)) as pilot:
        shown = app.query_one(LiveText)
        shown.show(Text("one"))
        await pilot.pause()
        assert (str(shown.render()), shown.size.height) == ("one", 1)
        shown.show(Text("two"))  # same rows: repainted, not laid out
        await pilot.pause()
        assert (str(shown.render()), shown.size.height) == ("two", 1)
        shown.show(Text("a\nb\nc"))
        await pilot.pause()
        assert shown.size.height == 3
        shown.show(Text("x" * 50))  # one line, wrapped at 20 cells
        await pilot.pause()
        assert shown.size.height == 3
        shown.show(Text("short"))
        await pilot.pause()
        assert shown.size.height == 1
