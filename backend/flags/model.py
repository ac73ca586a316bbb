"""The flag model: frozen, versioned records that every store reads and writes.

A `FlagSet` is the whole document (schema version, flags, reusable segments).
Records are frozen msgspec Structs, so they encode to JSON in one call and a
changed flag is always a new object (`msgspec.structs.replace`). Semantic rules
(weights sum to 100, known variants, no duplicate users) live in `validate.py`;
these classes only describe the shape.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

import msgspec

SCHEMA_VERSION = 1
"""Bumped on any incompatible change to the stored document."""

Kind = Literal["boolean", "string", "integer", "float", "object"]
Op = Literal["in", "not_in", "starts_with", "ends_with"]
Bucketing = Literal["cbor", "concat"]
"""How a split hashes a user: flagd fractional v3 (CBOR) or the older string concatenation."""

BOOLEAN_VARIANTS: dict[str, Any] = {"on": True, "off": False}


class Condition(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """One attribute test: the context's `attribute` compared with any of `values`.

    `in`/`not_in` compare for equality; `starts_with`/`ends_with` test strings
    (e.g. `email ends_with "@example.com"` for the internal team).
    """

    attribute: str
    op: Op
    values: tuple[str, ...]


class Segment(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """A named, reusable audience: listed user keys, or users whose attributes
    satisfy every condition (a segment with neither matches nobody)."""

    key: str
    description: str = ""
    users: tuple[str, ...] = ()
    conditions: tuple[Condition, ...] = ()
    version: int = 0


class Rule(msgspec.Struct, frozen=True, forbid_unknown_fields=True):
    """Send every member of `segment` to `variant`; rules are tried in order."""

    segment: str
    variant: str


class Plan(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """A staged rollout: `variant` gets `stages[stage]` percent, `baseline` the rest."""

    stages: tuple[int, ...] = (10, 25, 50, 100)
    stage: int = 0
    variant: str = "on"
    baseline: str = "off"

    @property
    def percent(self) -> int:
        """The percentage of the current stage."""
        return self.stages[self.stage]


class Meta(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """Who owns the flag and which app's release console shows it."""

    owner: str = ""
    tags: tuple[str, ...] = ()
    app: str = ""


class Flag(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """One feature flag.

    Evaluation order: `on` false -> `off_variant`; individual `targets`
    (variant -> user keys); `rules` in order; the percentage `rollout`
    (variant -> integer weight, summing to 100; the variants own bucket ranges
    in the listed order, or in `ranges` order when a sticky edit gave a variant
    several ranges — see `split.py`); else `default_variant`. `version`
    increments on every write (compare-and-set).
    `bucketing` is the hash rule of the split: the one the flag's consumers use.
    """

    key: str
    description: str = ""
    kind: Kind = "boolean"
    variants: dict[str, Any] = msgspec.field(default_factory=lambda: dict(BOOLEAN_VARIANTS))
    on: bool = False
    off_variant: str = "off"
    default_variant: str = "off"
    targets: dict[str, tuple[str, ...]] = msgspec.field(default_factory=dict)
    rules: tuple[Rule, ...] = ()
    rollout: dict[str, int] = msgspec.field(default_factory=dict)
    ranges: tuple[tuple[str, int], ...] = ()
    """The split's bucket ranges in order, (variant, width), when a variant holds more
    than one; empty means one range per variant in `rollout` order."""
    bucketing: Bucketing = "cbor"
    plan: Plan | None = None
    meta: Meta = msgspec.field(default_factory=Meta)
    read_only: str = ""
    """Why Turnout must not change this flag (a LaunchDarkly feature it cannot hold);
    empty when it can."""
    version: int = 0
    updated_by: str = ""
    updated_at: datetime | None = None


class FlagSet(msgspec.Struct, frozen=True, forbid_unknown_fields=True, kw_only=True):
    """The whole flag document: what a file store holds and a reader snapshots."""

    schema: int = SCHEMA_VERSION
    flags: dict[str, Flag] = msgspec.field(default_factory=dict)
    segments: dict[str, Segment] = msgspec.field(default_factory=dict)
