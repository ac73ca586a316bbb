"""The watch cache's per-app pod groups, kept per event, agree with a full recompute of its
own store after any sequence of watch events and relists."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta
from typing import Any

import msgspec
from hypothesis import given, settings
from hypothesis import strategies as st

from tests.kube import recorded
from turnout.backend.config import Conventions
from turnout.backend.kube import wire
from turnout.backend.kube.discover import _index
from turnout.backend.kube.informer import Informer
from turnout.backend.kube.pod_records import PodRecords
from turnout.backend.kube.resources import WATCHED

NOW = datetime(2026, 1, 1, 12, 0, tzinfo=UTC)
PODS = next(r for r in WATCHED if r.field == "pods")
DEPLOYMENTS = tuple(recorded.as_list(
    [recorded.deployment(app, color, ns=ns) for ns in ("shop", "other") for app in ("a", "b")
     for color in ("blue", "green")], wire.Deployment))

names = st.sampled_from([f"p{i}" for i in range(6)])
pods = st.fixed_dictionaries({
    "name": names, "ns": st.sampled_from(["shop", "other"]),
    "app": st.sampled_from(["a", "b", ""]), "color": st.sampled_from(["blue", "green", "red"]),
    "restarts": st.integers(0, 3), "ready": st.booleans(),
    "finished": st.sampled_from([None, "2026-01-01T11:58:00Z"])})
events = st.lists(st.one_of(
    st.tuples(st.sampled_from(["ADDED", "MODIFIED", "DELETED"]), pods),
    st.tuples(st.just("RELIST"), st.lists(pods, max_size=6))), max_size=25)


def raw_pod(spec: dict[str, Any], version: int) -> dict[str, Any]:
    raw = recorded.pod(spec["app"], spec["color"], spec["name"], spec["ns"],
                       restarts=spec["restarts"], ready=spec["ready"],
                       finished=spec["finished"])
    raw["metadata"]["uid"] = f"uid-{spec['ns']}-{spec['name']}"
    raw["metadata"]["resourceVersion"] = str(version)
    if not spec["app"]:
        del raw["metadata"]["labels"]["app.kubernetes.io/name"]
    return raw


def full_recompute(informer: Informer, now: datetime) -> dict[Any, tuple[Any, ...]]:
    """Each app color's pods as `discover` finds them in the store, from scratch."""
    whole = dataclasses.replace(informer.objects(None), deployments=DEPLOYMENTS)
    _, grouped = _index(whole, Conventions(), now, informer.restart_history, PodRecords())
    return {key: tuple(found) for key, found in grouped.items() if found}


def grouped(informer: Informer, now: datetime) -> dict[Any, tuple[Any, ...]]:
    """Each group's pods as the cache's reads take them."""
    groups = informer.pod_groups
    return {g: groups.pods(g, now, informer.restart_history) for g in groups.groups()}


def relist(informer: Informer, specs: list[dict[str, Any]], version: int) -> None:
    """What `_relist` does with a list's items (without the HTTP): the same merge."""
    items = recorded.as_list([raw_pod(s, version) for s in specs], wire.Pod)
    store = informer.stores["pods"]
    fresh = {(i.metadata.namespace, i.metadata.name): i for i in items}
    for key in [k for k in store if k not in fresh]:
        del store[key]
        informer._ungrouped(PODS, key)
    for key, item in fresh.items():
        before = store.get(key)
        store[key] = item
        informer._track(PODS, item)
        if before is None or before.metadata.resource_version != item.metadata.resource_version:
            informer._grouped(PODS, item)


@settings(max_examples=150, deadline=None)
@given(events)
def test_groups_agree_with_a_full_recompute(sequence: list[tuple[str, Any]]) -> None:
    clock = [NOW]
    informer = Informer(None, Conventions(), None, clock=lambda: clock[0])  # type: ignore[arg-type]
    decoder = msgspec.json.Decoder(wire.Pod)
    for version, (kind, spec) in enumerate(sequence, start=10):
        clock[0] += timedelta(seconds=20)
        if kind == "RELIST":
            relist(informer, spec, version)
        else:
            body = msgspec.json.encode({"type": kind, "object": raw_pod(spec, version)})
            informer._on_event(PODS, msgspec.json.decode(body, type=wire.WatchEvent), decoder)
        # Read after some events only: a group must catch up on every change since its last read.
        if version % 3 == 0:
            assert grouped(informer, clock[0]) == full_recompute(informer, clock[0])
    later = clock[0] + timedelta(minutes=7)  # the restarts seen age out of the window
    assert grouped(informer, later) == full_recompute(informer, later)
