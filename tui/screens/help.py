"""The help screen: every binding of the screen underneath, from the bindings themselves."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Markdown

INTRO = """\
# Turnout

One screen for blue/green and canary releases. **Live** is the color the Service
selects; the **canary** is the other color, receiving the canary weight.
Every action that changes traffic asks for confirmation and states exactly
what will change. In read-only mode nothing can be changed.
"""


class HelpScreen(ModalScreen[None]):
    """Keys and what they do; generated from the active bindings."""

    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > VerticalScroll { width: 80; max-width: 100%; height: 90%;
        border: thick $primary; background: $surface; padding: 0 1; }
    """
    BINDINGS = [Binding("escape,q,question_mark", "dismiss", "Close", id="help.close")]

    def __init__(self, keys: list[tuple[str, str]]) -> None:
        super().__init__()
        self.keys = keys

    def compose(self) -> ComposeResult:
        rows = "\n".join(f"| `{key}` | {what} |" for key, what in self.keys)
        with VerticalScroll():
            yield Markdown(f"{INTRO}\n| Key | Action |\n|---|---|\n{rows}\n")
