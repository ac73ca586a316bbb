"""One coroutine per subcommand: parse nothing, decide nothing, call the service, print.

Each is `async def cmd(args, ctx) -> int`; errors propagate as `TurnoutError`.
"""

from __future__ import annotations

import argparse
import shlex
import sys
from collections.abc import Awaitable, Callable
from importlib.metadata import entry_points
from typing import Any

from turnout.backend.cli.context import CliContext
from turnout.backend.cli.output import AppStream, result_view, write_apps, write_data
from turnout.backend.errors import ConfigError
from turnout.backend.models import ActionResult
from turnout.backend.sanitize import inert

Command = Callable[[argparse.Namespace, CliContext], Awaitable[int]]
FrontEnd = Callable[[argparse.Namespace, CliContext], int]
"""Commands that hand the terminal to a front end run outside the CLI's event loop."""


def open_tui(ctx: CliContext, *, demo: bool) -> int:
    """Hand over to the TUI front end, found by entry point so this package never imports it."""
    found = entry_points(group="turnout.frontends", name="tui")
    if not found:
        raise ConfigError("the TUI front end is not installed (pip install turnout)")
    if demo:
        ctx.args.demo = True
    service = ctx.service()
    run = next(iter(found)).load()
    code: int = run(service, ctx.config)
    return code


def serve(args: argparse.Namespace, ctx: CliContext) -> int:
    """The TUI in a browser on 127.0.0.1; read-only unless --write is given."""
    found = entry_points(group="turnout.frontends", name="serve")
    if not found:
        raise ConfigError("the browser front end is not installed (pip install turnout)")
    command = [sys.executable, "-m", "turnout.backend"]
    for flag in ("context", "kubeconfig", "namespace", "request_timeout"):
        if ctx.opt(flag) is not None:
            command += [f"--{flag.replace('_', '-')}", str(ctx.opt(flag))]
    command += ["--demo"] if ctx.opt("demo") else []
    command += [] if args.write else ["--read-only"]
    code: int = next(iter(found)).load()(shlex.join(command), "127.0.0.1", args.port)
    return code


def demo(args: argparse.Namespace, ctx: CliContext) -> int:
    if args.reset:
        from turnout.backend.demo import state

        state.reset(state.state_file())
        ctx.err.write("demo: back to its seed; every later command starts from there\n")
        return 0
    return open_tui(ctx, demo=True)


async def status(args: argparse.Namespace, ctx: CliContext) -> int:
    async with ctx.session() as service:
        if args.app:
            write_apps([await service.app(args.app, ctx.namespace)], ctx.output, ctx.out, single=True)
        else:
            write_apps(await service.apps(ctx.namespace), ctx.output, ctx.out)
    return 0


async def watch(args: argparse.Namespace, ctx: CliContext) -> int:
    """Print the app (or all apps) now, then each app again when it changes (one JSON line
    per change with -o json)."""
    stream = AppStream(ctx.output if ctx.output != "yaml" else "json", ctx.out)
    async with ctx.session() as service:
        stream.show([await service.app(args.app, ctx.namespace)] if args.app
                    else await service.apps(ctx.namespace))
        async for namespace, name in service.changes():
            if args.app in (None, name) and ctx.namespace in (None, namespace):
                stream.show([await service.app(name, namespace)])
    return 0


async def _traffic_verb(ctx: CliContext, describe: str, call: Callable[..., Awaitable[ActionResult]],
                        *call_args: object, preview: tuple[str, dict[str, Any]] | None = None,
                        **call_kw: object) -> int:
    if not (ctx.will_ask() and preview):
        ctx.confirm(describe)  # a script without --yes stops here, before connecting
    async with ctx.session() as service:
        if ctx.will_ask() and preview:
            planned = await service.preview(preview[0], str(call_args[0]), namespace=ctx.namespace,
                                            **preview[1])
            ctx.confirm(describe, _change_lines(service.context, planned))
        result = await call(service, *call_args, namespace=ctx.namespace,
                            dry_run=bool(ctx.opt("dry_run")), reason=ctx.opt("reason", ""),
                            **call_kw)
    _print_result(ctx, result)
    return 0


def _change_lines(context: str, planned: ActionResult) -> list[str]:
    """Where and what a traffic verb changes, as the TUI's confirmation states it."""
    b, a = planned.before, planned.after
    return [f"context {inert(context, single_line=True)}   namespace "
            f"{inert(planned.namespace, single_line=True)}   app {inert(planned.app, single_line=True)}",
            f"live {b.live} -> {a.live}   blue/green {b.weights.blue}/{b.weights.green} -> "
            f"{a.weights.blue}/{a.weights.green}"]


def _print_result(ctx: CliContext, result: ActionResult) -> None:
    if ctx.output in ("json", "yaml"):
        write_data(result_view(result), ctx.output, ctx.out)
        return
    b, a = result.before.weights, result.after.weights
    tag = " (dry run)" if result.dry_run else ("" if result.changed else " (no change)")
    ctx.out.write(f"{inert(result.namespace)}/{inert(result.app)} {result.action}{tag}: "
                  f"live {result.before.live} -> {result.after.live}, "
                  f"blue/green {b.blue}/{b.green} -> {a.blue}/{a.green}\n")


def _svc(method: str) -> Callable[..., Awaitable[ActionResult]]:
    async def call(service: object, *a: object, **kw: object) -> ActionResult:
        result: ActionResult = await getattr(service, method)(*a, **kw)
        return result
    return call


async def switch(args: argparse.Namespace, ctx: CliContext) -> int:
    return await _traffic_verb(ctx, f"switch {args.app} to {args.to}", _svc("switch"),
                               args.app, args.to, preview=("switch", {"to": args.to}))


async def weight(args: argparse.Namespace, ctx: CliContext) -> int:
    return await _traffic_verb(ctx, f"send {args.percent}% of {args.app} to the canary",
                               _svc("set_weight"), args.app, args.percent,
                               preview=("weight", {"percent": args.percent}))


async def step(args: argparse.Namespace, ctx: CliContext) -> int:
    return await _traffic_verb(ctx, f"step the canary of {args.app}", _svc("step"), args.app,
                               preview=("step", {}))


async def promote(args: argparse.Namespace, ctx: CliContext) -> int:
    what = "fully promote" if args.full else "promote (next step)"
    return await _traffic_verb(ctx, f"{what} {args.app}", _svc("promote"), args.app,
                               full=args.full, preview=("promote-full" if args.full else "promote", {}))


async def abort(args: argparse.Namespace, ctx: CliContext) -> int:
    return await _traffic_verb(ctx, f"abort the rollout of {args.app}", _svc("abort"), args.app,
                               preview=("abort", {}))


async def rollback(args: argparse.Namespace, ctx: CliContext) -> int:
    return await _traffic_verb(ctx, f"roll back {args.app}", _svc("rollback"), args.app,
                               to_version=args.to_version,
                               preview=None if args.to_version else ("rollback", {}))


async def _slot_verb(ctx: CliContext, describe: str, method: str, *call_args: object) -> int:
    ctx.confirm(describe)
    async with ctx.session() as service:
        app = await getattr(service, method)(*call_args, namespace=ctx.namespace,
                                              dry_run=bool(ctx.opt("dry_run")),
                                              reason=ctx.opt("reason", ""))
    write_apps([app], ctx.output, ctx.out, single=True)
    return 0


async def scale(args: argparse.Namespace, ctx: CliContext) -> int:
    return await _slot_verb(ctx, f"scale {args.app} {args.color} to {args.replicas}", "scale",
                            args.app, args.color, args.replicas)


async def set_image(args: argparse.Namespace, ctx: CliContext) -> int:
    return await _slot_verb(ctx, f"deploy {args.image} into {args.app} {args.color}", "set_image",
                            args.app, args.color, args.image)


async def fire_drill(args: argparse.Namespace, ctx: CliContext) -> int:
    ctx.confirm(f"start a fire drill on {args.app}")
    async with ctx.session() as service:
        color = await service.fire_drill(args.app, ctx.namespace)
    ctx.out.write(f"fire drill: {inert(args.app)} {color} now failing\n")
    return 0
