"""A Static for text that is set again on every refresh, usually unchanged."""

from __future__ import annotations

from rich.text import Text
from textual.visual import visualize
from textual.widgets import Static


class LiveText(Static):
    """`show` does the least work a new text needs: nothing when it is unchanged, a repaint
    when it fills the same rows, and the screen layout (costly at thousands of pods) only
    when its height may change."""

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self._text: Text | None = None

    def _rows(self, text: Text) -> int | None:
        """Rows `text` takes at this width, as Textual lays it out; None before layout."""
        width = self.content_size.width
        return visualize(self, text, markup=False).get_height(self.styles, width) if width else None

    def show(self, text: Text) -> None:
        """Show `text` (already inert) unless it is what is shown."""
        if text == self._text:
            return
        before = None if self._text is None else self._rows(self._text)
        same_height = before is not None and before == self._rows(text)
        self._text = text
        self.update(text, layout=not same_height)
