"""How the console answers the operator: every toast is text, every key says what it did."""

from __future__ import annotations

from collections.abc import Mapping

from rich.text import Text
from textual import on
from textual.actions import ActionParseResult
from textual.app import App as TextualApp
from textual.dom import DOMNode
from textual.notifications import SeverityLevel
from textual.worker import Worker, WorkerState

from turnout.backend.sanitize import inert


class AnsweringApp(TextualApp[int]):
    """A Textual app that never answers in markup and never stays silent.

    Toasts carry outside text (an error from the cluster, a lock holder, an image), so they
    are shown as text; a key greyed out by `check_action` says why instead of doing nothing;
    a worker that fails says so (workers run with exit_on_error=False so the console survives
    them). `TurnoutApp` adds the releases on top.
    """

    def notify(self, message: str | Text, *, title: str = "",
               severity: SeverityLevel = "information", timeout: float | None = None,
               markup: bool = False) -> None:
        """Every toast, from any screen or worker, shows its text as text: markup is never
        parsed, whatever the caller asked, and escape sequences are dropped."""
        plain = message.plain if isinstance(message, Text) else message
        super().notify(inert(plain), title=inert(title, single_line=True), severity=severity,
                       timeout=timeout, markup=False)

    @on(Worker.StateChanged)
    def _worker_failed(self, event: Worker.StateChanged) -> None:
        """A worker that raised something unexpected says so: a key must never fail silently."""
        if event.state == WorkerState.ERROR and event.worker.error is not None:
            error = event.worker.error
            self.notify(f"{event.worker.name or 'background task'} failed: "
                        f"{type(error).__name__}: {error}", title="Unexpected error",
                        severity="error")

    async def run_action(self, action: str | ActionParseResult, default_namespace: DOMNode | None = None,
                         namespaces: Mapping[str, DOMNode] | None = None) -> bool:
        """Run `action`; a key greyed out by `check_action` says why instead of doing nothing."""
        if await super().run_action(action, default_namespace, namespaces):
            return True
        if isinstance(action, str):
            target, name, params = self._parse_action(
                action, self if default_namespace is None else default_namespace, namespaces)
            why_refused = getattr(target, "why_refused", None)
            if callable(why_refused) and not target.check_action(name, params):
                reason = why_refused(name)
                if reason:
                    self.notify(reason, title="Not available", severity="warning")
        return False

    def action_help_quit(self) -> None:
        """ctrl+c: say how to quit (Textual's own toast for it is markup)."""
        self.notify("Press q to quit Turnout.", title="Quit?")
