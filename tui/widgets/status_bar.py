"""The top line: context, connection state, and the read-only banner."""

from __future__ import annotations

from rich.text import Text
from textual.reactive import reactive
from textual.widgets import Static

from turnout.tui.backend import app_of, service_of
from turnout.tui.render import safe


class StatusBar(Static):
    """Context, connection state (live / stale since …) and mode; never blank."""

    DEFAULT_CSS = """
    StatusBar { height: 1; background: $panel; color: $foreground; padding: 0 1; }
    StatusBar.-read-only { background: $warning 40%; }
    StatusBar.-production { background: $error 50%; }
    StatusBar.-stale { color: $warning; }
    """

    context: reactive[str] = reactive("")
    """The kube context (or `demo`)."""
    connection: reactive[str] = reactive("connecting")
    """`live`, `reconnecting`, or `stale since hh:mm:ss`."""
    read_only: reactive[bool] = reactive(False)
    """Whether writes are refused: shown as a persistent banner."""
    production: reactive[bool] = reactive(False)
    """Whether the context is marked production in the config."""

    def on_mount(self) -> None:
        service = service_of(self)
        settings = app_of(self).config.contexts.get(service.context)
        self.context = service.context
        self.read_only = service.read_only
        self.production = bool(settings and settings.production)
        self.watch(self.app, "connection", self._connection_changed, init=True)

    def _connection_changed(self, value: str) -> None:
        self.connection = value

    def render(self) -> Text:
        line = Text("Turnout ", style="bold")
        line.append("│ context ")
        line.append_text(safe(self.context))
        if self.production:
            line.append("  ▲ PRODUCTION", style="bold")
        line.append(f" │ {self.connection}")
        if self.read_only:
            line.append("  │ READ-ONLY MONITORING: no action can be started", style="bold")
        return line

    def watch_read_only(self, value: bool) -> None:
        self.set_class(value, "-read-only")

    def watch_production(self, value: bool) -> None:
        self.set_class(value, "-production")

    def watch_connection(self, value: str) -> None:
        self.set_class(value.startswith("stale"), "-stale")
