"""Export to and import from flagd's flag-definition JSON.

Mapping (https://flagd.dev/reference/flag-definitions/):
- individual targets -> `{"in": [{"var": "targetingKey"}, [users]]}` branches of an `if`;
- segments -> shared `$evaluators`, referenced by rules as `{"$ref": "<segment>"}`;
- the percentage rollout -> `fractional` with the shorthand bucketing (flag key +
  targetingKey), which `bucketing.py` reproduces bit for bit;
- off -> `state: DISABLED` (flagd's kill switch: the application gets its code default);
  the off-variant, plan and ownership travel in `metadata` so an import restores them.
Import accepts exactly this subset and refuses other JSON-logic with the field path.
"""

from __future__ import annotations

import json
from typing import Any

from turnout.backend.errors import InvalidInput
from turnout.backend.flags.codec import convert
from turnout.backend.flags.model import Condition, Flag, FlagSet, Meta, Plan, Rule, Segment
from turnout.backend.flags.validate import validate_flagset

SCHEMA_URL = "https://flagd.dev/schema/v0/flags.json"
_KEY_VAR = {"var": "targetingKey"}

JsonLogic = dict[str, Any]


def _condition_logic(condition: Condition) -> JsonLogic:
    attr = {"var": condition.attribute}
    if condition.op in ("in", "not_in"):
        test: JsonLogic = {"in": [attr, list(condition.values)]}
        return test if condition.op == "in" else {"!": test}
    tests: list[JsonLogic] = [{condition.op: [attr, value]} for value in condition.values]
    return tests[0] if len(tests) == 1 else {"or": tests}


def segment_logic(segment: Segment) -> JsonLogic:
    """JSON-logic true for members of `segment`."""
    users = {"in": [_KEY_VAR, list(segment.users)]}
    conditions = [_condition_logic(c) for c in segment.conditions]
    if not conditions:
        return users
    matched = conditions[0] if len(conditions) == 1 else {"and": conditions}
    return {"or": [users, matched]} if segment.users else matched


def _targeting(flag: Flag) -> JsonLogic | None:
    branches: list[Any] = []
    for variant, users in flag.targets.items():
        branches += [{"in": [_KEY_VAR, list(users)]}, variant]
    for rule in flag.rules:
        branches += [{"$ref": rule.segment}, rule.variant]
    layout = flag.ranges or flag.rollout.items()
    split = {"fractional": [[v, w] for v, w in layout]} if flag.rollout else None
    if not branches:
        return split
    return {"if": branches + ([split] if split else [])}


def _metadata(flag: Flag) -> dict[str, str | int | bool]:
    meta: dict[str, str | int | bool] = {
        "version": flag.version,
        "offVariant": flag.off_variant,
        "kind": flag.kind,
    }
    extra = {"description": flag.description, "owner": flag.meta.owner, "app": flag.meta.app}
    meta.update({k: v for k, v in extra.items() if v})
    if flag.meta.tags:
        meta["tags"] = ",".join(flag.meta.tags)
    if flag.plan is not None:
        plan = flag.plan
        meta["plan"] = json.dumps([list(plan.stages), plan.stage, plan.variant, plan.baseline])
    return meta


def export_flag(flag: Flag) -> dict[str, Any]:
    """One flag as a flagd flag definition."""
    out: dict[str, Any] = {
        "state": "ENABLED" if flag.on else "DISABLED",
        "variants": dict(flag.variants),
        "defaultVariant": flag.default_variant,
        "metadata": _metadata(flag),
    }
    targeting = _targeting(flag)
    if targeting is not None:
        out["targeting"] = targeting
    return out


def export_flagd(flagset: FlagSet) -> dict[str, Any]:
    """The whole flag set as a flagd flag-definition document."""
    doc: dict[str, Any] = {
        "$schema": SCHEMA_URL,
        "flags": {key: export_flag(flag) for key, flag in flagset.flags.items()},
    }
    if flagset.segments:
        doc["$evaluators"] = {k: segment_logic(s) for k, s in flagset.segments.items()}
    return doc


# --- import ---------------------------------------------------------------


def _bad(path: str, message: str) -> InvalidInput:
    return InvalidInput(f"{path}: {message}")


def _var_of(arg: Any, path: str) -> str:
    if isinstance(arg, dict) and list(arg) == ["var"] and isinstance(arg["var"], str):
        return arg["var"]
    raise _bad(path, f"expected {{'var': NAME}}, got {json.dumps(arg)}")


def _parse_condition(logic: Any, path: str) -> Condition:
    if not isinstance(logic, dict) or len(logic) != 1:
        raise _bad(path, f"unsupported JSON-logic {json.dumps(logic)}")
    ((op, args),) = logic.items()
    if op == "!":
        inner = _parse_condition(args, path)
        if inner.op != "in":
            raise _bad(path, "only '!' around 'in' is supported")
        return Condition(inner.attribute, "not_in", inner.values)
    if op == "or" and isinstance(args, list):
        parts = [_parse_condition(a, path) for a in args]
        if len({(p.attribute, p.op) for p in parts}) != 1 or parts[0].op == "in":
            raise _bad(path, "'or' is supported only across values of one test")
        return Condition(parts[0].attribute, parts[0].op, tuple(p.values[0] for p in parts))
    if op not in ("in", "starts_with", "ends_with") or not isinstance(args, list) or len(args) != 2:
        raise _bad(path, f"unsupported JSON-logic {json.dumps(logic)}")
    values = args[1] if op == "in" else [args[1]]
    if not isinstance(values, list) or not all(isinstance(v, str) for v in values):
        raise _bad(path, "values must be strings")
    return Condition(_var_of(args[0], path), op, tuple(values))


def _parse_segment(key: str, logic: Any, path: str) -> Segment:
    parts = logic["or"] if isinstance(logic, dict) and list(logic) == ["or"] else [logic]
    users: tuple[str, ...] = ()
    conditions: list[Condition] = []
    for part in parts:
        if isinstance(part, dict) and list(part) == ["and"]:
            conditions += [_parse_condition(c, path) for c in part["and"]]
            continue
        condition = _parse_condition(part, path)
        if condition.attribute == "targetingKey" and condition.op == "in" and not users:
            users = condition.values
        else:
            conditions.append(condition)
    return Segment(key=key, users=users, conditions=tuple(conditions))


def _parse_split(logic: Any, path: str) -> dict[str, Any]:
    if not isinstance(logic, dict) or list(logic) != ["fractional"]:
        raise _bad(path, f"expected a 'fractional' fallthrough, got {json.dumps(logic)}")
    layout: list[tuple[str, int]] = []
    for entry in logic["fractional"]:
        if not isinstance(entry, list) or len(entry) != 2 or not isinstance(entry[0], str):
            raise _bad(path, "only [variant, weight] pairs with the default bucketing are supported")
        layout.append((entry[0], entry[1]))
    weights: dict[str, int] = {}
    for variant, weight in layout:
        weights[variant] = weights.get(variant, 0) + weight
    return {"rollout": weights, "ranges": layout if len(layout) != len(weights) else []}


def _parse_targeting(logic: Any, path: str) -> dict[str, Any]:
    fields: dict[str, Any] = {"targets": {}, "rules": [], "rollout": {}}
    if logic is None or logic == {}:
        return fields
    if not (isinstance(logic, dict) and list(logic) == ["if"]):
        fields.update(_parse_split(logic, path))
        return fields
    branches = list(logic["if"])
    if len(branches) % 2:
        fields.update(_parse_split(branches.pop(), path))
    for cond, variant in zip(branches[::2], branches[1::2], strict=True):
        if isinstance(cond, dict) and list(cond) == ["$ref"]:
            fields["rules"].append(Rule(cond["$ref"], variant))
            continue
        condition = _parse_condition(cond, path)
        if condition.attribute != "targetingKey" or condition.op != "in":
            raise _bad(path, "inline conditions must be targetingKey lists; use $evaluators")
        fields["targets"][variant] = fields["targets"].get(variant, ()) + condition.values
    return fields


def _kind_of(variants: dict[str, Any]) -> str:
    values = list(variants.values())
    if all(isinstance(v, bool) for v in values):
        return "boolean"
    if all(isinstance(v, str) for v in values):
        return "string"
    numbers = [v for v in values if isinstance(v, int | float) and not isinstance(v, bool)]
    if len(numbers) == len(values):
        return "integer" if all(isinstance(v, int) for v in numbers) else "float"
    return "object"


def _import_flag(key: str, raw: Any, path: str) -> Flag:
    if not isinstance(raw, dict):
        raise _bad(path, "expected an object")
    meta = raw.get("metadata") or {}
    variants = raw.get("variants") or {}
    fields: dict[str, Any] = {
        "key": key,
        "description": meta.get("description", ""),
        "kind": meta.get("kind") or _kind_of(variants),
        "variants": variants,
        "on": raw.get("state") != "DISABLED",
        "default_variant": raw.get("defaultVariant"),
        "off_variant": meta.get("offVariant", raw.get("defaultVariant")),
        "version": meta.get("version", 0),
        "meta": Meta(owner=meta.get("owner", ""), app=meta.get("app", ""), tags=_tags(meta)),
        **_parse_targeting(raw.get("targeting"), f"{path}.targeting"),
    }
    if "plan" in meta:
        stages, stage, variant, baseline = json.loads(meta["plan"])
        fields["plan"] = Plan(stages=tuple(stages), stage=stage, variant=variant, baseline=baseline)
    return convert(fields, Flag, path)


def _tags(meta: dict[str, Any]) -> tuple[str, ...]:
    return tuple(t for t in str(meta.get("tags", "")).split(",") if t)


def import_flagd(doc: Any) -> FlagSet:
    """Build a validated `FlagSet` from a flagd document (the subset we export)."""
    if not isinstance(doc, dict) or not isinstance(doc.get("flags"), dict):
        raise _bad("flagd", "expected an object with a 'flags' object")
    evaluators = doc.get("$evaluators") or {}
    segments = {k: _parse_segment(k, v, f"$evaluators.{k}") for k, v in evaluators.items()}
    flags = {k: _import_flag(k, v, f"flags.{k}") for k, v in doc["flags"].items()}
    return validate_flagset(FlagSet(flags=flags, segments=segments))
