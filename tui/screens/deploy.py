"""Ask for the image to deploy into the idle color; returns it, or None when cancelled."""

from __future__ import annotations

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Label

from turnout.backend.models import App
from turnout.backend.sanitize import inert
from turnout.tui.render import safe


class DeployScreen(ModalScreen[str | None]):
    """An image reference; the plan and the confirmation come after."""

    DEFAULT_CSS = """
    DeployScreen { align: center middle; }
    DeployScreen > Vertical { width: 76; max-width: 100%; height: auto;
        border: thick $primary; background: $surface; padding: 1 2; }
    DeployScreen .error { color: $error; }
    """
    BINDINGS = [Binding("escape", "cancel", "Cancel", id="deploy.cancel")]

    def __init__(self, target: App) -> None:
        super().__init__()
        self.target = target

    def compose(self) -> ComposeResult:
        idle = self.target.traffic.canary
        current = self.target.slot(self.target.traffic.live).image
        with Vertical():
            yield Label(Text.assemble("Deploy into ", safe(self.target.name), f" ({idle}, idle). Live runs ",
                                      safe(current), ".\nImage, Enter to see the plan:"))
            yield Input(id="image", placeholder=inert(current, single_line=True))
            yield Label("", id="problem", classes="error", markup=False)

    @on(Input.Submitted, "#image")
    def _submitted(self, event: Input.Submitted) -> None:
        image = event.value.strip()
        if not image or any(ch.isspace() for ch in image):
            self.query_one("#problem", Label).update("Enter an image reference like registry/app:tag.")
            return
        self.dismiss(image)

    def action_cancel(self) -> None:
        self.dismiss(None)
