"""The help screen: the app's own keys on the screen underneath, grouped, then what it is."""

from __future__ import annotations

from rich.text import Text
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

INTRO = """\
Live is the color the Service selects; the canary is the other color, receiving the
canary weight. Every action that changes traffic asks for confirmation and states exactly
what will change. In read-only mode nothing can be changed."""


class HelpScreen(ModalScreen[None]):
    """Keys and what they do, from the active bindings (see `turnout.tui.keys.help_text`)."""

    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > VerticalScroll { width: 80; max-width: 100%; height: auto; max-height: 100%;
        border: thick $primary; background: $surface; padding: 0 1; }
    HelpScreen #intro { margin-top: 1; color: $text-muted; }
    """
    BINDINGS = [Binding("escape,q,question_mark", "dismiss", "Close", id="help.close")]

    def __init__(self, keys: Text) -> None:
        super().__init__()
        self.keys = keys

    def compose(self) -> ComposeResult:
        with VerticalScroll() as scroll:
            scroll.border_title = "Keys · esc closes"
            yield Static(self.keys, id="keys")
            yield Static(INTRO, id="intro", markup=False)
