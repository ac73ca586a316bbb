"""`turnout check APP`: the app audited against the production shape, for people and CI."""

from __future__ import annotations

import argparse
from collections.abc import Sequence

import msgspec

from turnout.backend.checklist import Checklist
from turnout.backend.cli.context import CliContext
from turnout.backend.cli.output import write_data, write_table
from turnout.backend.errors import CheckFailed
from turnout.backend.sanitize import inert

COLUMNS = ("STATUS", "ITEM", "OBJECT", "FIELD", "EXPECTED", "ACTUAL")


def checklist_view(checklist: Checklist) -> dict[str, object]:
    """The `-o json` document: the app, its worst status, then every item."""
    return {"app": checklist.app, "namespace": checklist.namespace,
            "context": checklist.context, "status": checklist.status,
            "items": msgspec.to_builtins(checklist.items)}


async def check(args: argparse.Namespace, ctx: CliContext) -> int:
    """Print the checklist; exit with `CheckFailed`'s code when any item fails."""
    async with ctx.session() as service:
        checklist = await service.check(args.app, ctx.namespace)
    if ctx.output in ("json", "yaml"):
        write_data(checklist_view(checklist), ctx.output, ctx.out)
    else:
        rows = [[i.status, i.item, i.object, i.field, i.expected, i.actual]
                for i in checklist.items]
        write_table(ctx.out, COLUMNS, rows)
    failed = checklist.failed
    if failed:
        names = ", ".join(sorted({f.item for f in failed}))
        raise CheckFailed(f"{inert(checklist.namespace)}/{inert(checklist.app)}: "
                          f"{len(failed)} checklist items fail ({names})")
    return 0


def register(subparsers: argparse._SubParsersAction,  # type: ignore[type-arg]
             parents: Sequence[argparse.ArgumentParser] = ()) -> None:
    """Add `check` to the top-level parser."""
    cmd = subparsers.add_parser(
        "check", parents=list(parents), help="audit an app against the production shape",
        description="Each item (replicas, rollout strategy, probes, requests and limits, "
        "security context, HPA, PodDisruptionBudget, NetworkPolicy, Ingress TLS, the "
        "namespace's Pod Security Standards label) passes, warns or fails, with the object "
        f"and field. Exit code {CheckFailed.exit_code} when any item fails.")
    cmd.add_argument("app", help="app name")
    cmd.set_defaults(func=check)
