"""The release service over the demo environment: verbs, conflicts, read-only, audit."""

from __future__ import annotations

import pytest

from turnout.backend.audit import AuditLog
from turnout.backend.demo import build_demo_service
from turnout.backend.errors import Conflict, InvalidInput, NotFound, ReadOnly
from turnout.backend.gate import WriteGate
from turnout.backend.models import Weights


async def test_seeded_demo_is_reproducible() -> None:
    first = await build_demo_service(seed=3).apps()
    second = await build_demo_service(seed=3).apps()
    assert [a.blue.pods for a in first] == [a.blue.pods for a in second]
    assert {a.name for a in first} == {"checkout", "search", "payments"}


async def test_step_then_rollback_restores_the_stable_color() -> None:
    service = build_demo_service()
    stepped = await service.step("search")
    assert stepped.after.weights == Weights(blue=75, green=25)
    back = await service.rollback("search")
    assert (back.after.live, back.after.weights) == ("blue", Weights(blue=100, green=0))
    assert (await service.app("search")).traffic.weights == Weights(blue=100, green=0)


async def test_a_stale_revision_is_a_conflict_and_changes_nothing() -> None:
    service = build_demo_service()
    stale = await service.cluster.get_app("search", None)
    await service.set_weight("search", 50)
    target = stale.traffic.__class__(live="blue", weights=Weights(blue=0, green=100))
    with pytest.raises(Conflict, match="changed by someone else"):
        await service.cluster.write_traffic(stale, target, dry_run=False)
    assert (await service.app("search")).traffic.weights == Weights(blue=50, green=50)


async def test_read_only_gate_refuses_every_write() -> None:
    service = build_demo_service(gate=WriteGate(read_only=True, why="test"))
    for verb in (service.step("search"), service.abort("search"), service.rollback("checkout"),
                 service.scale("checkout", "green", 0), service.set_image("checkout", "green", "x:1")):
        with pytest.raises(ReadOnly):
            await verb
    assert (await service.app("search")).traffic.weights == Weights(blue=90, green=10)


async def test_every_write_is_audited_without_secrets(tmp_path) -> None:  # type: ignore[no-untyped-def]
    audit = AuditLog(tmp_path / "audit.jsonl")
    service = build_demo_service(audit_path=audit.path)
    await service.set_weight("search", 50, reason="INC-42")
    [entry] = audit.tail()
    assert (entry.app, entry.action, entry.reason) == ("search", "weight", "INC-42")
    assert entry.after == {"live": "blue", "weights": {"blue": 50, "green": 50}}


async def test_dry_run_writes_nothing() -> None:
    service = build_demo_service()
    result = await service.set_weight("search", 50, dry_run=True)
    assert result.dry_run and result.after.weights == Weights(blue=50, green=50)
    assert (await service.app("search")).traffic.weights == Weights(blue=90, green=10)


async def test_unknown_app_is_not_found() -> None:
    with pytest.raises(NotFound, match="nope"):
        await build_demo_service().app("nope")


async def test_fire_drill_makes_the_canary_crash_loop_and_fail() -> None:
    service = build_demo_service()
    color = await service.fire_drill("search")
    assert color == "green"
    world = service.cluster.world  # type: ignore[attr-defined]
    for _ in range(60):
        world.tick(1.0)
    app = await service.app("search")
    assert all(p.waiting_reason == "CrashLoopBackOff" for p in app.green.pods)
    failing = {(v.color, v.signal) for v in app.verdicts if v.outcome == "fail"}
    assert ("green", "error-rate") in failing and ("green", "restarts") in failing
    assert app.health == "fail"


async def test_a_bad_version_crash_loops_after_deploy() -> None:
    service = build_demo_service()
    await service.set_image("checkout", "green", "registry.demo/checkout:1.5.0-bad")
    world = service.cluster.world  # type: ignore[attr-defined]
    for _ in range(40):
        world.tick(1.0)
    green = (await service.app("checkout")).green
    assert green.version == "1.5.0-bad" and green.ready == 0
    assert max(p.restarts_5m for p in green.pods) >= 2


async def test_panic_aborts_the_canary_and_kills_the_app_flags() -> None:
    service = build_demo_service()
    result, killed = await service.panic("checkout", reason="INC-7")
    assert result.after.weights == Weights(blue=100, green=0)
    assert killed == ("new-checkout",)  # dark-mode belongs to checkout but is already off
    assert service.flags is not None
    flags = {f.key: f.on for f in await service.flags.list()}
    assert flags["new-checkout"] is False and flags["payments-3ds"] is True


async def test_read_only_panic_changes_neither_traffic_nor_flags() -> None:
    service = build_demo_service(gate=WriteGate(read_only=True, why="test"))
    with pytest.raises(ReadOnly):
        await service.panic("search")
    assert service.flags is not None
    assert all(f.on for f in await service.flags.list() if f.key != "dark-mode")


async def test_rollback_scales_the_previous_color_up_and_waits_for_it() -> None:
    service = build_demo_service(tick_seconds=0.05)
    await service.promote("checkout", full=True)  # green live
    await service.scale("checkout", "blue", 0)
    result = await service.rollback("checkout")
    assert result.after.live == "blue"
    blue = (await service.app("checkout")).blue
    assert blue.desired == 3 and blue.ready == 3
    await service.close()


async def test_rollback_to_a_version_picks_its_color() -> None:
    service = build_demo_service()
    result = await service.rollback("search", to_version="2.8.0")
    assert (result.after.live, result.after.weights) == ("green", Weights(blue=0, green=100))
    with pytest.raises(NotFound, match=r"9\.9"):  # issue 18: unknown versions exit 4
        await service.rollback("search", to_version="9.9")


async def test_lock_and_resume_need_a_cluster_that_has_them() -> None:
    service = build_demo_service()
    with pytest.raises(InvalidInput, match="Kubernetes"):
        await service.lock("search")


async def test_a_crash_looping_pod_described_with_its_last_exit_back_off_and_error_logs() -> None:
    service = build_demo_service()
    color = await service.fire_drill("search")
    service.cluster.world.tick(30)  # type: ignore[attr-defined]
    pod = (await service.app("search")).slot(color).pods[0]
    detail = await service.pod("search", pod.name, log_lines=50)
    assert (detail.pod.name, detail.pod.color, detail.namespace) == (pod.name, color, "search")
    [container] = detail.containers
    assert (container.state, container.reason) == ("waiting", "CrashLoopBackOff")
    assert container.restarts > 0 and (container.last_reason, container.last_exit_code) == ("Error", 1)
    assert ("turnout.dev/color", color) in detail.labels
    assert [e.reason for e in detail.events][-1] == "BackOff"
    assert all(e.object == f"Pod/{pod.name}" for e in detail.events)
    assert len(detail.logs) == 50 and any(line.startswith("ERROR") for line in detail.logs)
    assert (await service.pod("search", pod.name, log_lines=0)).logs == ()


async def test_describing_a_pod_not_of_the_app_or_with_bad_input_is_refused() -> None:
    service = build_demo_service()
    other = (await service.app("payments")).blue.pods[0].name
    with pytest.raises(NotFound, match=f"no pod '{other}' in search/search; its pods: search-"):
        await service.pod("search", other)
    with pytest.raises(InvalidInput, match=r"0\.\.1000"):
        await service.pod("search", (await service.app("search")).blue.pods[0].name, log_lines=-1)
