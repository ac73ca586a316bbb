"""Pod health from one snapshot and from restart counts the cache observed."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tests.kube import recorded
from turnout.backend.kube import wire
from turnout.backend.kube.health import observed_recent_restarts, pod_record

NOW = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)


def _pod(**kw: object) -> wire.Pod:
    return recorded.as_list([recorded.pod("a", "blue", "p", **kw)], wire.Pod)[0]  # type: ignore[arg-type]


def test_healthy_pod() -> None:
    pod = pod_record(_pod(), "blue", NOW)
    assert (pod.phase, pod.ready, pod.restarts, pod.restarts_5m, pod.node) == (
        "Running", True, 0, 0, "node-0")
    assert pod.started_at == datetime(2026, 1, 1, 10, 0, tzinfo=UTC)


def test_crash_loop_in_a_young_pod_counts_every_restart() -> None:
    pod = pod_record(_pod(restarts=4, ready=False, waiting="CrashLoopBackOff",
                          started="2026-01-01T11:58:00Z"), "blue", NOW)
    assert (pod.ready, pod.waiting_reason, pod.restarts_5m) == (False, "CrashLoopBackOff", 4)


def test_old_pod_with_a_recent_termination_counts_at_least_one() -> None:
    pod = pod_record(_pod(restarts=9, finished="2026-01-01T11:57:00Z"), "blue", NOW)
    assert pod.restarts_5m == 1


def test_old_restarts_do_not_count() -> None:
    pod = pod_record(_pod(restarts=9, finished="2026-01-01T10:00:00Z"), "blue", NOW)
    assert pod.restarts_5m == 0


def test_observed_history_counts_changes_inside_the_window() -> None:
    history = [(NOW - timedelta(minutes=9), 2), (NOW - timedelta(minutes=6), 3),
               (NOW - timedelta(minutes=2), 5), (NOW - timedelta(seconds=10), 7)]
    assert observed_recent_restarts(history, NOW) == 4
    assert observed_recent_restarts([], NOW) == 0
    pod = pod_record(_pod(restarts=7), "blue", NOW, history)
    assert pod.restarts_5m == 4


def test_an_old_pod_still_crash_looping_counts_its_restarts_spread_over_its_life() -> None:
    pod = pod_record(_pod(restarts=40, ready=False, waiting="CrashLoopBackOff",
                          started="2026-01-01T11:40:00Z", finished="2026-01-01T11:59:50Z"),
                     "blue", NOW)
    assert pod.restarts_5m == 10
