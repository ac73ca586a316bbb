"""Pod records reused between reads: the same record as a fresh build, rebuilt on change."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import msgspec

from tests.kube import recorded
from turnout.backend.kube import wire
from turnout.backend.kube.health import pod_record
from turnout.backend.kube.pod_records import PodRecords

NOW = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)


def _pod(name: str = "p", rv: str = "5", **kw: Any) -> wire.Pod:
    raw = recorded.pod("a", "blue", name, **kw)
    raw["metadata"]["resourceVersion"] = rv
    return recorded.as_list([raw], wire.Pod)[0]  # type: ignore[no-any-return]


def test_an_unchanged_pod_is_the_same_record_at_a_later_read() -> None:
    records, pod = PodRecords(), _pod()
    first = records.record(pod, "blue", NOW, ())
    assert first == pod_record(pod, "blue", NOW)
    assert records.record(pod, "blue", NOW + timedelta(minutes=9), ()) is first


def test_a_new_resource_version_builds_a_new_record() -> None:
    records = PodRecords()
    before = records.record(_pod(), "blue", NOW, ())
    after = records.record(_pod(rv="6", ready=False), "blue", NOW, ())
    assert (before.ready, after.ready) == (True, False)


def test_a_pod_with_restarts_is_computed_at_each_reads_clock() -> None:
    records, pod = PodRecords(), _pod(restarts=4, started="2026-01-01T11:58:00Z")
    assert records.record(pod, "blue", NOW, ()).restarts_5m == 4
    assert records.record(pod, "blue", NOW + timedelta(minutes=10), ()).restarts_5m == 0


def test_a_pod_whose_container_ended_is_computed_at_each_reads_clock() -> None:
    records, pod = PodRecords(), _pod(finished="2026-01-01T11:57:00Z")
    assert records.record(pod, "blue", NOW, ()).restarts_5m == 1
    assert records.record(pod, "blue", NOW + timedelta(minutes=10), ()).restarts_5m == 0


def test_observed_restarts_are_never_served_from_the_cache() -> None:
    records, pod = PodRecords(), _pod()
    records.record(pod, "blue", NOW, ())
    history = [(NOW - timedelta(minutes=1), 0), (NOW, 2)]
    assert records.record(pod, "blue", NOW, history).restarts_5m == 2


def test_records_of_pods_no_longer_read_are_forgotten() -> None:
    records, gone, kept = PodRecords(), _pod("gone"), _pod("kept")
    old = records.record(gone, "blue", NOW, ())
    records.record(kept, "blue", NOW, ())
    records.sweep()
    for _ in range(2):  # two reads of `kept` alone make as many reads as records kept
        records.record(kept, "blue", NOW, ())
        records.sweep()
    again = records.record(gone, "blue", NOW, ())
    assert again == old and again is not old
    assert msgspec.structs.asdict(again) == msgspec.structs.asdict(old)
