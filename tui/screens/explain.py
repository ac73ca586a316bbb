"""Explain: a user key and attributes in, the variant, the reason and the bucket out."""

from __future__ import annotations

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Input, Label, Static

from turnout.backend.errors import InvalidInput, TurnoutError
from turnout.backend.flags.evaluate import Evaluation
from turnout.tui.backend import service_of
from turnout.tui.render import safe


def parse_attributes(text: str) -> dict[str, str]:
    """`email=a@example.com country=NL` → a context dictionary."""
    attrs: dict[str, str] = {}
    for pair in text.split():
        name, sep, value = pair.partition("=")
        if not sep or not name:
            raise InvalidInput(f"{pair!r}: expected name=value")
        attrs[name] = value
    return attrs


class ExplainScreen(ModalScreen[None]):
    """Evaluate one flag for a user the operator types in."""

    DEFAULT_CSS = """
    ExplainScreen { align: center middle; }
    ExplainScreen > Vertical { width: 76; max-width: 100%; height: auto;
        border: thick $primary; background: $surface; padding: 1 2; }
    ExplainScreen #answer { margin-top: 1; height: auto; }
    """
    BINDINGS = [Binding("escape", "dismiss", "Close", id="explain.close")]

    def __init__(self, key: str) -> None:
        super().__init__()
        self.key = key

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(Text.assemble("Explain ", safe(self.key)))
            yield Input(id="user", placeholder="user key, e.g. alice")
            yield Input(id="attrs", placeholder="attributes, e.g. email=alice@example.com")
            yield Static(id="answer")

    class Answered(Message, bubble=False):
        """The evaluation, the user's bucket and the bucketing rule, or why there is none."""

        def __init__(self, answer: tuple[Evaluation, int, str] | None = None,
                     error: TurnoutError | None = None) -> None:
            super().__init__()
            self.answer = answer
            self.error = error

    @on(Input.Submitted)
    def _submitted(self) -> None:
        self.evaluate(self.query_one("#user", Input).value.strip(),
                      self.query_one("#attrs", Input).value)

    @work(exclusive=True, exit_on_error=False)
    async def evaluate(self, user: str, attributes: str) -> None:
        """Evaluate the flag for what was typed and post the answer (or the error)."""
        try:
            context = {"targetingKey": user, **parse_attributes(attributes)}
            answer = await service_of(self).flag_console().explain(self.key, context)
        except TurnoutError as err:
            self.post_message(self.Answered(error=err))
            return
        self.post_message(self.Answered(answer))

    @on(Answered)
    def _answered(self, message: Answered) -> None:
        shown = self.query_one("#answer", Static)
        if (err := message.error) is not None:
            shown.update(Text.assemble(f"{err.title}: ", safe(str(err))))
            return
        if message.answer is None:
            return
        result, bucket, rule = message.answer
        shown.update(Text.assemble(
            "variant  ", safe(str(result.variant)), "\nvalue    ", safe(repr(result.value)),
            "\nreason   ", str(result.reason), "\nbucket   ", f"{bucket} of 0..99",
            "\nrule     ", rule,
            *(("\nerror    ", safe(result.error)) if result.error else ())))
