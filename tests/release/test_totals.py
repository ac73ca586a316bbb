"""Release totals: the counts the guard exports, kept with the history so they outlive its cap,
each release counted once; and the guard's exposition of them and of each app's release state."""

from __future__ import annotations

from datetime import timedelta

import msgspec
import pytest
from prometheus_client import CollectorRegistry, generate_latest
from prometheus_client.parser import text_string_to_metric_families

from tests.release.conftest import Demo, request
from turnout.backend.guard.delivery import DeliveryCollector
from turnout.backend.models import Verdict
from turnout.backend.release.model import Release
from turnout.backend.release.port import HISTORY_CAP
from turnout.backend.release.totals import MANUAL, fold, trigger_of


def samples(collector: DeliveryCollector) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    registry = CollectorRegistry()
    registry.register(collector)
    text = generate_latest(registry).decode()
    return {(s.name, tuple(sorted(s.labels.items()))): s.value
            for family in text_string_to_metric_families(text) for s in family.samples}


def value(found: dict[tuple[str, tuple[tuple[str, str], ...]], float], name: str, **labels: str) -> float:
    return found[(name, tuple(sorted(labels.items())))]


async def test_a_promoted_and_a_rolled_back_deploy_are_counted_and_exported(demo: Demo) -> None:
    console = demo.console()
    good = await console.deploy(request())
    bad = await console.deploy(request("registry.demo/checkout:1.6.0-bad"))
    assert (good.outcome, bad.outcome) == ("promoted", "rolled-back")
    [totals] = [t for t in await demo.service.release_records().totals("shop") if t.app == "checkout"]
    seeded = fold("shop", "checkout", [r for r in await demo.service.history("shop", "checkout")
                                       if r.id not in (good.id, bad.id)])
    assert totals.outcomes["promoted"] == seeded.outcomes.get("promoted", 0) + 1
    assert totals.outcomes["rolled-back"] == seeded.outcomes.get("rolled-back", 0) + 1
    assert totals.duration.count == seeded.duration.count + 2
    collector = DeliveryCollector()
    await collector.refresh(demo.service, [], None)
    found = samples(collector)
    ids = {"namespace": "shop", "app": "checkout"}
    assert value(found, "turnout_deploys_total", **ids, outcome="rolled-back") == \
        totals.outcomes["rolled-back"]
    assert value(found, "turnout_deploy_rollbacks_total", **ids, trigger=trigger_of(bad)) >= 1
    assert value(found, "turnout_deploy_duration_seconds_count", **ids) == totals.duration.count
    assert value(found, "turnout_app_live_color", **ids, color=good.to_color) == 1
    assert value(found, "turnout_traffic_weight_ratio", **ids, color=good.to_color) == 1.0
    assert value(found, "turnout_deploy_in_progress", **ids) == 0
    live = await demo.service.cluster.get_app("checkout", "shop")
    ready = live.slot(good.to_color).ready
    assert value(found, "turnout_slot_pods_ready", **ids, color=good.to_color) == ready
    assert value(found, "turnout_delivery_read_errors_total") == 0


async def test_an_app_that_never_deployed_exports_every_outcome_at_zero(demo: Demo) -> None:
    collector = DeliveryCollector()
    await collector.refresh(demo.service, [], None)
    found = samples(collector)
    for outcome in ("promoted", "rolled-back", "aborted", "failed"):
        assert ("turnout_deploys_total", (("app", "checkout"), ("namespace", "shop"),
                                          ("outcome", outcome))) in found


def _release(n: int, outcome: str = "promoted") -> Release:
    from datetime import UTC, datetime

    start = datetime(2026, 1, 1, tzinfo=UTC) + timedelta(hours=n)
    return Release(id=f"r{n}", app="checkout", namespace="shop", context="demo", version="1", image="i",
                   previous_version="0", previous_image="i0", strategy="canary", steps=(100,), by="me",
                   started_at=start, finished_at=start + timedelta(minutes=12), outcome=outcome,  # type: ignore[arg-type]
                   from_color="blue", to_color="green")


async def test_totals_keep_counting_past_the_history_cap_and_count_a_release_once(demo: Demo) -> None:
    port = demo.service.release_records()
    before = next(t for t in await port.totals("shop") if t.app == "checkout")
    for n in range(HISTORY_CAP + 5):
        await port.record(_release(n))
    await port.record(_release(HISTORY_CAP + 4))  # a retried record of the same release
    after = next(t for t in await port.totals("shop") if t.app == "checkout")
    assert len(await port.history("shop", "checkout")) == HISTORY_CAP
    assert after.outcomes["promoted"] == before.outcomes.get("promoted", 0) + HISTORY_CAP + 5
    # Twelve minutes each: over the 600 s bucket, inside 900 s.
    bounds = dict(zip(after.duration.bounds, after.duration.buckets, strict=True))
    assert bounds[900.0] - bounds[600.0] >= HISTORY_CAP + 5


def test_a_rollback_is_attributed_to_the_signals_that_failed() -> None:
    at = _release(0).started_at
    failed = [Verdict(signal=s, color="green", outcome=o, value=1, threshold=0, source="q", at=at)  # type: ignore[arg-type]
              for s, o in (("restarts", "fail"), ("error-rate", "fail"), ("health", "pass"))]
    rolled = msgspec.structs.replace(_release(0, "rolled-back"), verdicts=tuple(failed))
    assert trigger_of(rolled) == "error-rate,restarts"
    assert trigger_of(_release(1, "rolled-back")) == MANUAL
    totals = fold("shop", "checkout", [rolled, _release(2, "aborted")])
    assert totals.rollbacks == {"error-rate,restarts": 1}
    assert (totals.restore.count, totals.rollback.count) == (0, 0)  # no restore times recorded


@pytest.mark.parametrize("seconds", [-1.0, None])
def test_an_unmeasured_duration_is_not_observed(seconds: float | None) -> None:
    histogram = fold("shop", "checkout", []).duration
    assert histogram.observe(seconds) == histogram
