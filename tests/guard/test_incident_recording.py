"""The guard records the series it evaluated around an incident (bounded), keeps the record in
the cluster beside the app, and `turnout incident` lists, shows and replays it (demo world)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import msgspec
import pytest

from tests.guard.test_guard_demo import FAST, world_of
from turnout.backend.demo import build_demo_service
from turnout.backend.errors import NotFound
from turnout.backend.guard import Guard
from turnout.backend.guard.incident import Incident
from turnout.backend.guard.recording import (
    MAX_FRAMES,
    POSTROLL,
    PREROLL,
    TEXT_CAP,
    ColorSample,
    Frame,
    IncidentRecord,
    Recording,
    bounded,
)
from turnout.backend.guard.replay import app_at, crossings, index_at, series_until, timeline
from turnout.backend.models import Verdict
from turnout.backend.service import ReleaseService

T0 = datetime(2026, 1, 1, tzinfo=UTC)


def _frame(i: int) -> Frame:
    """The largest frame a guard records: both colors measured, five verdicts at full text."""
    at = T0 + timedelta(seconds=2 * i)
    verdicts = tuple(Verdict(signal=s, color="green", outcome="fail", value=123.456789,
                             threshold=0.05, source="", at=at, detail="x" * TEXT_CAP)
                     for s in ("error-rate", "restarts", "health", "log-errors", "smoke"))
    colors = tuple(ColorSample(color=c, version="10.20.30-rc.1", desired=30, ready=29,
                               restarts_5m=12, error_rate=0.123456789, p95_ms=1234.56789,
                               rps=12345.6789) for c in ("blue", "green"))
    return Frame(at=at, live="blue", blue=90, router="nginx", colors=colors, verdicts=verdicts,
                 guard="armed", decision="already alerted")


def test_a_recording_stays_within_its_bound_and_spans_the_whole_incident() -> None:
    frames, halved = bounded(tuple(_frame(i) for i in range(5 * MAX_FRAMES)), 0)
    assert len(frames) <= MAX_FRAMES and halved == 3  # 2000 -> 1000 -> 500 -> 250
    assert frames[-1].at == _frame(5 * MAX_FRAMES - 1).at  # the newest frame is always kept
    assert frames[0].at - T0 <= timedelta(seconds=2 * 2 ** halved)  # and the start still there
    incident = Incident(id="x", app="a", namespace="n", context="c", color="green",
                        action="rollback", first_bad_at=T0, detected_at=T0)
    full = tuple(_frame(i) for i in range(MAX_FRAMES))
    record = IncidentRecord(incident=incident, recording=Recording(frames=full))
    assert len(msgspec.json.encode(record)) < 900 * 1024  # a ConfigMap holds 1 MiB


async def _drill(service: ReleaseService, guard: Guard, calm_after: int = 0) -> None:
    """Calm evaluations, a fire drill until the guard rolls back, then `calm_after` more."""
    await guard.arm("search")
    for _ in range(5):
        world_of(service).tick(2)
        assert (await guard.check("search")).decision == "ok"
    await service.fire_drill("search")
    for _ in range(10):
        world_of(service).tick(2)
        if (await guard.check("search")).decision == "rollback":
            break
    for _ in range(calm_after):
        world_of(service).tick(2)
        await guard.check("search")


async def test_the_guard_records_the_series_around_an_incident_in_the_cluster() -> None:
    service = build_demo_service()
    guard = Guard(service, FAST)
    await _drill(service, guard, calm_after=3)
    [record] = await service.incident_records("search", "search")
    frames = record.recording.frames
    incident = record.incident
    assert incident.action == "rollback" and incident.color == "green"
    assert frames[0].at < incident.first_bad_at <= incident.detected_at < frames[-1].at
    assert [f.blue for f in frames][:2] == [90, 90] and frames[-1].blue == 100  # weights moved
    assert any(f.decision == "rollback" for f in frames)
    green = [f.sample("green") for f in frames]
    assert all(s.rps is not None and s.ready == s.desired for s in green[:5])
    assert {v.signal for f in frames for v in f.verdicts} >= {"error-rate", "restarts", "health"}
    [crossed, *_] = [c for c in crossings(record) if c.above]
    assert crossed.signal == "error-rate" and crossed.color == "green"
    assert incident.first_bad_at <= crossed.at <= incident.detected_at
    assert not record.recording.complete


async def test_recording_ends_after_the_calm_postroll_and_never_grows_after() -> None:
    service = build_demo_service()
    guard = Guard(service, FAST)
    await _drill(service, guard, calm_after=POSTROLL + 5)
    [record] = await service.incident_records()
    assert record.recording.complete
    assert len(record.recording.frames) <= PREROLL + POSTROLL + 15


async def test_a_read_only_guard_records_nothing_in_the_cluster() -> None:
    from turnout.backend.gate import WriteGate

    service = build_demo_service(gate=WriteGate(read_only=True, why="test"))
    guard = Guard(service, FAST)
    sim = world_of(service).apps[("search", "search")]
    sim.guard, sim.slots["green"].faulty = "armed", True
    decisions = []
    for _ in range(5):
        world_of(service).tick(2)
        decisions.append((await guard.check("search")).decision)
    assert "would roll back" in decisions
    assert await service.incident_records() == ()


async def test_replay_rebuilds_what_the_app_screen_showed() -> None:
    service = build_demo_service()
    guard = Guard(service, FAST)
    await _drill(service, guard, calm_after=2)
    [record] = await service.incident_records()
    before, after = app_at(record, 0), app_at(record, 10_000)
    assert (before.traffic.weights.green, after.traffic.weights.green) == (10, 0)
    assert before.guard_report is not None and before.guard_report.decision == "ok"
    errors = series_until(record, 3, "error_rate")
    assert len(errors["green"]) == 4 and errors["green"][0][0] == record.recording.frames[0].at.timestamp()
    assert index_at(record, 0) == 0 and index_at(record, 1e9) == len(record.recording.frames) - 1
    kinds = [kind for _, kind, _ in timeline(record)]
    assert kinds.count("frame") == len(record.recording.frames) and "cross" in kinds and "mark" in kinds


async def test_incident_lookup_by_id_or_its_start() -> None:
    service = build_demo_service()
    guard = Guard(service, FAST)
    await _drill(service, guard)
    [record] = await service.incident_records()
    assert (await service.incident_record(record.id[:12])).id == record.id
    with pytest.raises(NotFound, match="newest: " + record.id):
        await service.incident_record("nope")


async def _incident_cli(service: ReleaseService, *argv: str) -> tuple[int, str]:
    """`turnout incident ...` on a demo the test drove (the CLI's own parser and command)."""
    from io import StringIO

    from tests.guard.test_guard_cli import _Ctx
    from turnout.backend.cli.parser import build_parser
    from turnout.backend.config import Config

    args = build_parser().parse_args(["incident", *argv])
    out = StringIO()
    code: int = await args.func(args, _Ctx(args=args, config=Config(), out=out, prepared=service))
    return code, out.getvalue()


async def test_incident_list_show_and_replay_on_the_command_line() -> None:
    import json

    service = build_demo_service()
    await _drill(service, Guard(service, FAST), calm_after=2)
    [record] = await service.incident_records()
    code, out = await _incident_cli(service, "list", "-o", "json")
    [listed] = json.loads(out)
    assert code == 0 and (listed["id"], listed["action"], listed["frames"]) == (
        record.id, "rollback", len(record.recording.frames))
    code, out = await _incident_cli(service, "list")
    assert code == 0 and out.splitlines()[0].split()[:3] == ["ID", "NAMESPACE", "APP"]
    code, out = await _incident_cli(service, "show", record.id, "-o", "json")
    shown = json.loads(out)
    assert len(shown["recording"]["frames"]) == len(record.recording.frames)
    code, out = await _incident_cli(service, "show", record.id[:10])
    assert code == 0 and "## Timeline" in out and f"turnout incident replay {record.id}" in out
    code, out = await _incident_cli(service, "replay", record.id)
    lines = out.splitlines()
    [crossed] = [i for i, line in enumerate(lines) if "green error-rate crossed above" in line]
    [detected] = [i for i, line in enumerate(lines) if "> detected: " in line]
    [acted] = [i for i, line in enumerate(lines) if "> action: rollback" in line]
    assert code == 0 and crossed < detected < acted
    when = record.incident.detected_at
    assert lines[detected].startswith(f"{when:%H:%M:%S}") and "    +0.0s >" in lines[detected]
    assert sum(" live " in line for line in lines) == len(record.recording.frames)
