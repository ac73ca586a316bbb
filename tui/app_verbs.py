"""The operator's verbs on an app, as the TUI runs them: the release actions (weight, step,
promote, abort, rollback, switch), deploy, panic, scale, set-image, lock and unlock, arming
the guard and the demo's fire drill.

Each is the same backend call the CLI makes (`preview` then `apply`, `plan_deploy` then
`deploy`, `panic_preview` then `panic`, `preview_slot` then `apply_slot`; `lock`, `unlock`),
run inside one of the app's action workers (`TurnoutApp.action_…`): ask, show the backend's
planned change, confirm, perform, and post `ActionFinished` (the app's handler shows it).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from rich.text import Text

from turnout.backend.errors import TurnoutError
from turnout.backend.models import ActionResult, App
from turnout.backend.release import DeployRequest, release_line
from turnout.backend.release.model import Steered
from turnout.tui.actions import ReleaseAction, describe, describe_slot
from turnout.tui.messages import ActionFinished
from turnout.tui.render import safe
from turnout.tui.screens.confirm import ConfirmRequest, ConfirmScreen
from turnout.tui.screens.slot import SlotScreen

if TYPE_CHECKING:
    from turnout.tui.app import TurnoutApp

SLOT_LABELS = {"scale": "Scale", "set-image": "Set image"}
LOCK_LABELS = {"lock": "Lock", "unlock": "Unlock"}


def outcome_line(outcome: ActionResult | Steered) -> str:
    """A verb's outcome in one line for a toast."""
    if isinstance(outcome, Steered):
        return f"{outcome.message}. {outcome.note}" if outcome.note else outcome.message
    w = outcome.after.weights
    return (f"{outcome.namespace}/{outcome.app}: live {outcome.after.live}, "
            f"blue {w.blue}% / green {w.green}%")


def outcome_ok(outcome: ActionResult | Steered) -> bool:
    """Whether the outcome is what the operator asked for."""
    return isinstance(outcome, ActionResult) or outcome.exit_code == 0



async def run_release(app: TurnoutApp, action: ReleaseAction, target: App) -> None:
    """Ask what the action needs (a weight, a version), preview the change, confirm, then
    perform it; nothing is written if cancelled."""
    from turnout.tui.screens.rollback import RollbackScreen
    from turnout.tui.screens.weight import WeightScreen

    percent, version = None, ""
    if action.asks_percent:
        percent = await app.push_screen_wait(WeightScreen(target))
        if percent is None:
            return
    try:
        if action.asks_version:
            versions = await app.service.rollback_versions(target.name, target.namespace)
            chosen = await app.push_screen_wait(RollbackScreen(target, versions))
            if chosen is None:
                return
            version = chosen
        preview = await app.service.preview(action.verb, target.name,
                                            namespace=target.namespace, percent=percent,
                                            to_version=version)
    except TurnoutError as err:
        app.notify(str(err), title=err.title, severity="error")
        return
    request = ConfirmRequest(
        title=f"{action.label}: {target.namespace}/{target.name}",
        lines=describe(preview, app.service.context, app.palette),
        confirm_label=action.label, type_to_confirm=target.name if action.typed else "")
    if not await app.push_screen_wait(ConfirmScreen(request)):
        app.notify("Cancelled: nothing was changed.", title=action.label)
        return
    await _perform(app, action, target, percent, version)


async def _perform(app: TurnoutApp, action: ReleaseAction, target: App, percent: int | None,
                   version: str = "") -> None:
    try:
        result = await app.service.apply(action.verb, target.name, namespace=target.namespace,
                                         percent=percent, to_version=version)
    except TurnoutError as err:
        app.post_message(ActionFinished(str(err), ok=False, title=err.title))
        return
    app.post_message(ActionFinished(outcome_line(result), ok=outcome_ok(result),
                                    title=action.label))


async def deploy(app: TurnoutApp, target: App) -> None:
    """Deploy an image through the release flow: plan, confirm, then run it in this process."""
    from turnout.tui.screens.deploy import DeployScreen

    image = await app.push_screen_wait(DeployScreen(target))
    if image is None:
        return
    request = DeployRequest(app=target.name, namespace=target.namespace, image=image)
    try:
        flow = await app.service.plan_deploy(request)
    except TurnoutError as err:
        app.notify(str(err), title=err.title, severity="error")
        return
    lines = (Text.assemble("context    ", safe(app.service.context), "   namespace ",
                           safe(target.namespace)),
             Text.assemble("image      ", safe(image), f"  into {flow.new}"),
             *(Text.assemble(f"{i + 1:>2}. ", safe(s.describe())) for i, s in enumerate(flow.stages)),
             *((Text.assemble("    ", safe(flow.scale_down)),) if flow.scale_down else ()))
    if not await app.push_screen_wait(ConfirmScreen(ConfirmRequest(
            title=f"Deploy {target.namespace}/{target.name}", lines=lines, confirm_label="Deploy"))):
        app.notify("Cancelled: nothing was changed.", title="Deploy")
        return
    app.notify(f"{target.name}: deploying {image}; follow it with h", title="Deploy")
    try:
        release = await app.service.deploy(request)
    except TurnoutError as err:
        app.post_message(ActionFinished(str(err), ok=False, title=err.title))
        return
    app.post_message(ActionFinished(release_line(release), ok=release.outcome == "promoted",
                                    title="Deploy"))


async def panic(app: TurnoutApp, target: App) -> None:
    """Abort the rollout and kill the app's flags, after the app name is typed."""
    service = app.service
    try:
        preview, linked = await service.panic_preview(target.name, namespace=target.namespace)
    except TurnoutError as err:
        app.notify(str(err), title=err.title, severity="error")
        return
    request = ConfirmRequest(
        title=f"PANIC: {target.namespace}/{target.name}",
        lines=(*describe(preview, service.context, app.palette),
               Text.assemble("flags off  ", safe(", ".join(linked) or "none"))),
        confirm_label="Panic", type_to_confirm=target.name)
    if not await app.push_screen_wait(ConfirmScreen(request)):
        app.notify("Cancelled: nothing was changed.", title="Panic")
        return
    try:
        outcome, killed = await service.panic(target.name, namespace=target.namespace)
    except TurnoutError as err:
        app.post_message(ActionFinished(str(err), ok=False, title=err.title))
        return
    app.post_message(ActionFinished(f"{outcome_line(outcome)}; flags off: "
                                    f"{', '.join(killed) or 'none'}", ok=outcome_ok(outcome),
                                    title="Panic"))


async def fire_drill(app: TurnoutApp, target: App) -> None:
    """Demo only: make the app's new color fail, to rehearse a rollback."""
    try:
        color = await app.service.fire_drill(target.name, target.namespace)
    except TurnoutError as err:
        app.notify(str(err), title=err.title, severity="error")
        return
    armed = any(a.guard == "armed" for a in app.apps
                if (a.name, a.namespace) == (target.name, target.namespace))
    app.notify(f"{target.name}: {color} now failing; "
               + ("the armed guard will roll it back when it sees it." if armed
                  else "no guard is armed (g arms it)."),
               title="Fire drill", severity="warning")
    app.refresh_apps()


async def arm_guard(app: TurnoutApp, target: App) -> None:
    """Arm (or re-arm after a rollback) the automatic rollback guard on this app."""
    try:
        await app.service.guard().arm(target.name, target.namespace)
    except TurnoutError as err:
        app.notify(str(err), title=err.title, severity="error")
        return
    app.notify(f"{target.name}: guard armed", title="Guard")
    app.refresh_apps()


async def change_slot(app: TurnoutApp, target: App, verb: str) -> None:
    """Ask for a color's replicas or image, preview it in the backend, confirm, change it."""
    label = SLOT_LABELS[verb]
    asked = await app.push_screen_wait(SlotScreen(target, verb))
    if asked is None:
        return
    color, value = asked
    service = app.service
    try:
        change = await service.preview_slot(verb, target.name, color, value,
                                            namespace=target.namespace)
    except TurnoutError as err:
        app.notify(str(err), title=err.title, severity="error")
        return
    request = ConfirmRequest(title=f"{label}: {target.namespace}/{target.name} {change.color}",
                             lines=describe_slot(change, service.context), confirm_label=label)
    if not await app.push_screen_wait(ConfirmScreen(request)):
        app.notify("Cancelled: nothing was changed.", title=label)
        return
    try:
        changed = await service.apply_slot(verb, target.name, change.color, change.after,
                                           namespace=target.namespace)
    except TurnoutError as err:
        app.post_message(ActionFinished(str(err), ok=False, title=err.title))
        return
    slot = changed.slot(change.color)
    now = slot.desired if verb == "scale" else slot.image
    app.post_message(ActionFinished(f"{changed.namespace}/{changed.name} {change.color}: "
                                    f"{change.field} {now}", ok=True, title=label))


async def take_lock(app: TurnoutApp, target: App, verb: str) -> None:
    """Take (or renew) or release the app's release lock, as `turnout lock`/`unlock` do
    without --force: never someone else's (the screen's `blocked` greys that out)."""
    label = LOCK_LABELS[verb]
    service = app.service
    try:
        if verb == "lock":
            await service.lock(target.name, namespace=target.namespace)
            summary = f"{target.namespace}/{target.name}: locked by you"
        else:
            held = await service.unlock(target.name, namespace=target.namespace)
            summary = (f"{target.namespace}/{target.name}: unlocked"
                       + ("" if held else " (it was not locked)"))
    except TurnoutError as err:
        app.post_message(ActionFinished(str(err), ok=False, title=err.title))
        return
    app.post_message(ActionFinished(summary, ok=True, title=label))
