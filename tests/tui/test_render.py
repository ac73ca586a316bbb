"""Pure rendering: what belongs to another cluster or another run of the demo stays off screen."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import msgspec

from turnout.backend.demo import build_demo_service
from turnout.backend.guard import incident as incidents
from turnout.backend.models import AuditEntry
from turnout.tui.render import activity_text, recovery_clock


async def test_activity_shows_this_contexts_past_entries_only() -> None:
    service = build_demo_service()
    app = await service.app("search")
    now = service.clock()

    def entry(context: str, seconds_ago: float, who: str) -> AuditEntry:
        return AuditEntry(at=now - timedelta(seconds=seconds_ago), who=who, os_user="o",
                          context=context, namespace=app.namespace, app=app.name, action="step",
                          before={}, after={})

    shown = str(activity_text(app, [entry("demo", 5, "mine"), entry("lab", 5, "lab-admin"),
                                    entry("demo", -60, "another-run")], now))
    assert "mine" in shown and "lab-admin" not in shown and "another-run" not in shown


async def test_latest_incident_is_this_contexts_and_never_in_the_future(tmp_path: Path) -> None:
    service = build_demo_service()
    app = await service.app("search")
    now = service.clock()
    for context, offset, name in (("demo", -30, "20260101T000000"), ("lab", -10, "20260101T000100")):
        found = incidents.Incident(id=name, app=app.name, namespace=app.namespace, context=context,
                                   color="green", action="rollback",
                                   first_bad_at=now + timedelta(seconds=offset),
                                   detected_at=now + timedelta(seconds=offset))
        (tmp_path / f"{name}-{app.name}-x.json").write_bytes(msgspec.json.encode(found))
    mine = incidents.latest(app.name, app.namespace, tmp_path, context="demo")
    assert mine is not None and mine.context == "demo"
    assert "30s ago" in str(recovery_clock(mine, now, {}))
    future = incidents.latest(app.name, app.namespace, tmp_path, context="lab")
    assert future is not None
    assert str(recovery_clock(future, now - timedelta(seconds=60), {})) == ""


def test_every_themes_domain_colours_parse_as_rich_styles() -> None:
    from rich.style import Style

    from turnout.themes import THEMES
    from turnout.tui.render import rich_palette

    domain = ("slot-blue", "slot-green", "canary", "health-ok", "health-bad", "health-warn",
              "flag-on", "flag-off", "danger")
    for theme in THEMES:
        palette = rich_palette(theme.variables)
        for name in domain:
            Style.parse(f"bold {palette[name]}")  # raises on a colour Rich does not know


def test_a_read_only_flag_says_why_in_its_row() -> None:
    from turnout.backend.flags.model import Flag
    from turnout.tui.render import flag_row

    row = flag_row(Flag(key="f", read_only="prerequisites (x)\x1b[31m"), {})
    assert row[-1].plain == "read-only: prerequisites (x)"  # made inert


async def test_the_recovery_clock_of_a_demo_drill_shows_real_detection_and_restore_times() -> None:
    from tests.guard.test_guard_demo import drill_until_rolled_back

    service = build_demo_service()
    result, _ = await drill_until_rolled_back(service)
    incident = msgspec.json.decode(Path(result.incident).with_suffix(".json").read_bytes(),
                                   type=incidents.Incident)
    gap = incident.seconds_to_detect
    assert gap > 0 and incident.seconds_to_restore == gap  # restored within the detecting second
    shown = str(recovery_clock(incident, service.clock(), {}))
    assert f"detected +{gap:.1f}s" in shown and f"traffic restored +{gap:.1f}s" in shown
    assert "+0.0s" not in shown
