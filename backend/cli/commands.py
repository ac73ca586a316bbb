"""One coroutine per subcommand: parse nothing, decide nothing, call the service, print.

Each is `async def cmd(args, ctx) -> int`; errors propagate as `TurnoutError`.
"""

from __future__ import annotations

import argparse
from collections.abc import Awaitable, Callable
from typing import TYPE_CHECKING, Any

import msgspec

from turnout.backend.cli.context import CliContext
from turnout.backend.cli.output import (
    AppStream,
    result_view,
    write_apps,
    write_contexts,
    write_data,
)
from turnout.backend.errors import NotFound, TurnoutError, Unavailable
from turnout.backend.models import ActionResult
from turnout.backend.release.model import EXIT_CODES, Flow, Release, Steered
from turnout.backend.release.views import release_line, release_view
from turnout.backend.sanitize import inert
from turnout.backend.verbs import confirmation, slot_confirmation

if TYPE_CHECKING:
    from turnout.backend.release.stages import Say

Command = Callable[[argparse.Namespace, CliContext], Awaitable[int]]


async def status(args: argparse.Namespace, ctx: CliContext) -> int:
    if ctx.several_contexts:
        return await status_contexts(args, ctx)
    async with ctx.session() as service:
        if args.app:
            write_apps([await service.app(args.app, ctx.namespace)], ctx.output, ctx.out, single=True)
        else:
            write_apps(await service.apps(ctx.namespace), ctx.output, ctx.out)
    return 0


async def status_contexts(args: argparse.Namespace, ctx: CliContext) -> int:
    """Apps of several contexts side by side; exit 8 (Unavailable) when any context is not
    live, after showing the others."""
    async with ctx.contexts_session() as view:
        found = await view.apps(ctx.namespace)
    if args.app:
        found = tuple(msgspec.structs.replace(c, apps=tuple(a for a in c.apps if a.name == args.app))
                      for c in found)
    write_contexts(found, ctx.output, ctx.out)
    if any(c.state != "live" for c in found):
        return Unavailable.exit_code
    if args.app and not any(c.apps for c in found):
        raise NotFound(f"app {args.app!r} not found in contexts {', '.join(c.context for c in found)}")
    return 0


async def watch_contexts(args: argparse.Namespace, ctx: CliContext, stream: AppStream) -> int:
    """`watch` over several contexts: one context's outage is a line, the others go on."""
    async with ctx.contexts_session() as view:
        for found in await view.apps(ctx.namespace):
            stream.state(found.context, found.state, found.error)
            stream.show([a for a in found.apps if args.app in (None, a.name)])
        async for change in view.changes():
            if change.error:
                stream.state(change.context, "unavailable", change.error)
            elif args.app in (None, change.name) and ctx.namespace in (None, change.namespace):
                try:
                    app = await view.service(change.context).app(change.name, change.namespace)
                except NotFound:
                    continue
                except TurnoutError as err:
                    stream.state(change.context, "unavailable", str(err))
                    continue
                stream.state(change.context, "live")
                stream.show([app])
    return 0


async def watch(args: argparse.Namespace, ctx: CliContext) -> int:
    """Print the app (or all apps) now, then each app again when it changes (one JSON line
    per change with -o json)."""
    stream = AppStream(ctx.output if ctx.output != "yaml" else "json", ctx.out,
                       contexts=ctx.several_contexts)
    if ctx.several_contexts:
        return await watch_contexts(args, ctx, stream)
    async with ctx.session() as service:
        stream.show([await service.app(args.app, ctx.namespace)] if args.app
                    else await service.apps(ctx.namespace))
        async for namespace, name in service.changes():
            if args.app in (None, name) and ctx.namespace in (None, namespace):
                stream.show([await service.app(name, namespace)])
    return 0


async def traffic_verb(ctx: CliContext, action: str, app: str, **params: Any) -> int:
    """Preview, confirm what the backend says will change, then perform it."""
    async with ctx.session() as service:
        preview = await service.preview(action, app, namespace=ctx.namespace, **params)
        ctx.confirm(confirmation(preview, service.context))
        outcome = await service.apply(action, app, namespace=ctx.namespace,
                                      dry_run=bool(ctx.opt("dry_run")),
                                      reason=ctx.opt("reason", ""), say=progress(ctx), **params)
    return write_outcome(ctx, outcome)


def progress(ctx: CliContext) -> Say:
    """A deploy's progress lines on stderr, so stdout keeps only the result (a table or JSON)."""
    def say(flow: Flow, message: str) -> None:
        ctx.err.write(f"turnout: {inert(flow.app)}: {inert(message, single_line=True)}\n")
        ctx.err.flush()
    return say


def write_outcome(ctx: CliContext, outcome: ActionResult | Steered) -> int:
    """Print what a verb did; the exit code its outcome calls for."""
    if isinstance(outcome, ActionResult):
        _print_result(ctx, outcome)
        return 0
    if outcome.release is not None:
        write_release(ctx, outcome.release)
    elif ctx.output in ("json", "yaml"):
        write_data(msgspec.to_builtins(outcome), ctx.output, ctx.out)
    else:
        ctx.out.write(inert(outcome.message, single_line=True) + "\n")
    if outcome.note:
        ctx.err.write(inert(outcome.note, single_line=True) + "\n")
    return outcome.exit_code


def write_release(ctx: CliContext, release: Release) -> None:
    """A finished release: its line, or its record with the exit code."""
    if ctx.output in ("json", "yaml"):
        write_data({**release_view(release), "exit_code": EXIT_CODES[release.outcome]},
                   ctx.output, ctx.out)
    else:
        ctx.out.write(inert(release_line(release), single_line=True) + "\n")



def _print_result(ctx: CliContext, result: ActionResult) -> None:
    if ctx.output in ("json", "yaml"):
        write_data(result_view(result), ctx.output, ctx.out)
        return
    b, a = result.before, result.after
    tag = " (dry run)" if result.dry_run else ("" if result.changed else " (no change)")
    ctx.out.write(f"{inert(result.namespace)}/{inert(result.app)} {result.action}{tag}: "
                  f"live {b.live} -> {a.live}, "
                  f"blue/green {b.weights.blue}/{b.weights.green} -> {a.weights.blue}/{a.weights.green}\n")


async def switch(args: argparse.Namespace, ctx: CliContext) -> int:
    return await traffic_verb(ctx, "switch", args.app, to=args.to)


async def weight(args: argparse.Namespace, ctx: CliContext) -> int:
    return await traffic_verb(ctx, "weight", args.app, percent=args.percent)


async def step(args: argparse.Namespace, ctx: CliContext) -> int:
    return await traffic_verb(ctx, "step", args.app)


async def promote(args: argparse.Namespace, ctx: CliContext) -> int:
    """Next step, or --full; with a deploy in flight, ends its pause."""
    return await traffic_verb(ctx, "promote-full" if args.full else "promote", args.app)


async def abort(args: argparse.Namespace, ctx: CliContext) -> int:
    """All traffic to the stable color; with a deploy in flight, stops it."""
    return await traffic_verb(ctx, "abort", args.app)


async def panic(args: argparse.Namespace, ctx: CliContext) -> int:
    """Abort the rollout (stopping a deploy in flight) and turn off the app's linked flags."""
    async with ctx.session() as service:
        preview, flags = await service.panic_preview(args.app, namespace=ctx.namespace)
        ctx.confirm(f"PANIC: {confirmation(preview, service.context)}; flags turned off: "
                    f"{', '.join(flags) or 'none'}")
        outcome, killed = await service.panic(args.app, namespace=ctx.namespace,
                                              reason=ctx.opt("reason") or "panic",
                                              dry_run=bool(ctx.opt("dry_run")), say=progress(ctx))
    code = write_outcome(ctx, outcome)
    if ctx.output not in ("json", "yaml"):
        done = "would turn off" if ctx.opt("dry_run") else "turned off"
        ctx.out.write(f"flags {done}: {inert(', '.join(killed) or 'none', single_line=True)}\n")
    return code


async def _slot_verb(ctx: CliContext, verb: str, name: str, color: str, value: int | str) -> int:
    """Confirm the backend's line for the change of one color, then make it."""
    async with ctx.session() as service:
        change = await service.preview_slot(verb, name, color, value, namespace=ctx.namespace)
        ctx.confirm(slot_confirmation(change, service.context))
        changed = await service.apply_slot(verb, name, color, value, namespace=ctx.namespace,
                                           dry_run=bool(ctx.opt("dry_run")),
                                           reason=ctx.opt("reason", ""))
    if change.note:  # the HPA's part is said again after the fact, for the pipeline's log
        ctx.err.write(f"turnout: {inert(change.note, single_line=True)}\n")
    write_apps([changed], ctx.output, ctx.out, single=True)
    return 0


async def scale(args: argparse.Namespace, ctx: CliContext) -> int:
    return await _slot_verb(ctx, "scale", args.app, args.color, args.replicas)


async def set_image(args: argparse.Namespace, ctx: CliContext) -> int:
    return await _slot_verb(ctx, "set-image", args.app, args.color, args.image)


async def fire_drill(args: argparse.Namespace, ctx: CliContext) -> int:
    ctx.confirm(f"start a fire drill on {args.app}")
    async with ctx.session() as service:
        color = await service.fire_drill(args.app, ctx.namespace)
    ctx.out.write(f"fire drill: {inert(args.app)} {color} now failing\n")
    return 0


async def failover(args: argparse.Namespace, ctx: CliContext) -> int:
    """Show the app in both contexts, then switch traffic in the backup context's app."""
    async with ctx.contexts_session([args.primary, args.backup]) as view:
        plan = await view.plan_failover(args.app, args.primary, args.backup,
                                        namespace=ctx.namespace, color=args.color)
        if ctx.output == "table":
            write_contexts((plan.primary, plan.backup), "table", ctx.err)
        ctx.err.write(f"note: {plan.note}\n")
        ctx.confirm(f"failover: {confirmation(plan.preview, plan.backup.context)}")
        outcome = await view.failover(plan, dry_run=bool(ctx.opt("dry_run")),
                                      reason=ctx.opt("reason", ""))
    return write_outcome(ctx, outcome)
