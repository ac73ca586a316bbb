"""What the keys say: the help screen's grouped list, and why a refused key does nothing."""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING

from rich.text import Text
from textual.app import App as TextualApp
from textual.binding import Binding

from turnout.backend.models import App
from turnout.tui.actions import RELEASE_ACTIONS

if TYPE_CHECKING:
    from turnout.backend.service import ReleaseService

RELEASE_IDS = frozenset({*(a.id for a in RELEASE_ACTIONS), "panic", "deploy", "guard", "fire-drill",
                         "scale", "set-image", "lock", "unlock"})
"""Bindings that change an app's traffic or pods."""
APP_ACTIONS = frozenset({"release", "fire_drill", "panic", "arm_guard", "deploy", "slot", "lock"})
"""The app's action names behind those bindings, as `check_action` sees them."""
GROUPS = ("release", "flags", "view")


def group_of(binding: Binding) -> str:
    """Which heading of the help screen a binding is listed under."""
    if binding.id in RELEASE_IDS:
        return "release"
    if binding.id and (binding.id == "flags" or binding.id.startswith("flags.")):
        return "flags"
    return "view"


def help_text(app: TextualApp[object], bindings: Iterable[tuple[Binding, bool]]) -> Text:
    """The app's own keys (not a widget's cursor keys), readable (`?`, not `question_mark`),
    grouped; a key that does not apply here is marked so."""
    rows: dict[str, list[tuple[str, str, bool]]] = {group: [] for group in GROUPS}
    seen: set[str] = set()
    for binding, enabled in bindings:
        if binding.id is None or not binding.description or binding.id in seen:
            continue
        seen.add(binding.id)
        rows[group_of(binding)].append((app.get_key_display(binding), binding.description, enabled))
    out = Text()
    for group in GROUPS:
        if not rows[group]:
            continue
        out.append(f"{'' if not out else chr(10)}{group}\n", style="bold")
        for key, what, enabled in rows[group]:
            out.append(f"  {key:<8} ", style="bold")
            out.append(what + ("" if enabled else "  (not here)"), style="" if enabled else "dim")
            out.append("\n")
    return out


def elsewhere(target: App, context: str) -> str:
    """Why an app of another context is only listed: this session acts in one context."""
    return (f"{target.namespace}/{target.name} is in context {target.context}; this session "
            f"acts in {context}: open Turnout with --context {target.context} to act on it.")


def refusal(service: ReleaseService, screen: object, action: str, *, several: bool) -> str:
    """Why the app on `service` refused `action` on `screen` (greyed out by `check_action`),
    in words, `several` when it shows several contexts; the toast that shows it makes the
    outside text in it inert."""
    if action == "history":
        return "History is about one app: put the cursor on it, or open it."
    if action == "incident":
        return "Incident replay is about one app: put the cursor on it, or open it."
    if action not in APP_ACTIONS:
        return ""
    target = getattr(screen, "selected", None)
    if target is not None and not isinstance(target, App):
        return "Release keys act on an app: esc back to the overview or the app screen."
    if several and isinstance(target, App) and target.context != service.context:
        return elsewhere(target, service.context)
    if service.read_only:
        return f"Read-only mode: {service.context} is only watched in this session; nothing can be changed."
    if target is None:
        return "No app under the cursor."
    blocked = getattr(screen, "blocked", "")
    if blocked:
        return f"Refused on {target.namespace}/{target.name}: {blocked}."
    if action == "fire_drill":
        return "The fire drill runs only on the demo."
    return ""
