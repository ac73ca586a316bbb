"""The `turnout flags ...` commands (registered by `cli/flags_cmd.py`).

Every subcommand takes the store from `--flags-url` (else `TURNOUT_FLAGS_URL`,
the config file, or the local file store), prints data only on stdout
(`-o json|yaml` for machines), and writes with `--reason` for the audit
trail. Edits are pure functions in `flags/ops.py`; the store does the
compare-and-set, so two operators never silently overwrite each other.
"""

from __future__ import annotations

import argparse
import contextlib
import getpass
import json
import sys
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from typing import Any, Protocol

from turnout.backend.cli.output import write_data, write_table
from turnout.backend.errors import InvalidInput
from turnout.backend.flags import ops
from turnout.backend.flags.codec import convert, to_builtins
from turnout.backend.flags.model import Condition, Flag, Plan, Segment
from turnout.backend.flags.store import FlagStore
from turnout.backend.flags.urls import open_store, resolve_url
from turnout.backend.flags.validate import parse_stages, parse_weights, unique_variants

Handler = Callable[[argparse.Namespace, Any], Awaitable[int]]


class Ctx(Protocol):
    """What the flag commands use of the CLI context."""

    out: Any
    stdin: Any
    config: Any
    gate: Any


@contextlib.asynccontextmanager
async def store_for(args: argparse.Namespace, ctx: Ctx) -> AsyncIterator[FlagStore]:
    if getattr(args, "demo", False):
        from turnout.backend.demo.flags import demo_flag_store

        store: FlagStore = demo_flag_store(ctx.gate)
    else:
        url = resolve_url(getattr(args, "flags_url", None), getattr(ctx.config, "flags_url", ""))
        store = open_store(url, ctx.gate, timeout=float(getattr(ctx.config, "request_timeout", 5.0)))
    try:
        yield store
    finally:
        await store.close()


def output_format(args: argparse.Namespace) -> str:
    return str(getattr(args, "output", None) or "table")


def by_whom() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def _show_flags(flags: Iterable[Flag], args: argparse.Namespace, ctx: Ctx) -> None:
    flags = list(flags)
    if output_format(args) == "name":
        ctx.out.writelines(f"flag/{f.key}\n" for f in flags)
    elif output_format(args) == "table":
        write_table(
            ctx.out, ("FLAG", "STATE", "ROLLOUT", "STAGE", "VERSION", "APP"), [_row(f) for f in flags]
        )
    else:
        views = [to_builtins(f) for f in flags]
        write_data(views[0] if len(views) == 1 else {"items": views}, output_format(args), ctx.out)


def _row(flag: Flag) -> list[str]:
    split = ",".join(f"{v}={w}" for v, w in flag.rollout.items()) or f"-> {flag.default_variant}"
    stage = f"{flag.plan.stage + 1}/{len(flag.plan.stages)}" if flag.plan else "-"
    state = ("on" if flag.on else "OFF") + (" (read-only)" if flag.read_only else "")
    return [flag.key, state, split, stage, str(flag.version), flag.meta.app]


async def _edit(args: argparse.Namespace, ctx: Ctx, change: Callable[[Flag], Flag]) -> int:
    async with store_for(args, ctx) as store:
        current = await store.get(args.key)
        saved = await store.put(
            change(current), expected_version=current.version, by=by_whom(), reason=args.reason
        )
    getattr(ctx, "err", sys.stderr).write(f"{saved.key}: {ops.preview(current, saved).describe()}\n")
    _show_flags([saved], args, ctx)
    return 0


# --- commands ----------------------------------------------------------------


async def cmd_list(args: argparse.Namespace, ctx: Ctx) -> int:
    """Every flag."""
    async with store_for(args, ctx) as store:
        flags = await store.list()
    if output_format(args) not in ("table", "name"):
        write_data({"items": [to_builtins(f) for f in flags]}, output_format(args), ctx.out)
    else:
        _show_flags(flags, args, ctx)
    return 0


async def cmd_get(args: argparse.Namespace, ctx: Ctx) -> int:
    """One flag, in full."""
    async with store_for(args, ctx) as store:
        flag = await store.get(args.key)
    write_data(to_builtins(flag), "json" if output_format(args) == "json" else "yaml", ctx.out)
    return 0


async def cmd_create(args: argparse.Namespace, ctx: Ctx) -> int:
    """A new flag (off unless --on)."""
    flag = _new_flag(args)
    async with store_for(args, ctx) as store:
        saved = await store.put(flag, expected_version=None, by=by_whom(), reason=args.reason)
    _show_flags([saved], args, ctx)
    return 0


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
        fields["rollout"] = _parse_weights(args.weights)
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


def _parse_weights(text: str) -> dict[str, int]:
    return parse_weights(text)


async def cmd_switch(args: argparse.Namespace, ctx: Ctx) -> int:
    """The kill switch (`on` / `off`)."""
    async with store_for(args, ctx) as store:
        saved = await store.set_enabled(args.key, args.turn_on, by=by_whom(), reason=args.reason)
    _show_flags([saved], args, ctx)
    return 0


async def cmd_rollout(args: argparse.Namespace, ctx: Ctx) -> int:
    """Set the percentage (or --weights for A/B/n)."""
    if args.weights:
        weights = _parse_weights(args.weights)
        return await _edit(args, ctx, lambda f: ops.set_weights(f, weights))
    if args.percent is None:
        raise InvalidInput("give PERCENT or --weights")
    return await _edit(args, ctx, lambda f: ops.set_rollout(f, args.percent))


async def cmd_stage(args: argparse.Namespace, ctx: Ctx) -> int:
    """Move along the staged plan."""
    return await _edit(args, ctx, lambda f: ops.move_stage(f, 1 if args.direction == "next" else -1))


async def cmd_target(args: argparse.Namespace, ctx: Ctx) -> int:
    """Individual users or a segment to a variant (--remove to drop)."""
    variant = None if args.remove else args.variant
    if variant is None and not args.remove:
        raise InvalidInput("give --variant VARIANT, or --remove")

    def change(flag: Flag) -> Flag:
        for user in args.user:
            flag = ops.target_user(flag, user, variant)
        for segment in args.segment:
            flag = ops.target_segment(flag, segment, variant)
        return flag

    return await _edit(args, ctx, change)


async def cmd_segment(args: argparse.Namespace, ctx: Ctx) -> int:
    """Create or replace a segment: listed users and/or attribute conditions."""
    conditions = tuple(_parse_condition(c) for c in args.where)
    segment = Segment(
        key=args.key, description=args.description, users=tuple(args.user), conditions=conditions
    )
    async with store_for(args, ctx) as store:
        current = (await store.snapshot()).segments.get(args.key)
        version = None if current is None else current.version
        saved = await store.put_segment(segment, expected_version=version, by=by_whom(), reason=args.reason)
    write_data(to_builtins(saved), "json" if output_format(args) == "json" else "yaml", ctx.out)
    return 0


def _parse_condition(text: str) -> Condition:
    parts = text.split(None, 2)
    if len(parts) != 3:
        raise InvalidInput(f"--where {text!r}: expected 'ATTRIBUTE OP VALUE[,VALUE]'")
    attribute, op, values = parts
    return convert({"attribute": attribute, "op": op, "values": values.split(",")}, Condition, "--where")


async def cmd_history(args: argparse.Namespace, ctx: Ctx) -> int:
    """Who changed the flag, when and why."""
    async with store_for(args, ctx) as store:
        entries = await store.history(args.key, args.limit)
    if output_format(args) in ("json", "yaml"):
        write_data({"items": to_builtins(entries)}, output_format(args), ctx.out)
        return 0
    rows = [[str(e.version), e.at.isoformat(timespec="seconds"), e.by, e.action, e.reason] for e in entries]
    write_table(ctx.out, ("VERSION", "AT", "BY", "ACTION", "REASON"), rows)
    return 0


async def cmd_revert(args: argparse.Namespace, ctx: Ctx) -> int:
    """Undo the latest change."""
    async with store_for(args, ctx) as store:
        saved = await store.revert(args.key, by=by_whom(), reason=args.reason)
    _show_flags([saved], args, ctx)
    return 0
