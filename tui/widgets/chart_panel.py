"""A chart of one signal for both colors; re-drawn when its series or size change."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

from rich.text import Text
from textual.reactive import reactive
from textual.widget import Widget

from turnout.tui.charts import line_chart

Series = Mapping[str, Sequence[tuple[float, float]]]


class ChartPanel(Widget):
    """Shows `series` (color -> samples) as a text line chart."""

    DEFAULT_CSS = """
    ChartPanel { width: 1fr; height: 1fr; min-height: 6; border: round $panel; }
    """

    series: reactive[Series] = reactive(dict, always_update=True)
    """Samples by color, newest last."""

    def __init__(self, title: str, *, scale: float = 1.0, id: str | None = None) -> None:
        super().__init__(id=id)
        self.title = title
        self.scale = scale
        self._drawn: tuple[Series, int, int, Text] | None = None

    def render(self) -> Text:
        """The chart, drawn again only for new series or a new size (plotext takes ~10 ms;
        a repaint of the region, from a dialog or a scroll, must not pay it)."""
        size = self.content_size
        drawn = self._drawn
        if drawn is None or drawn[0] is not self.series or drawn[1:3] != (size.width, size.height):
            chart = Text(line_chart(self.title, self.series, width=size.width, height=size.height,
                                    scale=self.scale), no_wrap=True, overflow="crop")
            drawn = self._drawn = (self.series, size.width, size.height, chart)
        return drawn[3]
