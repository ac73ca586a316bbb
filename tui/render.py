"""Pure rendering: records in, Rich `Text` out. No markup is ever parsed here.

Untrusted strings (names, versions, reasons) pass `inert` and are appended as
plain text, so `[@click=app.quit]` stays text and escape sequences never reach
the terminal. Colours come from the theme's variables (`palette`), never literals.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime

from rich.text import Text
from turnout.backend.models import App, Color, Outcome, Pod, Slot, Traffic
from turnout.backend.sanitize import inert

Palette = Mapping[str, str]

HEALTH = {  # outcome -> (icon, word, theme variable)
    "pass": ("✔", "healthy", "health-ok"),
    "fail": ("✖", "failing", "health-bad"),
    "error": ("!", "error", "health-bad"),
    "inconclusive": ("?", "unknown", "health-warn"),
}


def safe(text: str) -> Text:
    """Untrusted text as an inert, markup-free `Text`."""
    return Text(inert(text, single_line=True))


def color_text(color: Color, palette: Palette, *, live: bool = False) -> Text:
    """A color name in its slot colour, with a marker for the live one (never colour alone)."""
    marker = "● " if live else "○ "
    return Text(marker + color + " ", style=f"bold {palette.get(f'slot-{color}', '')}".strip())


def health_text(outcome: Outcome, palette: Palette) -> Text:
    """Icon and word for a verdict outcome."""
    icon, word, var = HEALTH[outcome]
    return Text(f"{icon} {word} ", style=palette.get(var, ""))


def traffic_bar(traffic: Traffic, palette: Palette, width: int = 20) -> Text:
    """`blue ████████░░ green  90/10`: the split as a bar and numbers."""
    blue = round(width * traffic.weights.blue / 100)
    bar = Text()
    bar.append("█" * blue, style=palette.get("slot-blue", ""))
    bar.append("▒" * (width - blue), style=palette.get("slot-green", ""))
    bar.append(f" {traffic.weights.blue:>3}/{traffic.weights.green:<3}")
    return bar


def plan_text(traffic: Traffic, palette: Palette) -> Text:
    """The canary plan with the current step highlighted: `10 › [25] › 50 › 100`."""
    if not traffic.plan:
        return Text("no canary plan")
    out = Text()
    for i, step in enumerate(traffic.plan):
        if i:
            out.append(" › ")
        current = step == traffic.canary_weight
        out.append(f"[{step}%]" if current else f"{step}%",
                   style=f"bold {palette.get('canary', '')}" if current else "")
    return out


def ready_text(slot: Slot, palette: Palette) -> Text:
    """`3/3` ready over desired, red when short."""
    ok = slot.ready >= slot.desired
    return Text(f"{slot.ready}/{slot.desired}",
                style=palette.get("health-ok" if ok else "health-bad", ""))


def age(since: datetime | None, now: datetime) -> str:
    """kubectl-style age: 45s, 12m, 3h, 2d."""
    if since is None:
        return "-"
    seconds = max(0, int((now - since).total_seconds()))
    for unit, size in (("d", 86400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def pod_row(pod: Pod, now: datetime, palette: Palette) -> tuple[Text, ...]:
    """One pod table row: name, status, ready, restarts in 5 minutes, age."""
    status = pod.waiting_reason or pod.phase
    bad = bool(pod.waiting_reason) and pod.waiting_reason != "ContainerCreating"
    return (safe(pod.name),
            Text(inert(status), style=palette.get("health-bad", "") if bad else ""),
            Text("✔ yes" if pod.ready else "✖ no",
                 style=palette.get("health-ok" if pod.ready else "health-bad", "")),
            Text(str(pod.restarts_5m),
                 style=palette.get("health-bad", "") if pod.restarts_5m > 3 else ""),
            Text(age(pod.started_at, now)))


def overview_row(app: App, palette: Palette) -> tuple[Text, ...]:
    """One overview row of an app."""
    op = app.operation.kind if app.operation else ""
    return (safe(app.name), safe(app.namespace),
            color_text(app.traffic.live, palette, live=True),
            traffic_bar(app.traffic, palette, width=10),
            Text.assemble(safe(app.blue.version), " ", ready_text(app.blue, palette)),
            Text.assemble(safe(app.green.version), " ", ready_text(app.green, palette)),
            health_text(app.health, palette), safe(app.guard), safe(op or app.lock_holder))
