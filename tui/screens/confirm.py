"""A typed yes/no modal for destructive actions. Focus starts on Cancel."""

from __future__ import annotations

from dataclasses import dataclass

from rich.text import Text
from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Static

from turnout.backend.sanitize import inert
from turnout.tui.render import safe


@dataclass(frozen=True)
class ConfirmRequest:
    """What the operator is asked to approve, stated exactly."""

    title: str
    lines: tuple[Text, ...]
    confirm_label: str
    type_to_confirm: str = ""
    """When set, the operator must type this (the app name) to enable Confirm."""


class ConfirmScreen(ModalScreen[bool]):
    """Shows exactly what will change; returns True only on an explicit confirmation."""

    DEFAULT_CSS = """
    ConfirmScreen { align: center middle; }
    ConfirmScreen > Vertical {
        width: 72; max-width: 100%; height: auto; max-height: 100%;
        border: thick $error; background: $surface; padding: 1 2;
    }
    ConfirmScreen .title { text-style: bold; color: $error; margin-bottom: 1; }
    ConfirmScreen Horizontal { height: auto; margin-top: 1; align-horizontal: right; }
    ConfirmScreen Button { margin-left: 2; }
    """
    BINDINGS = [Binding("escape", "cancel", "Cancel", id="confirm.cancel")]

    def __init__(self, request: ConfirmRequest) -> None:
        super().__init__()
        self.request = request

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(safe(self.request.title), classes="title")
            for line in self.request.lines:
                yield Static(line)
            if self.request.type_to_confirm:
                yield Label(Text.assemble("Type ", safe(self.request.type_to_confirm), " to confirm:"))
                yield Input(id="typed", placeholder=inert(self.request.type_to_confirm, single_line=True))
            with Horizontal():
                yield Button("Cancel", id="cancel")
                yield Button(self.request.confirm_label, id="confirm", variant="error",
                             disabled=bool(self.request.type_to_confirm))

    def on_mount(self) -> None:
        self.query_one("#cancel", Button).focus()

    @on(Input.Changed, "#typed")
    def _typed(self, event: Input.Changed) -> None:
        matches = event.value.strip() == self.request.type_to_confirm
        self.query_one("#confirm", Button).disabled = not matches

    @on(Input.Submitted, "#typed")
    def _submitted(self, event: Input.Submitted) -> None:
        if event.value.strip() == self.request.type_to_confirm:
            self.dismiss(True)

    @on(Button.Pressed, "#confirm")
    def _confirm(self) -> None:
        self.dismiss(True)

    @on(Button.Pressed, "#cancel")
    def action_cancel(self) -> None:
        self.dismiss(False)
