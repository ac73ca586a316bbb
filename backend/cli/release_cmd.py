"""The release commands: the verbs on an app's traffic and colors (switch, weight, step,
promote, abort, scale, set-image, failover, panic, fire-drill) and the release flow's
(deploy, rollback, history, dora).

`abort`, `promote` and `resume` steer a deploy in flight on their own: the
service decides (README: "Steering a deploy in flight").
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta

import msgspec

from turnout.backend.cli import commands
from turnout.backend.cli import parser as cli_parser
from turnout.backend.cli.commands import progress, traffic_verb, write_release
from turnout.backend.cli.context import CliContext
from turnout.backend.cli.output import write_data, write_table
from turnout.backend.errors import InvalidInput
from turnout.backend.release import (
    EXIT_CODES,
    DeployRequest,
    Flow,
    Release,
    flow_view,
    format_duration,
    parse_duration,
    release_view,
)
from turnout.backend.release.dora import dora
from turnout.backend.release.model import Strategy
from turnout.backend.sanitize import inert


def _commit_time(text: str | None) -> datetime | None:
    if not text:
        return None
    try:
        stamp = (datetime.fromtimestamp(float(text), UTC) if text.replace(".", "", 1).isdigit()
                 else datetime.fromisoformat(text))
    except ValueError:
        raise InvalidInput(f"--commit-time {text!r}: expected ISO 8601 or unix seconds") from None
    return stamp if stamp.tzinfo else stamp.replace(tzinfo=UTC)


def deploy_request(args: argparse.Namespace, namespace: str | None) -> DeployRequest:
    """The request the options describe (durations parsed, --pause manual understood)."""
    manual = args.pause.strip().lower() == "manual"
    strategy: Strategy = args.strategy
    try:
        steps = tuple(int(s) for s in args.steps.split(",") if s.strip()) if args.steps else ()
    except ValueError:
        raise InvalidInput(f"--steps {args.steps!r}: expected percents like 10,50,100") from None
    return DeployRequest(
        app=args.app, image=getattr(args, "image", ""), namespace=namespace, strategy=strategy,
        steps=steps, pause=0.0 if manual else parse_duration(args.pause), manual=manual,
        analysis=parse_duration(args.analysis),
        monitor=parse_duration(args.monitor) if args.monitor else None,
        deadline=parse_duration(args.progress_deadline), interval=parse_duration(args.interval),
        scale_down_to=args.scale_down_to,
        commit_time=_commit_time(getattr(args, "commit_time", None)), reason=args.reason)


async def deploy(args: argparse.Namespace, ctx: CliContext) -> int:
    """Run the whole flow; the exit code says promoted (0), rolled back, aborted or failed."""
    request = deploy_request(args, ctx.namespace)
    async with ctx.session() as service:
        flow = await service.plan_deploy(request)
        if ctx.opt("dry_run"):
            return _write_plan(ctx, flow, service.clock())
        then = f"; then {flow.scale_down}" if flow.scale_down else ""
        ctx.confirm(inert(f"deploy {request.image} to {service.context}/{flow.namespace}/"
                          f"{flow.app}: {flow.old} {flow.old_version} -> {flow.new} "
                          f"{flow.version} ({request.strategy}){then}", single_line=True))
        if flow.scale_down:  # said with --yes too, as `scale` says it
            ctx.err.write(f"turnout: {inert(flow.scale_down, single_line=True)}\n")
        release = await service.deploy(request, say=progress(ctx))
    write_release(ctx, release)
    return EXIT_CODES[release.outcome]


def _write_plan(ctx: CliContext, flow: Flow, now: datetime) -> int:
    """--dry-run: every check passed; the stages the deploy would run."""
    if ctx.output in ("json", "yaml"):
        write_data({**flow_view(flow, now), "dry_run": True}, ctx.output, ctx.out)
        return 0
    ctx.out.write(f"{inert(flow.app)}: {inert(flow.old_version)} ({flow.old}) -> "
                  f"{inert(flow.version)} ({flow.new}), {flow.strategy} (dry run: nothing written)\n")
    ctx.out.writelines(f"  {i}. {stage.describe()}\n" for i, stage in enumerate(flow.stages, 1))
    if flow.scale_down:
        ctx.out.write(f"  {inert(flow.scale_down, single_line=True)}\n")
    return 0


HISTORY_COLUMNS = ("FINISHED", "VERSION", "STRATEGY", "OUTCOME", "TOOK", "BY", "REASON")


def _history_row(release: Release) -> list[str]:
    took = format_duration((release.finished_at - release.started_at).total_seconds())
    return [release.finished_at.strftime("%Y-%m-%d %H:%M"), release.version, release.strategy,
            release.outcome, took, release.by, release.reason or "-"]


async def history(args: argparse.Namespace, ctx: CliContext) -> int:
    """The app's recorded releases, newest first, and the deploy in flight if any."""
    async with ctx.session() as service:
        releases = await service.history(ctx.namespace, args.app)
        flow = await service.flow(args.app, ctx.namespace)
        now = service.clock()
    newest = list(reversed(releases))[: args.limit or None]
    if ctx.output in ("json", "yaml"):
        write_data({"app": args.app, "in_progress": flow_view(flow, now) if flow else None,
                    "releases": [release_view(r) for r in newest]}, ctx.output, ctx.out)
        return 0
    if flow is not None:
        ctx.out.write(f"in progress: {inert(flow.version)} step {flow.at + 1}/{len(flow.stages)} "
                      f"{flow.stage.describe() if flow.stage else flow.status} ({flow.status})\n")
    write_table(ctx.out, HISTORY_COLUMNS, [_history_row(r) for r in newest])
    return 0


def _percent(value: float | None) -> str:
    return "-" if value is None else f"{value:.0%}"


async def dora_cmd(args: argparse.Namespace, ctx: CliContext) -> int:
    """Delivery figures over the window, from the recorded history."""
    since = parse_duration(args.since)
    async with ctx.session() as service:
        releases = await service.history(ctx.namespace, args.app)
        until = service.clock()
    figures = dora(releases, since=until - timedelta(seconds=since), until=until, app=args.app,
                   namespace=ctx.namespace)
    if ctx.output in ("json", "yaml"):
        write_data(msgspec.to_builtins(figures), ctx.output, ctx.out)
        return 0
    rows = [["deployment frequency", f"{figures.deployment_frequency_per_day:.2f}/day"],
            ["lead time (median)", format_duration(figures.lead_time.median)],
            ["change failure rate", _percent(figures.change_failure_rate)],
            ["time to restore (median)", format_duration(figures.time_to_restore.median)],
            ["rollback time (median)", format_duration(figures.rollback_time.median)],
            ["success rate", _percent(figures.success_rate)],
            ["releases", " ".join(f"{k} {v}" for k, v in figures.outcomes.items())]]
    ctx.out.write(f"{inert(args.app or 'all apps')}, last {inert(args.since)}\n")
    write_table(ctx.out, ("FIGURE", "VALUE"), rows)
    return 0


async def rollback(args: argparse.Namespace, ctx: CliContext) -> int:
    """The previous color, or --to VERSION: the color running it, else that version's image from
    the history deployed through the flow (then the exit code is the deploy's)."""
    redeploy = deploy_request(args, ctx.namespace) if args.to_version else None
    return await traffic_verb(ctx, "rollback", args.app, to_version=args.to_version,
                              redeploy=redeploy)


def _deploy_parser(cmd: argparse.ArgumentParser) -> None:
    cmd.add_argument("app", help="app name")
    cmd.add_argument("--image", required=True, help="image to deploy, e.g. registry/app:1.5.0")
    _flow_options(cmd)
    cmd.add_argument("--commit-time", metavar="TIME", help="commit time (ISO 8601 or unix "
                     "seconds), for lead time")


def _rollback_parser(cmd: argparse.ArgumentParser) -> None:
    cmd.add_argument("app", help="app name")
    cmd.add_argument("--to", dest="to_version", default="", metavar="VERSION",
                     help="a version from the app's history: the color running it, else its "
                     "image deployed into the idle color through the deploy flow")
    _flow_options(cmd.add_argument_group(
        "when --to redeploys a version (as deploy; ignored when a color runs it)"))


def _flow_options(cmd: argparse.ArgumentParser | argparse._ArgumentGroup) -> None:
    cmd.add_argument("--strategy", choices=("instant", "canary"), default="canary")
    cmd.add_argument("--steps", help="canary weights ending at 100 (default: the app's plan, "
                     "else 10,50,100)")
    cmd.add_argument("--pause", default="0", metavar="DURATION|manual",
                     help="after each canary step (manual: until `turnout promote APP`)")
    cmd.add_argument("--analysis", default="60s", metavar="DURATION",
                     help="passing verdicts needed at each step")
    cmd.add_argument("--monitor", metavar="DURATION", help="after promotion (default: --analysis)")
    cmd.add_argument("--progress-deadline", default="5m", metavar="DURATION",
                     help="time for the new color to become ready")
    cmd.add_argument("--interval", default="2s", metavar="DURATION", help="between measurements")
    cmd.add_argument("--scale-down-to", type=int, default=1, metavar="N",
                     help="replicas the old color keeps after promotion")


def register_verbs(subparsers: argparse._SubParsersAction,  # type: ignore[type-arg]
                   parents: Sequence[argparse.ArgumentParser],
                   writes: argparse.ArgumentParser) -> None:
    """Add the verbs that change one app: its traffic, its colors, panic and the fire drill."""

    def verb(name: str, func: commands.Command, help_: str) -> argparse.ArgumentParser:
        cmd: argparse.ArgumentParser = subparsers.add_parser(
            name, parents=[*parents, writes], help=help_, description=help_)
        cmd.set_defaults(func=func, write=True, front_end=False)
        cmd.add_argument("app", help="app name")
        return cmd

    verb("switch", commands.switch, "make a color live with all traffic").add_argument(
        "--to", required=True, choices=("blue", "green"))
    verb("weight", commands.weight, "set the canary color's share of traffic").add_argument(
        "percent", type=int)
    verb("step", commands.step, "move the canary to the next weight of its plan")
    verb("promote", commands.promote, "next step, or --full: make the canary live").add_argument(
        "--full", action="store_true")
    verb("abort", commands.abort, "send all traffic back to the stable color")
    scale = verb("scale", commands.scale, "set a color's replicas")
    scale.add_argument("color", choices=("blue", "green"))
    scale.add_argument("replicas", type=int)
    image = verb("set-image", commands.set_image, "deploy an image into a color")
    image.add_argument("color", choices=("blue", "green"))
    image.add_argument("image")
    failover = verb("failover", commands.failover,
                    "show an app in two contexts, switch traffic in the backup's "
                    "(DNS/GSLB stays yours)")
    failover.add_argument("--from", dest="primary", required=True, metavar="CONTEXT",
                          help="the primary context (shown, never changed)")
    failover.add_argument("--to", dest="backup", required=True, metavar="CONTEXT",
                          help="the backup context whose app takes all traffic")
    failover.add_argument("--color", choices=("blue", "green"),
                          help="the backup's color to make live (default: the one running "
                          "the version live in the primary)")
    verb("panic", commands.panic, "abort the rollout and turn off the app's linked flags")
    verb("fire-drill", commands.fire_drill, "demo only: make the new color fail")


def register(subparsers: argparse._SubParsersAction,  # type: ignore[type-arg]
             parents: Sequence[argparse.ArgumentParser] | None = None) -> None:
    """Add deploy, history and dora."""
    common = list(parents) if parents is not None else [cli_parser._globals()]
    writes = [*common, cli_parser._writes()]
    cmd = subparsers.add_parser("deploy", parents=writes, help="deploy an image: idle color, "
                                "checks, canary or switch, monitor, scale down")
    _deploy_parser(cmd)
    cmd.set_defaults(func=deploy, write=True)
    cmd = subparsers.add_parser("rollback", parents=writes, help="restore the previous color, "
                                "or --to a version from the history")
    _rollback_parser(cmd)
    cmd.set_defaults(func=rollback, write=True)
    cmd = subparsers.add_parser("history", parents=common, help="an app's release history")
    cmd.add_argument("app", help="app name")
    cmd.add_argument("--limit", type=int, default=20, help="newest N releases (0: all)")
    cmd.set_defaults(func=history, write=False)
    cmd = subparsers.add_parser("dora", parents=common, help="delivery figures from the history")
    cmd.add_argument("app", nargs="?", help="one app (default: every app)")
    cmd.add_argument("--since", default="30d", metavar="DURATION", help="window, e.g. 7d, 30d")
    cmd.set_defaults(func=dora_cmd, write=False)
