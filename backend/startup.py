"""The `turnout` command's start: the cyclic garbage collector is held while the command's
modules load and, for the TUI, until its first frame is drawn.

Starting allocates a few hundred thousand objects that live as long as the process (modules,
classes, the stylesheet). As they pile up the collector would scan them again and again, about
30 ms of the TUI's first frame. `resume` then freezes them, so they are never scanned again
(as CPython's `gc.freeze` documentation advises for long-lived startup objects), and lets the
collector run. A process that embeds Turnout (the tests, a host app) never calls `hold`, so
its collector is left as it was."""

from __future__ import annotations

import gc
import sys

_held = False


def hold() -> None:
    """Pause the collector for the start of a command (if something else has not already)."""
    global _held
    if gc.isenabled():
        gc.disable()
        _held = True


def resume() -> None:
    """Freeze what the start allocated and run the collector again; idempotent, and a no-op
    when `hold` paused nothing."""
    global _held
    if _held:
        _held = False
        gc.freeze()
        gc.enable()


def main() -> int:
    """The `turnout` console script: hold the collector, then run the command, which resumes
    it as soon as it runs (the TUI: once its first frame is drawn)."""
    hold()
    from turnout.backend.cli import main as command

    return command(sys.argv[1:])
