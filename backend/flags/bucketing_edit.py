"""Changing a flag's bucketing rule: a compare-and-set edit with the users-moved preview.

A new rule reshuffles who lands in which bucket, so the operator is told what
share of users would change variant before (`dry_run`) or as it is written.
The share is measured over a fixed sample of synthetic keys, the same each
time, so two previews of one change agree.
"""

from __future__ import annotations

import msgspec

from turnout.backend.errors import InvalidInput
from turnout.backend.flags.evaluate import Evaluator
from turnout.backend.flags.model import Bucketing, Flag, FlagSet
from turnout.backend.flags.store import FlagStore

SAMPLE_SIZE = 10_000
"""Targeting keys (`preview-user-N`) sampled to estimate how many users a rule change moves;
built as they are evaluated, not at import, where every command's start would pay for them."""


class RuleChange(msgspec.Struct, frozen=True):
    """One flag's rule change and the share of sampled users whose variant moves."""

    key: str
    before: Bucketing
    after: Bucketing
    moved: float
    version: int

    def describe(self) -> str:
        """One line for the operator."""
        if self.before == self.after:
            return f"{self.key}: already {self.after} (version {self.version})"
        return (f"{self.key}: {self.before} -> {self.after}, version {self.version}; "
                f"{self.moved:.1%} of users change variant ({SAMPLE_SIZE:,} sampled keys)")


def moved_share(flagset: FlagSet, key: str, rule: Bucketing) -> float:
    """The share of the sampled keys whose variant differs once `key` uses `rule`."""
    flag = flagset.flags[key]
    changed = msgspec.structs.replace(flag, bucketing=rule)
    before = Evaluator(FlagSet(flags={key: flag}, segments=flagset.segments))
    after = Evaluator(FlagSet(flags={key: changed}, segments=flagset.segments))
    moved = sum(
        before.evaluate(key, {"targetingKey": u}).variant != after.evaluate(key, {"targetingKey": u}).variant
        for u in (f"preview-user-{i}" for i in range(SAMPLE_SIZE))
    )
    return moved / SAMPLE_SIZE


async def set_bucketing(store: FlagStore, rule: Bucketing, keys: list[str] | None, *,
                        by: str, reason: str, dry_run: bool = False) -> list[RuleChange]:
    """Give each of `keys` (None: every flag) the rule `rule`, each write conditional."""
    flagset = await store.snapshot()
    chosen = sorted(flagset.flags) if keys is None else keys
    missing = [k for k in chosen if k not in flagset.flags]
    if missing:
        raise InvalidInput(f"no such flag: {', '.join(missing)}")
    changes = []
    for key in chosen:
        flag: Flag = flagset.flags[key]
        version = flag.version
        if flag.bucketing != rule and not dry_run:
            saved = await store.put(msgspec.structs.replace(flag, bucketing=rule),
                                    expected_version=flag.version, by=by, reason=reason)
            if saved.bucketing != rule:
                raise InvalidInput(f"{store.url} does not keep a flag's bucketing rule "
                                   f"(flag {key!r} stayed {saved.bucketing})")
            version = saved.version
        changes.append(RuleChange(key, flag.bucketing, rule, moved_share(flagset, key, rule), version))
    return changes
