"""Pure edits of a flag: the operator's verbs, before the store writes them.

Each function returns a new `Flag`; the store validates and compare-and-sets
it. Keeping the edits pure makes them testable without a store and shared by
the CLI and the TUI. Edits of the split go through `split.with_weights`, so
they move no user who need not move, whatever the order the variants are
listed in; `preview` states who does move.
"""

from __future__ import annotations

import msgspec

from turnout.backend.errors import InvalidInput
from turnout.backend.flags.model import Flag, Plan, Rule
from turnout.backend.flags.split import Move, moves, with_weights

replace = msgspec.structs.replace


class EditPreview(msgspec.Struct, frozen=True, kw_only=True):
    """What an edit will do, before it is written: the flag before and after, and
    `users_moved`, the percentage of the users reaching the split who change variant
    (`moves` by from/to), computed from the bucket ranges."""

    flag: str
    before: Flag
    after: Flag
    users_moved: int
    moves: tuple[Move, ...]

    def describe(self) -> str:
        """One line for a confirmation: who changes variant."""
        if not self.moves:
            return "no user changes variant"
        parts = ", ".join(f"{m.percent}% {m.source} → {m.target}" for m in self.moves)
        return f"{self.users_moved}% of users change variant ({parts})"


def preview(before: Flag, after: Flag) -> EditPreview:
    """The preview of the edit from `before` to `after`."""
    moved = moves(before, after)
    return EditPreview(flag=before.key, before=before, after=after,
                       users_moved=sum(m.percent for m in moved), moves=moved)


def _pair(flag: Flag) -> tuple[str, str]:
    """The (treatment, baseline) variants a percentage applies to."""
    if flag.plan is not None:
        return flag.plan.variant, flag.plan.baseline
    if set(flag.variants) == {"on", "off"}:
        return "on", "off"
    others = [v for v in flag.variants if v != flag.off_variant]
    if len(flag.variants) == 2 and len(others) == 1:
        return others[0], flag.off_variant
    raise InvalidInput(
        f"flags.{flag.key}.rollout: {len(flag.variants)} variants; give --weights VARIANT=N,..."
    )


def _stage_at(plan: Plan, percent: int) -> int:
    """The index of the last stage at or below `percent` (0 below the first)."""
    reached = [i for i, stage in enumerate(plan.stages) if stage <= percent]
    return reached[-1] if reached else 0


def set_rollout(flag: Flag, percent: int) -> Flag:
    """Give the treatment variant `percent` % and the baseline the rest."""
    if not 0 <= percent <= 100:
        raise InvalidInput(f"flags.{flag.key}.rollout: percent must be 0..100, got {percent}")
    treatment, baseline = _pair(flag)
    weights = {treatment: percent, baseline: 100 - percent}
    plan = flag.plan and replace(flag.plan, stage=_stage_at(flag.plan, percent))
    return replace(with_weights(flag, weights), plan=plan)


def set_weights(flag: Flag, weights: dict[str, int]) -> Flag:
    """An explicit split over variants (A/B/n); validation checks the sum."""
    return with_weights(flag, weights)


def move_stage(flag: Flag, step: int) -> Flag:
    """`step` +1: the next stage above the current percentage; -1: the one below."""
    plan = flag.plan
    if plan is None:
        raise InvalidInput(f"flags.{flag.key}.plan: no staged plan; create with --stages")
    current = flag.rollout.get(plan.variant, 0)
    if step > 0:
        ahead = [i for i, s in enumerate(plan.stages) if s > current]
        if not ahead:
            raise InvalidInput(f"flags.{flag.key}.plan: already at the last stage ({current}%)")
        index = ahead[0]
    else:
        behind = [i for i, s in enumerate(plan.stages) if s < current]
        if not behind:
            raise InvalidInput(f"flags.{flag.key}.plan: already at the first stage ({current}%)")
        index = behind[-1]
    moved = replace(flag, plan=replace(plan, stage=index))
    return set_rollout(moved, plan.stages[index])


def target_user(flag: Flag, user: str, variant: str | None) -> Flag:
    """Send `user` to `variant` (None removes the user's individual target)."""
    targets = {v: tuple(u for u in users if u != user) for v, users in flag.targets.items()}
    if variant is not None:
        if variant not in flag.variants:
            raise InvalidInput(f"flags.{flag.key}.targets: unknown variant {variant!r}")
        targets[variant] = (*targets.get(variant, ()), user)
    return replace(flag, targets={v: users for v, users in targets.items() if users})


def target_segment(flag: Flag, segment: str, variant: str | None) -> Flag:
    """Add or replace the rule for `segment` (None removes it)."""
    rules = [r for r in flag.rules if r.segment != segment]
    if variant is not None:
        rules.append(Rule(segment, variant))
    return replace(flag, rules=tuple(rules))
