"""The operator's flag verbs over any `FlagStore`: what the TUI and the release service call.

Edits are the pure functions of `ops`; every write is a compare-and-set on the
version just read, so a concurrent change surfaces as `Conflict`, never a lost update.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from turnout.backend.errors import InvalidInput
from turnout.backend.flags import ops
from turnout.backend.flags.bucketing import RULES, bucket_by_rule
from turnout.backend.flags.evaluate import Evaluation, Evaluator
from turnout.backend.flags.model import Flag
from turnout.backend.flags.store import FlagStore
from turnout.backend.flags.validate import validate_flag
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

    async def weights(self, key: str, weights: dict[str, int], *, reason: str = "") -> Flag:
        """An explicit A/B/n split (an absolute target)."""
        return await self._edit(key, lambda f: ops.set_weights(f, weights), reason)

    async def preview_rollout(self, key: str, percent: int) -> ops.EditPreview:
        """What `rollout` would do, with the share of users who change variant."""
        return await self._preview(key, lambda f: ops.set_rollout(f, percent))

    async def preview_stage(self, key: str, step: int) -> ops.EditPreview:
        """What `stage` would do, with the share of users who change variant."""
        return await self._preview(key, lambda f: ops.move_stage(f, step))

    async def preview_weights(self, key: str, weights: dict[str, int]) -> ops.EditPreview:
        """What `weights` would do, with the share of users who change variant."""
        return await self._preview(key, lambda f: ops.set_weights(f, weights))

    async def _preview(self, key: str, change: Callable[[Flag], Flag]) -> ops.EditPreview:
        current = await self.store.get(key)
        return ops.preview(current, validate_flag(change(current), None, f"flags.{key}"))

    async def explain(self, key: str, context: Mapping[str, Any]) -> tuple[Evaluation, int, str]:
        """The evaluation for `context`, the user's bucket (0..99) in this flag, and the
        bucketing rule that placed it there (named as `RULES` describes it)."""
        flagset = await self.store.snapshot()
        result = Evaluator(flagset).evaluate(key, context)
        user = context.get("targetingKey")
        if not isinstance(user, str) or not user:
            raise InvalidInput("give a user key: the bucket is the user's place in the split")
        rule = flagset.flags[key].bucketing if key in flagset.flags else "cbor"
        return result, bucket_by_rule(rule, key, user), f"{rule}: {RULES[rule]}"

    async def kill_linked(self, app: str, *, reason: str) -> tuple[Flag, ...]:
        """Turn off every flag that belongs to `app` and is on (the panic button's second half)."""
        linked = [f for f in await self.store.list() if f.meta.app == app and f.on]
        return tuple([await self.toggle(f.key, False, reason=reason) for f in linked])

    async def _edit(self, key: str, change: Callable[[Flag], Flag], reason: str) -> Flag:
        current = await self.store.get(key)
        return await self.store.put(change(current), expected_version=current.version,
                                    by=self.by, reason=reason)

    async def close(self) -> None:
        """Release the store's connections."""
        await self.store.close()
