"""What every command gets: parsed options, config, streams, a service."""

from __future__ import annotations

import argparse
import contextlib
import sys
from collections.abc import AsyncIterator, Sequence
from typing import Any, TextIO

import msgspec

from turnout.backend.config import Config
from turnout.backend.contexts import Contexts
from turnout.backend.errors import Cancelled, InvalidInput
from turnout.backend.service import ReleaseService
from turnout.backend.timeouts import request_timeout


class CliContext(msgspec.Struct):
    """One invocation of the CLI."""

    args: argparse.Namespace
    config: Config
    out: TextIO = msgspec.field(default_factory=lambda: sys.stdout)
    err: TextIO = msgspec.field(default_factory=lambda: sys.stderr)
    stdin: TextIO = msgspec.field(default_factory=lambda: sys.stdin)

    def __post_init__(self) -> None:
        # One bound for every backend: the option replaces the config's value for all of them.
        given = self.opt("request_timeout")
        if given is not None:
            seconds = request_timeout(str(given))
            self.args.request_timeout = seconds
            self.config = msgspec.structs.replace(self.config, request_timeout=seconds)

    def opt(self, name: str, default: Any = None) -> Any:
        """A global option, whether given before or after the subcommand."""
        return getattr(self.args, name, default)

    @property
    def output(self) -> str:
        return str(self.opt("output", "table"))

    @property
    def contexts(self) -> list[str]:
        """The contexts given (--context, repeatable and comma-separated), in order, once each."""
        given = self.opt("context") or []
        names = [name.strip() for value in ([given] if isinstance(given, str) else given)
                 for name in value.split(",")]
        if "" in names:
            raise InvalidInput("--context: a context name cannot be empty")
        return list(dict.fromkeys(names))

    @property
    def several_contexts(self) -> bool:
        """Whether this invocation reads several contexts (--all-contexts, or --context A,B)."""
        return bool(self.opt("all_contexts")) or len(self.contexts) > 1

    def one_context(self) -> str | None:
        """The one context a command acts in (None: the kubeconfig's current one); verbs on an
        app refuse several rather than guess."""
        if self.several_contexts:
            given = "--all-contexts" if self.opt("all_contexts") else ", ".join(self.contexts)
            raise InvalidInput(f"this command acts in one context, not several ({given}): "
                               "pass a single --context")
        return self.contexts[0] if self.contexts else None

    @property
    def namespace(self) -> str | None:
        """The namespace to act in; None means every namespace (reads) or unique (writes)."""
        return None if self.opt("all_namespaces") else self.opt("namespace")

    def service(self) -> ReleaseService:
        """The release service for the chosen environment (demo or a cluster)."""
        from turnout.backend.cli.connect import connect

        return connect(self)

    @contextlib.asynccontextmanager
    async def session(self) -> AsyncIterator[ReleaseService]:
        """The release service for one command, closed (watches, connections) however it ends."""
        service = self.service()
        try:
            yield service
        finally:
            await service.close()

    @contextlib.asynccontextmanager
    async def contexts_session(self, names: Sequence[str] | None = None) -> AsyncIterator[Contexts]:
        """Every context this invocation names (or `names`), each with its own service, closed
        at the end."""
        from turnout.backend.cli.connect import contexts

        view = contexts(self, names)
        try:
            yield view
        finally:
            await view.close()

    def will_ask(self) -> bool:
        """Whether `confirm` will ask on the terminal (no --yes or --dry-run, stdin a TTY)."""
        return not (self.opt("yes") or self.opt("dry_run")) and self.stdin.isatty()

    def confirm(self, what: str, detail: Sequence[str] = ()) -> None:
        """Ask before a write, after the `detail` lines (what exactly changes); in a script
        (`stdin` not a TTY) require --yes instead."""
        if self.opt("yes") or self.opt("dry_run"):
            return
        if not self.stdin.isatty():
            raise InvalidInput(f"refusing to {what} without --yes (stdin is not a terminal)")
        self.err.writelines(f"  {line}\n" for line in detail)
        self.err.write(f"{what}? [y/N] ")
        self.err.flush()
        if self.stdin.readline().strip().lower() not in ("y", "yes"):
            raise Cancelled("cancelled: nothing was changed")
