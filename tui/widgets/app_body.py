"""The body of one app as the app screen lays it out, live (`screens/app_detail.py`) or
replayed from an incident's recording (`screens/incident.py`): the traffic line, a panel per
color, the error-rate and latency charts, the signals. Both screens fill the same ids
(`#traffic`, `#slot-blue`, `#chart-errors`, `#chart-latency`, `#verdicts`), styled by
`app.tcss`."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Horizontal

from turnout.backend.models import COLORS
from turnout.tui.widgets.chart_panel import ChartPanel
from turnout.tui.widgets.live_text import LiveText
from turnout.tui.widgets.slot_panel import SlotPanel


def app_body(errors_title: str, latency_title: str) -> ComposeResult:
    """The widgets of an app's body, for a screen's `compose` (`yield from`)."""
    yield LiveText(id="traffic")
    with Horizontal(id="slots"):
        for color in COLORS:
            yield SlotPanel(color)
    with Horizontal(id="charts"):
        yield ChartPanel(errors_title, scale=100, id="chart-errors")
        yield ChartPanel(latency_title, id="chart-latency")
    yield LiveText(id="verdicts")
