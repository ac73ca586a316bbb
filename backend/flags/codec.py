"""Bytes <-> records, refusing malformed input with the field path.

Stores never hand raw JSON to the evaluator: everything read passes through
`decode_*`, which rejects duplicate object keys (JSON parsers silently keep
the last one, which would hide a user from a target list), type errors
(msgspec) and semantic errors (`validate.py`).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any, TypeVar

import msgspec

from turnout.backend.errors import InvalidInput
from turnout.backend.flags.model import Flag, FlagSet, Segment
from turnout.backend.flags.validate import validate_flag, validate_flagset, validate_segment

T = TypeVar("T")

_encoder = msgspec.json.Encoder()


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    result: dict[str, Any] = {}
    for key, value in pairs:
        if key in result:
            raise InvalidInput(f"duplicate key {key!r} in JSON object")
        result[key] = value
    return result


def load_json(data: bytes | str, what: str) -> Any:
    """Parse JSON refusing duplicate keys; `what` names the source in errors."""
    try:
        return json.loads(data, object_pairs_hook=_no_duplicates)
    except InvalidInput as exc:
        raise InvalidInput(f"{what}: {exc.message}") from exc
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidInput(f"{what}: malformed JSON ({exc})") from exc
    except RecursionError as exc:
        raise InvalidInput(f"{what}: JSON nested too deeply") from exc


def load_yaml(data: bytes | str, what: str) -> Any:
    """Parse YAML (safe loader); `what` names the source in errors."""
    import yaml  # here, not at import: the console's first frame reads no YAML

    try:
        return yaml.safe_load(data)
    except yaml.YAMLError as exc:
        raise InvalidInput(f"{what}: malformed YAML ({str(exc).splitlines()[0]})") from exc
    except RecursionError as exc:
        raise InvalidInput(f"{what}: YAML nested too deeply") from exc


def convert(obj: Any, kind: type[T], path: str) -> T:
    """msgspec conversion with errors rewritten to `path.field: message`."""
    try:
        return msgspec.convert(obj, kind)
    except msgspec.ValidationError as exc:
        message, _, where = str(exc).partition(" - at `$")
        suffix = where.rstrip("`")
        raise InvalidInput(f"{path}{suffix}: {message}") from exc


def flagset_from_obj(obj: Any, what: str = "flags document") -> FlagSet:
    """Build and validate a `FlagSet` from parsed JSON/YAML."""
    if obj is None:
        return FlagSet()
    if not isinstance(obj, Mapping):
        raise InvalidInput(f"{what}: expected an object, got {type(obj).__name__}")
    segments = {
        key: convert(value, Segment, f"segments.{key}") for key, value in _section(obj, "segments").items()
    }
    flags = {key: convert(value, Flag, f"flags.{key}") for key, value in _section(obj, "flags").items()}
    schema = obj.get("schema", 1)
    return validate_flagset(FlagSet(schema=schema, flags=flags, segments=segments))


def _section(obj: Mapping[str, Any], name: str) -> Mapping[str, Any]:
    section = obj.get(name) or {}
    if not isinstance(section, Mapping):
        raise InvalidInput(f"{name}: expected an object, got {type(section).__name__}")
    return section


def decode_flagset(data: bytes | str, what: str = "flags document") -> FlagSet:
    """Parse and validate a whole JSON flag document."""
    return flagset_from_obj(load_json(data, what), what)


def decode_flag(data: bytes | str, path: str) -> Flag:
    """Parse and validate one flag stored on its own (segment refs unchecked)."""
    flag = convert(load_json(data, path), Flag, path)
    return validate_flag(flag, None, path)


def decode_segment(data: bytes | str, path: str) -> Segment:
    """Parse and validate one segment stored on its own."""
    return validate_segment(convert(load_json(data, path), Segment, path), path)


_FLAG_SHAPE = frozenset(("key", "variants", "off_variant", "default_variant", "bucketing"))


def _without_default_rule(data: Any) -> Any:
    if isinstance(data, list):
        return [_without_default_rule(item) for item in data]
    if not isinstance(data, dict):
        return data
    if data.get("bucketing") == "cbor" and data.keys() >= _FLAG_SHAPE:
        data = {k: v for k, v in data.items() if k != "bucketing"}
    return {k: _without_default_rule(v) for k, v in data.items()}


def stored(record: Any) -> Any:
    """Plain data to persist: a flag on the default bucketing rule is stored without the
    field, so readers built before it existed (which refuse unknown fields) still load it."""
    return _without_default_rule(msgspec.to_builtins(record))


def encode(record: Any) -> bytes:
    """JSON bytes of any record (Flag, Segment, FlagSet, Evaluation...), as stored."""
    return _encoder.encode(stored(record))


def to_builtins(record: Any) -> Any:
    """Plain dicts/lists for `-o json` output and YAML files."""
    return msgspec.to_builtins(record)
