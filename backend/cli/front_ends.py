"""Commands that hand the terminal to a front end (the TUI, the browser), found by entry point
in the `turnout.frontends` group so that this package never imports them.

`turnout demo` and a bare `turnout` come through here before the TUI's first frame, so this
module loads nothing the other commands need."""

from __future__ import annotations

import argparse
import importlib
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from turnout.backend.cli.context import CliContext
from turnout.backend.errors import ConfigError

GROUP = "turnout.frontends"
Handover = Callable[[argparse.Namespace, CliContext], int]
"""Commands that hand the terminal to a front end run outside the CLI's event loop."""


class Entry:
    """One entry point of the group: its name and `module:attribute` value, loaded on demand."""

    def __init__(self, name: str, value: str) -> None:
        self.name = name
        self.value = value

    def load(self) -> Callable[..., int]:
        module, _, attribute = self.value.partition(":")
        found: Any = importlib.import_module(module.strip())
        for part in attribute.split("[", 1)[0].strip().split("."):
            found = getattr(found, part)
        run: Callable[..., int] = found
        return run


def front_end(name: str) -> tuple[Entry, ...]:
    """The entry point called `name`: Turnout's own distribution's first, then any other
    distribution's. Turnout's own are read straight from its installed `entry_points.txt`;
    importing `importlib.metadata` alone (it parses e-mail headers) costs the TUI's first frame
    some 25 ms, so it is only loaded when Turnout's own metadata does not answer."""
    own = _own_entry_points()
    if own is not None:
        found = tuple(Entry(n, v) for n, v in own.get(GROUP, {}).items() if n == name)
        if found:
            return found
    from importlib.metadata import entry_points

    return tuple(Entry(e.name, e.value) for e in entry_points(group=GROUP, name=name))


def _own_entry_points() -> dict[str, dict[str, str]] | None:
    """Turnout's `entry_points.txt` by group, from the first `turnout-*.dist-info` on `sys.path`
    (the one `importlib.metadata` would pick); None if Turnout is not installed."""
    for folder in sys.path:
        try:
            names = os.listdir(folder or ".")
        except OSError:
            continue
        for entry in names:
            if entry.startswith("turnout-") and entry.endswith(".dist-info"):
                try:
                    text = Path(folder or ".", entry, "entry_points.txt").read_text()
                except OSError:
                    return {}
                return parse_entry_points(text)
    return None


def parse_entry_points(text: str) -> dict[str, dict[str, str]]:
    """The entry-point file format (an INI file: `[group]`, then `name = value` lines)."""
    groups: dict[str, dict[str, str]] = {}
    group: dict[str, str] | None = None
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line[0] in "#;":
            continue
        if line.startswith("[") and line.endswith("]"):
            group = groups.setdefault(line[1:-1].strip(), {})
        elif group is not None and "=" in line:
            key, _, value = line.partition("=")
            group[key.strip()] = value.strip()
    return groups


def open_tui(ctx: CliContext, *, demo: bool) -> int:
    """Hand over to the TUI front end."""
    found = front_end("tui")
    if not found:
        raise ConfigError("the TUI front end is not installed (pip install turnout)")
    if demo:
        ctx.args.demo = True
    run = found[0].load()
    if ctx.several_contexts:
        from turnout.backend.cli.connect import contexts

        view = contexts(ctx)
        # The app screens and verbs act in one context: the first one given.
        return run(view.primary(), ctx.config, contexts=view)
    return run(ctx.service(), ctx.config)


def serve(args: argparse.Namespace, ctx: CliContext) -> int:
    """The TUI in a browser on 127.0.0.1; read-only unless --write is given."""
    found = front_end("serve")
    if not found:
        raise ConfigError("the browser front end is not installed (pip install turnout)")
    command = [sys.executable, "-m", "turnout.backend"]
    command += [f"--context={name}" for name in ctx.contexts]
    command += ["--all-contexts"] if ctx.opt("all_contexts") else []
    for flag in ("kubeconfig", "namespace", "request_timeout"):
        if ctx.opt(flag) is not None:
            command += [f"--{flag.replace('_', '-')}", str(ctx.opt(flag))]
    command += ["--demo"] if ctx.opt("demo") else []
    command += [] if args.write else ["--read-only"]
    import shlex

    return found[0].load()(shlex.join(command), "127.0.0.1", args.port)


def demo(args: argparse.Namespace, ctx: CliContext) -> int:
    if args.reset:
        from turnout.backend.assembly import reset_demo

        reset_demo()
        ctx.err.write("demo: back to its seed; every later command starts from there\n")
        return 0
    return open_tui(ctx, demo=True)
