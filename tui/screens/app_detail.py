"""One app: blue and green side by side, traffic, signals, charts and recent activity."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.events import Resize
from textual.message import Message
from textual.widgets import DataTable, Footer

from turnout.backend.errors import TurnoutError
from turnout.backend.models import COLORS, App, AuditEntry, ClusterEvent
from turnout.tui.backend import app_of, service_of
from turnout.tui.render import (
    activity_text,
    checklist_text,
    color_text,
    drift_text,
    events_text,
    guard_text,
    health_text,
    plan_text,
    recovery_clock,
    safe,
    traffic_bar,
    verdicts_text,
)
from turnout.tui.screens.access import GuardedScreen
from turnout.tui.screens.pod import PodScreen
from turnout.tui.widgets.app_body import app_body
from turnout.tui.widgets.chart_panel import ChartPanel, Series
from turnout.tui.widgets.live_text import LiveText
from turnout.tui.widgets.slot_panel import SlotPanel
from turnout.tui.widgets.status_bar import StatusBar

CHART_MINUTES = 15
CHART_REFRESH_SECONDS = 5.0
"""Charts span 15 minutes: redrawing them more often than this shows nothing new."""
EVENTS_REFRESH_SECONDS = 2.0
"""The event tail is read from the watch cache, but matching it walks every pod of the app."""
CHECKLIST_REFRESH_SECONDS = 30.0
"""The checklist reads every object of the app whole: not on every watch event."""
COMPACT_HEIGHT = 34
"""Below this many rows the charts give their space to the pod tables."""

if TYPE_CHECKING:  # the guard and the checklist are not needed to draw an app
    from turnout.backend.checklist import Checklist
    from turnout.backend.guard import incident as incidents



class AppScreen(GuardedScreen):
    """Detail of one app, refreshed from the app-wide state."""

    BINDINGS = [
        Binding("escape", "app.pop_screen", "Back", id="app.back"),
        Binding("c", "toggle_charts", "Charts", id="app.charts"),
        Binding("enter", "open_pod", "Pod", id="app.pod"),
        Binding("k", "toggle_checklist", "Checklist", id="app.checklist", show=False),
    ]

    def __init__(self, name: str, namespace: str) -> None:
        super().__init__()
        self.app_name = name
        self.app_namespace = namespace
        self._audit: tuple[AuditEntry, ...] = ()
        self._incident: incidents.Incident | None = None
        self._charted = float("-inf")
        self._events: tuple[ClusterEvent, ...] = ()
        self._events_read = float("-inf")
        self._checked = float("-inf")

    def compose(self) -> ComposeResult:
        yield StatusBar(id="status")
        yield from app_body("errors % (last 15 min)", "p95 latency ms")
        yield LiveText(id="checklist")
        yield Footer()

    def on_mount(self) -> None:
        self.load_audit()
        self.watch(self.app, "apps", self._show, init=True)

    def load_audit(self) -> None:
        """Re-read the audit trail: on open and after each action, not on every frame."""
        self._audit = service_of(self).audit.tail(200)
        self._incident = service_of(self).latest_incident(
            self.app_name, self.app_namespace)

    def on_resize(self, event: Resize) -> None:
        self.set_class(event.size.height < COMPACT_HEIGHT, "-compact")

    def action_toggle_charts(self) -> None:
        self.toggle_class("-charts-hidden" if not self.has_class("-compact") else "-compact")

    def action_toggle_checklist(self) -> None:
        """Show (and read) or hide the app's checklist (`turnout check`)."""
        self.toggle_class("-checklist")
        if self.has_class("-checklist"):
            self._checked = time.monotonic()
            self.load_checklist()

    class ChecklistRead(Message, bubble=False):
        """The app's checklist, or why it could not be read."""

        def __init__(self, checklist: Checklist | None = None,
                     error: TurnoutError | None = None) -> None:
            super().__init__()
            self.checklist = checklist
            self.error = error

    class EventsRead(Message, bubble=False):
        """A fresh event tail of the app."""

        def __init__(self, events: tuple[ClusterEvent, ...]) -> None:
            super().__init__()
            self.events = events

    class SeriesRead(Message, bubble=False):
        """The chart series of both colors, or `None` when metrics could not be read."""

        def __init__(self, errors: Series | None = None, latency: Series | None = None) -> None:
            super().__init__()
            self.errors = errors
            self.latency = latency

    @work(exclusive=True, group="checklist", exit_on_error=False)
    async def load_checklist(self) -> None:
        """Read the checklist and post it (or the error)."""
        try:
            checklist = await service_of(self).check(self.app_name, self.app_namespace)
        except TurnoutError as err:
            self.post_message(self.ChecklistRead(error=err))
            return
        self.post_message(self.ChecklistRead(checklist))

    @on(ChecklistRead)
    def _checklist_read(self, message: ChecklistRead) -> None:
        """Show the checklist; a failure is shown in the panel, marked as an error."""
        panel = self.query_one("#checklist", LiveText)
        if (err := message.error) is not None:
            panel.add_class("-error")
            panel.show(Text.assemble(("checklist unavailable: ", "bold"), safe(str(err))))
        elif message.checklist is not None:
            panel.remove_class("-error")
            panel.show(checklist_text(message.checklist, app_of(self).palette))

    @property
    def selected(self) -> App | None:
        """This screen's app, from the latest refresh."""
        return next((a for a in app_of(self).apps
                     if (a.name, a.namespace) == (self.app_name, self.app_namespace)), None)

    def _show(self, _: object) -> None:
        app = self.selected
        if app is None:
            self.query_one("#traffic", LiveText).show(
                Text(f"{self.app_name} is gone from namespace {self.app_namespace}"))
            return
        palette = app_of(self).palette
        now = service_of(self).clock()
        traffic = app.traffic
        self._show_traffic(app)
        for color in COLORS:
            self.query_one(f"#slot-{color}", SlotPanel).show(
                app.slot(color), live=color == traffic.live, weight=traffic.weights.of(color),
                now=now, palette=palette)
        self._show_notes(app)
        if time.monotonic() - self._events_read >= EVENTS_REFRESH_SECONDS:
            self._events_read = time.monotonic()
            self.load_events(app)
            self.load_blocker(app)
        if self.has_class("-checklist") and (
                time.monotonic() - self._checked >= CHECKLIST_REFRESH_SECONDS):
            self._checked = time.monotonic()
            self.load_checklist()
        charts_shown = not self.has_class("-compact") and not self.has_class("-charts-hidden")
        if charts_shown and time.monotonic() - self._charted >= CHART_REFRESH_SECONDS:
            self._charted = time.monotonic()
            self.load_series(app)

    def _show_traffic(self, app: App) -> None:
        palette = app_of(self).palette
        traffic = app.traffic
        line = Text.assemble(
            safe(f"{app.namespace}/{app.name}"), "  live ",
            color_text(traffic.live, palette, live=True), " ",
            traffic_bar(traffic, palette, width=24), "  via ", traffic.router,
            drift_text(app, palette, detail=True),
            "\nplan ", plan_text(traffic, palette), "   health ",
            health_text(app.health, palette), "  guard ", safe(app.guard))
        if self.blocked_note:
            line.append("\n⊘ actions unavailable: ", style=palette.get("health-bad", ""))
            line.append_text(safe(self.blocked_note))
        self.query_one("#traffic", LiveText).show(line)

    @on(DataTable.RowSelected)
    def _pod_selected(self, event: DataTable.RowSelected) -> None:
        """Enter (or a click) on a pod row: that pod in depth."""
        if event.row_key.value is not None:
            self.app.push_screen(PodScreen(self.app_name, self.app_namespace, event.row_key.value))

    def action_open_pod(self) -> None:
        """The pod under the cursor of the focused (else the live color's) pod table."""
        table = self.focused
        if not isinstance(table, DataTable):
            live = self.selected.traffic.live if self.selected is not None else "blue"
            table = self.query_one(f"#pods-{live}", DataTable)
        if table.row_count:
            row = table.coordinate_to_cell_key(table.cursor_coordinate).row_key
            if row.value is not None:
                self.app.push_screen(PodScreen(self.app_name, self.app_namespace, row.value))

    def show_blocker(self, app: App) -> None:
        if (current := self.selected) is not None:
            self._show_traffic(current)

    def _show_notes(self, app: App) -> None:
        palette = app_of(self).palette
        now = service_of(self).clock()
        self.query_one("#verdicts", LiveText).show(Text.assemble(
            verdicts_text(app, palette), guard_text(app, now, palette),
            recovery_clock(self._incident, now, palette),
            activity_text(app, self._audit, now), events_text(self._events, now, palette)))

    @work(exclusive=True, group="events", exit_on_error=False, description="event tail")
    async def load_events(self, app: App) -> None:
        """Fetch the event tail; when it cannot be read nothing is posted and the last stays."""
        try:
            events = await service_of(self).events_of(app)
        except TurnoutError:
            return
        self.post_message(self.EventsRead(events))

    @on(EventsRead)
    def _new_events(self, message: EventsRead) -> None:
        if message.events != self._events:
            self._events = message.events
            if (current := self.selected) is not None:
                self._show_notes(current)

    @work(exclusive=True, group="series", exit_on_error=False, description="chart series")
    async def load_series(self, app: App) -> None:
        """Fetch the chart series and post them; a metrics failure posts no series."""
        service = service_of(self)
        try:
            errors: Series = {
                c: await service.series(app, c, "error_rate", CHART_MINUTES) for c in COLORS}
            latency: Series = {c: await service.series(app, c, "p95_ms", CHART_MINUTES) for c in COLORS}
        except TurnoutError:
            self.post_message(self.SeriesRead())
            return
        self.post_message(self.SeriesRead(errors, latency))

    @on(SeriesRead)
    def _series_read(self, message: SeriesRead) -> None:
        """Draw the series; without them the charts stay as they were, marked stale."""
        if message.errors is None or message.latency is None:
            self.query_one("#charts").add_class("-stale")
            return
        self.query_one("#chart-errors", ChartPanel).series = message.errors
        self.query_one("#chart-latency", ChartPanel).series = message.latency
