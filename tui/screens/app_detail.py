"""One app: blue and green side by side, the traffic panel, signals."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.screen import Screen
from textual.widgets import Footer, Static
from turnout.backend.models import COLORS, App
from turnout.tui.render import color_text, health_text, plan_text, safe, traffic_bar
from turnout.tui.widgets.slot_panel import SlotPanel
from turnout.tui.widgets.status_bar import StatusBar


class AppScreen(Screen[None]):
    """Detail of one app, refreshed from the app-wide state."""

    BINDINGS = [Binding("escape", "app.pop_screen", "Back", id="app.back")]

    def __init__(self, name: str, namespace: str) -> None:
        super().__init__()
        self.app_name = name
        self.app_namespace = namespace

    def compose(self) -> ComposeResult:
        yield StatusBar(id="status")
        yield Static(id="traffic")
        with Horizontal(id="slots"):
            for color in COLORS:
                yield SlotPanel(color)
        yield Static(id="verdicts")
        yield Footer()

    def on_mount(self) -> None:
        self.watch(self.app, "apps", self._show, init=True)

    @property
    def selected(self) -> App | None:
        """This screen's app, from the latest refresh."""
        return next((a for a in self.app.apps  # type: ignore[attr-defined]
                     if (a.name, a.namespace) == (self.app_name, self.app_namespace)), None)

    def _show(self, _: object) -> None:
        app = self.selected
        if app is None:
            self.query_one("#traffic", Static).update(
                Text(f"{self.app_name} is gone from namespace {self.app_namespace}"))
            return
        palette = self.app.theme_variables
        now = self.app.service.clock()  # type: ignore[attr-defined]
        traffic = app.traffic
        self.query_one("#traffic", Static).update(Text.assemble(
            safe(f"{app.namespace}/{app.name}"), "  live ",
            color_text(traffic.live, palette, live=True), "  ",
            traffic_bar(traffic, palette, width=24), "  via ", traffic.router,
            "\nplan ", plan_text(traffic, palette), "   health ",
            health_text(app.health, palette), "   guard ", safe(app.guard)))
        for color in COLORS:
            self.query_one(f"#slot-{color}", SlotPanel).show(
                app.slot(color), live=color == traffic.live, weight=traffic.weights.of(color),
                now=now, palette=palette)
        self.query_one("#verdicts", Static).update(self._verdicts(app))

    def _verdicts(self, app: App) -> Text:
        out = Text("signals  ", style="bold")
        palette = self.app.theme_variables
        for v in app.verdicts or ():
            out.append_text(Text.assemble(f"{v.color}:{v.signal} ",
                                          health_text(v.outcome, palette), " ",
                                          safe(v.detail), "   "))
        for m in app.metrics:
            if m.rps:
                err = f"{m.error_rate:.2%}" if m.error_rate is not None else "n/a"
                p95 = f"{m.p95_ms:.0f}ms" if m.p95_ms is not None else "n/a"
                out.append(f"\n{m.color}: errors {err}  p95 {p95}  {m.rps:.0f} req/s")
        return out
