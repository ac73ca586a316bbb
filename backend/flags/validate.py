"""Semantic validation of flags and segments.

Every store validates before it writes and after it reads, so a bad document
is refused with an `InvalidInput` naming the field path
(`flags.new-checkout.rollout: weights must sum to 100, got 90`) and nothing
is written or served.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

from turnout.backend.errors import InvalidInput
from turnout.backend.flags.model import SCHEMA_VERSION, Flag, FlagSet, Plan, Segment

KEY_PATTERN = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$")
# No dots: flagd's JSON-logic `var` reads "a.b" as a nested path, we read flat keys.
ATTRIBUTE_PATTERN = re.compile(r"^[A-Za-z_$][A-Za-z0-9_-]{0,127}$")

_KIND_TYPES: dict[str, tuple[type, ...]] = {
    "boolean": (bool,),
    "string": (str,),
    "integer": (int,),
    "float": (int, float),
    "object": (dict, list),
}


def _fail(path: str, message: str) -> InvalidInput:
    return InvalidInput(f"{path}: {message}")


def check_key(key: str, path: str) -> None:
    """Refuse keys that would not survive a URL, a Redis key or a shell."""
    if not KEY_PATTERN.match(key):
        raise _fail(path, f"invalid key {key!r} (letters, digits, '.', '_', '-'; max 128)")


def _check_unique(items: Iterable[str], path: str, what: str) -> None:
    seen: set[str] = set()
    for item in items:
        if item in seen:
            raise _fail(path, f"duplicate {what} {item!r}")
        seen.add(item)


def _check_variant(flag: Flag, variant: str, path: str) -> None:
    if variant not in flag.variants:
        known = ", ".join(flag.variants)
        raise _fail(path, f"unknown variant {variant!r} (variants: {known})")


def _check_values(flag: Flag, path: str) -> None:
    if not flag.variants:
        raise _fail(f"{path}.variants", "at least one variant is required")
    allowed = _KIND_TYPES[flag.kind]
    for name, value in flag.variants.items():
        check_key(name, f"{path}.variants")
        # bool is an int in Python; a boolean is never a valid number variant.
        is_bool = isinstance(value, bool)
        if not isinstance(value, allowed) or (is_bool and flag.kind != "boolean"):
            raise _fail(f"{path}.variants.{name}", f"value {value!r} is not a {flag.kind}")


def _check_weights(flag: Flag, path: str) -> None:
    if not flag.rollout:
        if flag.ranges:
            raise _fail(path.removesuffix(".rollout") + ".ranges", "ranges without a rollout")
        return
    for variant, weight in flag.rollout.items():
        _check_variant(flag, variant, path)
        if isinstance(weight, bool) or not isinstance(weight, int) or weight < 0:
            raise _fail(path, f"weight of {variant!r} must be an integer >= 0, got {weight!r}")
    total = sum(flag.rollout.values())
    if total != 100:
        raise _fail(path, f"weights must sum to 100, got {total}")
    if flag.ranges:
        _check_ranges(flag, path.removesuffix(".rollout") + ".ranges")


def _check_ranges(flag: Flag, path: str) -> None:
    widths: dict[str, int] = {}
    for variant, width in flag.ranges:
        _check_variant(flag, variant, path)
        if isinstance(width, bool) or not isinstance(width, int) or width < 0:
            raise _fail(path, f"width of {variant!r} must be an integer >= 0, got {width!r}")
        widths[variant] = widths.get(variant, 0) + width
    if list(widths.items()) != list(flag.rollout.items()):
        raise _fail(path, "ranges must add up to the rollout weights, listed in order of first range")
    if len(widths) == len(flag.ranges):
        raise _fail(path, "ranges are for a variant with several ranges; else order the rollout")


def _check_plan(flag: Flag, plan: Plan, path: str) -> None:
    if not plan.stages:
        raise _fail(f"{path}.stages", "at least one stage is required")
    previous = 0
    for percent in plan.stages:
        if not previous < percent <= 100:
            raise _fail(f"{path}.stages", "stages must rise strictly within 1..100")
        previous = percent
    if not 0 <= plan.stage < len(plan.stages):
        raise _fail(f"{path}.stage", f"stage {plan.stage} outside 0..{len(plan.stages) - 1}")
    _check_variant(flag, plan.variant, f"{path}.variant")
    _check_variant(flag, plan.baseline, f"{path}.baseline")
    if plan.variant == plan.baseline:
        raise _fail(path, "variant and baseline must differ")


def _check_targets(flag: Flag, path: str) -> None:
    every_user: list[str] = []
    for variant, users in flag.targets.items():
        _check_variant(flag, variant, path)
        every_user.extend(users)
    _check_unique(every_user, path, "user")


def validate_flag(flag: Flag, segments: Mapping[str, Segment] | None, path: str) -> Flag:
    """Return `flag` if valid; raise `InvalidInput` naming the first bad field.

    `segments` is the set rules may refer to; None skips that check (a flag
    validated on its own, before the document it joins is known).
    """
    check_key(flag.key, f"{path}.key")
    _check_values(flag, path)
    _check_variant(flag, flag.off_variant, f"{path}.off_variant")
    _check_variant(flag, flag.default_variant, f"{path}.default_variant")
    _check_targets(flag, f"{path}.targets")
    for index, rule in enumerate(flag.rules):
        rule_path = f"{path}.rules[{index}]"
        _check_variant(flag, rule.variant, f"{rule_path}.variant")
        if segments is not None and rule.segment not in segments:
            raise _fail(f"{rule_path}.segment", f"unknown segment {rule.segment!r}")
    _check_weights(flag, f"{path}.rollout")
    if flag.plan is not None:
        _check_plan(flag, flag.plan, f"{path}.plan")
    if flag.version < 0:
        raise _fail(f"{path}.version", "must be >= 0")
    return flag


def validate_segment(segment: Segment, path: str) -> Segment:
    """Return `segment` if valid; raise `InvalidInput` naming the bad field."""
    check_key(segment.key, f"{path}.key")
    _check_unique(segment.users, f"{path}.users", "user")
    for index, condition in enumerate(segment.conditions):
        if not condition.values:
            raise _fail(f"{path}.conditions[{index}].values", "at least one value is required")
        if not ATTRIBUTE_PATTERN.match(condition.attribute):
            raise _fail(
                f"{path}.conditions[{index}].attribute",
                f"invalid attribute name {condition.attribute!r} (letters, digits, '_', '-')",
            )
    return segment


def validate_flagset(flagset: FlagSet) -> FlagSet:
    """Validate the whole document, including that dict keys match record keys."""
    if flagset.schema != SCHEMA_VERSION:
        raise _fail("schema", f"unsupported schema {flagset.schema}, expected {SCHEMA_VERSION}")
    for key, segment in flagset.segments.items():
        _check_same_key(key, segment.key, f"segments.{key}")
        validate_segment(segment, f"segments.{key}")
    for key, flag in flagset.flags.items():
        _check_same_key(key, flag.key, f"flags.{key}")
        validate_flag(flag, flagset.segments, f"flags.{key}")
    return flagset


def _check_same_key(key: str, inner: str, path: str) -> None:
    if key != inner:
        raise _fail(f"{path}.key", f"does not match its entry {key!r} (got {inner!r})")


def parse_stages(text: str) -> tuple[int, ...]:
    """`--stages 10,25,50,100` as percentages; their order is checked with the plan."""
    try:
        return tuple(int(part) for part in text.split(","))
    except ValueError as exc:
        raise _fail("--stages", f"expected rising percentages like 10,25,50,100, got {text!r}") from exc


def parse_weights(text: str) -> dict[str, int]:
    """`--weights a=50,b=50`, naming a variant given twice."""
    weights: dict[str, int] = {}
    for part in text.split(","):
        name, sep, raw = part.partition("=")
        try:
            weight = int(raw)
        except ValueError:
            weight = None
        if not sep or not name or weight is None:
            raise _fail("--weights", f"expected VARIANT=N,VARIANT=N, got {text!r}")
        if name in weights:
            raise _fail("--weights", f"variant {name!r} given twice")
        weights[name] = weight
    return weights


def unique_variants(pairs: Iterable[tuple[str, object]]) -> dict[str, object]:
    """`--variant NAME=VALUE` pairs, refusing a name given twice."""
    variants: dict[str, object] = {}
    for name, value in pairs:
        if name in variants:
            raise _fail("--variant", f"variant {name!r} given twice")
        variants[name] = value
    return variants
