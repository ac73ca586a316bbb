"""A flagd flag's `targeting` read back into Turnout's terms: an `if` chain flattened into
individual targets, rules on segments (`$ref`, or inline conditions that become segments)
and a final `fractional` split scaled to whole percents; anything else refused with its
JSON path. `flagd_import.py` reads the flags and the document around it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from turnout.backend.flags.flagd_logic import bad, operation, parse_segment, segment_logic, user_list
from turnout.backend.flags.model import Rule, Segment


class _Chain:
    """An `if` chain flattened: (condition, variant, path) branches, then what is left."""

    def __init__(self) -> None:
        self.branches: list[tuple[Any, str, str]] = []
        self.split: list[tuple[str, int]] | None = None
        self.final: str | None = None


def _variant(value: Any, path: str) -> str:
    if not isinstance(value, str):
        raise bad(path, f"a branch must name a variant, got {json.dumps(value)[:60]}"
                        " (a nested 'if' is held only in the else position)")
    return value


def _flatten(logic: Any, path: str, chain: _Chain) -> None:
    if logic is None:
        return
    if isinstance(logic, str):
        chain.final = logic
        return
    op, args = operation(logic, path)
    if op == "fractional":
        chain.split = _parse_split(args, f"{path}.fractional")
        return
    if op != "if":
        raise bad(path, f"expected 'if' or 'fractional', got '{op}'")
    if len(args) < 2:
        raise bad(f"{path}.if", "'if' needs a condition and a variant")
    for index in range(0, len(args) - 1, 2):
        then = _variant(args[index + 1], f"{path}.if[{index + 1}]")
        chain.branches.append((args[index], then, f"{path}.if[{index}]"))
    if len(args) % 2:
        _flatten(args[-1], f"{path}.if[{len(args) - 1}]", chain)


_MAX_WEIGHT_SUM = 2_147_483_647


def _parse_split(args: list[Any], path: str) -> list[tuple[str, int]]:
    """[variant, weight] pairs scaled to percents; refused unless the scaling is exact."""
    if args and not isinstance(args[0], list):
        raise bad(path, "custom bucketing expressions are not supported (targetingKey only)")
    pairs: list[tuple[str, int]] = []
    for index, entry in enumerate(args):
        where = f"{path}[{index}]"
        if not isinstance(entry, list) or not 1 <= len(entry) <= 2 or not isinstance(entry[0], str):
            raise bad(where, "expected [variant, weight]")
        weight = entry[1] if len(entry) == 2 else 1
        if isinstance(weight, bool) or not isinstance(weight, int):
            raise bad(where, f"weight must be an integer, got {json.dumps(weight)}")
        pairs.append((entry[0], max(0, weight)))
    return _as_percents(pairs, path)


def _as_percents(pairs: list[tuple[str, int]], path: str) -> list[tuple[str, int]]:
    total = sum(w for _, w in pairs)
    if not 0 < total <= _MAX_WEIGHT_SUM:
        raise bad(path, f"weights must add up to 1..{_MAX_WEIGHT_SUM}, got {total}")
    # A bucket boundary c of T lands where c*100/T of 100 does, iff that is whole.
    scaled, reached = [], 0
    for variant, weight in pairs:
        start, reached = reached, reached + weight
        if reached * 100 % total:
            raise bad(path, f"weights totalling {total} do not divide into whole percents "
                            "(Turnout buckets users into 100)")
        scaled.append((variant, reached * 100 // total - start * 100 // total))
    return scaled


def _segment_for(
    cond: Any, variant_path: str, flag_key: str, found: dict[str, Segment], refs: Mapping[str, Segment]
) -> str:
    """The segment a rule condition names: a `$ref`, or a new segment for inline logic."""
    if isinstance(cond, dict) and list(cond) == ["$ref"]:
        name = cond["$ref"]
        if not isinstance(name, str) or name not in refs:
            raise bad(variant_path, f"$ref to an unknown evaluator {json.dumps(name)}")
        return name
    segment = parse_segment("", cond, variant_path)
    for known, candidate in {**refs, **found}.items():
        if same_members(candidate, segment):
            return known
    number = len(found) + 1
    while (key := f"{flag_key[:100]}.rule-{number}") in refs or key in found:
        number += 1
    found[key] = Segment(key=key, users=segment.users, conditions=segment.conditions)
    return key


def same_members(a: Segment, b: Segment) -> bool:
    """Whether two segments hold the same users and conditions, whatever their keys."""
    return (a.users, a.conditions) == (b.users, b.conditions)


def parse_targeting(
    key: str, logic: Any, path: str, refs: Mapping[str, Segment], named: list[str], found: dict[str, Segment]
) -> dict[str, Any]:
    """A flag's `targeting` as `Flag` fields (targets, rules, rollout, ranges, default);
    `named` are the segments its exported rules name, `found` gathers new inline ones."""
    chain = _Chain()
    if logic not in (None, {}):
        _flatten(logic, path, chain)
    targets: dict[str, tuple[str, ...]] = {}
    rules: list[Rule] = []
    # The last len(named) branches are the exported rules, when their logic is still theirs.
    first_rule = len(chain.branches) - len(named) if _rules_intact(chain, named, refs) else None
    for index, (cond, variant, where) in enumerate(chain.branches):
        users = user_list(cond)
        if first_rule is not None and index >= first_rule:
            rules.append(Rule(named[index - first_rule], variant))
        elif users is not None and not rules:
            targets[variant] = targets.get(variant, ()) + users
        else:
            rules.append(Rule(_segment_for(cond, where, key, found, refs), variant))
    fields: dict[str, Any] = {"targets": targets, "rules": rules}
    if chain.split is not None:
        fields["rollout"] = _weights(chain.split)
        fields["ranges"] = chain.split if len(chain.split) != len(fields["rollout"]) else []
    if chain.final is not None:
        fields["default_variant"] = chain.final
    return fields


def _rules_intact(chain: _Chain, named: list[str], refs: Mapping[str, Segment]) -> bool:
    if not named or len(named) > len(chain.branches):
        return False
    tail = chain.branches[len(chain.branches) - len(named):]
    pairs = zip(tail, named, strict=True)
    return all(name in refs and cond == segment_logic(refs[name]) for (cond, _, _), name in pairs)


def _weights(layout: list[tuple[str, int]]) -> dict[str, int]:
    weights: dict[str, int] = {}
    for variant, width in layout:
        weights[variant] = weights.get(variant, 0) + width
    return weights
