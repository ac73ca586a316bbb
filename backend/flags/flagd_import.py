"""Import from flagd's flag-definition JSON: the meaning kept, or refused.

Import takes any flagd document whose meaning Turnout can hold, and keeps that
meaning: `$ref` rules, inline conditions (each becomes a segment named after its
flag), rule order (a targeting-key list after a rule stays after it), a nested `if`
in the else branch, a final variant, weights of any total that scale to whole
percents. Anything else is refused with its JSON path. A document Turnout exported
(`flagd_export.py`) comes back whole: its segments, rule names and metadata.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import datetime
from pathlib import Path
from typing import IO, Any, get_args

from turnout.backend.errors import InvalidInput
from turnout.backend.flags.codec import convert, load_json
from turnout.backend.flags.flagd_export import RULES_KEY, SEGMENTS_KEY
from turnout.backend.flags.flagd_logic import bad, parse_segment
from turnout.backend.flags.flagd_targeting import parse_targeting, same_members
from turnout.backend.flags.model import Flag, FlagSet, Kind, Meta, Plan, Segment
from turnout.backend.flags.validate import KEY_PATTERN, validate_flagset

MAX_IMPORT_BYTES = 8 * 1024 * 1024
"""The largest flagd document `flags import` reads (8 MiB); larger ones are refused."""


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
        **parse_targeting(key, raw.get("targeting"), f"{path}.targeting", refs,
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
        if name in segments and not same_members(segments[name], parsed):
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
