"""The app verbs beside traffic, as the TUI runs them: scale, set-image, lock and unlock.

Each is the same backend call the CLI makes (`preview_slot` then `apply_slot`; `lock`,
`unlock`), run inside one of the app's action workers: ask, show the backend's planned
change, confirm, perform, and post `ActionFinished` (the app's handler shows it).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from turnout.backend.errors import TurnoutError
from turnout.backend.models import App
from turnout.tui.actions import describe_slot
from turnout.tui.messages import ActionFinished
from turnout.tui.screens.confirm import ConfirmRequest, ConfirmScreen
from turnout.tui.screens.slot import SlotScreen

if TYPE_CHECKING:
    from turnout.tui.app import TurnoutApp

SLOT_LABELS = {"scale": "Scale", "set-image": "Set image"}
LOCK_LABELS = {"lock": "Lock", "unlock": "Unlock"}


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
