"""LaunchDarkly flag representation <-> Turnout's `Flag`.

LaunchDarkly addresses variations by index; Turnout by name. Boolean flags
get `on`/`off`; other variations keep their `name` when it is a usable key,
else `v<index>`. Rollout weights are thousandths of a percent (0..100000);
they are read as whole percents, rounded so they still sum to 100.
"""

from __future__ import annotations

from typing import Any

from turnout.backend.errors import InvalidInput
from turnout.backend.flags.codec import convert
from turnout.backend.flags.model import Flag, Segment
from turnout.backend.flags.validate import KEY_PATTERN

LD_WEIGHT_SCALE = 1000
"""LaunchDarkly weight units per percent."""


def variant_names(raw: dict[str, Any]) -> list[str]:
    """A Turnout variant name per LaunchDarkly variation, by index."""
    values = [v.get("value") for v in raw.get("variations", [])]
    if raw.get("kind") == "boolean" and sorted(map(repr, values)) == ["False", "True"]:
        return ["on" if v else "off" for v in values]
    names = [str(v.get("name") or "") for v in raw.get("variations", [])]
    usable = all(KEY_PATTERN.match(n) for n in names) and len(set(names)) == len(names)
    return names if usable else [f"v{i}" for i in range(len(names))]


def _percents(weights: list[tuple[str, int]]) -> dict[str, int]:
    """Whole percents summing to 100 (largest remainder)."""
    exact = [(name, w / LD_WEIGHT_SCALE) for name, w in weights]
    floors = {name: int(p) for name, p in exact}
    short = 100 - sum(floors.values())
    by_remainder = sorted(exact, key=lambda item: item[1] - int(item[1]), reverse=True)
    for name, _ in by_remainder[: max(short, 0)]:
        floors[name] += 1
    return floors


def _kind(raw: dict[str, Any]) -> str:
    values = [v.get("value") for v in raw.get("variations", [])]
    if raw.get("kind") == "boolean":
        return "boolean"
    for kind, test in (("string", str), ("float", (int, float)), ("object", (dict, list))):
        if all(isinstance(v, test) and not isinstance(v, bool) for v in values):
            return "integer" if kind == "float" and all(isinstance(v, int) for v in values) else kind
    raise InvalidInput(f"LaunchDarkly flag {raw.get('key')!r}: mixed variation types")


def from_ld(raw: dict[str, Any], environment: str) -> Flag:
    """Map LaunchDarkly's flag representation (with `env` expanded) to a `Flag`."""
    names = variant_names(raw)
    env = (raw.get("environments") or {}).get(environment)
    if env is None:
        raise InvalidInput(f"LaunchDarkly flag {raw.get('key')!r}: no environment {environment!r}")
    off = names[env.get("offVariation", 0) or 0] if names else "off"
    fallthrough = env.get("fallthrough") or {}
    rollout: dict[str, int] = {}
    default = off
    if "rollout" in fallthrough:
        pairs = [(names[v["variation"]], v["weight"]) for v in fallthrough["rollout"]["variations"]]
        rollout = _percents(pairs)
    elif fallthrough.get("variation") is not None:
        default = names[fallthrough["variation"]]
    rules, unmapped = rules_of(env.get("rules") or [], names)
    fields = {
        "key": raw["key"],
        "description": raw.get("description") or raw.get("name") or "",
        "kind": _kind(raw),
        "variants": {n: v.get("value") for n, v in zip(names, raw.get("variations", []), strict=True)},
        "on": bool(env.get("on")),
        "off_variant": off,
        "default_variant": default,
        "targets": {names[t["variation"]]: t.get("values", []) for t in env.get("targets") or []},
        "rollout": rollout,
        "rules": rules,
        "meta": {"tags": [*raw.get("tags", []), *([f"ld-rules={unmapped}"] if unmapped else [])]},
        "version": raw.get("_version", 0),
    }
    return convert(fields, Flag, f"launchdarkly.{raw['key']}")


def rules_of(ld_rules: list[dict[str, Any]], names: list[str]) -> tuple[list[dict[str, str]], int]:
    """Turnout rules for LaunchDarkly rules of the shape "in segment S -> variation V", and how
    many other rules (attribute clauses, percentage rollouts) stay LaunchDarkly's alone.

    A rule matching any of several segments becomes one rule per segment, in order: the
    same users get the same variation.
    """
    mapped: list[dict[str, str]] = []
    unmapped = 0
    for rule in ld_rules:
        clauses = rule.get("clauses") or []
        simple = (len(clauses) == 1 and clauses[0].get("op") == "segmentMatch"
                  and not clauses[0].get("negate") and isinstance(rule.get("variation"), int))
        if not simple:
            unmapped += 1
            continue
        mapped += [{"segment": str(key), "variant": names[rule["variation"]]}
                   for key in clauses[0].get("values", [])]
    return mapped, unmapped


_OPS = {("in", False): "in", ("in", True): "not_in", ("startsWith", False): "starts_with",
        ("endsWith", False): "ends_with"}


def segment_from_ld(raw: dict[str, Any]) -> Segment:
    """A LaunchDarkly segment: its included users, and one rule's clauses as conditions.

    Turnout's segment is a user list or an AND of conditions; exclusions and a second
    rule (an OR) do not fit, so they are named in the description and left to LaunchDarkly.
    """
    rules = raw.get("rules") or []
    conditions: list[dict[str, Any]] = []
    left_out = []
    if len(rules) == 1:
        for clause in rules[0].get("clauses") or []:
            op = _OPS.get((clause.get("op", ""), bool(clause.get("negate"))))
            if op is None:
                left_out.append(f"clause {clause.get('op')}")
                conditions = []
                break
            conditions.append({"attribute": str(clause.get("attribute", "")), "op": op,
                               "values": [str(v) for v in clause.get("values", [])]})
    elif rules:
        left_out.append(f"{len(rules)} rules")
    if raw.get("excluded"):
        left_out.append(f"{len(raw['excluded'])} excluded users")
    description = str(raw.get("description") or raw.get("name") or "")
    if left_out:
        description = f"{description} (in LaunchDarkly only: {', '.join(left_out)})".strip()
    fields = {"key": raw["key"], "description": description,
              "users": [str(u) for u in raw.get("included") or []], "conditions": conditions,
              "version": raw.get("version", raw.get("_version", 0))}
    return convert(fields, Segment, f"launchdarkly.segments.{raw['key']}")


def patch_ops(raw: dict[str, Any], wanted: Flag, environment: str) -> list[dict[str, Any]]:
    """JSON-patch operations taking LaunchDarkly's flag to `wanted` (on/off, rollout only)."""
    current = from_ld(raw, environment)
    names = variant_names(raw)
    ops: list[dict[str, Any]] = []
    base = f"/environments/{environment}"
    if wanted.on != current.on:
        ops.append({"op": "replace", "path": f"{base}/on", "value": wanted.on})
    if wanted.rollout != current.rollout or wanted.default_variant != current.default_variant:
        ops.append({"op": "replace", "path": f"{base}/fallthrough", "value": _fallthrough(wanted, names)})
    others = ("targets", "rules", "variants", "off_variant", "kind")
    changed = [f for f in others if getattr(wanted, f) != getattr(current, f)]
    if changed:
        raise InvalidInput(
            f"LaunchDarkly flag {wanted.key!r}: only on/off and rollout change from Turnout; "
            f"edit {', '.join(changed)} in LaunchDarkly"
        )
    return ops


def _fallthrough(flag: Flag, names: list[str]) -> dict[str, Any]:
    if not flag.rollout:
        return {"variation": names.index(flag.default_variant)}
    variations = [
        {"variation": names.index(name), "weight": weight * LD_WEIGHT_SCALE}
        for name, weight in flag.rollout.items()
    ]
    return {"rollout": {"variations": variations}}
