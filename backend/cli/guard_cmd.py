"""`turnout guard`: the rollback guard, once (for pipelines and cron) or as a long-running loop.

Exit codes of `guard --once` (the worst over the apps): 0 every trigger passed;
32 hold (a trigger was inconclusive or could not be measured); 30 a trigger
failed and the guard rolled back; 31 a trigger failed and nothing was rolled
back (not armed, already tripped, no safe target, read-only, or the rollback failed).
"""

from __future__ import annotations

import argparse
import asyncio
import math
import signal
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import msgspec

from turnout.backend.cli.context import CliContext
from turnout.backend.cli.output import write_data, write_table
from turnout.backend.errors import InvalidInput
from turnout.backend.sanitize import inert

if TYPE_CHECKING:
    from turnout.backend.guard import Evaluation, Guard

EXIT_ROLLED_BACK, EXIT_FAILED, EXIT_HOLD = 30, 31, 32
_CODES = {"ok": 0, "wait": EXIT_HOLD, "rollback": EXIT_ROLLED_BACK}
_SEVERITY = (0, EXIT_HOLD, EXIT_ROLLED_BACK, EXIT_FAILED)
"""Exit codes from least to most alarming: a failure nobody acted on tops a rollback."""
COLUMNS = ("NAMESPACE", "APP", "COLOR", "SIGNAL", "VERDICT", "VALUE", "THRESHOLD", "DETAIL", "DECISION")


def register(subparsers: argparse._SubParsersAction,  # type: ignore[type-arg]
             parents: Sequence[argparse.ArgumentParser] = ()) -> None:
    """Add `guard` to the top-level parser."""
    cmd = subparsers.add_parser(
        "guard", parents=list(parents), help="automatic rollback: watch apps, roll back on a failure",
        description="Evaluate restarts, health checks, the error rate, error logs and smoke tests of "
                    "the color taking new traffic; roll back when one fails. Starting the guard arms "
                    "disarmed apps; after a rollback an app stays tripped until re-armed with --arm.",
        epilog="exit codes of --once: 0 all passed, 30 rolled back, 31 failed without a rollback, "
               "32 hold (inconclusive or unmeasurable)")
    cmd.add_argument("apps", nargs="*", metavar="APP", help="apps to guard (default: every app)")
    mode = cmd.add_mutually_exclusive_group()
    mode.add_argument("--once", action="store_true", help="evaluate once, act if armed, print verdicts")
    mode.add_argument("--arm", action="store_true", help="arm (or re-arm after a rollback) and exit")
    mode.add_argument("--disarm", action="store_true", help="disarm and exit")
    cmd.add_argument("--interval", type=float, help="seconds between evaluations (default: guard.interval)")
    cmd.set_defaults(func=guard, write=True)


async def guard(args: argparse.Namespace, ctx: CliContext) -> int:
    """Run `turnout guard` as `args` say."""
    from turnout.backend.guard import Guard
    from turnout.backend.notify import from_environment

    if args.interval is not None and args.interval <= 0:
        raise InvalidInput("--interval must be a positive number of seconds")
    settings = ctx.config.guard
    if args.interval:
        settings = msgspec.structs.replace(settings, interval=args.interval)
    async with ctx.session() as service:
        the_guard = Guard(service, settings, from_environment())
        names = list(args.apps) or [a.name for a in await service.apps(ctx.namespace)]
        if not names:
            raise InvalidInput("no apps to guard")
        if args.arm or args.disarm:
            return await _set_state(the_guard, names, ctx, armed=args.arm)
        if args.once:
            results = [await the_guard.check(name, ctx.namespace) for name in names]
            _print(ctx, results)
            return max((_exit_code(r) for r in results), key=_SEVERITY.index)
        await _loop(the_guard, names, ctx)
    return 0


def _exit_code(result: Evaluation) -> int:
    return _CODES.get(result.decision, EXIT_FAILED)


async def _set_state(the_guard: Guard, names: list[str], ctx: CliContext, *, armed: bool) -> int:
    for name in names:
        if armed:
            await the_guard.arm(name, ctx.namespace)
        else:
            await the_guard.disarm(name, ctx.namespace)
        ctx.out.write(f"{inert(name)}: {'armed' if armed else 'disarmed'}\n")
    return 0


async def _loop(the_guard: Guard, names: list[str], ctx: CliContext) -> None:
    for name in names:
        app = await the_guard.service.state(name, ctx.namespace)
        state = app.guard
        if state == "disarmed" and not the_guard.service.read_only:
            await the_guard.arm(name, ctx.namespace)
            state = "armed"
        ctx.err.write(f"turnout: guarding {inert(name)} ({state}) every "
                      f"{the_guard.settings.interval:g} s; Ctrl-C stops\n")
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    printer = _ChangePrinter(ctx)
    await the_guard.run(names, ctx.namespace, stop, on_result=printer)


class _ChangePrinter:
    """Prints an app's evaluation when its decision or an outcome changes, not every interval."""

    def __init__(self, ctx: CliContext) -> None:
        self.ctx = ctx
        self.last: dict[tuple[str, str], tuple[str, ...]] = {}

    def __call__(self, result: Evaluation) -> None:
        shape = (result.decision, result.watched, *(f"{v.signal}:{v.outcome}" for v in result.verdicts))
        if self.last.get((result.namespace, result.app)) == shape:
            return
        self.last[(result.namespace, result.app)] = shape
        _print(self.ctx, [result], lines=True)
        self.ctx.out.flush()


def evaluation_view(result: Evaluation) -> dict[str, Any]:
    """JSON-safe data of one evaluation: a non-finite value (NaN, ±Inf) becomes null."""
    data: dict[str, Any] = msgspec.to_builtins(result)
    for verdict in data["verdicts"]:
        for field in ("value", "threshold"):
            number = verdict[field]
            if isinstance(number, float) and not math.isfinite(number):
                verdict[field] = None
    return data


def _print(ctx: CliContext, results: list[Evaluation], *, lines: bool = False) -> None:
    if ctx.output in ("json", "yaml"):
        views = [evaluation_view(r) for r in results]
        if lines and ctx.output == "json":  # the loop writes JSON lines, one per change
            for view in views:
                ctx.out.write(msgspec.json.encode(view).decode() + "\n")
            return
        write_data({"items": views}, ctx.output, ctx.out)
        return
    rows = [[r.namespace, r.app, r.watched, v.signal, v.outcome, _num(v.value), _num(v.threshold),
             v.detail, r.decision] for r in results for v in r.verdicts]
    write_table(ctx.out, COLUMNS, rows)


def _num(value: float | None) -> str:
    return "—" if value is None else f"{value:.4g}"
