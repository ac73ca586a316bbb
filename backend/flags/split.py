"""Where each user of a percentage split lands, and edits that keep users where they are.

A split gives every bucket 0..99 (`bucketing.py`) a variant. Its layout is a
list of (variant, width) ranges in bucket order: one range per variant in
`Flag.rollout` order, or `Flag.ranges` when a sticky edit had to give a
variant more than one range.

`plan_split` computes the layout of new weights from the old one so that no
user changes variant unless the edit needs it: a variant whose share rises
keeps every bucket it had, a variant whose share falls only gives buckets up,
and the number of users who move is the least possible (the sum of the
increases). It prefers one range per variant (the plain flagd `fractional`
form) and splits a variant's range only when contiguous ranges would move
more users than that. `moves` measures an edit from the two layouts, so a
preview states exactly which share of users changes variant.
"""

from __future__ import annotations

import itertools
from collections import Counter
from collections.abc import Mapping, Sequence

import msgspec

from turnout.backend.flags.bucketing import TOTAL_WEIGHT
from turnout.backend.flags.model import Flag

Layout = tuple[tuple[str, int], ...]

_MAX_PERMUTED = 7
"""Up to this many variants every order of contiguous ranges is tried (7! = 5040)."""


class Move(msgspec.Struct, frozen=True):
    """`percent` of the split's users go from variant `source` to `target`."""

    source: str
    target: str
    percent: int


def layout_of(flag: Flag) -> Layout:
    """The flag's split as ordered (variant, width) ranges; empty without a rollout."""
    if flag.ranges:
        return flag.ranges
    return tuple(flag.rollout.items())


def table_of(layout: Sequence[tuple[str, int]]) -> list[str]:
    """The variant of every bucket 0..TOTAL_WEIGHT-1."""
    return [variant for variant, width in layout for _ in range(width)]


def served_by_split(flag: Flag) -> list[str]:
    """What each bucket gets after targets and rules: the split, or everyone the default."""
    layout = layout_of(flag)
    return table_of(layout) if layout else [flag.default_variant] * TOTAL_WEIGHT


def _runs(table: Sequence[str]) -> Layout:
    runs: list[tuple[str, int]] = []
    for variant in table:
        if runs and runs[-1][0] == variant:
            runs[-1] = (variant, runs[-1][1] + 1)
        else:
            runs.append((variant, 1))
    return tuple(runs)


def _keeps_raised(old: Sequence[str], new: Sequence[str], raised: set[str]) -> bool:
    return all(n == o for o, n in zip(old, new, strict=True) if o in raised)


def _moved(old: Sequence[str], new: Sequence[str]) -> int:
    return sum(o != n for o, n in zip(old, new, strict=True))


def _contiguous(
    old: list[str], weights: Mapping[str, int], least: int, first: list[str]
) -> list[str] | None:
    """The best one-range-per-variant order: `first` order first, then every other."""
    order = [v for v in first if weights.get(v, 0)]
    order += [v for v in weights if weights[v] and v not in order]
    candidates = itertools.permutations(order) if len(order) <= _MAX_PERMUTED else iter([tuple(order)])
    raised = {v for v, w in weights.items() if w > old.count(v)}
    best: tuple[int, list[str]] | None = None
    for candidate in candidates:
        table = [v for v in candidate for _ in range(weights[v])]
        if not _keeps_raised(old, table, raised):
            continue
        moved = _moved(old, table)
        if best is None or moved < best[0]:
            best = (moved, table)
            if moved == least:
                break
    return best[1] if best is not None and best[0] == least else None


def _fragmented(old: list[str], weights: Mapping[str, int]) -> list[str]:
    """Shrinking variants give up their highest buckets; growing ones take them in order."""
    had = Counter(old)
    keep = Counter(old)
    table: list[str | None] = list(old)
    for index in reversed(range(len(table))):
        if keep[old[index]] > weights.get(old[index], 0):
            table[index] = None
            keep[old[index]] -= 1
    free = iter([v for v, w in weights.items() for _ in range(w - had[v])])
    return [v if v is not None else next(free) for v in table]


def plan_split(before: Flag, weights: Mapping[str, int]) -> tuple[dict[str, int], Layout]:
    """The `rollout` and `ranges` that serve `weights` moving the fewest users from `before`.

    Weights that do not sum to TOTAL_WEIGHT are returned as given (validation refuses them).
    """
    if sum(weights.values()) != TOTAL_WEIGHT or any(w < 0 for w in weights.values()):
        return dict(weights), ()
    old = served_by_split(before)
    have = Counter(old)
    least = sum(max(0, w - have[v]) for v, w in weights.items())
    # A new split has no users to keep: its variants go in the order given.
    first = list(dict.fromkeys(old)) if layout_of(before) else list(weights)
    table = _contiguous(old, weights, least, first) or _fragmented(old, weights)
    runs = _runs(table)
    order = list(dict.fromkeys(v for v, _ in runs))
    rollout = {v: weights[v] for v in order}
    if len(order) != len(runs):
        return rollout, runs
    return rollout | {v: 0 for v in weights if v not in order}, ()


def with_weights(flag: Flag, weights: Mapping[str, int]) -> Flag:
    """`flag` serving `weights`, every user who need not move kept where they were."""
    rollout, ranges = plan_split(flag, weights)
    return msgspec.structs.replace(flag, rollout=rollout, ranges=ranges)


def moves(before: Flag, after: Flag) -> tuple[Move, ...]:
    """Which share of the split's users changes variant, by (from, to), from the bucket ranges."""
    pairs = Counter(
        (o, n) for o, n in zip(served_by_split(before), served_by_split(after), strict=True) if o != n
    )
    return tuple(Move(o, n, count * 100 // TOTAL_WEIGHT) for (o, n), count in sorted(pairs.items()))
