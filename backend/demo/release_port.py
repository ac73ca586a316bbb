"""The demo's release port: flow and history documents kept in the demo cluster.

Writes are conditional on a revision and pass the demo's write gate, exactly
like the ConfigMap adapter, so the demo rehearses conflicts and read-only mode.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import msgspec

from turnout.backend.errors import Conflict
from turnout.backend.models import App, Color
from turnout.backend.release.model import Flow, Release
from turnout.backend.release.port import HISTORY_CAP, Rollout
from turnout.backend.release.totals import Totals, fold

if TYPE_CHECKING:
    from turnout.backend.demo.cluster import DemoCluster

FLOW = "turnout-flow-{app}"
HISTORY = "turnout-history-{app}"
TOTALS = "turnout-totals-{app}"
_SEEDED = ("", "turnout-history-seeded")


class MemoryPort:
    """`ReleasePort` over the demo cluster's documents."""

    def __init__(self, cluster: DemoCluster) -> None:
        self.cluster = cluster
        if _SEEDED not in cluster.documents:
            self._seed()

    def _seed(self) -> None:
        """A month of past releases per demo app, so history and dora show something."""
        from turnout.backend.demo.release_history import seeded_history

        self.cluster.documents[_SEEDED] = (1, b"")
        for (namespace, name), sim in self.cluster.world.apps.items():
            past = seeded_history(sim, self.cluster.world.clock)
            key = (namespace, HISTORY.format(app=name))
            self.cluster.documents[key] = (1, msgspec.json.encode(past))

    def _write(self, key: tuple[str, str], data: bytes | None, expected: int | None) -> int:
        """The choke point of every document write: gate, then revision check."""
        self.cluster.gate.check(f"write {key[1]} in {key[0]}")
        current = self.cluster.documents.get(key)
        actual = current[0] if current else None
        if expected != actual:
            raise Conflict(f"{key[0]}/{key[1]} changed by someone else (revision {expected} "
                           f"read, now {actual})")
        if data is None:
            self.cluster.documents.pop(key, None)
            self.cluster.kept()
            return 0
        revision = (actual or 0) + 1
        self.cluster.documents[key] = (revision, data)
        self.cluster.kept()
        return revision

    async def load_flow(self, namespace: str, app: str) -> Flow | None:
        found = self.cluster.documents.get((namespace, FLOW.format(app=app)))
        if found is None:
            return None
        flow = msgspec.json.decode(found[1], type=Flow)
        return msgspec.structs.replace(flow, revision=str(found[0]))

    async def create_flow(self, flow: Flow) -> Flow:
        revision = self._write((flow.namespace, FLOW.format(app=flow.app)),
                               msgspec.json.encode(flow), None)
        return msgspec.structs.replace(flow, revision=str(revision))

    async def save_flow(self, flow: Flow) -> Flow:
        key = (flow.namespace, FLOW.format(app=flow.app))
        revision = self._write(key, msgspec.json.encode(flow), int(flow.revision or 0) or None)
        return msgspec.structs.replace(flow, revision=str(revision))

    async def clear_flow(self, flow: Flow) -> None:
        key = (flow.namespace, FLOW.format(app=flow.app))
        current = self.cluster.documents.get(key)
        if current is not None:
            self._write(key, None, current[0])

    async def history(self, namespace: str | None, app: str | None) -> tuple[Release, ...]:
        found: list[Release] = []
        for (ns, name), (_, data) in self.cluster.documents.items():
            if not name.startswith("turnout-history-") or (ns, name) == _SEEDED:
                continue
            if namespace not in (None, ns) or (app is not None and name != HISTORY.format(app=app)):
                continue
            found += msgspec.json.decode(data, type=list[Release])
        return tuple(sorted(found, key=lambda r: r.finished_at))

    async def record(self, release: Release) -> None:
        key = (release.namespace, HISTORY.format(app=release.app))
        current = self.cluster.documents.get(key)
        past = msgspec.json.decode(current[1], type=list[Release]) if current else []
        if any(r.id == release.id for r in past):
            return  # recorded already, by a run that stopped before clearing its flow
        kept = [*past, release][-HISTORY_CAP:]
        totals_key = (release.namespace, TOTALS.format(app=release.app))
        counted = self._totals(totals_key) or fold(release.namespace, release.app, past)
        self._write(key, msgspec.json.encode(kept), current[0] if current else None)
        # The demo is one process: the second write cannot interleave with another recorder.
        held = self.cluster.documents.get(totals_key)
        self._write(totals_key, msgspec.json.encode(counted.add(release)), held[0] if held else None)

    async def totals(self, namespace: str | None) -> tuple[Totals, ...]:
        found = []
        for (ns, name), (_, data) in sorted(self.cluster.documents.items()):
            if not name.startswith("turnout-history-") or (ns, name) == _SEEDED \
                    or namespace not in (None, ns):
                continue
            app = name.removeprefix("turnout-history-")
            found.append(self._totals((ns, TOTALS.format(app=app)))
                         or fold(ns, app, msgspec.json.decode(data, type=list[Release])))
        return tuple(found)

    def _totals(self, key: tuple[str, str]) -> Totals | None:
        held = self.cluster.documents.get(key)
        return msgspec.json.decode(held[1], type=Totals) if held else None

    async def rollout(self, app: App, color: Color) -> Rollout:
        # The demo replaces every pod when the image changes, so all pods are updated ones.
        slot = app.slot(color)
        ready = sum(pod.ready for pod in slot.pods)
        return Rollout(desired=slot.desired, updated=len(slot.pods), ready=ready, available=ready,
                       total=len(slot.pods), done=ready == slot.desired == len(slot.pods))

    async def preflight(self, app: App, canary: bool) -> None:
        """The demo routes any weight in process and has no RBAC: nothing to refuse."""
        return None

    async def acquire(self, app: App) -> bool:
        return False  # the demo has one operator per process: no lock to take

    async def unlock(self, app: App) -> None:
        return None

    async def converge(self, app: App) -> None:
        return None  # demo traffic writes are atomic: nothing is ever left half done

    async def note(self, app: App, reason: str, message: str) -> None:
        return None
