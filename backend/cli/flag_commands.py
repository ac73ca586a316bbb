"""`turnout flags list|get|create|on|off|rollout|stage|target|segment|history|revert|accept-empty`.

The store comes from the session (`--flags-url`, else `TURNOUT_FLAGS_URL`, the
config file, or the local file store) with the read-only setting of the
current context, as for release commands. Every write is planned by the
backend, confirmed (naming the store, the flag, before and after; `--yes` in a
script), then written conditionally under the operator's identity and audited;
`--dry-run` prints the change and writes nothing. An edit of a split (rollout,
stage, weights) states the share of users who change variant in the
confirmation, the dry run, on stderr after the write and in `-o json|yaml`.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

from turnout.backend.cli.context import CliContext
from turnout.backend.cli.output import write_data, write_table
from turnout.backend.errors import InvalidInput
from turnout.backend.flags import ops
from turnout.backend.flags.codec import convert, to_builtins
from turnout.backend.flags.flag_console import FlagChange, confirmation, view
from turnout.backend.flags.model import Condition, Flag, Plan, Segment
from turnout.backend.flags.validate import parse_stages, parse_weights, unique_variants
from turnout.backend.sanitize import inert
from turnout.backend.service import ReleaseService

Handler = Callable[[argparse.Namespace, CliContext], Awaitable[int]]
Planner = Callable[[ReleaseService], Awaitable[FlagChange]]


def show_flags(flags: Iterable[Flag], ctx: CliContext) -> None:
    """Flags as the chosen output: a table, names, or their data."""
    flags = list(flags)
    if ctx.output == "name":
        ctx.out.writelines(f"flag/{inert(f.key)}\n" for f in flags)
    elif ctx.output == "table":
        write_table(ctx.out, ("FLAG", "STATE", "ROLLOUT", "STAGE", "VERSION", "APP"),
                    [_row(f) for f in flags])
    else:
        views = [to_builtins(f) for f in flags]
        write_data(views[0] if len(views) == 1 else {"items": views}, ctx.output, ctx.out)


def _show_written(saved: Flag, change: FlagChange, ctx: CliContext) -> None:
    """The flag as written; after an edit of its split, who changed variant too."""
    if change.preview is None:
        show_flags([saved], ctx)
        return
    ctx.err.write(f"{inert(saved.key, single_line=True)}: {change.preview.describe()}\n")
    if ctx.output in ("json", "yaml"):
        write_data({**to_builtins(saved), **_moved(change)}, ctx.output, ctx.out)
    else:
        show_flags([saved], ctx)


def _moved(change: FlagChange) -> dict[str, Any]:
    """`users_moved` and `moves` of a split edit, for -o json|yaml ({} for other writes)."""
    if change.preview is None:
        return {}
    return {"users_moved": change.preview.users_moved,
            "moves": [to_builtins(m) for m in change.preview.moves]}


def _row(flag: Flag) -> list[str]:
    split = ",".join(f"{v}={w}" for v, w in flag.rollout.items()) or f"-> {flag.default_variant}"
    stage = f"{flag.plan.stage + 1}/{len(flag.plan.stages)}" if flag.plan else "-"
    state = ("on" if flag.on else "OFF") + (" (read-only)" if flag.read_only else "")
    return [flag.key, state, split, stage, str(flag.version), flag.meta.app]


async def write(args: argparse.Namespace, ctx: CliContext, plan: Planner) -> int:
    """Plan, confirm, write (or with --dry-run print the change), print the result."""
    dry_run = bool(ctx.opt("dry_run"))
    async with ctx.session() as service:
        change = await plan(service)
        ctx.confirm(confirmation(change, service.context),
                    () if change.preview is None else (change.preview.describe(),))
        saved = await service.write_flag(change, reason=ctx.opt("reason", ""), dry_run=dry_run)
    if dry_run:
        _show_dry_run(change, ctx)
    elif change.verb == "import":
        ctx.err.write(f"imported {inert(change.key)} into {inert(change.store)}\n")
    elif isinstance(saved, Segment):
        write_data(to_builtins(saved), "json" if ctx.output == "json" else "yaml", ctx.out)
    else:
        _show_written(saved, change, ctx)
    return 0


def _show_dry_run(change: FlagChange, ctx: CliContext) -> None:
    if ctx.output in ("json", "yaml"):
        write_data({"dry_run": True, "action": change.action, "store": change.store,
                    "before": view(change.before), "after": view(change.after), **_moved(change)},
                   ctx.output, ctx.out)
    else:
        ctx.out.write(inert(confirmation(change, ""), single_line=True) + " (dry run: nothing "
                      "written)\n")
        if change.preview is not None:
            ctx.out.write(f"{inert(change.key, single_line=True)}: {change.preview.describe()}\n")


# --- reads -------------------------------------------------------------------


async def cmd_list(args: argparse.Namespace, ctx: CliContext) -> int:
    """Every flag."""
    async with ctx.session() as service:
        flags = await service.flag_console().list()
    if ctx.output not in ("table", "name"):
        write_data({"items": [to_builtins(f) for f in flags]}, ctx.output, ctx.out)
    else:
        show_flags(flags, ctx)
    return 0


async def cmd_get(args: argparse.Namespace, ctx: CliContext) -> int:
    """One flag, in full."""
    async with ctx.session() as service:
        flag = await service.flag_console().get(args.key)
    write_data(to_builtins(flag), "json" if ctx.output == "json" else "yaml", ctx.out)
    return 0


async def cmd_history(args: argparse.Namespace, ctx: CliContext) -> int:
    """Who changed the flag, when and why."""
    async with ctx.session() as service:
        entries = await service.flag_console().store.history(args.key, args.limit)
    if ctx.output in ("json", "yaml"):
        write_data({"items": to_builtins(entries)}, ctx.output, ctx.out)
        return 0
    rows = [[str(e.version), e.at.isoformat(timespec="seconds"), e.by, e.action, e.reason]
            for e in entries]
    write_table(ctx.out, ("VERSION", "AT", "BY", "ACTION", "REASON"), rows)
    return 0


# --- writes ------------------------------------------------------------------


async def cmd_create(args: argparse.Namespace, ctx: CliContext) -> int:
    """A new flag (off unless --on)."""
    flag = _new_flag(args)
    return await write(args, ctx, lambda s: s.flag_console().plan_create(flag))


async def cmd_switch(args: argparse.Namespace, ctx: CliContext) -> int:
    """The kill switch (`on` / `off`)."""
    verb = "on" if args.turn_on else "off"
    return await write(args, ctx, lambda s: s.plan_flag(verb, args.key))


async def cmd_rollout(args: argparse.Namespace, ctx: CliContext) -> int:
    """Set the percentage (or --weights for A/B/n)."""
    weights = parse_weights(args.weights) if args.weights else None
    return await write(args, ctx, lambda s: s.plan_flag("rollout", args.key, percent=args.percent,
                                                        weights=weights))


async def cmd_stage(args: argparse.Namespace, ctx: CliContext) -> int:
    """Move along the staged plan."""
    step = 1 if args.direction == "next" else -1
    return await write(args, ctx, lambda s: s.plan_flag("stage", args.key, step=step))


async def cmd_target(args: argparse.Namespace, ctx: CliContext) -> int:
    """Individual users or a segment to a variant (--remove to drop)."""
    variant = None if args.remove else args.variant
    if variant is None and not args.remove:
        raise InvalidInput("give --variant VARIANT, or --remove")
    return await write(args, ctx, lambda s: s.plan_flag(
        "target", args.key, users=tuple(args.user), segments=tuple(args.segment), variant=variant))


async def cmd_segment(args: argparse.Namespace, ctx: CliContext) -> int:
    """Create or replace a segment: listed users and/or attribute conditions."""
    conditions = tuple(_parse_condition(c) for c in args.where)
    segment = Segment(key=args.key, description=args.description, users=tuple(args.user),
                      conditions=conditions)
    return await write(args, ctx, lambda s: s.flag_console().plan_segment(segment))


async def cmd_revert(args: argparse.Namespace, ctx: CliContext) -> int:
    """Undo the latest change."""
    return await write(args, ctx, lambda s: s.plan_flag("revert", args.key))


async def cmd_accept_empty(args: argparse.Namespace, ctx: CliContext) -> int:
    """After a reset: accept the store as it is, so writes are allowed again; confirmed and
    audited under the operator's identity."""
    async with ctx.session() as service:
        console = service.flag_console()
        what = console.plan_accept_empty()
        where = f" (context {service.context})" if service.context else ""
        ctx.confirm(what + where)
        if ctx.opt("dry_run"):
            ctx.out.write(inert(what, single_line=True) + " (dry run: nothing written)\n")
            return 0
        accepted = await console.accept_empty(by=await service.who(), reason=ctx.opt("reason", ""))
    url = inert(console.url, single_line=True)
    ctx.err.write(f"{url}: accepted as it is; writes allowed\n" if accepted
                  else f"{url} was not reset: nothing changed\n")
    return 0


# --- parsing the options into records ----------------------------------------


def _new_flag(args: argparse.Namespace) -> Flag:
    fields: dict[str, Any] = {"key": args.key, "kind": args.kind, "on": args.on}
    fields["description"] = args.description
    fields["meta"] = {"owner": args.owner, "app": args.app, "tags": args.tag}
    if args.variant:
        fields["variants"] = unique_variants(_parse_variant(v) for v in args.variant)
        first = next(iter(fields["variants"]))
        fields["default_variant"] = fields["off_variant"] = first
    for name in ("default_variant", "off_variant"):
        if getattr(args, name):
            fields[name] = getattr(args, name)
    if args.weights:
        fields["rollout"] = parse_weights(args.weights)
    flag = convert(fields, Flag, f"flags.{args.key}")
    if args.stages:
        stages = parse_stages(args.stages)
        flag = ops.replace(flag, plan=Plan(stages=stages))
        flag = ops.set_rollout(flag, stages[0] if args.rollout is None else args.rollout)
    elif args.rollout is not None:
        flag = ops.set_rollout(flag, args.rollout)
    return flag


def _parse_variant(text: str) -> tuple[str, Any]:
    name, sep, raw = text.partition("=")
    if not sep:
        raise InvalidInput(f"--variant {text!r}: expected NAME=VALUE (VALUE in JSON)")
    try:
        return name, json.loads(raw)
    except ValueError:
        return name, raw  # a bare word is a string value


def _parse_condition(text: str) -> Condition:
    parts = text.split(None, 2)
    if len(parts) != 3:
        raise InvalidInput(f"--where {text!r}: expected 'ATTRIBUTE OP VALUE[,VALUE]'")
    attribute, op, values = parts
    return convert({"attribute": attribute, "op": op, "values": values.split(",")}, Condition,
                   "--where")
