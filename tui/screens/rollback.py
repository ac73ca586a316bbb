"""Ask what to roll back to: the previous color, or a version from the app's history.

Returns "" for the previous color, a version, or None when cancelled. The backend decides what
a version means (the color running it, else a deploy from the history); the confirmation that
follows says which.
"""

from __future__ import annotations

from collections.abc import Sequence

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Label, OptionList
from textual.widgets.option_list import Option

from turnout.backend.models import App, other
from turnout.tui.render import safe

PREVIOUS = "previous"
"""The option id of the previous color (versions are ids `v:<version>`)."""


class RollbackScreen(ModalScreen[str | None]):
    """The previous color first, then every version the history knows, newest first."""

    DEFAULT_CSS = """
    RollbackScreen { align: center middle; }
    RollbackScreen > Vertical { width: 76; max-width: 100%; height: auto; max-height: 80%;
        border: thick $primary; background: $surface; padding: 1 2; }
    RollbackScreen OptionList { height: auto; max-height: 16; }
    """
    BINDINGS = [Binding("escape", "cancel", "Cancel", id="rollback.cancel")]

    def __init__(self, target: App, versions: Sequence[str]) -> None:
        super().__init__()
        self.target = target
        self.versions = tuple(versions)

    def compose(self) -> ComposeResult:
        live = self.target.traffic.live
        idle = self.target.slot(other(live))
        running = {self.target.blue.version: "blue", self.target.green.version: "green"}
        options = [Option(Text.assemble(f"previous color: {idle.color} ", safe(idle.version)),
                          id=PREVIOUS)]
        for version in self.versions:
            where = (f"  (running on {running[version]})" if version in running
                     else "  (deploy from history)")
            options.append(Option(Text.assemble(safe(version), where), id=f"v:{version}"))
        with Vertical():
            yield Label(Text.assemble("Roll back ", safe(self.target.name), " to:"))
            yield OptionList(*options, id="versions")

    @on(OptionList.OptionSelected, "#versions")
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        chosen = event.option.id or PREVIOUS
        self.dismiss("" if chosen == PREVIOUS else chosen.removeprefix("v:"))

    def action_cancel(self) -> None:
        self.dismiss(None)
