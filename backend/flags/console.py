"""The operator's flag verbs over any `FlagStore`: what the TUI and the release service call.

Edits are the pure functions of `ops`; every write is a compare-and-set on the
version just read, so a concurrent change surfaces as `Conflict`, never a lost update.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from turnout.backend.flags import ops
from turnout.backend.flags.bucketing import bucket_of
from turnout.backend.flags.evaluate import Evaluation, Evaluator
from turnout.backend.flags.model import Flag
from turnout.backend.flags.store import FlagStore
from turnout.backend.models import FlagSummary


def summary(flag: Flag, *, stale: bool = False) -> FlagSummary:
    """The release console's one-line view of a flag."""
    percent = flag.rollout.get(flag.plan.variant) if flag.plan else flag.rollout.get("on")
    return FlagSummary(key=flag.key, on=flag.on, rollout_percent=percent,
                       stage=flag.plan.stage if flag.plan else None, version=flag.version,
                       description=flag.description, app=flag.meta.app, stale=stale)


class FlagConsole:
    """Flag verbs for one store, on behalf of `by`."""

    def __init__(self, store: FlagStore, *, by: str) -> None:
        self.store = store
        self.by = by

    async def list(self) -> tuple[Flag, ...]:
        """Every flag, by key."""
        return tuple(sorted(await self.store.list(), key=lambda f: f.key))

    async def toggle(self, key: str, on: bool, *, reason: str = "") -> Flag:
        """The kill switch (off) or back on."""
        return await self.store.set_enabled(key, on, by=self.by, reason=reason)

    async def rollout(self, key: str, percent: int, *, reason: str = "") -> Flag:
        """Give the treatment `percent` % (an absolute target)."""
        return await self._edit(key, lambda f: ops.set_rollout(f, percent), reason)

    async def stage(self, key: str, step: int, *, reason: str = "") -> Flag:
        """Move the staged plan one stage forward (+1) or back (-1)."""
        return await self._edit(key, lambda f: ops.move_stage(f, step), reason)

    async def explain(self, key: str, context: Mapping[str, Any]) -> tuple[Evaluation, int]:
        """The evaluation for `context` and the user's bucket (0..99) in this flag."""
        flagset = await self.store.snapshot()
        result = Evaluator(flagset).evaluate(key, context)
        return result, bucket_of(key, str(context.get("targetingKey", "")))

    async def linked(self, app: str) -> tuple[Flag, ...]:
        """The flags that belong to `app` and are on: what panic turns off."""
        return tuple(f for f in await self.list() if f.meta.app == app and f.on)

    async def kill_linked(self, app: str, *, reason: str) -> tuple[Flag, ...]:
        """Turn off every flag that belongs to `app` and is on (the panic button's second half)."""
        return tuple([await self.toggle(f.key, False, reason=reason) for f in await self.linked(app)])

    async def _edit(self, key: str, change: Callable[[Flag], Flag], reason: str) -> Flag:
        current = await self.store.get(key)
        return await self.store.put(change(current), expected_version=current.version,
                                    by=self.by, reason=reason)

    async def close(self) -> None:
        """Release the store's connections."""
        await self.store.close()
