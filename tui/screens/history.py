"""An app's release flow in flight, its recorded releases and its delivery figures."""

from __future__ import annotations

from datetime import timedelta

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.message import Message
from textual.screen import Screen
from textual.widgets import Footer, Static

from turnout.backend.errors import TurnoutError
from turnout.backend.release import Dora, Flow, Release, format_duration, release_line
from turnout.backend.release.dora import dora
from turnout.tui.backend import service_of
from turnout.tui.render import safe
from turnout.tui.widgets.status_bar import StatusBar

WINDOW_DAYS = 30
REFRESH_SECONDS = 2.0
"""A deploy in flight moves on without any change the app-wide refresh would see (an
analysis wait, a pause): the flow is read again this often while the screen is shown."""


def flow_text(flow: Flow | None) -> Text:
    """Where a deploy in flight is, and what comes next."""
    if flow is None:
        return Text("No deploy in flight.")
    stage = flow.stage.describe() if flow.stage else "finishing"
    upcoming = " › ".join(s.describe() for s in flow.upcoming) or "done"
    out = Text.assemble(("Deploy in flight ", "bold"), safe(f"{flow.version} ({flow.strategy}) "),
                        f"{flow.old} → {flow.new}: step {flow.at + 1}/{len(flow.stages)} ",
                        safe(stage), "\nnext: ", safe(upcoming))
    for verdict in flow.verdicts[-4:]:
        out.append_text(Text.assemble("\n  ", safe(f"{verdict.color}:{verdict.signal} "
                                                    f"{verdict.outcome} {verdict.detail}")))
    return out


def figures_text(figures: Dora) -> Text:
    """The delivery figures over the window, each with its unit."""
    def seconds(value: float | None) -> str:
        return format_duration(value) if value is not None else "—"

    def percent(value: float | None) -> str:
        return f"{value:.0%}" if value is not None else "—"

    return Text.assemble(
        (f"Last {WINDOW_DAYS} days: ", "bold"), f"{figures.releases} releases · ",
        f"{figures.deployment_frequency_per_day:.2f}/day · change failure rate ",
        percent(figures.change_failure_rate), " · success ", percent(figures.success_rate),
        "\nlead time (median) ", seconds(figures.lead_time.median),
        " · time to restore ", seconds(figures.time_to_restore.median),
        " · rollback time ", seconds(figures.rollback_time.median))


class HistoryScreen(Screen[None]):
    """Read-only view of one app's releases."""

    BINDINGS = [Binding("escape", "app.pop_screen", "Back", id="history.back")]

    def __init__(self, name: str, namespace: str) -> None:
        super().__init__()
        self.app_name = name
        self.app_namespace = namespace

    def compose(self) -> ComposeResult:
        yield StatusBar(id="status")
        with VerticalScroll():
            yield Static(id="flow")
            yield Static(id="figures")
            yield Static(id="releases")
        yield Footer()

    def on_mount(self) -> None:
        self.load()
        self.set_interval(REFRESH_SECONDS, self.load, name="history-refresh")

    class Loaded(Message, bubble=False):
        """A read of the flow and the recorded releases, or why it failed."""

        def __init__(self, flow: Flow | None = None, releases: tuple[Release, ...] = (),
                     error: TurnoutError | None = None) -> None:
            super().__init__()
            self.flow = flow
            self.releases = releases
            self.error = error

    @work(exclusive=True, exit_on_error=False)
    async def load(self) -> None:
        """Read the flow and history; a failure is posted to be shown, not fatal."""
        service = service_of(self)
        try:
            flow = await service.flow(self.app_name, self.app_namespace)
            releases = await service.history(self.app_namespace, self.app_name)
        except TurnoutError as err:
            self.post_message(self.Loaded(error=err))
            return
        self.post_message(self.Loaded(flow, releases))

    @on(Loaded)
    def _loaded(self, message: Loaded) -> None:
        """Show the flow, the figures over the window and the latest releases."""
        if (err := message.error) is not None:
            self.query_one("#flow", Static).update(Text.assemble(f"{err.title}: ", safe(str(err))))
            return
        now = service_of(self).clock()
        self.query_one("#flow", Static).update(flow_text(message.flow))
        figures = dora(message.releases, since=now - timedelta(days=WINDOW_DAYS), until=now,
                       app=self.app_name, namespace=self.app_namespace)
        self.query_one("#figures", Static).update(figures_text(figures))
        self.query_one("#releases", Static).update(self._lines(message.releases))

    @staticmethod
    def _lines(releases: tuple[Release, ...]) -> Text:
        out = Text("Releases, newest first", style="bold")
        for release in reversed(releases[-20:]):
            out.append_text(Text.assemble("\n", safe(f"{release.finished_at:%Y-%m-%d %H:%M}  "),
                                          safe(release_line(release))))
        return out
