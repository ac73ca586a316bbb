"""`turnout incident list|show|replay`: the guard's incident records, kept in the cluster with
the series it evaluated, for the postmortem (README: "Incidents and their replay")."""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import msgspec

from turnout.backend.cli.context import CliContext
from turnout.backend.cli.output import write_data, write_table
from turnout.backend.sanitize import inert

if TYPE_CHECKING:
    from turnout.backend.guard.recording import IncidentRecord

COLUMNS = ("ID", "NAMESPACE", "APP", "COLOR", "ACTION", "DETECTED", "TO DETECT", "TO RESTORE",
           "FRAMES")


def register(subparsers: argparse._SubParsersAction,  # type: ignore[type-arg]
             parents: Sequence[argparse.ArgumentParser] = ()) -> None:
    """Add `incident` with its list, show and replay subcommands."""
    cmd = subparsers.add_parser("incident", parents=list(parents),
                                help="the guard's incidents: list, show, replay their series")
    verbs = cmd.add_subparsers(dest="verb", metavar="VERB", required=True)
    listed = verbs.add_parser("list", parents=list(parents), help="incidents, newest first")
    listed.add_argument("app", nargs="?", help="one app's (default: every app)")
    listed.set_defaults(func=list_cmd, write=False)
    for name, func, text in (("show", show_cmd, "one incident's report and recording"),
                             ("replay", replay_cmd, "the recorded series, signals against "
                              "thresholds, weights and the guard's actions on one clock")):
        verb = verbs.add_parser(name, parents=list(parents), help=text)
        verb.add_argument("id", help="incident id (or its start)")
        verb.set_defaults(func=func, write=False)


def view(record: IncidentRecord, *, frames: bool = False) -> dict[str, Any]:
    """An incident record as plain data (the recording's frames only when asked)."""
    incident = record.incident
    recording = record.recording
    data: dict[str, Any] = {
        "id": incident.id, "app": incident.app, "namespace": incident.namespace,
        "context": incident.context, "color": incident.color, "action": incident.action,
        "first_bad_at": incident.first_bad_at.isoformat(),
        "detected_at": incident.detected_at.isoformat(),
        "action_at": incident.action_at.isoformat() if incident.action_at else None,
        "restored_at": incident.restored_at.isoformat() if incident.restored_at else None,
        "seconds_to_detect": incident.seconds_to_detect,
        "seconds_to_restore": incident.seconds_to_restore,
        "frames": len(recording.frames), "downsampled": recording.downsampled,
        "complete": recording.complete}
    if frames:
        data["report"] = msgspec.to_builtins(incident)
        data["recording"] = msgspec.to_builtins(recording)
    return data


async def list_cmd(args: argparse.Namespace, ctx: CliContext) -> int:
    async with ctx.session() as service:
        found = await service.incident_records(ctx.namespace, args.app)
    newest = list(reversed(found))
    if ctx.output in ("json", "yaml"):
        write_data([view(r) for r in newest], ctx.output, ctx.out)
        return 0
    write_table(ctx.out, COLUMNS, [_row(r) for r in newest])
    return 0


def _row(record: IncidentRecord) -> list[str]:
    incident = record.incident
    restore = incident.seconds_to_restore
    return [incident.id, incident.namespace, incident.app, incident.color, incident.action,
            incident.detected_at.strftime("%Y-%m-%d %H:%M:%S"), f"{incident.seconds_to_detect:.1f}s",
            "-" if restore is None else f"{restore:.1f}s", str(len(record.recording.frames))]


async def show_cmd(args: argparse.Namespace, ctx: CliContext) -> int:
    from turnout.backend.guard.incident import markdown

    async with ctx.session() as service:
        record = await service.incident_record(args.id, ctx.namespace)
    if ctx.output in ("json", "yaml"):
        write_data(view(record, frames=True), ctx.output, ctx.out)
        return 0
    ctx.out.write(markdown(record.incident))
    recording = record.recording
    span = (f"{recording.frames[0].at:%H:%M:%S} to {recording.frames[-1].at:%H:%M:%S}"
            if recording.frames else "no frames")
    ctx.out.write(f"\nRecording: {len(recording.frames)} frames, {span}"
                  f"{', still recording' if not recording.complete else ''}; "
                  f"`turnout incident replay {inert(record.id)}` plays it\n")
    return 0


async def replay_cmd(args: argparse.Namespace, ctx: CliContext) -> int:
    """The timeline: each frame, each threshold crossing and each of the guard's marks, with
    the seconds from detection."""
    from turnout.backend.guard import replay

    async with ctx.session() as service:
        record = await service.incident_record(args.id, ctx.namespace)
    incident = record.incident
    ctx.out.write(f"incident {inert(incident.id)}: {inert(incident.namespace)}/{inert(incident.app)} "
                  f"({inert(incident.context)}), {incident.color} failed; action: "
                  f"{inert(incident.action, single_line=True)}\n")
    if not record.recording.frames:
        ctx.out.write("no frames were recorded\n")
    for at, kind, text in replay.timeline(record):
        prefix = {"frame": "  ", "cross": "! ", "mark": "> "}[kind]
        ctx.out.write(f"{at:%H:%M:%S.%f}"[:12] + f" {replay.offset(record, at):+8.1f}s {prefix}"
                      f"{inert(text, single_line=True)}\n")
    return 0
