"""LaunchDarkly flag representation <-> Turnout's `Flag`: faithful, or read-only and loud.

LaunchDarkly addresses variations by index; Turnout by name. Boolean flags
get `on`/`off`; other variations keep their `name` when it is a usable key,
else `v<index>`. Rollout weights are thousandths of a percent (0..100000);
they are read as whole percents, rounded so they still sum to 100.

What maps, so that Turnout evaluates as LaunchDarkly's SDK does (checked
against the SDK by a test): on/off with an off variation, every target entry
(merged per variation, first listing wins), rules "in segment S" (one rule per
segment part, see `ld_segments`), rules of plain clauses (a segment made for
the rule, `<flag>.ld-rule-N`), the fallthrough variation or rollout. Only the
rollout's bucket assignment differs: Turnout buckets as flagd does, not as
LaunchDarkly's SHA-1 of flag key, salt and user key.
Everything else — prerequisites, an off variation of null (the code default),
negated or numeric clauses and other operators, percentage rules, experiment
or `bucketBy` rollouts, weights not summing to 100000, segments with
exclusions, percentage rules or big segments — makes the flag `read_only`
with the reasons, shown by list, get, the TUI and `-o json`, and refused for
writes. A payload Turnout cannot read at all becomes an off placeholder with
the reason; the other flags are unaffected.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from typing import Any

from turnout.backend.errors import InvalidInput, ReadOnly
from turnout.backend.flags.codec import convert
from turnout.backend.flags.ld_segments import Parts, Unmappable, conditions_of, segment_parts, shown_segment
from turnout.backend.flags.model import Flag, FlagSet, Segment
from turnout.backend.flags.validate import KEY_PATTERN

log = logging.getLogger(__name__)

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


def _index(names: list[str], value: Any, what: str) -> str:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value < len(names):
        raise Unmappable(f"{what} names no variation ({value!r})")
    return names[value]


def _targets(env: Mapping[str, Any], names: list[str], reasons: list[str]) -> dict[str, list[str]]:
    """Every target entry, merged per variation; a user listed twice keeps the first (as LD)."""
    targets: dict[str, list[str]] = {}
    seen: set[str] = set()
    for entry in env.get("targets") or []:
        variant = _index(names, entry.get("variation"), "a target")
        fresh = [str(u) for u in entry.get("values") or [] if str(u) not in seen]
        seen.update(fresh)
        targets.setdefault(variant, []).extend(fresh)
    if any(t.get("contextKind", "user") != "user" for t in env.get("contextTargets") or []):
        reasons.append("targets of other context kinds")
    return {v: users for v, users in targets.items() if users}


def _segment_rules(
    clause: Mapping[str, Any], variant: str, segments: Mapping[str, Parts] | None
) -> list[dict[str, str]]:
    if clause.get("negate"):
        raise Unmappable("a negated segment clause")
    rules = []
    for key in clause.get("values") or []:
        parts = None if segments is None else segments.get(str(key))
        if parts is None:
            raise Unmappable(f"segment {key!r} not readable")
        if isinstance(parts, str):
            raise Unmappable(parts)
        rules += [{"segment": part.key, "variant": variant} for part in parts]
    return rules


def _rules(
    raw: Mapping[str, Any], env: Mapping[str, Any], names: list[str],
    segments: Mapping[str, Parts] | None, found: dict[str, Segment],
) -> tuple[list[dict[str, str]], str | None]:
    """Turnout rules for the flag's rules, and the variant of a rule that matches everyone."""
    mapped: list[dict[str, str]] = []
    for number, rule in enumerate(env.get("rules") or [], start=1):
        if rule.get("variation") is None:
            raise Unmappable(f"rule {number} serves a percentage rollout")
        variant = _index(names, rule.get("variation"), f"rule {number}")
        clauses = rule.get("clauses") or []
        if not clauses:
            return mapped, variant
        if any(c.get("op") == "segmentMatch" for c in clauses):
            if len(clauses) != 1:
                raise Unmappable(f"rule {number} mixes segments and clauses")
            mapped += _segment_rules(clauses[0], variant, segments)
            continue
        key = f"{str(raw['key'])[:100]}.ld-rule-{number}"
        found[key] = Segment(key=key, description=f"{raw['key']}: LaunchDarkly rule {number}",
                             conditions=conditions_of(clauses))
        mapped.append({"segment": key, "variant": variant})
    return mapped, None


def _fallthrough_of(
    env: Mapping[str, Any], names: list[str], reasons: list[str]
) -> tuple[dict[str, int], str]:
    """The rollout (whole percents) or the single variant everyone else gets."""
    fallthrough = env.get("fallthrough") or {}
    rollout = fallthrough.get("rollout")
    if rollout is None:
        return {}, _index(names, fallthrough.get("variation"), "the fallthrough")
    pairs = [(_index(names, v.get("variation"), "the rollout"), v.get("weight"))
             for v in rollout.get("variations") or []]
    if not pairs or not all(isinstance(w, int) and w >= 0 for _, w in pairs):
        raise Unmappable("a fallthrough rollout without weights")
    if rollout.get("kind") == "experiment":
        reasons.append("an experiment rollout")
    elif rollout.get("bucketBy") not in (None, "key"):
        reasons.append(f"a rollout bucketed by {rollout['bucketBy']!r}")
    if rollout.get("contextKind", "user") != "user":
        reasons.append(f"a rollout by {rollout['contextKind']!r} contexts")
    full = 100 * LD_WEIGHT_SCALE
    total = sum(w for _, w in pairs)
    if total != full:
        reasons.append(f"fallthrough weights sum to {total}, not {full}")
    # As LaunchDarkly serves them: ranges past 100000 are never reached, and buckets
    # beyond the last range go to the last variation.
    weights: dict[str, int] = {}
    reached = 0
    for name, weight in pairs:  # a variation listed twice: its weights add up
        share = max(0, min(weight, full - reached))
        reached += share
        weights[name] = weights.get(name, 0) + share
    weights[pairs[-1][0]] += full - reached
    return _percents(list(weights.items())), names[0]


def _mapped(
    raw: Mapping[str, Any], environment: str, segments: Mapping[str, Parts] | None,
    found: dict[str, Segment],
) -> Flag:
    names = variant_names(dict(raw))
    if not names:
        raise Unmappable("no variations")
    env = (raw.get("environments") or {}).get(environment)
    if env is None:
        raise Unmappable(f"no environment {environment!r}")
    reasons: list[str] = []
    if env.get("prerequisites"):
        keys = ", ".join(str(p.get("key")) for p in env["prerequisites"])
        reasons.append(f"prerequisites ({keys})")
    off = env.get("offVariation")
    if off is None:
        reasons.append("off serves the code default (no off variation)")
    rollout, default = _fallthrough_of(env, names, reasons)
    rules: list[dict[str, str]] = []
    own: dict[str, Segment] = {}
    try:
        rules, everyone = _rules(raw, env, names, segments, own)
    except Unmappable as why:
        reasons.append(str(why))
        everyone = None
    if everyone is not None:
        reasons.append("a rule without clauses serves everyone")
        rollout, default = {}, everyone
    found.update(own)
    fields = {
        "key": raw["key"],
        "description": raw.get("description") or raw.get("name") or "",
        "kind": _kind(dict(raw)),
        "variants": {n: v.get("value") for n, v in zip(names, raw.get("variations", []), strict=True)},
        "on": bool(env.get("on")),
        "off_variant": names[0] if off is None else _index(names, off, "the off variation"),
        "default_variant": default,
        "targets": _targets(env, names, reasons),
        "rollout": rollout,
        "rules": rules,
        "meta": {"tags": [str(t) for t in raw.get("tags") or []]},
        "version": raw.get("_version", 0),
        "read_only": "; ".join(reasons),
    }
    return convert(fields, Flag, f"launchdarkly.{raw['key']}")


def from_ld(
    raw: Mapping[str, Any], environment: str, segments: Mapping[str, Parts] | None = None,
    found: dict[str, Segment] | None = None,
) -> Flag:
    """Turnout's view of a LaunchDarkly flag: exact, or marked `read_only` with the reasons.

    `segments` are the environment's segments as `segment_parts` (None: not readable);
    segments made for the flag's own clause rules are added to `found`. A payload Turnout
    cannot even read becomes an off, read-only placeholder, so one flag never breaks the rest.
    """
    key = raw.get("key") if isinstance(raw, Mapping) else None
    if not isinstance(key, str) or not KEY_PATTERN.match(key):
        raise InvalidInput(f"LaunchDarkly flag key {key!r} cannot be shown")
    try:
        return _mapped(raw, environment, segments, found if found is not None else {})
    except Unmappable as why:
        problem = str(why)
    except (InvalidInput, KeyError, IndexError, TypeError, ValueError, AttributeError) as exc:
        problem = f"malformed ({exc})"
    return Flag(key=key, variants={"off": False}, on=False, read_only=f"cannot be read: {problem}")


def map_environment(
    raw_flags: list[Any], raw_segments: list[Any] | None, environment: str
) -> FlagSet:
    """Every flag and segment of one environment (`raw_segments` None: not readable)."""
    parts = None if raw_segments is None else {
        str(s.get("key")): segment_parts(s) for s in raw_segments if isinstance(s, Mapping)}
    segments: dict[str, Segment] = {}
    for raw in raw_segments or []:
        mapped = parts.get(str(raw.get("key"))) if parts is not None and isinstance(raw, Mapping) else None
        if isinstance(mapped, tuple):
            segments.update({part.key: part for part in mapped})
        elif isinstance(mapped, str) and (shown := shown_segment(raw, mapped)) is not None:
            segments[shown.key] = shown
    flags: dict[str, Flag] = {}
    for raw in raw_flags:
        try:
            flag = from_ld(raw, environment, parts, segments)
        except InvalidInput as err:
            log.warning("%s", err)
            continue
        flags[flag.key] = flag
    return FlagSet(flags=flags, segments=segments)


def patch_ops(
    raw: dict[str, Any], wanted: Flag, environment: str, segments: Mapping[str, Parts] | None
) -> list[dict[str, Any]]:
    """JSON-patch operations taking LaunchDarkly's flag to `wanted` (on/off, rollout only)."""
    current = from_ld(raw, environment, segments)
    if current.read_only:
        raise ReadOnly(f"LaunchDarkly flag {wanted.key!r} is read-only in Turnout "
                       f"({current.read_only}); change it in LaunchDarkly")
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
