"""In-process flag evaluation, compiled once per snapshot.

Each flag compiles at load time into a closure over precomputed results:
every possible outcome (one per variant and reason, and one per split
bucket) is an `Evaluation` built ahead of time, so evaluating is a dict
lookup, a few attribute tests and at most one MurmurHash — no allocation.
That is what keeps a simple flag well under a microsecond in pure Python.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from enum import StrEnum
from typing import Any

import msgspec

from turnout.backend.flags.bucketing import TOTAL_WEIGHT, bucket, concat_bucket, flag_prefix, key_tail
from turnout.backend.flags.model import Condition, Flag, FlagSet, Segment

Context = Mapping[str, Any]
Compiled = Callable[[Context, bytes | None], "Evaluation"]
Matcher = Callable[[Context], bool]


class Reason(StrEnum):
    """Why a variant was chosen (OpenFeature's reason names)."""

    TARGETING_MATCH = "TARGETING_MATCH"
    SPLIT = "SPLIT"
    DEFAULT = "DEFAULT"
    DISABLED = "DISABLED"
    ERROR = "ERROR"


class Evaluation(msgspec.Struct, frozen=True, gc=False):
    """The outcome of one flag for one context; `bucket` is set for splits."""

    flag: str
    value: Any
    variant: str | None
    reason: Reason
    bucket: int | None = None
    error: str = ""


def _result(flag: Flag, variant: str, reason: Reason, slot: int | None = None) -> Evaluation:
    return Evaluation(flag.key, flag.variants[variant], variant, reason, slot)


def _error(flag: Flag, message: str) -> Evaluation:
    variant = flag.default_variant
    return Evaluation(flag.key, flag.variants[variant], variant, Reason.ERROR, None, message)


def _compile_condition(condition: Condition) -> Matcher:
    name, values = condition.attribute, condition.values
    if condition.op == "ends_with":
        return lambda ctx: isinstance(v := ctx.get(name), str) and v.endswith(values)
    if condition.op == "starts_with":
        return lambda ctx: isinstance(v := ctx.get(name), str) and v.startswith(values)
    members = frozenset(values)
    # Only strings can equal a listed value; testing others first also keeps
    # unhashable attribute values (lists) out of the frozenset lookup.
    if condition.op == "in":
        return lambda ctx: isinstance(v := ctx.get(name), str) and v in members
    return lambda ctx: not (isinstance(v := ctx.get(name), str) and v in members)


def compile_segment(segment: Segment) -> Matcher:
    """A predicate: listed user, or every condition holds (if there are any)."""
    users = frozenset(segment.users)
    conditions = tuple(_compile_condition(c) for c in segment.conditions)

    def matches(ctx: Context) -> bool:
        key = ctx.get("targetingKey")
        if isinstance(key, str) and key in users:
            return True
        return bool(conditions) and all(test(ctx) for test in conditions)

    return matches


def _compile_split(flag: Flag) -> Compiled:
    table: list[Evaluation] = []
    for variant, weight in flag.ranges or flag.rollout.items():
        start = len(table)
        table.extend(_result(flag, variant, Reason.SPLIT, start + i) for i in range(weight))
    assert len(table) == TOTAL_WEIGHT, "validated flags have weights summing to 100"
    buckets = tuple(table)
    prefix = flag_prefix(flag.key)
    missing = _error(flag, "targetingKey missing: cannot split")
    if flag.bucketing == "concat":
        return _concat_split(flag.key, buckets, missing)

    def split(ctx: Context, tail: bytes | None) -> Evaluation:
        if tail is None:
            return missing
        slot: int = bucket(prefix, tail)
        return buckets[slot]

    return split


def _concat_split(key: str, buckets: tuple[Evaluation, ...], missing: Evaluation) -> Compiled:
    def split(ctx: Context, tail: bytes | None) -> Evaluation:
        # The CBOR tail says whether the context has a usable key; this rule hashes the string.
        user = ctx.get("targetingKey")
        if tail is None or not isinstance(user, str):
            return missing
        return buckets[concat_bucket(key, user)]

    return split


def _compile_fallthrough(flag: Flag) -> Compiled:
    if flag.rollout:
        return _compile_split(flag)
    default = _result(flag, flag.default_variant, Reason.DEFAULT)
    return lambda ctx, tail: default


def compile_flag(flag: Flag, segments: Mapping[str, Segment]) -> Compiled:
    """Turn a validated flag into `f(context, key_tail) -> Evaluation`."""
    if not flag.on:
        disabled = _result(flag, flag.off_variant, Reason.DISABLED)
        return lambda ctx, tail: disabled
    fallthrough = _compile_fallthrough(flag)
    targets: dict[object, Evaluation] = {
        user: _result(flag, variant, Reason.TARGETING_MATCH)
        for variant, users in flag.targets.items()
        for user in users
    }
    rules = tuple(
        (
            compile_segment(segments[rule.segment]),
            _result(flag, rule.variant, Reason.TARGETING_MATCH),
        )
        for rule in flag.rules
    )
    if not targets and not rules:
        return fallthrough

    def evaluate(ctx: Context, tail: bytes | None) -> Evaluation:
        hit = targets.get(ctx.get("targetingKey"))
        if hit is not None:
            return hit
        for matches, result in rules:
            if matches(ctx):
                return result
        return fallthrough(ctx, tail)

    return evaluate


class Evaluator:
    """All flags of one snapshot, compiled; immutable once built.

    `evaluate` and `evaluate_all` never raise: a context the flag cannot use
    yields reason ERROR with the default variant, as OpenFeature expects.
    """

    def __init__(self, flagset: FlagSet) -> None:
        self.flagset = flagset
        self._compiled = {
            key: (compile_flag(flag, flagset.segments), bool(flag.on and flag.rollout))
            for key, flag in flagset.flags.items()
        }
        self._batch = tuple((key, fn) for key, (fn, _) in self._compiled.items())
        self._needs_key = any(split for _, split in self._compiled.values())

    def __contains__(self, key: object) -> bool:
        return key in self._compiled

    def evaluate(self, key: str, context: Context) -> Evaluation:
        """Evaluate one flag; an unknown key gives reason ERROR and no variant."""
        entry = self._compiled.get(key)
        if entry is None:
            return Evaluation(key, None, None, Reason.ERROR, None, "flag not found")
        fn, needs_key = entry
        try:
            return fn(context, key_tail(context) if needs_key else None)
        except (TypeError, UnicodeError) as exc:
            return _error(self.flagset.flags[key], f"bad context: {exc}")

    def evaluate_all(self, context: Context) -> list[Evaluation]:
        """Evaluate every flag for one context, encoding its key only once."""
        try:
            tail = key_tail(context) if self._needs_key else None
            return [fn(context, tail) for _, fn in self._batch]
        except (TypeError, UnicodeError):
            return [self.evaluate(key, context) for key, _ in self._batch]

    def is_enabled(self, key: str, context: Context) -> bool:
        """True only when the flag resolves to the value `True`."""
        return self.evaluate(key, context).value is True
