"""`turnout guard`: the rollback guard, once (for pipelines) or as a long-running loop."""

from __future__ import annotations

import argparse
import asyncio
import signal
from collections.abc import Sequence
from typing import TYPE_CHECKING

import msgspec

from turnout.backend.cli.context import CliContext
from turnout.backend.cli.output import write_data, write_table
from turnout.backend.errors import InvalidInput
from turnout.backend.sanitize import inert

if TYPE_CHECKING:
    from turnout.backend.guard.engine import Evaluation, Guard


def register(subparsers: argparse._SubParsersAction,  # type: ignore[type-arg]
             parents: Sequence[argparse.ArgumentParser] = ()) -> None:
    """Add `guard` to the top-level parser."""
    cmd = subparsers.add_parser(
        "guard", parents=list(parents), help="automatic rollback: watch apps, roll back on a failure",
        description="Evaluate health checks, error rate, logs, smoke tests and restarts of the color "
                    "taking new traffic; roll back when one fails. Starting the guard on an app arms "
                    "it; after a rollback it stays tripped until re-armed with --arm.")
    cmd.add_argument("apps", nargs="*", metavar="APP", help="apps to guard (default: all)")
    cmd.add_argument("--once", action="store_true", help="evaluate once, print verdicts, exit")
    cmd.add_argument("--arm", action="store_true", help="(re-)arm the apps and exit")
    cmd.add_argument("--interval", type=float, help="seconds between evaluations")
    cmd.set_defaults(func=guard, write=True)


async def guard(args: argparse.Namespace, ctx: CliContext) -> int:
    from turnout.backend.guard.engine import Guard
    from turnout.backend.notify import from_environment

    service = ctx.service()
    guard = Guard(service, ctx.config.guard, from_environment())
    if args.interval:
        guard.settings = msgspec.structs.replace(guard.settings, interval=args.interval)
    try:
        names = list(args.apps) or [a.name for a in await service.apps()]
        if not names:
            raise InvalidInput("no apps to guard")
        if args.arm:
            for name in names:
                await guard.arm(name, ctx.namespace)
                ctx.out.write(f"{inert(name)}: armed\n")
            return 0
        if args.once:
            results = [await guard.check(name, ctx.namespace) for name in names]
            _print(ctx, results)
            return 1 if any(r.decision in ("rollback", "no safe target") for r in results) else 0
        await _loop(guard, names, ctx)
    finally:
        await service.close()
    return 0


async def _loop(guard: Guard, names: list[str], ctx: CliContext) -> None:
    from turnout.backend.guard.engine import ARMED, DISARMED

    for name in names:
        app = await guard.service.cluster.get_app(name, ctx.namespace)
        if app.guard == DISARMED and not guard.service.read_only:
            await guard.arm(name, ctx.namespace)
        state = ARMED if app.guard == DISARMED else app.guard
        ctx.err.write(f"turnout: guarding {inert(name)} ({state}) every {guard.settings.interval:g} s\n")
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await guard.run(names, ctx.namespace, stop)


def _print(ctx: CliContext, results: list[Evaluation]) -> None:
    if ctx.output in ("json", "yaml"):
        write_data({"items": msgspec.to_builtins(results)}, ctx.output, ctx.out)
        return
    rows = [[r.namespace, r.app, r.watched, v.signal, v.outcome, v.detail, r.decision]
            for r in results for v in r.verdicts]
    write_table(ctx.out, ("NAMESPACE", "APP", "COLOR", "SIGNAL", "VERDICT", "DETAIL", "DECISION"), rows)
