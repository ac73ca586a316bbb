"""Ask for a canary weight; returns the percent, or None when cancelled."""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.validation import Integer
from textual.widgets import Input, Label

from turnout.backend.models import App
from turnout.tui.render import safe


class WeightScreen(ModalScreen[int | None]):
    """A percent in 0..100 for the canary color; the confirmation comes after."""

    DEFAULT_CSS = """
    WeightScreen { align: center middle; }
    WeightScreen > Vertical { width: 60; max-width: 100%; height: auto;
        border: thick $primary; background: $surface; padding: 1 2; }
    WeightScreen .error { color: $error; }
    """
    BINDINGS = [Binding("escape", "cancel", "Cancel", id="weight.cancel")]

    def __init__(self, target: App) -> None:
        super().__init__()
        self.target = target

    def compose(self) -> ComposeResult:
        traffic = self.target.traffic
        with Vertical():
            yield Label(Text.assemble("Canary weight for ", safe(self.target.name),
                                      f" ({traffic.canary}), now {traffic.canary_weight}%.\n"
                                      "Percent 0..100, Enter to continue:"))
            yield Input(id="percent", type="integer", validators=[Integer(0, 100)],
                        validate_on=["submitted"])
            yield Label("", id="problem", classes="error", markup=False)

    @on(Input.Submitted, "#percent")
    def _submitted(self, event: Input.Submitted) -> None:
        result = event.validation_result
        if result is not None and not result.is_valid:
            self.query_one("#problem", Label).update("Enter a whole percent from 0 to 100.")
            return
        self.dismiss(int(event.value))

    def action_cancel(self) -> None:
        self.dismiss(None)
