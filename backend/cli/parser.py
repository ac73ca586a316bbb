"""The `turnout` command line: kubectl's global flags, one subcommand per verb."""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any, NoReturn

from turnout.backend.cli import front_ends
from turnout.backend.cli.output import FORMATS

if TYPE_CHECKING:
    from turnout.backend.cli.commands import Command

FRONT_ENDS: tuple[object, ...] = (front_ends.demo, front_ends.serve)


def installed_version() -> str:
    """The installed distribution's version (pyproject.toml's, as the wheel recorded it)."""
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("turnout")
    except PackageNotFoundError:  # run from a source tree that was never installed
        return "unknown"


class VersionAction(argparse.Action):
    """`--version`: the version is looked up only when asked for (reading the installed
    distributions' metadata costs every other command startup time)."""

    def __init__(self, option_strings: list[str], dest: str = argparse.SUPPRESS,
                 default: str = argparse.SUPPRESS, help: str | None = None) -> None:
        super().__init__(option_strings, dest, nargs=0, default=default,
                         help=help or "show the version and exit")

    def __call__(self, parser: argparse.ArgumentParser, namespace: argparse.Namespace,
                 values: object, option_string: str | None = None) -> NoReturn:
        sys.stdout.write(f"turnout {installed_version()}\n")
        parser.exit()


class Parser(argparse.ArgumentParser):
    """kubectl's usage errors: one line, a hint where to read more, exit code 2. No
    abbreviated options, as kubectl: with global flags accepted anywhere, `--all` of a
    subcommand would otherwise read as an ambiguous prefix of `--all-contexts`."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("allow_abbrev", False)
        super().__init__(*args, **kwargs)

    def error(self, message: str) -> NoReturn:
        sys.stderr.write(f"error: {message}\nsee '{self.prog} --help'\n")
        sys.exit(2)


def _globals() -> Parser:
    """Flags accepted both before and after the subcommand, as kubectl does."""
    p = Parser(add_help=False)
    g = p.add_argument_group("global options")
    g.add_argument("--context", action="append", default=argparse.SUPPRESS, metavar="CONTEXT",
                   help="kube context to use; status, watch and the TUI take several "
                   "(repeat it, or A,B), each read on its own bound")
    g.add_argument("--all-contexts", action="store_true", default=argparse.SUPPRESS,
                   help="every context of the kubeconfig (status, watch, the TUI overview)")
    g.add_argument("--kubeconfig", default=argparse.SUPPRESS, help="path to the kubeconfig file")
    g.add_argument("-n", "--namespace", default=argparse.SUPPRESS, help="namespace of the app")
    g.add_argument("-A", "--all-namespaces", action="store_true", default=argparse.SUPPRESS,
                   help="every namespace")
    g.add_argument("--request-timeout", default=argparse.SUPPRESS, metavar="DURATION",
                   help="abandon a call to a backend (retries included) after this long: "
                   "3s, 1m, 500ms, or seconds")
    g.add_argument("--read-only", action="store_true", default=argparse.SUPPRESS,
                   help="refuse every write (monitoring mode)")
    g.add_argument("--demo", action="store_true", default=argparse.SUPPRESS,
                   help="use the embedded demo environment instead of a cluster")
    g.add_argument("--seed", type=int, default=argparse.SUPPRESS, help="demo random seed")
    g.add_argument("-o", "--output", choices=FORMATS, default=argparse.SUPPRESS,
                   help="output format (default table)")
    return p


def _writes() -> Parser:
    """Flags of every command that changes something."""
    p = Parser(add_help=False)
    p.add_argument("--yes", "-y", action="store_true", help="do not ask for confirmation")
    p.add_argument("--dry-run", action="store_true",
                   help="server-side dry run: validated, nothing persists")
    p.add_argument("--reason", default="", help="why, for the audit trail")
    return p


def build_parser(argv: Sequence[str] | None = None) -> argparse.ArgumentParser:
    """The whole command line; for an `argv` that only opens the TUI, only the demo command:
    the same parse, without building and importing some fifty other commands first (the
    TUI's first frame waits for it)."""
    common = _globals()
    writes = _writes()
    parser = Parser(
        prog="turnout", parents=[common],
        description="Blue/green and canary releases with feature flags, from the terminal.",
        epilog="With no command, opens the TUI on the configured cluster. Try: turnout demo")
    parser.add_argument("--version", action=VersionAction)
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    def command(name: str, func: Command | front_ends.Handover,
                help_: str) -> argparse.ArgumentParser:
        cmd = sub.add_parser(name, parents=[common], help=help_, description=help_)
        cmd.set_defaults(func=func, write=False, front_end=func in FRONT_ENDS)
        return cmd

    demo = command("demo", front_ends.demo, "open the TUI on the embedded demo environment")
    demo.add_argument("--reset", action="store_true",
                      help="forget the demo's changes (kept between commands) and return to its seed")
    demo.set_defaults(tui=True)
    if argv is not None and opens_tui(argv, common):
        _globals_everywhere(parser, common)
        return parser
    from turnout.backend.cli import commands, release_cmd  # release_cmd imports this module

    web = command("serve", front_ends.serve, "serve the TUI to a browser on 127.0.0.1 (read-only)")
    web.add_argument("--port", type=int, default=8000)
    web.add_argument("--write", action="store_true", help="allow actions (default read-only)")
    command("status", commands.status, "show apps: live color, weights, pods").add_argument(
        "app", nargs="?")
    command("watch", commands.watch, "print app status each time it changes").add_argument(
        "app", nargs="?")
    release_cmd.register_verbs(sub, [common], writes)
    _register_plugins(sub, common, writes)
    _globals_everywhere(parser, common)
    return parser


def opens_tui(argv: Sequence[str], common: argparse.ArgumentParser) -> bool:
    """Whether `argv` only opens the TUI: `demo`, or no command at all, after global flags
    only. Help, the version, or any other flag before the command answer False (the whole
    parser then answers, errors included)."""
    takes_value = {s for a in common._actions if a.nargs != 0 for s in a.option_strings}
    flags = {s for a in common._actions if a.nargs == 0 for s in a.option_strings}
    tokens = iter(argv)
    for token in tokens:
        if token in ("-h", "--help", "--version", "--"):
            return False
        if not token.startswith("-"):
            return token == "demo"
        name = token.split("=", 1)[0] if token.startswith("--") else token[:2]
        if name in takes_value:
            if token == name:
                next(tokens, None)
        elif token not in flags:
            return False
    return True


def _globals_everywhere(parser: argparse.ArgumentParser, common: argparse.ArgumentParser) -> None:
    """Every command, however deep (`flags rollout`, `guard`), accepts the global flags after
    its name too; a command's own flag of the same spelling wins."""
    for action in parser._actions:
        if not isinstance(action, argparse._SubParsersAction):
            continue
        for child in {id(c): c for c in action.choices.values()}.values():
            for option in common._actions:
                if not any(s in child._option_string_actions for s in option.option_strings):
                    child._add_action(option)
            _globals_everywhere(child, common)


def _register_plugins(sub: argparse._SubParsersAction,  # type: ignore[type-arg]
                      common: argparse.ArgumentParser, writes: argparse.ArgumentParser) -> None:
    """Command groups that live beside their backend package (flags, guard, release flow)."""
    from turnout.backend.cli import check_cmd, flags_cmd, guard_cmd, incident_cmd, kube_cmd, release_cmd

    flags_cmd.register(sub, [common], writes)
    kube_cmd.register(sub, parents=[common])
    guard_cmd.register(sub, parents=[common])
    check_cmd.register(sub, parents=[common])
    incident_cmd.register(sub, parents=[common])
    release_cmd.register(sub, parents=[common])
