"""Export to flagd's flag-definition JSON: lossless (`flagd_import.py` reads it back).

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
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from turnout.backend.flags.codec import to_builtins
from turnout.backend.flags.flagd_logic import KEY_VAR, segment_logic
from turnout.backend.flags.model import Flag, FlagSet, Segment

SCHEMA_URL = "https://flagd.dev/schema/v0/flags.json"
SEGMENTS_KEY = "turnout.segments"
"""Document metadata: the segments, as JSON, so an import restores them whole."""
RULES_KEY = "rules"
"""Flag metadata: the segment of each rule, in order, as JSON."""


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
