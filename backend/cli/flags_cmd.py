"""`turnout flags ...`: the argparse side of the flag commands.

The command bodies live in `flag_commands.py` and `flag_exchange.py` (`serve`, `sync`
and `bucketing` in `flags_serve_cmd.py`); this module declares the sub-commands and
their options, each dispatching through `set_defaults(func=...)` as the rest of the
CLI does. The global options and, on
writes, --yes, --dry-run and --reason are accepted after the sub-command too.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from typing import get_args

from turnout.backend.cli import flag_commands as c
from turnout.backend.cli import flag_exchange as io
from turnout.backend.cli import flags_serve_cmd
from turnout.backend.flags.model import Kind


def _store() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(add_help=False)
    p.add_argument("--flags-url", default=argparse.SUPPRESS, metavar="URL",
                   help="flag store (redis://, rediss://, file://, launchdarkly://, memory://)")
    return p


def register(subparsers: argparse._SubParsersAction,  # type: ignore[type-arg]
             parents: Sequence[argparse.ArgumentParser], writes: argparse.ArgumentParser) -> None:
    """Add `flags` and its sub-commands to the top-level parser; `parents` are the global
    options, `writes` the options of every write."""
    store = _store()
    flags = subparsers.add_parser("flags", parents=[*parents, store],
                                  help="feature flags: list, roll out, kill, explain")
    flags.set_defaults(flag_command=True)
    sub = flags.add_subparsers(dest="flags_command", metavar="SUBCOMMAND", required=True)

    def command(
        name: str, func: c.Handler, help_: str, *, write: bool = False, key: bool = True
    ) -> argparse.ArgumentParser:
        chosen = [*parents, store, writes] if write else [*parents, store]
        cmd: argparse.ArgumentParser = sub.add_parser(name, parents=chosen, help=help_,
                                                      description=help_)
        if key:
            cmd.add_argument("key", help="flag key")
        cmd.set_defaults(func=func, write=write, flag_command=True)
        return cmd

    command("list", c.cmd_list, "list flags", key=False)
    command("get", c.cmd_get, "show one flag in full")
    _create(command("create", c.cmd_create, "create a flag (off unless --on)", write=True))
    command("on", c.cmd_switch, "turn a flag on", write=True).set_defaults(turn_on=True)
    command("off", c.cmd_switch, "kill switch: turn a flag off", write=True).set_defaults(turn_on=False)
    rollout = command("rollout", c.cmd_rollout, "set the rollout percentage", write=True)
    rollout.add_argument("percent", type=int, nargs="?", help="share of the treatment variant")
    rollout.add_argument("--weights", help="A/B/n split, e.g. control=34,blue=33,green=33")
    command("stage", c.cmd_stage, "move along the staged plan", write=True).add_argument(
        "direction", choices=("next", "prev")
    )
    _target(command("target", c.cmd_target, "send users or a segment to a variant", write=True))
    _segment(command("segment", c.cmd_segment, "create or replace a segment", write=True))
    _explain(command("explain", io.cmd_explain, "why a user gets a variant (reason, bucket)"))
    _eval(command("eval", io.cmd_eval, "evaluate JSON-lines contexts", key=False))
    command("history", c.cmd_history, "who changed a flag, when, why").add_argument(
        "--limit", type=int, default=20
    )
    command("revert", c.cmd_revert, "undo the latest change to a flag", write=True)
    command("accept-empty", c.cmd_accept_empty, "after a reset: accept the store as it is (audited)",
            write=True, key=False)
    command("export", io.cmd_export, "print flagd flag-definition JSON", key=False)
    command("import", io.cmd_import, "load flagd flag-definition JSON", write=True, key=False).add_argument(
        "file", help="path, or - for stdin"
    )
    flags_serve_cmd.register(sub)


def _create(cmd: argparse.ArgumentParser) -> None:
    cmd.add_argument("--kind", choices=get_args(Kind), default="boolean")
    cmd.add_argument(
        "--variant",
        action="append",
        default=[],
        metavar="NAME=JSON",
        help="a variant and its value (repeat); default on=true, off=false",
    )
    cmd.add_argument("--default-variant", help="served when no rule or split applies")
    cmd.add_argument("--off-variant", help="served when the flag is off")
    cmd.add_argument("--on", action="store_true", help="create it switched on")
    cmd.add_argument("--rollout", type=int, help="percentage for the treatment variant")
    cmd.add_argument("--weights", help="A/B/n split, e.g. a=50,b=50")
    cmd.add_argument("--stages", help="staged plan, e.g. 10,25,50,100")
    cmd.add_argument("--description", default="")
    cmd.add_argument("--owner", default="")
    cmd.add_argument("--app", default="", help="the app whose release console shows it")
    cmd.add_argument("--tag", action="append", default=[])


def _target(cmd: argparse.ArgumentParser) -> None:
    cmd.add_argument("--user", action="append", default=[], help="user key (repeat)")
    cmd.add_argument("--segment", action="append", default=[], help="segment key (repeat)")
    cmd.add_argument("--variant", help="the variant to serve them")
    cmd.add_argument("--remove", action="store_true", help="drop these targets instead")


def _segment(cmd: argparse.ArgumentParser) -> None:
    cmd.add_argument("--user", action="append", default=[], help="member user key (repeat)")
    cmd.add_argument(
        "--where",
        action="append",
        default=[],
        metavar="'ATTR OP VALUES'",
        help="condition, e.g. 'email ends_with @example.com' "
        "(ops: in, not_in, starts_with, ends_with; values comma-separated)",
    )
    cmd.add_argument("--description", default="")


def _explain(cmd: argparse.ArgumentParser) -> None:
    cmd.add_argument("--user", required=True, help="the targeting key")
    cmd.add_argument("--attr", action="append", default=[], metavar="NAME=VALUE")


def _eval(cmd: argparse.ArgumentParser) -> None:
    cmd.add_argument("keys", nargs="*", metavar="KEY", help="flags to evaluate (default all)")
    cmd.add_argument("--context-file", help="JSON lines of contexts (default stdin)")
