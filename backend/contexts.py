"""Several kube contexts side by side: one `ReleaseService` per context, each read on its own.

`status`, `watch` and the TUI overview read every context at once. Each context keeps what
the assembly gave its service (its write gate, its request timeout) and is read
concurrently under its own bound, so a cluster that does not answer costs its own bound and
never holds up the others: it comes back as `unavailable` with the reason, beside the live
ones. Verbs on an app act in one context: `one()` refuses a set of several in one line.

`failover` is the one verb over two contexts: it shows the app in both and switches traffic
in the backup context's app. Moving users between clusters (DNS, a global load balancer) is
outside Turnout; the plan says so.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Mapping
from typing import Literal

import msgspec

from turnout.backend.errors import InvalidInput, NotFound, TurnoutError, Unavailable
from turnout.backend.models import COLORS, ActionResult, App, Color
from turnout.backend.service import ReleaseService
from turnout.backend.tasks import cancel_and_wait

__all__ = ["BOUND_FACTOR", "GSLB_NOTE", "ContextApps", "ContextChange", "Contexts", "Failover"]

log = logging.getLogger(__name__)

BOUND_FACTOR = 2.0
"""A context's read is abandoned after this many of its request timeouts: one read is a few
requests (the apps' objects, then their signals), each bounded by the timeout."""
RECONNECT_MIN, RECONNECT_MAX = 0.5, 10.0
"""Seconds between attempts to re-open one context's change stream, doubling."""
GSLB_NOTE = ("DNS/GSLB is outside Turnout: point your users at the backup cluster "
             "(DNS record, global load balancer) yourself")

State = Literal["live", "unavailable", "error"]


class ContextApps(msgspec.Struct, frozen=True, kw_only=True):
    """One context's apps, or why it has none to show."""

    context: str
    state: State
    """`live` (read within its bound), `unavailable` (no answer in time, or unreachable),
    `error` (it answered with a refusal, or its kubeconfig entry is broken)."""
    read_only: bool
    """Whether this context refuses writes (its own read-only profile)."""
    timeout: float
    """This context's request timeout, in seconds."""
    apps: tuple[App, ...] = ()
    error: str = ""
    """Why the context is not live (empty when it is)."""


class ContextChange(msgspec.Struct, frozen=True):
    """An app changed in one context; with `error` set, that context's stream broke."""

    context: str
    namespace: str = ""
    name: str = ""
    error: str = ""


class Failover(msgspec.Struct, frozen=True, kw_only=True):
    """The app in both contexts, and the switch the backup context's app will get."""

    app: str
    primary: ContextApps
    """The primary context, with only this app (or unavailable: the usual reason to fail over)."""
    backup: ContextApps
    color: Color
    """The backup app's color that will take all traffic."""
    preview: ActionResult
    """The switch in the backup context, as `preview("switch")` computed it."""
    note: str = GSLB_NOTE


class Contexts:
    """A view over several contexts, each with its own service (built by the assembly)."""

    def __init__(self, services: Mapping[str, ReleaseService], timeouts: Mapping[str, float],
                 broken: Mapping[str, TurnoutError] | None = None) -> None:
        self.services = dict(services)
        self.timeouts = dict(timeouts)
        self.broken = dict(broken or {})
        """Contexts whose service could not be built (a kubeconfig entry that fails): shown as
        `error` with the reason, never dropped."""
        self.names = tuple(n for n in timeouts if n in self.services or n in self.broken)
        """The contexts, in the order the operator gave them."""

    def service(self, context: str) -> ReleaseService:
        """The service of one context of this view."""
        if context in self.broken:
            raise self.broken[context]
        found = self.services.get(context)
        if found is None:
            raise NotFound(f"context {context!r} is not one of {', '.join(self.names)}")
        return found

    def primary(self) -> ReleaseService:
        """The first context that has a service: where a multi-context TUI opens app screens
        and runs verbs."""
        for name in self.names:
            if name in self.services:
                return self.services[name]
        raise self.broken[self.names[0]]

    def one(self) -> ReleaseService:
        """The service when this view has a single context; verbs on an app need one."""
        if len(self.names) != 1:
            raise InvalidInput(f"an app verb acts in one context, not {len(self.names)} "
                               f"({', '.join(self.names)}): pass a single --context")
        return self.service(self.names[0])

    async def apps(self, namespace: str | None = None) -> tuple[ContextApps, ...]:
        """Every context's apps, read concurrently, each under its own bound."""
        return tuple(await asyncio.gather(*(self.read(c, namespace) for c in self.names)))

    async def read(self, context: str, namespace: str | None = None,
                   name: str | None = None) -> ContextApps:
        """One context's apps (or the app `name`, when it is there) under its own bound."""
        timeout = self.timeouts[context]
        if context in self.broken:
            return ContextApps(context=context, state="error", read_only=True, timeout=timeout,
                               error=str(self.broken[context]))
        service = self.services[context]
        live = ContextApps(context=context, state="live", read_only=service.read_only,
                           timeout=timeout)
        bound = timeout * BOUND_FACTOR
        try:
            async with asyncio.timeout(bound):
                found = ((await service.app(name, namespace),) if name
                         else await service.apps(namespace))
        except TimeoutError:
            return _down(live, "unavailable", f"no answer within {bound:g} s")
        except NotFound:
            if name is None:
                raise
            return live
        except Unavailable as err:
            return _down(live, "unavailable", str(err))
        except TurnoutError as err:
            return _down(live, "error", str(err))
        return msgspec.structs.replace(live, apps=found)

    async def changes(self) -> AsyncIterator[ContextChange]:
        """Every context's changes, merged. A context whose stream breaks says so once (a
        change with `error`) and is re-opened with backoff; the others keep flowing."""
        queue: asyncio.Queue[ContextChange] = asyncio.Queue()
        tasks = [asyncio.create_task(self._follow(c, queue)) for c in self.services]
        try:
            while True:
                yield await queue.get()
        finally:
            await cancel_and_wait(*tasks)

    async def _follow(self, context: str, queue: asyncio.Queue[ContextChange]) -> None:
        backoff = RECONNECT_MIN
        while True:
            try:
                async for namespace, name in self.services[context].changes():
                    backoff = RECONNECT_MIN
                    queue.put_nowait(ContextChange(context, namespace, name))
            except TurnoutError as err:
                log.warning("context %s: change stream broke: %s", context, err)
                queue.put_nowait(ContextChange(context, error=str(err)))
            await asyncio.sleep(backoff)
            backoff = min(backoff * 2, RECONNECT_MAX)

    async def plan_failover(self, name: str, primary: str, backup: str, *,
                            namespace: str | None = None, color: str | None = None) -> Failover:
        """The app in both contexts and the switch its backup gets: to `color`, else to the
        backup color that runs the version live in the primary."""
        if primary == backup:
            raise InvalidInput(f"failover needs two contexts, got {primary!r} twice")
        for context in (primary, backup):
            self.service(context)  # refuses a context outside this view before any read
        first, second = await asyncio.gather(self.read(primary, namespace, name),
                                             self.read(backup, namespace, name))
        if second.state != "live":
            raise Unavailable(f"backup context {backup} is {second.state}: {second.error}")
        if not second.apps:
            raise NotFound(f"app {name!r} not found in backup context {backup}")
        chosen = _backup_color(name, first, second.apps[0], color)
        preview = await self.service(backup).preview("switch", name, namespace=namespace,
                                                      to=chosen)
        return Failover(app=name, primary=first, backup=second, color=chosen, preview=preview)

    async def failover(self, plan: Failover, *, dry_run: bool = False,
                       reason: str = "") -> ActionResult:
        """Switch the backup context's app to the planned color (conditional, audited, behind
        that context's write gate, like `switch`)."""
        outcome = await self.service(plan.backup.context).apply(
            "switch", plan.app, namespace=plan.preview.namespace, to=plan.color,
            dry_run=dry_run, reason=reason or f"failover from {plan.primary.context}")
        if not isinstance(outcome, ActionResult):
            raise Unavailable(f"failover: {outcome.message}")
        return outcome

    async def close(self) -> None:
        """Close every context's service."""
        await asyncio.gather(*(s.close() for s in self.services.values()))


def _down(live: ContextApps, state: State, error: str) -> ContextApps:
    return msgspec.structs.replace(live, state=state, error=error)


def _backup_color(name: str, primary: ContextApps, backup: App, color: str | None) -> Color:
    if color is not None:
        if color not in COLORS:
            raise InvalidInput(f"color must be blue or green, not {color!r}")
        return color
    if primary.state != "live" or not primary.apps:
        raise InvalidInput(f"{name} cannot be compared with context {primary.context} "
                           f"({primary.error or 'app not there'}): say which backup color "
                           "takes the traffic with --color")
    version = primary.apps[0].slot(primary.apps[0].traffic.live).version
    matching = [c for c in COLORS if backup.slot(c).version == version]
    if not matching:
        shown = ", ".join(f"{c} {backup.slot(c).version}" for c in COLORS)
        raise InvalidInput(f"no color of {name} in the backup runs {version} (live in "
                           f"{primary.context}); it runs {shown}: choose one with --color")
    return matching[0]
