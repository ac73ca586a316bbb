"""The operator's abort, promote and resume of a deploy in flight.

`ReleaseService` calls these when the app has a flow journaled; both front ends
reach them only through the service, so the CLI and the TUI steer a deploy the
same way (README: "Steering a deploy in flight").
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Literal

from turnout.backend.errors import InvalidInput
from turnout.backend.models import Verdict
from turnout.backend.release.deploy_console import DeployConsole
from turnout.backend.release.journal import driver_alive
from turnout.backend.release.model import EXIT_CODES, Flow, Release, Steered
from turnout.backend.release.views import release_line

Verb = Literal["abort", "promote", "resume"]
Steering = tuple[Verb, Flow, str]
"""A deploy in flight an operator's verb steers: the verb, the flow, the line to confirm."""


async def steering(console: DeployConsole, action: str, name: str, namespace: str | None, *,
                   back: bool = False) -> Steering | None:
    """The deploy in flight `action` (abort, promote, promote-full, resume) would steer, with
    the line to confirm; None when the app has none."""
    flow = await console.flow(name, namespace)
    if flow is None:
        return None
    verb: Verb = ("promote" if action.startswith("promote")
                  else "abort" if action == "abort" else "resume")
    return verb, flow, confirmation(verb, flow, full=action == "promote-full", back=back)


def confirmation(verb: Verb, flow: Flow, *, full: bool = False, back: bool = False) -> str:
    """What `verb` will do to `flow`, as the operator confirms it; refuses what a deploy in
    flight forbids (a full promote, an undo of a traffic change)."""
    if verb == "abort":
        return f"abort the deploy of {flow.version} to {flow.app} and restore {flow.old}"
    if verb == "promote":
        if full:
            raise InvalidInput(f"a deploy of {flow.app} is in flight: `turnout promote {flow.app}` "
                               f"ends its pause; `turnout abort {flow.app}` stops it")
        return f"end the pause of the deploy of {flow.version} to {flow.app}"
    if back:
        raise InvalidInput(f"--back undoes a traffic change; to stop the deploy of {flow.app}: "
                           f"turnout abort {flow.app}")
    return f"continue the deploy of {flow.version} to {flow.app}"


async def steer(console: DeployConsole, verb: Verb, flow: Flow, *, dry_run: bool = False) -> Steered:
    """Ask the deploy's driver (or, when it is gone, act in its place)."""
    if dry_run:
        return Steered(verb=verb, app=flow.app, namespace=flow.namespace, flow=flow, dry_run=True,
                       message=f"would {confirmation(verb, flow)} (dry run: nothing written)")
    if verb == "promote":
        return await _promote(console, flow)
    release = await (console.abort if verb == "abort" else console.resume)(flow.app, flow.namespace)
    return _ended(verb, flow, release)


async def _promote(console: DeployConsole, flow: Flow) -> Steered:
    asked = await console.promote(flow.app, flow.namespace)
    where = flow.stage.describe() if flow.stage else flow.status
    note = ""
    if asked is not None and not driver_alive(asked, console.service.clock()):
        note = f"no process is driving it: turnout resume {flow.app}"
    return Steered(verb="promote", app=flow.app, namespace=flow.namespace, flow=asked or flow,
                   message=f"{flow.app}: pause at {where} ended ({_verdict_text(flow.verdicts)})",
                   note=note)


def _ended(verb: Verb, flow: Flow, release: Release | None) -> Steered:
    if release is None:
        return Steered(verb=verb, app=flow.app, namespace=flow.namespace, flow=flow,
                       message=f"{flow.app}: the deploy ended meanwhile")
    code = EXIT_CODES[release.outcome]
    if verb == "abort" and release.outcome in ("aborted", "rolled-back"):
        code = 0  # the operator asked for exactly this
    return Steered(verb=verb, app=flow.app, namespace=flow.namespace, flow=flow, release=release,
                   message=release_line(release), exit_code=code)


def _verdict_text(verdicts: Sequence[Verdict]) -> str:
    return "; ".join(f"{v.signal} {v.outcome}" for v in verdicts) or "no verdicts yet"
