"""One pod in depth: what `turnout pod APP POD` prints, styled, refreshed while open."""

from __future__ import annotations

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.message import Message
from textual.screen import Screen
from textual.timer import Timer
from textual.widgets import Footer, Static

from turnout.backend.describe import describe_lines
from turnout.backend.errors import TurnoutError
from turnout.backend.models import PodDetail
from turnout.tui.backend import app_of, service_of
from turnout.tui.render import Palette, safe
from turnout.tui.widgets.status_bar import StatusBar

REFRESH_SECONDS = 5.0
"""Logs and events move; a describe view a few seconds old is what kubectl users expect."""


def pod_text(lines: list[str], palette: Palette) -> Text:
    """The description with section titles bold and warnings in the bad-health style."""
    out = Text()
    for line in lines:
        if out:
            out.append("\n")
        shown = safe(line)
        if not line.startswith(" ") and line.endswith(":"):
            shown.stylize("bold")
        elif " Warning " in line or line.startswith("  ERROR"):
            shown.stylize(palette.get("health-bad", ""))
        out.append_text(shown)
    return out


class PodScreen(Screen[None]):
    """Read-only: labels, annotations, containers, events and log tail of one pod."""

    BINDINGS = [
        Binding("escape", "app.pop_screen", "Back", id="pod.back"),
        Binding("r", "reload", "Reload", id="pod.reload"),
    ]

    def __init__(self, app_name: str, namespace: str, pod: str) -> None:
        super().__init__()
        self.app_name = app_name
        self.app_namespace = namespace
        self.pod_name = pod
        self._last: Text | None = None
        self._next: Timer | None = None

    def compose(self) -> ComposeResult:
        yield StatusBar(id="status")
        with VerticalScroll():
            yield Static(safe(f"loading {self.pod_name}…"), id="pod")
        yield Footer()

    def on_mount(self) -> None:
        self.load()

    def action_reload(self) -> None:
        self.load()

    class Described(Message, bubble=False):
        """A read of the pod, or why it failed."""

        def __init__(self, detail: PodDetail | None = None,
                     error: TurnoutError | None = None) -> None:
            super().__init__()
            self.detail = detail
            self.error = error

    @work(exclusive=True, exit_on_error=False)
    async def load(self) -> None:
        """Describe the pod again and post what was read (or the error)."""
        if self._next is not None:
            self._next.stop()  # `r` pressed: this read replaces the scheduled one
        try:
            detail = await service_of(self).pod(self.app_name, self.pod_name, self.app_namespace)
        except TurnoutError as err:
            self.post_message(self.Described(error=err))
        else:
            self.post_message(self.Described(detail))

    @on(Described)
    def _described(self, message: Described) -> None:
        """Show the description, then schedule the next read: a read slower than the refresh
        period (a kubelet that does not answer) ends in its error, never in a loop of
        cancelled reads. An error keeps the last description under it."""
        shown = self.query_one("#pod", Static)
        if (err := message.error) is not None:
            error = Text.assemble((f"{err.title}: ", "bold"), safe(err.message))
            shown.update(error if self._last is None else Text.assemble(error, "\n\n", self._last))
        elif message.detail is not None:
            self._last = pod_text(describe_lines(message.detail, service_of(self).clock()),
                                  app_of(self).palette)
            shown.update(self._last)
        self._next = self.set_timer(REFRESH_SECONDS, self.load, name="pod-refresh")
