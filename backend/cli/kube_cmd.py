"""`turnout lock|unlock|resume|events|pod APP`: the release lock, the intent journal, the events,
one pod in depth.

Wire with `kube_cmd.register(sub, parents=[common])` in `parser.build_parser`,
where `common` is the global-options parent (so -n, --context... work here too).
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence

import msgspec

from turnout.backend.cli.commands import progress, write_outcome
from turnout.backend.cli.context import CliContext
from turnout.backend.cli.output import write_data, write_table
from turnout.backend.describe import describe_lines
from turnout.backend.release.model import Steered
from turnout.backend.sanitize import inert
from turnout.backend.timefmt import age

EVENT_COLUMNS = ("LAST SEEN", "TYPE", "REASON", "OBJECT", "COUNT", "MESSAGE")
POD_COLUMNS = ("POD", "COLOR", "STATUS", "READY", "RESTARTS", "AGE", "NODE")


async def lock(args: argparse.Namespace, ctx: CliContext) -> int:
    """Take or renew the lock; with --force take it over from its holder."""
    if args.force:
        ctx.confirm(f"take over the release lock of {args.app}")
    async with ctx.session() as service:
        previous = await service.lock(args.app, namespace=ctx.namespace, force=args.force,
                                      reason=ctx.opt("reason", ""))
    taken = f" (taken over from {inert(previous)})" if previous else ""
    ctx.out.write(f"locked {inert(args.app)}{taken}\n")
    return 0


async def unlock(args: argparse.Namespace, ctx: CliContext) -> int:
    """Release the lock (someone else's only with --force)."""
    if args.force:
        ctx.confirm(f"release someone else's lock on {args.app}")
    async with ctx.session() as service:
        held = await service.unlock(args.app, namespace=ctx.namespace, force=args.force,
                                    reason=ctx.opt("reason", ""))
    ctx.out.write(f"unlocked {inert(args.app)}" + (f" (was {inert(held)})\n" if held else "\n"))
    return 0


async def resume(args: argparse.Namespace, ctx: CliContext) -> int:
    """Continue a deploy in flight whose driver died; else converge an interrupted operation to
    its target (with --back: to where it started)."""
    async with ctx.session() as service:
        preview = await service.preview("resume", args.app, namespace=ctx.namespace)
        what = f"{'undo' if args.back else 'finish'} the interrupted operation on {args.app}"
        ctx.confirm(f"{preview.message} ({service.context}/{preview.namespace})"
                    if preview.message else f"{what} ({service.context}/{preview.namespace})")
        after = await service.resume(args.app, namespace=ctx.namespace, back=args.back,
                                     say=progress(ctx))
    if isinstance(after, Steered):
        return write_outcome(ctx, after)
    if after is None:
        ctx.out.write(f"{inert(args.app)}: no unfinished operation (nothing to do)\n")
    else:
        ctx.out.write(f"{inert(args.app)}: converged: live {after.live}, blue/green "
                      f"{after.weights.blue}/{after.weights.green}\n")
    return 0


async def events(args: argparse.Namespace, ctx: CliContext) -> int:
    """The latest events about the app's objects, oldest first (as `kubectl get events`)."""
    async with ctx.session() as service:
        found = await service.events(args.app, ctx.namespace, limit=args.limit)
        now = service.clock()
    if ctx.output in ("json", "yaml"):
        write_data({"app": args.app, "events": msgspec.to_builtins(found)}, ctx.output, ctx.out)
        return 0
    rows = [[age(e.at, now), e.type, e.reason, e.object, str(e.count), e.message] for e in found]
    write_table(ctx.out, EVENT_COLUMNS, rows)
    return 0


async def pod(args: argparse.Namespace, ctx: CliContext) -> int:
    """The app's pods (as `kubectl get pods`), or one in depth (`kubectl describe pod` plus
    `kubectl logs --tail`)."""
    if args.pod is None:
        return await _pods(args, ctx)
    async with ctx.session() as service:
        found = await service.pod(args.app, args.pod, ctx.namespace, log_lines=args.logs)
        now = service.clock()
    if ctx.output in ("json", "yaml"):
        write_data(msgspec.to_builtins(found), ctx.output, ctx.out)
    elif ctx.output == "name":
        ctx.out.write(f"pod/{inert(found.pod.name, single_line=True)}\n")
    else:
        ctx.out.write("".join(f"{line}\n" for line in describe_lines(found, now)))
    return 0


async def _pods(args: argparse.Namespace, ctx: CliContext) -> int:
    async with ctx.session() as service:
        pods = await service.pods(args.app, ctx.namespace)
        now = service.clock()
    if ctx.output in ("json", "yaml"):
        write_data({"app": args.app, "pods": msgspec.to_builtins(pods)}, ctx.output, ctx.out)
    elif ctx.output == "name":
        ctx.out.write("".join(f"pod/{inert(p.name, single_line=True)}\n" for p in pods))
    else:
        rows = [[p.name, p.color, p.waiting_reason or p.phase, "yes" if p.ready else "no",
                 f"{p.restarts} ({p.restarts_5m} in 5m)", age(p.started_at, now), p.node or "-"]
                for p in pods]
        write_table(ctx.out, POD_COLUMNS, rows)
    return 0


def register(subparsers: argparse._SubParsersAction,  # type: ignore[type-arg]
             parents: Sequence[argparse.ArgumentParser] = ()) -> None:
    """Add `lock`, `unlock`, `resume`, `events` and `pod` to the top-level parser."""
    for name, func, help_ in (("lock", lock, "take (or renew) an app's release lock"),
                              ("unlock", unlock, "release an app's release lock")):
        cmd = subparsers.add_parser(name, parents=list(parents), help=help_, description=help_)
        cmd.add_argument("app", help="app name")
        cmd.add_argument("--force", action="store_true", help="take over / release another "
                         "operator's lock (asks first; --yes in scripts)")
        cmd.add_argument("--yes", "-y", action="store_true", help="do not ask for confirmation")
        cmd.set_defaults(func=func, write=True)
    cmd = subparsers.add_parser("resume", parents=list(parents), help="finish an interrupted "
                                "operation (--back: undo it)")
    cmd.add_argument("app", help="app name")
    cmd.add_argument("--back", action="store_true", help="return to the state before it")
    cmd.add_argument("--yes", "-y", action="store_true", help="do not ask for confirmation")
    cmd.set_defaults(func=resume, write=True)
    cmd = subparsers.add_parser("events", parents=list(parents), help="what the cluster said "
                                "lately about an app's objects", description="The latest Events "
                                "about the app's Services, routers, Deployments, ReplicaSets and pods.")
    cmd.add_argument("app", help="app name")
    cmd.add_argument("--limit", type=int, default=20, help="how many (default 20)")
    cmd.set_defaults(func=events)
    cmd = subparsers.add_parser("pod", parents=list(parents), help="an app's pods, or one in depth "
                                "(describe and log tail)", description="Without POD, the app's pods. "
                                "With POD: its labels, annotations, containers and their last exit, "
                                "its events, its last log lines. Only the app's own pods can be "
                                "read here.")
    cmd.add_argument("app", help="app name")
    cmd.add_argument("pod", nargs="?", help="pod name (omit it to list the app's pods)")
    cmd.add_argument("--logs", type=int, default=20, metavar="N",
                     help="log lines to show (default 20, 0 for none)")
    cmd.set_defaults(func=pod)
