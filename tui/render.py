"""Pure rendering: records in, Rich `Text` out. No markup is ever parsed here.

Untrusted strings (names, versions, reasons) pass `inert` and are appended as
plain text, so `[@click=app.quit]` stays text and escape sequences never reach
the terminal. Colours come from the theme's variables (`palette`), never literals.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import TYPE_CHECKING

from rich.text import Text

from turnout.backend.contexts import ContextApps
from turnout.backend.flags.model import Flag
from turnout.backend.models import App, AuditEntry, ClusterEvent, Color, Outcome, Pod, Slot, Traffic
from turnout.backend.sanitize import inert
from turnout.backend.timefmt import age

if TYPE_CHECKING:  # the guard (and its metrics client) and the checklist's rules are not
    # needed for the first frame
    from turnout.backend.checklist import Checklist
    from turnout.backend.guard.incident import Incident

Palette = Mapping[str, str]
"""Theme variable -> a Rich style string (see `rich_palette`)."""


def rich_palette(variables: Mapping[str, str]) -> dict[str, str]:
    """Theme variables as Rich can parse them: Textual spells the terminal's own colours
    `ansi_blue` (the ANSI themes for plain SSH terminals), Rich spells them `blue`; Textual's
    own themes add an alpha (`#E0E0E099`, `ansi_default 50%`) that Rich has no word for."""
    return {name: _rich_colour(value) for name, value in variables.items()}


def _rich_colour(value: str) -> str:
    colour = value.split(" ", 1)[0].removeprefix("ansi_")
    return colour[:7] if colour.startswith("#") and len(colour) == 9 else colour

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


def drift_text(app: App, palette: Palette, *, detail: bool = False) -> Text:
    """`⚠ drifted` when the routing objects disagree; with `detail`, why and what each says."""
    if app.drift is None:
        return Text()
    out = Text(" ⚠ drifted", style=f"bold {palette.get('health-bad', '')}".strip())
    if detail:
        for line in (*app.drift.reasons, *app.drift.objects):
            out.append_text(Text.assemble("\n  ", safe(line)))
    return out


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




STATUS_SHORT = {"ContainerCreating": "Creating", "CrashLoopBackOff": "CrashLoop",
                "ImagePullBackOff": "ImagePull", "ErrImagePull": "ErrImage",
                "CreateContainerConfigError": "ConfigErr", "CreateContainerError": "CreateErr"}
"""kubectl's waiting reasons in the nine cells a pod table gives them."""


def name_tail(name: str, width: int) -> Text:
    """`name` (inert) in `width` cells, cut on the left: pods of one color share their
    deployment's prefix and differ at the end (`…7d9f8-x2x5q`)."""
    clean = inert(name, single_line=True)
    return Text(clean if len(clean) <= width else "…" + clean[len(clean) - width + 1:])


def pod_row(pod: Pod, now: datetime, palette: Palette, name_width: int = 30) -> tuple[Text, ...]:
    """One pod table row: status, ready, restarts in 5 minutes, age, then the name.

    The name comes last and shows its distinct end in the width left to it.
    """
    status = STATUS_SHORT.get(pod.waiting_reason, pod.waiting_reason) or pod.phase
    bad = bool(pod.waiting_reason) and pod.waiting_reason != "ContainerCreating"
    return (Text(inert(status), style=palette.get("health-bad", "") if bad else ""),
            Text("✔ yes" if pod.ready else "✖ no",
                 style=palette.get("health-ok" if pod.ready else "health-bad", "")),
            Text(str(pod.restarts_5m),
                 style=palette.get("health-bad", "") if pod.restarts_5m > 3 else ""),
            Text(age(pod.started_at, now)), name_tail(pod.name, name_width))


OVERVIEW_COLUMNS = ("APP", "NAMESPACE", "LIVE", "TRAFFIC b/g", "BLUE", "GREEN", "HEALTH", "GUARD", "OP")
"""Every overview column, in the order shown; a narrow terminal shows some of them."""


def overview_row(app: App, palette: Palette, columns: Sequence[str] = OVERVIEW_COLUMNS,
                 bar_width: int = 10) -> tuple[Text, ...]:
    """One overview row of an app: the cells of `columns`."""
    op = app.operation.kind if app.operation else ""
    op = op or (f"deploy: {app.deploy.stage}" if app.deploy else "")
    cells = {
        "CONTEXT": lambda: safe(app.context),
        "APP": lambda: safe(app.name), "NAMESPACE": lambda: safe(app.namespace),
        "LIVE": lambda: color_text(app.traffic.live, palette, live=True),
        "TRAFFIC b/g": lambda: Text.assemble(traffic_bar(app.traffic, palette, width=bar_width),
                                             drift_text(app, palette)),
        "BLUE": lambda: Text.assemble(safe(app.blue.version), " ", ready_text(app.blue, palette)),
        "GREEN": lambda: Text.assemble(safe(app.green.version), " ", ready_text(app.green, palette)),
        "HEALTH": lambda: health_text(app.health, palette), "GUARD": lambda: safe(app.guard),
        "OP": lambda: safe(op or app.lock_holder),
    }
    return tuple(cells[column]() for column in columns)


def contexts_line(states: Sequence[ContextApps], palette: Palette) -> Text:
    """Each context's own state, side by side: live with its apps, its mode and timeout, or
    unavailable and why."""
    out = Text("contexts", style="bold")
    for c in states:
        live = c.state == "live"
        mark = ("● live", palette.get("health-ok", "")) if live else \
            (f"⊘ {c.state}", palette.get("health-bad", ""))
        mode = "read-only" if c.read_only else "read-write"
        detail = (Text(f" {len(c.apps)} apps, {mode}, timeout {c.timeout:g}s") if live
                  else Text.assemble(": ", safe(c.error)))
        out.append_text(Text.assemble("  ", safe(c.context), " ", mark, detail, " │"))
    return out


def verdicts_text(app: App, palette: Palette) -> Text:
    """Each signal's last verdict: value against threshold, and where it came from."""
    out = Text("signals ", style="bold")
    for v in app.verdicts:
        out.append_text(Text.assemble(f" {v.color}:{v.signal} ", health_text(v.outcome, palette),
                                      safe(v.detail), " ·"))
    for m in app.metrics:
        if m.rps:
            err = f"{m.error_rate:.2%}" if m.error_rate is not None else "n/a"
            p95 = f"{m.p95_ms:.0f}ms" if m.p95_ms is not None else "n/a"
            out.append(f"\n{m.color:<5}  errors {err:>7}  p95 {p95:>7}  {m.rps:6.0f} req/s")
    return out


def guard_text(app: App, now: datetime, palette: Palette) -> Text:
    """The guard's latest published evaluation (from whichever host runs it), or nothing."""
    report = app.guard_report
    if report is None:
        return Text()
    out = Text.assemble(("\nguard ", "bold"), safe(app.guard), f" · checked {age(report.at, now)} ago, "
                        f"watching {report.watched}: ", safe(report.decision))
    for v in report.verdicts:
        out.append_text(Text.assemble(f"  {v.signal} ", health_text(v.outcome, palette)))
    return out


def activity_text(app: App, audit: Sequence[AuditEntry], now: datetime, limit: int = 3) -> Text:
    """The app's latest audited actions, newest first."""
    mine = [e for e in audit if (e.app, e.namespace, e.context) == (app.name, app.namespace, app.context)
            and e.at <= now][-limit:]  # later than now: another run of the demo's simulated clock
    out = Text()
    for entry in reversed(mine):
        out.append(f"\n{age(entry.at, now)} ago  ")
        out.append_text(safe(f"{entry.who}: {entry.action} {entry.reason}".rstrip()))
    return out


def events_text(events: Sequence[ClusterEvent], now: datetime, palette: Palette,
                limit: int = 4) -> Text:
    """The latest cluster events about the app, newest first; warnings marked, never colour alone."""
    if not events:
        return Text()
    out = Text("\nevents", style="bold")
    for event in reversed(events[-limit:]):
        warning = event.type == "Warning"
        out.append(f"\n{age(event.at, now)} ago  ")
        out.append("⚠ " if warning else "· ", style=palette.get("health-bad", "") if warning else "")
        out.append_text(safe(event.reason))
        out.append(" ")
        out.append_text(safe(event.object))
        if event.count > 1:
            out.append(f" (×{event.count})")
        out.append(": ")
        out.append_text(safe(event.message[:160]))
    return out


def flag_row(flag: Flag, palette: Palette) -> tuple[Text, ...]:
    """One flags-table row: state as icon and word, the split, stage, app, description."""
    state = Text("● on", style=palette.get("flag-on", "")) if flag.on else \
        Text("○ OFF", style=f"bold {palette.get('flag-off', '')}".strip())
    split = " ".join(f"{inert(v)}={w}" for v, w in flag.rollout.items()) or f"→ {flag.default_variant}"
    stage = f"{flag.plan.stage + 1}/{len(flag.plan.stages)}" if flag.plan else "-"
    targeting = f"{len(flag.rules)} rules, {sum(len(u) for u in flag.targets.values())} users"
    about = f"read-only: {flag.read_only}" if flag.read_only else flag.description
    return (safe(flag.key), state, safe(split), Text(stage), safe(flag.meta.app),
            Text(targeting), Text(str(flag.version)), safe(about))


def recovery_clock(incident: Incident | None, now: datetime, palette: Palette) -> Text:
    """Time since the first bad signal, then detection and restore offsets, for the latest incident."""
    # An hour old, or "in the future" (a report of another run of the demo's simulated clock).
    if incident is None or not 0 <= (now - incident.first_bad_at).total_seconds() <= 3600:
        return Text()
    since = age(incident.first_bad_at, now)
    restored = incident.seconds_to_restore
    style = palette.get("health-ok" if restored is not None else "health-bad", "")
    return Text.assemble(
        ("\nincident ", "bold"), f"{since} ago: {incident.color} failed · detected ",
        f"+{incident.seconds_to_detect:.1f}s · ",
        (f"traffic restored +{restored:.1f}s" if restored is not None else inert(incident.action),
         style))


CHECK_STYLES = {"pass": "health-ok", "warn": "health-warn", "fail": "health-bad"}


def checklist_text(checklist: Checklist, palette: Palette) -> Text:
    """The app's checklist: its worst status and counts, then every item that does not pass
    (the object, the field, what was expected and found), then the passing items' names."""
    from turnout.backend.checklist import lines

    counts = {s: sum(i.status == s for i in checklist.items) for s in CHECK_STYLES}
    out = Text("checklist ", style="bold")
    out.append(f"{checklist.status}", style=f"bold {palette.get(CHECK_STYLES[checklist.status], '')}"
               .strip())
    out.append(f"  {counts['fail']} fail · {counts['warn']} warn · {counts['pass']} pass")
    for item, line in zip(checklist.items, lines(checklist), strict=True):
        if item.status != "pass":
            out.append("\n")
            out.append(line, style=palette.get(CHECK_STYLES[item.status], ""))
    passed = sorted({i.item for i in checklist.items if i.status == "pass"})
    if passed:
        out.append("\n✓ pass: " + ", ".join(passed), style=palette.get("health-ok", ""))
    return out
