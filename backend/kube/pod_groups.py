"""Each app color's pods as domain records, kept up to date per watch event.

A refresh of the watch cache reads every app; without these groups it walked every cached
pod to sort them into apps and colors (10 000 lookups a frame at 10 000 pods, however few
changed). Here a watch event moves one pod between groups and marks it changed; a read
rebuilds the records of the changed pods only (and of those whose record depends on the
clock: a pod that restarted or whose container ended recently), and a group's tuple is
rebuilt only when one of its pods changed.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import datetime

from turnout.backend.config import Conventions
from turnout.backend.kube import wire
from turnout.backend.kube.health import RestartSample, pod_record
from turnout.backend.kube.pod_records import timeless
from turnout.backend.kube.routing import color_of
from turnout.backend.models import Color, Pod

Group = tuple[str, str, Color]
"""(namespace, app, color)."""


class _Members:
    """One group: its wire pods by name, their records, and what a read must rebuild."""

    def __init__(self) -> None:
        self.pods: dict[str, wire.Pod] = {}
        self.records: dict[str, Pod] = {}
        self.changed: set[str] = set()
        self.timed: set[str] = set()
        self.shown: tuple[Pod, ...] = ()
        self.reordered = False


class PodGroups:
    """The cached pods grouped by (namespace, app, color), by the conventions of each pod's
    namespace (`conventions_of`)."""

    def __init__(self, conventions_of: Callable[[str], Conventions]) -> None:
        self._conventions_of = conventions_of
        self._groups: dict[Group, _Members] = {}
        self._group_of: dict[tuple[str, str], Group] = {}

    def put(self, pod: wire.Pod) -> None:
        """A pod added or changed: into its group (out of its former one, if it moved)."""
        meta = pod.metadata
        conv = self._conventions_of(meta.namespace)
        color, app = color_of(meta.labels, conv), meta.labels.get(conv.app_label)
        key = (meta.namespace, meta.name)
        group = (meta.namespace, app, color) if color and app else None
        if self._group_of.get(key) != group:
            self.remove(meta.namespace, meta.name)
        if group is None:
            return
        members = self._groups.setdefault(group, _Members())
        members.reordered |= meta.name not in members.pods
        members.pods[meta.name] = pod
        members.changed.add(meta.name)
        self._group_of[key] = group

    def remove(self, namespace: str, name: str) -> None:
        """A pod deleted (or no longer of any app color)."""
        group = self._group_of.pop((namespace, name), None)
        if group is None:
            return
        members = self._groups[group]
        del members.pods[name]
        members.records.pop(name, None)
        members.changed.discard(name)
        members.timed.discard(name)
        members.reordered = True
        if not members.pods:
            del self._groups[group]

    def clear(self) -> None:
        """Forget every pod (before the store is filled again from scratch)."""
        self._groups.clear()
        self._group_of.clear()

    def groups(self) -> list[Group]:
        """Every group with at least one pod."""
        return list(self._groups)

    def pods(self, group: Group, now: datetime,
             histories: Mapping[str, Sequence[RestartSample]]) -> tuple[Pod, ...]:
        """The group's records sorted by pod name; the same tuple as the last read when
        nothing in it changed."""
        members = self._groups.get(group)
        if members is None:
            return ()
        stale = members.changed | members.timed
        if not stale and not members.reordered:
            return members.shown
        for name in stale:
            pod = members.pods[name]
            history = histories.get(pod.metadata.uid, ())
            members.records[name] = pod_record(pod, group[2], now, history)
            if timeless(pod, history):
                members.timed.discard(name)
            else:
                members.timed.add(name)
        members.changed.clear()
        if members.reordered:
            members.records = dict(sorted(members.records.items()))
            members.reordered = False
        members.shown = tuple(members.records.values())
        return members.shown
