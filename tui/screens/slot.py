"""Ask for one color's new replica count or image; returns (color, value), or None when
cancelled. The backend checks both and plans the change; the confirmation comes after."""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label

from turnout.backend.models import App
from turnout.tui.render import safe

ASKED = {"scale": "Replicas", "set-image": "Image"}
"""What each slot verb asks for."""


class SlotScreen(ModalScreen[tuple[str, int | str] | None]):
    """A color (the idle one to start with) and its new replica count or image."""

    DEFAULT_CSS = """
    SlotScreen { align: center middle; }
    SlotScreen > Vertical { width: 76; max-width: 100%; height: auto;
        border: thick $primary; background: $surface; padding: 1 2; }
    SlotScreen .error { color: $error; }
    """
    BINDINGS = [Binding("escape", "cancel", "Cancel", id="slot.cancel")]

    def __init__(self, target: App, verb: str) -> None:
        super().__init__()
        self.target = target
        self.verb = verb

    def compose(self) -> ComposeResult:
        idle = self.target.traffic.canary
        slot = self.target.slot(idle)
        now = str(slot.desired) if self.verb == "scale" else slot.image
        with Vertical():
            yield Label(Text.assemble(f"{ASKED[self.verb]} of a color of ", safe(self.target.name),
                                      f" ({idle} is idle and has ", safe(now), ").\nColor:"))
            yield Input(value=idle, id="color")
            yield Label(f"{ASKED[self.verb]}, Enter to see the change:")
            yield Input(id="value", type="integer" if self.verb == "scale" else "text")
            yield Label("", id="problem", classes="error", markup=False)

    def on_mount(self) -> None:
        self.query_one("#value", Input).focus()

    @on(Input.Submitted, "#value")
    def _submitted(self, event: Input.Submitted) -> None:
        color = self.query_one("#color", Input).value.strip()
        value = event.value.strip()
        if not value:
            self.query_one("#problem", Label).update(f"Enter the {ASKED[self.verb].lower()}.")
            return
        if self.verb != "scale":
            self.dismiss((color, value))
            return
        try:
            self.dismiss((color, int(value)))
        except ValueError:
            self.query_one("#problem", Label).update("Enter a whole number of replicas.")

    def action_cancel(self) -> None:
        self.dismiss(None)
