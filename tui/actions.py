"""Release actions offered in the TUI, declared once: key, label, confirmation wording."""

from __future__ import annotations

import msgspec
from rich.text import Text

from turnout.backend.models import ActionResult
from turnout.backend.verbs import SlotChange
from turnout.tui.render import Palette, safe, traffic_bar


class ReleaseAction(msgspec.Struct, frozen=True):
    """A traffic verb of the release service, as the operator triggers it."""

    id: str
    key: str
    label: str
    verb: str
    """The `ReleaseService.preview` action name."""
    typed: bool = False
    """Whether the confirmation needs the app name typed."""
    asks_percent: bool = False
    """Whether the operator first enters a canary weight."""
    asks_version: bool = False
    """Whether the operator first picks the previous color or a version from the history."""


RELEASE_ACTIONS: tuple[ReleaseAction, ...] = (
    ReleaseAction("step", "s", "Step canary", "step"),
    ReleaseAction("weight", "w", "Set weight", "weight", asks_percent=True),
    ReleaseAction("promote", "P", "Promote (full)", "promote-full", typed=True),
    ReleaseAction("abort", "a", "Abort", "abort"),
    ReleaseAction("rollback", "b", "Rollback", "rollback", typed=True, asks_version=True),
)


def describe(result: ActionResult, context: str, palette: Palette) -> tuple[Text, ...]:
    """The exact change an action will make, for the confirmation modal."""
    before, after = result.before, result.after
    steering = (Text.assemble("deploy     ", safe(result.message)),) if result.message else ()
    return (
        *steering,
        Text.assemble("context    ", safe(context)),
        Text.assemble("namespace  ", safe(result.namespace)),
        Text.assemble("app        ", safe(result.app)),
        Text(f"live       {before.live} → {after.live}"),
        Text.assemble("weights    ", traffic_bar(before, palette, 10), "  →  ",
                      traffic_bar(after, palette, 10)),
        Text(f"           blue {before.weights.blue}% / green {before.weights.green}%  →  "
             f"blue {after.weights.blue}% / green {after.weights.green}%"),
    )


def describe_slot(change: SlotChange, context: str) -> tuple[Text, ...]:
    """The exact change `scale` or `set-image` will make, for the confirmation modal."""
    return (
        Text.assemble("context    ", safe(context)),
        Text.assemble("namespace  ", safe(change.namespace)),
        Text.assemble("app        ", safe(change.app)),
        Text(f"color      {change.color}"),
        Text.assemble(f"{change.field:<11}", safe(str(change.before)), " → ",
                      safe(str(change.after))),
    )
