"""LaunchDarkly clauses and segments as Turnout conditions and segments — exactly, or not at all.

A LaunchDarkly clause maps to a Turnout condition only when both evaluate the
same on every context: `in` / `startsWith` / `endsWith` with string values on a
plain attribute of the user context (`key` is Turnout's `targetingKey`), not
negated (a negated clause is false when the attribute is missing; Turnout's
`not_in` is true). A segment is its included users OR its first rule's clauses;
each further rule becomes one more Turnout segment (`<key>.rule-N`), so a flag
rule naming the segment becomes one rule per part, in order — an OR. Anything
else is a reason, which makes the flags that use it read-only.

Known difference, documented: LaunchDarkly matches an array-valued attribute when
any element matches; Turnout (like flagd) matches strings only.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from turnout.backend.flags.model import Condition, Op, Segment
from turnout.backend.flags.validate import ATTRIBUTE_PATTERN, KEY_PATTERN

_OPS: dict[str, Op] = {"in": "in", "startsWith": "starts_with", "endsWith": "ends_with"}

Parts = tuple[Segment, ...] | str
"""A segment's Turnout parts, or why it has none."""


class Unmappable(Exception):
    """A LaunchDarkly feature Turnout cannot hold; the message is the reason."""


def condition_of(clause: Mapping[str, Any]) -> Condition:
    """The Turnout condition equal to `clause`, or `Unmappable`."""
    op, attribute = clause.get("op"), clause.get("attribute")
    values = clause.get("values") or []
    if op not in _OPS:
        raise Unmappable(f"clause operator {op!r}")
    if clause.get("negate"):
        raise Unmappable(f"negated clause on {attribute!r}")
    if clause.get("contextKind", "user") != "user":
        raise Unmappable(f"clause on context kind {clause.get('contextKind')!r}")
    if not values or not all(isinstance(v, str) for v in values):
        raise Unmappable(f"clause on {attribute!r} with {'no' if not values else 'non-string'} values")
    name = "targetingKey" if attribute == "key" else attribute
    if not isinstance(name, str) or not ATTRIBUTE_PATTERN.match(name) or name == "kind":
        raise Unmappable(f"clause on attribute {attribute!r}")
    return Condition(name, _OPS[op], tuple(values))


def conditions_of(clauses: list[Mapping[str, Any]]) -> tuple[Condition, ...]:
    """An AND of clauses; none would match everyone, which a segment cannot say."""
    if not clauses:
        raise Unmappable("a rule without clauses")
    return tuple(condition_of(c) for c in clauses)


def _users(raw: Mapping[str, Any]) -> tuple[str, ...]:
    users = [str(u) for u in raw.get("included") or []]
    for target in raw.get("includedContexts") or []:
        if target.get("contextKind", "user") != "user":
            raise Unmappable(f"includes {target.get('contextKind')!r} contexts")
        users += [str(u) for u in target.get("values") or []]
    return tuple(dict.fromkeys(users))


def _parts(raw: Mapping[str, Any]) -> tuple[Segment, ...]:
    key = str(raw.get("key", ""))
    if raw.get("unbounded"):
        raise Unmappable("a big segment")
    rules = raw.get("rules") or []
    if rules and (raw.get("excluded") or raw.get("excludedContexts")):
        raise Unmappable("excluded users")
    for rule in rules:
        if rule.get("weight") is not None:
            raise Unmappable("a percentage rule")
    description = str(raw.get("description") or raw.get("name") or "")
    version = int(raw.get("version", raw.get("_version", 0)) or 0)
    conditions = [conditions_of(rule.get("clauses") or []) for rule in rules]
    first = Segment(key=key, description=description, users=_users(raw),
                    conditions=conditions[0] if conditions else (), version=version)
    more = [Segment(key=f"{key}.rule-{n}", description=f"{key}, rule {n}", conditions=c, version=version)
            for n, c in enumerate(conditions[1:], start=2)]
    return (first, *more)


def segment_parts(raw: Mapping[str, Any]) -> Parts:
    """The Turnout segments whose OR is the LaunchDarkly segment, or why there are none."""
    key = raw.get("key")
    if not isinstance(key, str) or not KEY_PATTERN.match(key) or len(key) > 110:
        return f"segment key {key!r}"
    try:
        return _parts(raw)
    except Unmappable as why:
        return f"segment {key!r}: {why}"
    except (TypeError, ValueError, AttributeError) as exc:
        return f"segment {key!r} is malformed ({type(exc).__name__})"


def shown_segment(raw: Mapping[str, Any], reason: str) -> Segment | None:
    """A segment Turnout cannot hold, for display only: its users and why."""
    key = raw.get("key")
    if not isinstance(key, str) or not KEY_PATTERN.match(key):
        return None
    users = tuple(str(u) for u in raw.get("included") or [] if isinstance(u, str | int))
    return Segment(key=key, users=tuple(dict.fromkeys(users)),
                   description=f"in LaunchDarkly only: {reason}")
