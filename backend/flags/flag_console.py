"""The operator's flag verbs over any `FlagStore`: what the release service calls for both
front ends.

A write is planned first (`plan_*`: the flag as read and as it will be, nothing
written), shown and confirmed, then committed: a compare-and-set on the version
planned from, so a concurrent change surfaces as `Conflict`, never a lost update.
Edits are the pure functions of `ops`; an edit of a split (rollout, stage, weights)
carries `ops.preview`, the share of users who change variant, for the confirmation.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Any

import msgspec

from turnout.backend.errors import Conflict, InvalidInput, ReadOnly
from turnout.backend.flags import ops
from turnout.backend.flags.bucketing import RULES, bucket_by_rule
from turnout.backend.flags.bucketing_edit import RuleChange, set_bucketing
from turnout.backend.flags.evaluate import Evaluation, Evaluator
from turnout.backend.flags.model import Bucketing, Flag, FlagSet, Segment
from turnout.backend.flags.store import FlagStore, reverted
from turnout.backend.flags.validate import validate_flag
from turnout.backend.models import FlagSummary

if TYPE_CHECKING:
    from turnout.backend.audit import Auditor


def summary(flag: Flag, *, stale: bool = False) -> FlagSummary:
    """The release console's one-line view of a flag."""
    percent = flag.rollout.get(flag.plan.variant) if flag.plan else flag.rollout.get("on")
    return FlagSummary(key=flag.key, on=flag.on, rollout_percent=percent,
                       stage=flag.plan.stage if flag.plan else None, version=flag.version,
                       description=flag.description, app=flag.meta.app, stale=stale)


class FlagChange(msgspec.Struct, frozen=True, kw_only=True):
    """One planned flag write: the flag (or segment) as read and as it will be."""

    verb: str
    """on, off, rollout, stage, target, create, revert, segment or import."""
    key: str
    store: str
    """The store's URL, without credentials."""
    before: Flag | Segment | None
    """None when the write creates it."""
    after: Flag | Segment
    imported: tuple[Flag | Segment, ...] = ()
    """What an import writes, beside `after` (its first item)."""
    preview: ops.EditPreview | None = None
    """For an edit of the split (rollout, stage, weights): who changes variant."""

    @property
    def action(self) -> str:
        """The audit name of the write (`flag-off`, `segment`, ...)."""
        return self.verb if self.verb in ("segment", "import") else f"flag-{self.verb}"


def view(item: Flag | Segment | None) -> dict[str, object]:
    """A flag's (or segment's) state as the audit records it and a confirmation shows it."""
    if item is None:
        return {}
    if isinstance(item, Segment):
        return {"segment": item.key, "users": list(item.users),
                "conditions": len(item.conditions), "version": item.version}
    return {"flag": item.key, "on": item.on, "rollout": dict(item.rollout),
            "version": item.version}


def describe(item: Flag | Segment | None) -> str:
    """One phrase for a confirmation: state, split, version."""
    if item is None:
        return "absent"
    if isinstance(item, Segment):
        return f"{len(item.users)} users, {len(item.conditions)} conditions (version {item.version})"
    split = ("split " + ",".join(f"{v}={w}" for v, w in item.rollout.items()) if item.rollout
             else f"serves {item.default_variant}")
    return f"{'on' if item.on else 'OFF'} ({split}; version {item.version})"


class FlagConsole:
    """Flag verbs for one store: plan, then commit on behalf of an operator."""

    def __init__(self, store: FlagStore) -> None:
        self.store = store

    @property
    def url(self) -> str:
        """The store's URL, without credentials."""
        return str(getattr(self.store, "url", type(self.store).__name__))

    async def list(self) -> tuple[Flag, ...]:
        """Every flag, by key."""
        return tuple(sorted(await self.store.list(), key=lambda f: f.key))

    async def get(self, key: str) -> Flag:
        """One flag; `NotFound` if absent."""
        return await self.store.get(key)

    async def linked(self, app: str) -> tuple[Flag, ...]:
        """The flags that belong to `app` and are on: what panic turns off."""
        return tuple(f for f in await self.list() if f.meta.app == app and f.on)

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

    # --- planning: read, compute the absolute target, write nothing ------------

    async def plan(self, verb: str, key: str, **params: Any) -> FlagChange:
        """The write `verb` would make to flag `key`: on/off, rollout (percent or weights),
        weights, stage (step), target (users, segments, variant), revert. A flag Turnout
        holds read-only is refused here, before anyone is asked to confirm."""
        current = await self.store.get(key)
        if current.read_only:
            raise ReadOnly(f"flag {key!r} is read-only in Turnout ({current.read_only}); "
                           "nothing was written")
        if verb == "revert":
            return self._change(verb, current, reverted(await self.store.history(key, 1), key))
        after = _edit(verb, params)(current)
        if verb not in SPLIT_EDITS:
            return self._change(verb, current, after)
        after = validate_flag(after, None, f"flags.{key}")
        return FlagChange(verb=verb, key=key, store=self.url, before=current, after=after,
                          preview=ops.preview(current, after))

    async def plan_create(self, flag: Flag) -> FlagChange:
        """Creating `flag`; `Conflict` if one by that key exists."""
        if any(f.key == flag.key for f in await self.store.list()):
            raise Conflict(f"flag {flag.key!r} already exists in {self.url}")
        return FlagChange(verb="create", key=flag.key, store=self.url, before=None, after=flag)

    async def plan_segment(self, segment: Segment) -> FlagChange:
        """Creating or replacing a segment."""
        current = (await self.store.snapshot()).segments.get(segment.key)
        return FlagChange(verb="segment", key=segment.key, store=self.url, before=current,
                          after=segment)

    async def plan_import(self, flagset: FlagSet) -> FlagChange:
        """Loading a flag set over what the store holds (segments first)."""
        items: tuple[Flag | Segment, ...] = (*flagset.segments.values(), *flagset.flags.values())
        if not items:
            raise InvalidInput("nothing to import: the file defines no flags")
        if getattr(self.store, "import_flagset", None) is None:
            raise InvalidInput(f"{self.url} does not support import")
        return FlagChange(verb="import", key=",".join(f.key for f in flagset.flags.values()),
                          store=self.url, before=None, after=items[0], imported=items)

    def _change(self, verb: str, before: Flag, after: Flag) -> FlagChange:
        return FlagChange(verb=verb, key=before.key, store=self.url, before=before, after=after)

    # --- committing ------------------------------------------------------------

    async def commit(self, change: FlagChange, *, by: str, reason: str) -> Flag | Segment:
        """Write a planned change, conditional on the version it was planned from."""
        expected = None if change.before is None else change.before.version
        if change.verb == "import":
            return await self._import(change, by, reason)
        if isinstance(change.after, Segment):
            return await self.store.put_segment(change.after, expected_version=expected, by=by,
                                                reason=reason)
        if change.verb in ("on", "off") and isinstance(change.before, Flag):
            fresh = await self.store.get(change.key)
            if fresh.version != expected:
                raise Conflict(f"flag {change.key!r} changed since it was read (version "
                               f"{expected}, now {fresh.version}); nothing was written")
            return await self.store.set_enabled(change.key, change.verb == "on", by=by, reason=reason)
        if change.verb == "revert":
            return await self.store.revert(change.key, by=by, reason=reason)
        return await self.store.put(change.after, expected_version=expected, by=by, reason=reason)

    async def write(self, change: FlagChange, *, audit: Auditor, reason: str = "",
                    dry_run: bool = False) -> Flag | Segment:
        """Commit a planned change under the acting operator's identity and audit it as every
        release write is; with `dry_run`, the flag as it would be, nothing written."""
        if dry_run:
            return change.after
        saved = await self.commit(change, by=await audit.who(), reason=reason)
        await audit.store_write(saved.meta.app if isinstance(saved, Flag) else "", change.action,
                                view(change.before), view(saved), reason=reason)
        return saved

    async def turn_off_linked(self, app: str, *, audit: Auditor, reason: str) -> tuple[str, ...]:
        """Turn off every flag that belongs to `app` and is on (panic's flag half), each write
        audited; the keys turned off."""
        linked = await self.linked(app)
        for flag in linked:
            await self.write(await self.plan("off", flag.key), audit=audit, reason=reason)
        return tuple(f.key for f in linked)

    async def plan_bucketing(self, rule: Bucketing, keys: Sequence[str] | None
                             ) -> tuple[RuleChange, ...]:
        """What giving `keys` (None: every flag) the bucketing `rule` changes, with the share
        of users who move; nothing is written."""
        chosen = None if keys is None else [*keys]
        return tuple(await set_bucketing(self.store, rule, chosen, by="", reason="", dry_run=True))

    async def write_bucketing(self, rule: Bucketing, keys: Sequence[str] | None, *,
                              audit: Auditor, reason: str = "") -> tuple[RuleChange, ...]:
        """Give `keys` the bucketing `rule` (each write conditional on the version read) under
        the acting operator's identity, each changed flag audited as `flag-bucketing`."""
        chosen = None if keys is None else [*keys]
        apps = {f.key: f.meta.app for f in await self.list()}
        changes = await set_bucketing(self.store, rule, chosen, by=await audit.who(),
                                      reason=reason)
        for change in changes:
            if change.before != change.after:
                await audit.store_write(
                    apps.get(change.key, ""), "flag-bucketing",
                    {"flag": change.key, "bucketing": change.before},
                    {"flag": change.key, "bucketing": change.after, "version": change.version},
                    reason=reason)
        return tuple(changes)

    async def _import(self, change: FlagChange, by: str, reason: str) -> Flag | Segment:
        flagset = FlagSet(flags={i.key: i for i in change.imported if isinstance(i, Flag)},
                          segments={i.key: i for i in change.imported if isinstance(i, Segment)})
        await self.store.import_flagset(flagset, by=by, reason=reason)  # type: ignore[attr-defined]
        return change.after

    # --- a reset store ---------------------------------------------------------

    def plan_accept_empty(self) -> str:
        """What `accept_empty` would do, as the operator confirms it; `InvalidInput` for a
        store that is never reset."""
        if getattr(self.store, "accept_empty", None) is None:
            raise InvalidInput(f"{self.url} is never reset: nothing to accept")
        return f"accept {self.url} as it is, so flags lost in its reset stay lost"

    async def accept_empty(self, *, by: str, reason: str) -> bool:
        """After a reset: allow writes again on the store as it is, audited in the store.
        False when it was not reset (nothing changed)."""
        self.plan_accept_empty()
        return bool(await self.store.accept_empty(by=by, reason=reason))  # type: ignore[attr-defined]

    async def close(self) -> None:
        """Release the store's connections."""
        await self.store.close()


def _edit(verb: str, params: Mapping[str, Any]) -> Callable[[Flag], Flag]:
    """The pure edit of `ops` a verb names, with its parameters."""
    if verb in ("on", "off"):
        return lambda f: msgspec.structs.replace(f, on=verb == "on")
    if verb == "weights" or (verb == "rollout" and params.get("weights")):
        weights = dict(params.get("weights") or {})
        return lambda f: ops.set_weights(f, weights)
    if verb == "rollout":
        if params.get("percent") is None:
            raise InvalidInput("give PERCENT or --weights")
        return lambda f: ops.set_rollout(f, int(params["percent"]))
    if verb == "stage":
        return lambda f: ops.move_stage(f, int(params["step"]))
    if verb == "target":
        return _targeting(params.get("users", ()), params.get("segments", ()), params.get("variant"))
    raise InvalidInput(f"unknown flag verb {verb!r}")


SPLIT_EDITS = ("rollout", "weights", "stage")
"""The verbs that edit a flag's split, and so carry who changes variant."""


def _targeting(users: Sequence[str], segments: Sequence[str], variant: str | None
               ) -> Callable[[Flag], Flag]:
    def change(flag: Flag) -> Flag:
        for user in users:
            flag = ops.target_user(flag, user, variant)
        for segment in segments:
            flag = ops.target_segment(flag, segment, variant)
        return flag
    return change


def confirmation(change: FlagChange, context: str) -> str:
    """The one line an operator confirms: the store, the flag, before and after."""
    where = f"in {change.store}" + (f" (context {context})" if context else "")
    if change.verb == "import":
        return f"import {len(change.imported)} flags and segments ({change.key}) {where}"
    return (f"{VERBS.get(change.verb, change.verb)} {change.key} {where}: "
            f"{describe(change.before)} -> {describe(change.after)}")


VERBS = {"on": "turn on flag", "off": "turn off flag", "rollout": "set the rollout of flag",
         "weights": "set the split of flag",
         "stage": "move the stage of flag", "target": "change the targeting of flag",
         "create": "create flag", "revert": "revert flag", "segment": "write segment"}
"""Each flag verb as a confirmation says it."""
