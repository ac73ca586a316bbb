"""Export to and import from flagd's flag-definition JSON: lossless, or refused.

Mapping (https://flagd.dev/reference/flag-definitions/):
- individual targets -> `{"in": [{"var": "targetingKey"}, [users]]}` branches of an `if`;
- rules -> their segment's JSON-logic (`flagd_logic.py`), inline, in rule order. Inline
  rather than `$ref`: flagd's loaders splice `$evaluators` in with a regular-expression
  replacement that breaks on non-ASCII text, backslashes and `$`. The segments travel
  whole in the document's `metadata` and each flag names its rules' segments, so an
  import restores them;
- the percentage rollout -> `fractional` with the shorthand bucketing (flag key +
  targetingKey), which `bucketing.py` reproduces bit for bit; a variant with several
  ranges (`Flag.ranges`) appears once per range;
- off -> `state: DISABLED` (flagd's kill switch: the application gets its code default);
  the off-variant, plan, ownership and the last writer travel in `metadata`;
- the bucketing rule the consumers must use travels as `metadata.bucketing` of each flag
  (`cbor`: flagd fractional v3; `concat`: the older flagKey+targetingKey string hash), and
  of the document when every flag agrees; a file without it is read as `cbor`.

Import takes any flagd document whose meaning Turnout can hold, and keeps that
meaning: `$ref` rules, inline conditions (each becomes a segment named after its
flag), rule order (a targeting-key list after a rule stays after it), a nested `if`
in the else branch, a final variant, weights of any total that scale to whole
percents. Anything else is refused with its JSON path.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import IO, Any, get_args

from turnout.backend.errors import InvalidInput
from turnout.backend.flags.codec import convert, load_json, to_builtins
from turnout.backend.flags.flagd_logic import KEY_VAR, bad, operation, parse_segment, segment_logic, user_list
from turnout.backend.flags.model import Flag, FlagSet, Kind, Meta, Plan, Rule, Segment
from turnout.backend.flags.validate import KEY_PATTERN, validate_flagset

SCHEMA_URL = "https://flagd.dev/schema/v0/flags.json"
MAX_IMPORT_BYTES = 8 * 1024 * 1024
"""The largest flagd document `flags import` reads (8 MiB); larger ones are refused."""
SEGMENTS_KEY = "turnout.segments"
"""Document metadata: the segments, as JSON, so an import restores them whole."""
RULES_KEY = "rules"
"""Flag metadata: the segment of each rule, in order, as JSON."""

# --- export ---------------------------------------------------------------


def _targeting(flag: Flag, segments: Mapping[str, Segment]) -> dict[str, Any] | None:
    branches: list[Any] = []
    for variant, users in flag.targets.items():
        branches += [{"in": [KEY_VAR, list(users)]}, variant]
    for rule in flag.rules:
        branches += [segment_logic(segments.get(rule.segment, Segment(key=rule.segment))), rule.variant]
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
        "bucketing": flag.bucketing,
    }
    extra = {"description": flag.description, "owner": flag.meta.owner, "app": flag.meta.app,
             "updatedBy": flag.updated_by, "readOnly": flag.read_only}
    meta.update({k: v for k, v in extra.items() if v})
    if flag.meta.tags:
        meta["tags"] = json.dumps(list(flag.meta.tags))
    if flag.plan is not None:
        plan = flag.plan
        meta["plan"] = json.dumps([list(plan.stages), plan.stage, plan.variant, plan.baseline])
    if flag.rules:
        meta[RULES_KEY] = json.dumps([r.segment for r in flag.rules])
    if flag.updated_at is not None:
        meta["updatedAt"] = flag.updated_at.isoformat()
    return meta


def export_flag(flag: Flag, segments: Mapping[str, Segment]) -> dict[str, Any]:
    """One flag as a flagd flag definition (its rules' segments inline)."""
    out: dict[str, Any] = {
        "state": "ENABLED" if flag.on else "DISABLED",
        "variants": dict(flag.variants),
        "defaultVariant": flag.default_variant,
        "metadata": _metadata(flag),
    }
    targeting = _targeting(flag, segments)
    if targeting is not None:
        out["targeting"] = targeting
    return out


def export_flagd(flagset: FlagSet) -> dict[str, Any]:
    """The whole flag set as a flagd flag-definition document."""
    doc: dict[str, Any] = {
        "$schema": SCHEMA_URL,
        "flags": {key: export_flag(flag, flagset.segments) for key, flag in flagset.flags.items()},
    }
    if flagset.segments:
        whole = {key: to_builtins(segment) for key, segment in flagset.segments.items()}
        doc["metadata"] = {SEGMENTS_KEY: json.dumps(whole)}
    rules = {flag.bucketing for flag in flagset.flags.values()}
    if len(rules) == 1:
        doc.setdefault("metadata", {})["bucketing"] = rules.pop()
    return doc


# --- import: targeting ------------------------------------------------------


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
        if _same_members(candidate, segment):
            return known
    number = len(found) + 1
    while (key := f"{flag_key[:100]}.rule-{number}") in refs or key in found:
        number += 1
    found[key] = Segment(key=key, users=segment.users, conditions=segment.conditions)
    return key


def _same_members(a: Segment, b: Segment) -> bool:
    return (a.users, a.conditions) == (b.users, b.conditions)


def _parse_targeting(
    key: str, logic: Any, path: str, refs: Mapping[str, Segment], named: list[str], found: dict[str, Segment]
) -> dict[str, Any]:
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


# --- import: flags and document ---------------------------------------------


def _text(meta: Mapping[str, Any], name: str, path: str, default: str = "") -> str:
    value = meta.get(name, default)
    if not isinstance(value, str):
        raise bad(f"{path}.{name}", f"expected a string, got {json.dumps(value)[:60]}")
    return value


def _json_meta(meta: Mapping[str, Any], name: str, path: str) -> Any:
    try:
        return json.loads(_text(meta, name, path))
    except ValueError as exc:
        raise bad(f"{path}.{name}", f"malformed JSON ({exc})") from exc


def _tags(meta: Mapping[str, Any], path: str) -> tuple[str, ...]:
    text = _text(meta, "tags", path)
    if text.startswith("["):
        tags = _json_meta(meta, "tags", path)
        if not isinstance(tags, list) or not all(isinstance(t, str) for t in tags):
            raise bad(f"{path}.tags", "expected a JSON list of strings")
        return tuple(tags)
    return tuple(t for t in text.split(",") if t)


def _plan(meta: Mapping[str, Any], path: str) -> Plan | None:
    if "plan" not in meta:
        return None
    raw = _json_meta(meta, "plan", path)
    if not (isinstance(raw, list) and len(raw) == 4 and isinstance(raw[0], list)):
        raise bad(f"{path}.plan", "expected [stages, stage, variant, baseline]")
    stages, stage, variant, baseline = raw
    return convert({"stages": stages, "stage": stage, "variant": variant, "baseline": baseline},
                   Plan, f"{path}.plan")


def _rule_names(meta: Mapping[str, Any], path: str) -> list[str]:
    if RULES_KEY not in meta:
        return []
    names = _json_meta(meta, RULES_KEY, path)
    if not isinstance(names, list) or not all(isinstance(n, str) for n in names):
        raise bad(f"{path}.{RULES_KEY}", "expected a JSON list of segment keys")
    return names


def _kind_of(variants: Mapping[str, Any]) -> str:
    values = list(variants.values())
    if all(isinstance(v, bool) for v in values):
        return "boolean"
    if all(isinstance(v, str) for v in values):
        return "string"
    numbers = [v for v in values if isinstance(v, int | float) and not isinstance(v, bool)]
    if len(numbers) == len(values):
        return "integer" if all(isinstance(v, int) for v in numbers) else "float"
    return "object"


def _updated_at(meta: Mapping[str, Any], path: str) -> datetime | None:
    if "updatedAt" not in meta:
        return None
    try:
        return datetime.fromisoformat(_text(meta, "updatedAt", path))
    except ValueError as exc:
        raise bad(f"{path}.updatedAt", "expected an ISO 8601 time") from exc


def _import_flag(key: str, raw: Any, path: str, refs: Mapping[str, Segment],
                 found: dict[str, Segment], bucketing: Any) -> Flag:
    if not isinstance(raw, dict):
        raise bad(path, "expected an object")
    meta = raw.get("metadata") or {}
    variants = raw.get("variants")
    if not isinstance(meta, dict):
        raise bad(f"{path}.metadata", "expected an object")
    if not isinstance(variants, dict):
        raise bad(f"{path}.variants", "expected an object")
    state = raw.get("state", "ENABLED")
    if state not in ("ENABLED", "DISABLED"):
        raise bad(f"{path}.state", f"expected ENABLED or DISABLED, got {json.dumps(state)[:40]}")
    mpath = f"{path}.metadata"
    kind = _text(meta, "kind", mpath) or _kind_of(variants)
    if kind not in get_args(Kind):
        raise bad(f"{mpath}.kind", f"unknown kind {kind!r}")
    default = raw.get("defaultVariant")
    fields: dict[str, Any] = {
        "key": key,
        "description": _text(meta, "description", mpath),
        "kind": kind,
        "variants": variants,
        "on": state != "DISABLED",
        "default_variant": default,
        "off_variant": meta.get("offVariant", default),
        "version": meta.get("version", 0),
        "bucketing": meta.get("bucketing", bucketing),
        "updated_by": _text(meta, "updatedBy", mpath),
        "read_only": _text(meta, "readOnly", mpath),
        "updated_at": _updated_at(meta, mpath),
        "meta": Meta(owner=_text(meta, "owner", mpath), app=_text(meta, "app", mpath),
                     tags=_tags(meta, mpath)),
        "plan": _plan(meta, mpath),
        **_parse_targeting(key, raw.get("targeting"), f"{path}.targeting", refs,
                           _rule_names(meta, mpath), found),
    }
    return convert(fields, Flag, path)


def _document_segments(doc: Mapping[str, Any]) -> dict[str, Segment]:
    meta = doc.get("metadata") or {}
    if not isinstance(meta, dict):
        raise bad("metadata", "expected an object")
    if SEGMENTS_KEY not in meta:
        return {}
    whole = _json_meta(meta, SEGMENTS_KEY, "metadata")
    if not isinstance(whole, dict):
        raise bad(f"metadata.{SEGMENTS_KEY}", "expected a JSON object of segments")
    return {k: convert(v, Segment, f"metadata.{SEGMENTS_KEY}.{k}") for k, v in whole.items()}


def _evaluator_segments(doc: Mapping[str, Any], known: dict[str, Segment]) -> dict[str, Segment]:
    evaluators = doc.get("$evaluators") or {}
    if not isinstance(evaluators, dict):
        raise bad("$evaluators", "expected an object")
    segments = dict(known)
    for name, logic in evaluators.items():
        if not isinstance(name, str) or not KEY_PATTERN.match(name):
            raise bad(f"$evaluators.{name}", "invalid segment key")
        parsed = parse_segment(name, logic, f"$evaluators.{name}")
        if name in segments and not _same_members(segments[name], parsed):
            raise bad(f"$evaluators.{name}", f"differs from segment {name!r} in the metadata")
        segments.setdefault(name, parsed)
    return segments


def import_flagd(doc: Any) -> FlagSet:
    """Build a validated `FlagSet` from a flagd document; refuse what would change meaning."""
    if not isinstance(doc, dict) or not isinstance(doc.get("flags"), dict):
        raise bad("flagd", "expected an object with a 'flags' object")
    refs = _evaluator_segments(doc, _document_segments(doc))
    found: dict[str, Segment] = {}
    doc_meta = doc.get("metadata")
    bucketing = doc_meta.get("bucketing", "cbor") if isinstance(doc_meta, dict) else "cbor"
    flags = {k: _import_flag(k, v, f"flags.{k}", refs, found, bucketing)
             for k, v in doc["flags"].items()}
    return validate_flagset(FlagSet(flags=flags, segments={**refs, **found}))


def read_document(source: str, stdin: IO[str] | None = None) -> Any:
    """The parsed JSON of a flagd file (`-`: stdin), at most MAX_IMPORT_BYTES; every
    failure — missing, a directory, unreadable, too large, not UTF-8, malformed or
    nested too deeply — is one `InvalidInput` line naming the file."""
    limit = MAX_IMPORT_BYTES
    if source == "-":
        text = (stdin.read(limit + 1) if stdin is not None else "")
        data: bytes | str = text
        size = len(text.encode(errors="surrogateescape"))
    else:
        try:
            with Path(source).open("rb") as handle:
                data = handle.read(limit + 1)
        except FileNotFoundError as exc:
            raise InvalidInput(f"{source}: no such file") from exc
        except IsADirectoryError as exc:
            raise InvalidInput(f"{source}: is a directory, not a flagd JSON file") from exc
        except OSError as exc:
            raise InvalidInput(f"{source}: cannot read ({exc.strerror})") from exc
        size = len(data)
    if size > limit:
        raise InvalidInput(f"{source}: larger than {limit // (1024 * 1024)} MiB; refusing to import")
    if isinstance(data, bytes):
        try:
            data = data.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise InvalidInput(f"{source}: not UTF-8 text (byte {exc.start})") from exc
    return load_json(data, source)
