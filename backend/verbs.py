"""The operator's verbs, planned: pure functions from the app as read to the change a verb
makes, and the line an operator confirms. Nothing here reads or writes.

Each verb has one name, the one `ReleaseService.preview` and `apply` take and the audit
records; the service's named verbs (`switch`, `set_weight`...) are that same dispatch.
"""

from __future__ import annotations

from collections.abc import Callable

import msgspec

from turnout.backend import plans
from turnout.backend.errors import InvalidInput
from turnout.backend.models import ActionResult, App, Color, Traffic

Planner = Callable[[Traffic], Traffic]

TRAFFIC_VERBS = ("weight", "step", "promote", "promote-full", "abort", "rollback", "switch")
"""Every traffic verb, by its one name."""
STEERING_VERBS = ("abort", "promote", "promote-full")
"""The traffic verbs that steer the app's deploy in flight when it has one."""


def planner(action: str, app: App, *, percent: int | None = None, to: str | None = None,
            to_version: str = "") -> Planner:
    """The pure planner of a traffic verb: the traffic read → the absolute target."""
    if action == "rollback":
        return rollback_planner(app, to_version)
    if action == "weight":
        if percent is None:
            raise InvalidInput("weight needs a percent")
        weight = percent
        return lambda t: plans.with_weight(t, weight)
    if action == "switch":
        if to is None:
            raise InvalidInput("switch needs a color: blue or green")
        color = plans.check_color(to)
        return lambda t: plans.switched(t, color)
    fixed: dict[str, Planner] = {"step": plans.next_step, "promote": plans.next_step,
                                 "promote-full": plans.promoted, "abort": plans.aborted}
    if action not in fixed:
        raise InvalidInput(f"unknown action {action!r}")
    return fixed[action]


def rollback_planner(app: App, to_version: str) -> Planner:
    """Back to the previous color, or to the one running `to_version`."""
    if not to_version:
        return plans.rolled_back
    match = [slot.color for slot in (app.blue, app.green) if slot.version == to_version]
    if not match:
        raise InvalidInput(f"no color of {app.name} runs version {to_version!r} "
                           f"(blue {app.blue.version}, green {app.green.version})")
    color = match[0]
    return lambda t: plans.switched(t, color)


def moves(before: Traffic, after: Traffic) -> bool:
    """Whether `after` differs from `before` in what the routing objects say."""
    return (after.live, after.weights) != (before.live, before.weights)


def outcome(app: App, action: str, after: Traffic, *, dry_run: bool,
            changed: bool | None = None, message: str = "") -> ActionResult:
    """The record of a traffic verb on `app` as read: before, after, whether it moves."""
    return ActionResult(action=action, app=app.name, namespace=app.namespace, before=app.traffic,
                        after=after, dry_run=dry_run,
                        changed=moves(app.traffic, after) if changed is None else changed,
                        message=message)


def confirmation(result: ActionResult, context: str) -> str:
    """The one line an operator confirms for a preview: where, what, before and after."""
    where = f"{result.namespace}/{result.app} in context {context}"
    if result.message:
        return f"{result.message} ({where})"
    b, a = result.before, result.after
    return (f"{result.action} {where}: live {b.live} -> {a.live}, blue/green "
            f"{b.weights.blue}/{b.weights.green} -> {a.weights.blue}/{a.weights.green}")


def traffic_view(traffic: Traffic) -> dict[str, object]:
    """Traffic as the audit records it."""
    return {"live": traffic.live, "weights": {"blue": traffic.weights.blue,
                                              "green": traffic.weights.green}}


class SlotChange(msgspec.Struct, frozen=True, kw_only=True):
    """One planned change of a color's Deployment: what `scale` or `set-image` will write."""

    verb: str
    """scale or set-image."""
    app: str
    namespace: str
    color: Color
    field: str
    """replicas or image."""
    before: int | str
    after: int | str
    note: str = ""
    """How the change goes through what governs the color (an HPA's bounds), when it does."""

    @property
    def action(self) -> str:
        """The audit name of the write (`scale-blue`, `set-image-green`)."""
        return f"{self.verb}-{self.color}"


SLOT_FIELDS = {"scale": "replicas", "set-image": "image"}


def check_slot(verb: str, color: str, value: int | str) -> Color:
    """Refuse bad input to a slot verb before anything is read; the color checked."""
    checked = plans.check_color(color)
    if verb == "scale":
        if not isinstance(value, int) or not 0 <= value <= 1000:
            raise InvalidInput(f"replicas {value}: expected 0..1000")
    elif verb == "set-image":
        if not isinstance(value, str) or not value or any(ch.isspace() for ch in value):
            raise InvalidInput(f"image {value!r}: expected a reference like registry/app:tag")
    else:
        raise InvalidInput(f"unknown slot verb {verb!r}")
    return checked


def plan_slot(app: App, verb: str, color: str, value: int | str) -> SlotChange:
    """The change `verb` (scale, set-image) makes to `color` of `app`; bad input refused."""
    checked = check_slot(verb, color, value)
    slot = app.slot(checked)
    before: int | str = slot.desired if verb == "scale" else slot.image
    return SlotChange(verb=verb, app=app.name, namespace=app.namespace, color=checked,
                      field=SLOT_FIELDS[verb], before=before, after=value)


def slot_confirmation(change: SlotChange, context: str) -> str:
    """The one line an operator confirms for a slot change."""
    if change.note:
        return change.note
    return (f"{change.verb} {change.namespace}/{change.app} {change.color} in context {context}: "
            f"{change.field} {change.before} -> {change.after}")
