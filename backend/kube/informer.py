"""The watch cache: list + watch each resource, keep the latest objects, announce changes.

One task per resource lists it, then watches from the list's resourceVersion
with bookmarks. A stream the server ends on schedule is resumed from the last
resourceVersion seen; a 410 Gone relists. A dropped stream marks the resource
out of sync until a watch answers again, and `serves` is False meanwhile, so
readers fall back to direct lists rather than show a stale object as live.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from collections.abc import AsyncIterator, Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import msgspec

from turnout.backend.config import Conventions
from turnout.backend.errors import TurnoutError
from turnout.backend.kube import wire
from turnout.backend.kube.discover import Objects
from turnout.backend.kube.health import WINDOW, RestartSample, total_restarts
from turnout.backend.kube.http import Gone, KubeHttp
from turnout.backend.kube.pod_groups import PodGroups
from turnout.backend.kube.pod_records import PodRecords
from turnout.backend.kube.resources import RESOURCES, WATCHED, Resource, list_items
from turnout.backend.tasks import cancel_and_wait

log = logging.getLogger(__name__)

WATCH_SECONDS = 30
"""How long the server keeps one watch open before we resume it (it sends bookmarks)."""
SUFFIXES = ("-preview", "-canary", "-blue", "-green")


def _filled(name: str, template: str) -> str | None:
    """The `{app}` in `name` when `name` is `template` filled in, else None."""
    head, _, tail = template.partition("{app}")
    if len(name) <= len(head) + len(tail) or not (name.startswith(head) and name.endswith(tail)):
        return None
    return name[len(head):len(name) - len(tail)]


def app_of(item: Any, conv: Conventions) -> str:
    """The app an object belongs to: its app label; else the app its name gives under the
    namespace's Service names (`live_service`, `preview_service`; the longer pattern first,
    a bare `{app}` matching any name left to the end); else its name without a role suffix."""
    meta: wire.Meta = item.metadata
    if label := meta.labels.get(conv.app_label):
        return str(label)
    name = meta.name
    patterns = sorted((t for t in (conv.live_service, conv.preview_service)
                       if "{app}" in t and t != "{app}"), key=len, reverse=True)
    for template in patterns:
        if (app := _filled(name, template)) is not None:
            return app
    return next((name.removesuffix(s) for s in SUFFIXES if name.endswith(s)), name)


class Bookmark(msgspec.Struct):
    """A BOOKMARK event's object: only its resourceVersion matters."""

    metadata: wire.Meta = msgspec.field(default_factory=wire.Meta)


class Informer:
    """An in-memory cache of the resources Turnout reads, kept current by watches."""

    def __init__(self, http: KubeHttp, conventions: Conventions, namespace: str | None,
                 clock: Callable[[], datetime] = lambda: datetime.now(UTC), *,
                 by_namespace: Mapping[str, Conventions] | None = None) -> None:
        self.http = http
        self.conventions = conventions
        self.by_namespace = by_namespace or {}
        self.namespace = namespace
        self.clock = clock
        self.stores: dict[str, dict[tuple[str, str], Any]] = {r.field: {} for r in WATCHED}
        self.synced: dict[str, bool] = dict.fromkeys(self.stores, False)
        self.relists: dict[str, int] = dict.fromkeys(self.stores, 0)
        """How many times each resource was listed (1 + recoveries from 410 or a drop)."""
        self.expired: dict[str, int] = dict.fromkeys(self.stores, 0)
        """How many 410 Gone answers each resource's watch recovered from."""
        self.restart_history: dict[str, deque[RestartSample]] = {}
        self.pod_records = PodRecords()
        """Domain records of pods read by one-shot lists, reused until a pod changes."""
        self.pod_groups = PodGroups(lambda ns: self.by_namespace.get(ns, self.conventions))
        """The cached pods by app and color, kept per event: what the cache's reads use."""
        self._rv: dict[str, str] = dict.fromkeys(self.stores, "")
        self._failing: set[str] = set()
        """Resources whose list or watch failed since they were last listed."""
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._subscribers: set[asyncio.Queue[tuple[str, str]]] = set()

    def serves(self, namespace: str | None) -> bool:
        """Whether the cache is in sync and covers `namespace`."""
        covered = self.namespace is None or namespace == self.namespace
        return bool(self._tasks) and covered and self._core_synced()

    def _core_synced(self, but: frozenset[str] = frozenset()) -> bool:
        # Events only feed the event tail: a user who may not list them still gets the cache.
        return all(ok for field, ok in self.synced.items() if field != "events" and field not in but)

    def first_listing(self, namespace: str | None) -> bool:
        """Whether the watches were started over `namespace` and some resource's first list
        is still under way (never listed yet)."""
        covered = self.namespace is None or namespace == self.namespace
        core = [field for field in self.stores if field != "events"]
        # A list that failed (RBAC, an outage) may never end: readers then list directly.
        return bool(self._tasks) and covered and not self._failing.intersection(core) and \
            any(not self.relists[field] for field in core)

    def serves_loading_pods(self, namespace: str | None) -> bool:
        """Whether the cache covers `namespace` and is in sync but for the pods, whose first
        list is still arriving page by page: the pods read now are those listed so far."""
        covered = self.namespace is None or namespace == self.namespace
        return bool(self._tasks) and covered and not self.relists["pods"] and \
            self._core_synced(but=frozenset({"pods"}))

    def objects(self, namespace: str | None, *, pods: bool = True) -> Objects:
        """The cached objects of `namespace` (or all); without the pods when not `pods` (a
        reader that takes them from `pod_groups`)."""
        def pick(field: str) -> tuple[Any, ...]:
            if field == "pods" and not pods:
                return ()
            return tuple(obj for (ns, _), obj in self.stores[field].items()
                         if namespace is None or ns == namespace)
        return Objects(**{r.field: pick(r.field) for r in WATCHED})

    def prime(self, objects: Objects, versions: Mapping[str, str]) -> None:
        """Take a direct read of the cache's whole scope as its first list, before the
        watches start: they then resume from its resourceVersions instead of listing
        everything again (10 000 pods listed twice at start, the second list racing the
        first frame). Not in sync until a watch answers; a version the server no longer
        keeps is a 410 and a relist, as for any watch."""
        if self._tasks:
            return
        for resource in RESOURCES:
            field = resource.field
            if self._rv[field] or not versions.get(field):
                continue
            store = self.stores[field]
            for item in getattr(objects, field):
                store[(item.metadata.namespace, item.metadata.name)] = item
                self._track(resource, item)
                self._grouped(resource, item)
            self._rv[field] = versions[field]
            self.relists[field] += 1

    def start(self) -> None:
        """Start one list+watch task per resource (idempotent)."""
        for resource in WATCHED:
            if resource.field not in self._tasks:
                self._tasks[resource.field] = asyncio.create_task(self._run(resource))

    async def wait_synced(self, timeout: float, *, but: frozenset[str] = frozenset()) -> None:
        """Wait until every resource (but those in `but`) has been listed; `TimeoutError`
        after `timeout`."""
        async with asyncio.timeout(timeout):
            while not self._core_synced(but):
                await asyncio.sleep(0.02)

    def changes(self) -> AsyncIterator[tuple[str, str]]:
        """(namespace, app) for every change the watches see from this call on."""
        queue: asyncio.Queue[tuple[str, str]] = asyncio.Queue()
        self._subscribers.add(queue)
        self.start()
        return Subscription(queue, self._subscribers)

    def _emit(self, namespace: str, item: Any) -> None:
        subject = self._subject(namespace, item) if isinstance(item, wire.Event) else item
        key = (namespace, app_of(subject, self.by_namespace.get(namespace, self.conventions)))
        for queue in self._subscribers:
            queue.put_nowait(key)

    def _emit_once(self, changed: Mapping[tuple[str, str], Any]) -> None:
        """One change per app for a relist's many (10 000 pods relisted are one app's change,
        not 10 000 refreshes asked for)."""
        apps: dict[tuple[str, str], Any] = {}
        for (namespace, _), item in changed.items():
            subject = self._subject(namespace, item) if isinstance(item, wire.Event) else item
            conv = self.by_namespace.get(namespace, self.conventions)
            apps.setdefault((namespace, app_of(subject, conv)), item)
        for (namespace, _), item in apps.items():
            self._emit(namespace, item)

    def _subject(self, namespace: str, event: wire.Event) -> Any:
        """The cached object an Event is about (a ReplicaSet's Deployment), else the Event
        under the object's name: so a pod's BackOff refreshes that pod's app."""
        name = event.involved_object.name
        for field in ("pods", "deployments", "services", "ingresses", "routes"):
            if (found := self.stores[field].get((namespace, name))) is not None:
                return found
        if event.involved_object.kind == "ReplicaSet":
            owner = self.stores["deployments"].get((namespace, name.rpartition("-")[0]))
            if owner is not None:
                return owner
        return wire.Event(metadata=wire.Meta(name=name, namespace=namespace))

    async def _run(self, resource: Resource) -> None:
        """List, then watch forever; recover from 410 and dropped streams."""
        must_list, backoff = not self._rv[resource.field], 0.2
        while True:
            try:
                if must_list:
                    await self._relist(resource)
                    must_list = False
                await self._watch(resource)
                backoff = 0.2
            except Gone as err:
                log.info("%s (%s); relisting", err, err.detail)
                self.expired[resource.field] += err.detail == "HTTP 410"
                must_list = True
            except msgspec.ValidationError as err:
                log.error("watch %s: undecodable object (%s); relisting", resource.plural, err)
                self.synced[resource.field], must_list = False, True
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 5.0)
            except TurnoutError as err:
                self.synced[resource.field] = False
                self._failing.add(resource.field)
                log.warning("watch %s: %s; retrying in %.1fs", resource.plural, err, backoff)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 5.0)
            except Exception:
                # Anything else (an undecodable line, a bug in a handler) would end this task
                # without a word while `synced` still said True: the cache would go on serving
                # what it last saw as live. Out of sync, said loudly, and listed again.
                log.exception("watch %s: unexpected failure; relisting in %.1fs",
                              resource.plural, backoff)
                self.synced[resource.field], must_list = False, True
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 5.0)

    async def _relist(self, resource: Resource) -> None:
        store = self.stores[resource.field]
        first = not self.relists[resource.field]

        def arrived(page: list[Any]) -> None:
            # The first list fills the cache page by page (10 000 pods are 20 pages), so the
            # apps can be drawn before the last page: a reader sees `serves_loading_pods`.
            fresh = {(i.metadata.namespace, i.metadata.name): i for i in page}
            for item in page:
                self._track(resource, item)
                self._grouped(resource, item)
            store.update(fresh)
            self._emit_once(fresh)

        items, rv = await list_items(self.http, resource, self.namespace,
                                     on_page=arrived if first else None)
        fresh = {(i.metadata.namespace, i.metadata.name): i for i in items}
        changed: dict[tuple[str, str], Any] = {}
        for key, old in list(store.items()):
            if key not in fresh:
                del store[key]
                self._ungrouped(resource, key)
                changed[key] = old
        for key, item in fresh.items():
            before = store.get(key)
            store[key] = item
            moved = before is None or \
                before.metadata.resource_version != item.metadata.resource_version
            if not first:
                self._track(resource, item)
                if moved:
                    self._grouped(resource, item)
            # The end of a first list changes every app: its pods are no longer loading.
            if first or moved:
                changed[key] = item
        self._emit_once(changed)
        self._rv[resource.field] = rv
        self.relists[resource.field] += 1
        self.synced[resource.field] = True
        self._failing.discard(resource.field)

    async def _watch(self, resource: Resource) -> None:
        """Follow one watch until the server ends it; raise Gone or Unavailable otherwise."""
        params = {"watch": "1", "allowWatchBookmarks": "true",
                  "resourceVersion": self._rv[resource.field],
                  "timeoutSeconds": str(WATCH_SECONDS)}
        if resource.selector:
            params["labelSelector"] = resource.selector
        decoder = msgspec.json.Decoder(resource.item)
        lines = self.http.stream_lines(resource.path(self.namespace), params,
                                       read_timeout=WATCH_SECONDS + 15)
        async with contextlib.aclosing(lines):
            async for line in lines:
                if line:
                    event = msgspec.json.decode(line, type=wire.WatchEvent)
                    self._on_event(resource, event, decoder)
                self.synced[resource.field] = True

    def _on_event(self, resource: Resource, event: wire.WatchEvent,
                  decoder: msgspec.json.Decoder[Any]) -> None:
        if event.type == "ERROR":
            status = msgspec.json.decode(event.object, type=wire.Status)
            # 410: our resourceVersion expired. Anything else (e.g. etcd's "PrevKv=nil" after
            # a compaction) would fail again from the same version: relist in both cases.
            raise Gone(f"watch {resource.plural}: {status.message or status.reason}",
                       detail=f"HTTP {status.code}")
        if event.type == "BOOKMARK":
            # A bookmark's object is a shell (pods carry "containers": null): read only its rv.
            mark = msgspec.json.decode(event.object, type=Bookmark)
            self._rv[resource.field] = mark.metadata.resource_version or self._rv[resource.field]
            return
        item = decoder.decode(event.object)
        self._rv[resource.field] = item.metadata.resource_version or self._rv[resource.field]
        key = (item.metadata.namespace, item.metadata.name)
        if event.type == "DELETED":
            self.stores[resource.field].pop(key, None)
            self.restart_history.pop(item.metadata.uid, None)
            self._ungrouped(resource, key)
        else:
            self.stores[resource.field][key] = item
            self._track(resource, item)
            self._grouped(resource, item)
        self._emit(key[0], item)

    def _grouped(self, resource: Resource, item: Any) -> None:
        if resource.field == "pods":
            self.pod_groups.put(item)

    def _ungrouped(self, resource: Resource, key: tuple[str, str]) -> None:
        if resource.field == "pods":
            self.pod_groups.remove(*key)

    def _track(self, resource: Resource, item: Any) -> None:
        """Remember when a pod's restartCount changed, for restarts in the last 5 minutes."""
        if resource.field != "pods":
            return
        history = self.restart_history.setdefault(item.metadata.uid, deque())
        count, now = total_restarts(item), self.clock()
        if not history or history[-1][1] != count:
            history.append((now, count))
        while len(history) > 1 and now - history[1][0] > WINDOW + timedelta(minutes=1):
            history.popleft()

    async def interrupt(self, field: str, resource_version: str | None = None) -> None:
        """Drop one watch stream and resume it (from `resource_version` if given; "" lists
        again first, as after a 410): for tests and the bench."""
        await cancel_and_wait(self._tasks.pop(field))
        if resource_version is not None:
            self._rv[field] = resource_version
        resource = next(r for r in WATCHED if r.field == field)
        self._tasks[field] = asyncio.create_task(self._run(resource))

    async def close(self) -> None:
        """Stop every watch."""
        tasks, self._tasks = list(self._tasks.values()), {}
        await cancel_and_wait(*tasks)


class Subscription:
    """An async iterator over one subscriber's queue; registered before the first `anext`,
    so no change between subscribing and iterating is lost."""

    def __init__(self, queue: asyncio.Queue[tuple[str, str]],
                 subscribers: set[asyncio.Queue[tuple[str, str]]]) -> None:
        self.queue = queue
        self.subscribers = subscribers

    def __aiter__(self) -> Subscription:
        return self

    async def __anext__(self) -> tuple[str, str]:
        return await self.queue.get()

    async def aclose(self) -> None:
        """Stop receiving changes."""
        self.subscribers.discard(self.queue)
