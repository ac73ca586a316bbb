"""Entry point the CLI finds through the `turnout.frontends` entry-point group."""

from __future__ import annotations

from turnout.backend.config import Config
from turnout.backend.contexts import Contexts
from turnout.backend.service import ReleaseService


def run(service: ReleaseService, config: Config, *, contexts: Contexts | None = None) -> int:
    """Run the TUI on `service` until the operator quits; return the exit code. With
    `contexts`, the overview lists the apps of every context side by side."""
    from turnout.tui.app import TurnoutApp

    app = TurnoutApp(service, config, contexts=contexts)
    app.run()
    return app.return_code or 0


def serve(command: str, host: str, port: int) -> int:
    """Serve the TUI to a browser with textual-serve; each session runs `command`."""
    from textual_serve.server import Server

    Server(command, host=host, port=port, title="Turnout").serve()
    return 0
