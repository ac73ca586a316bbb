"""`turnout guard`: the rollback guard, once (for pipelines and cron) or as a long-running loop.

Exit codes of `guard --once` (the worst over the apps): 0 every trigger passed;
32 hold (a trigger was inconclusive, or a measurement source is unreachable); 30 a
trigger failed and the guard rolled back; 33 an app could not be evaluated (its
configuration, a measurement or the guard failed for it; the others are evaluated
all the same); 31 a trigger failed and nothing was rolled back (not armed, already
tripped, no safe target, read-only, or the rollback failed).
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

EXIT_ROLLED_BACK, EXIT_FAILED, EXIT_HOLD, EXIT_ERROR = 30, 31, 32, 33
_CODES = {"ok": 0, "wait": EXIT_HOLD, "unknown": EXIT_HOLD, "rollback": EXIT_ROLLED_BACK,
          "error": EXIT_ERROR}
_SEVERITY = (0, EXIT_HOLD, EXIT_ROLLED_BACK, EXIT_ERROR, EXIT_FAILED)
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
               "32 hold (inconclusive or a source unreachable), 33 an app could not be evaluated")
    cmd.add_argument("apps", nargs="*", metavar="APP", help="apps to guard (default: every app)")
    mode = cmd.add_mutually_exclusive_group()
    mode.add_argument("--once", action="store_true", help="evaluate once, act if armed, print verdicts")
    mode.add_argument("--arm", action="store_true", help="arm (or re-arm after a rollback) and exit")
    mode.add_argument("--disarm", action="store_true", help="disarm and exit")
    cmd.add_argument("--interval", type=float, dest="guard_interval",
                     help="seconds between evaluations (default: guard.interval)")
    cmd.add_argument("--leader-elect", action="store_true",
                     help="act only while holding the guard Lease (run several replicas; see guard.lease_*)")
    cmd.add_argument("--listen", default="", metavar="HOST:PORT",
                     help="serve /healthz, /readyz and /metrics (e.g. :8080)")
    cmd.set_defaults(func=guard, write=True)


async def guard(args: argparse.Namespace, ctx: CliContext) -> int:
    """Run `turnout guard` as `args` say, with the service's one guard (as assembled: the
    configuration's triggers, --interval, the notifiers of the environment)."""
    async with ctx.session() as service:
        the_guard = service.guard()
        if not (args.once or args.arm or args.disarm):
            await _loop(the_guard, list(args.apps), ctx, args)  # no names: every app, found anew
            return 0
        targets = [(n, ctx.namespace) for n in args.apps] or \
            [(a.name, a.namespace) for a in await service.states(ctx.namespace)]
        if not targets:
            raise InvalidInput("no apps to guard")
        if args.arm or args.disarm:
            return await _set_state(the_guard, targets, ctx, armed=args.arm)
        results = await the_guard.check_all(targets)
        _print(ctx, results)
        return max((_exit_code(r) for r in results), key=_SEVERITY.index)


def _exit_code(result: Evaluation) -> int:
    return _CODES.get(result.decision, EXIT_FAILED)


async def _set_state(the_guard: Guard, targets: list[tuple[str, str | None]], ctx: CliContext, *,
                     armed: bool) -> int:
    for name, namespace in targets:
        if armed:
            await the_guard.arm(name, namespace)
        else:
            await the_guard.disarm(name, namespace)
        ctx.out.write(f"{inert(name)}: {'armed' if armed else 'disarmed'}\n")
    return 0


async def _loop(the_guard: Guard, names: list[str], ctx: CliContext, args: argparse.Namespace) -> None:
    from turnout.backend.guard.daemon import GuardDaemon

    def say(line: str) -> None:
        ctx.err.write(line + "\n")
        ctx.err.flush()

    daemon = GuardDaemon.build(the_guard, names, ctx.namespace,
                               leader_elect=getattr(args, "leader_elect", False), say=say,
                               on_result=_ChangePrinter(ctx))
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await daemon.run(stop, getattr(args, "listen", ""))


class _ChangePrinter:
    """Prints an app's evaluation when its decision or an outcome changes, not every interval."""

    def __init__(self, ctx: CliContext) -> None:
        self.ctx = ctx
        self.last: dict[tuple[str, str], tuple[str, ...]] = {}

    def __call__(self, result: Evaluation) -> None:
        shape = (result.decision, result.watched or "", *(f"{v.signal}:{v.outcome}" for v in result.verdicts))
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
    rows = [[r.namespace, r.app, r.watched or "—", v.signal, v.outcome, _num(v.value), _num(v.threshold),
             v.detail, r.decision] for r in results for v in r.verdicts]
    write_table(ctx.out, COLUMNS, rows)


def _num(value: float | None) -> str:
    return "—" if value is None else f"{value:.4g}"
