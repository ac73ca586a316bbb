"""Flags and contexts for the Node cross-checks: the demo's flags plus a generated set."""

from __future__ import annotations

import asyncio
import random
from typing import Any

import msgspec

from turnout.backend.demo.flags import demo_flag_store
from turnout.backend.flags.codec import flagset_from_obj
from turnout.backend.flags.model import Bucketing, FlagSet
from turnout.backend.gate import WriteGate

DOMAINS = ("@example.com", "@corp.io", "@gmail.com", "@example.com.evil.io")
COUNTRIES = ("NL", "DE", "US", "FR", "JP")
PLANS = ("pro-monthly", "pro-yearly", "free", "team-2")
WIDE = (0xE9, 0xFC, 0x4E2D, 0x1F600, 0x9FFF, 0x3B1)
"""Code points whose UTF-16 units the JS hash mixes unlike UTF-8 bytes (Latin-1, CJK, emoji)."""


def _segments() -> dict[str, Any]:
    return {
        "beta": {"key": "beta", "users": [f"user-{i}" for i in range(0, 400, 37)]},
        "staff": {"key": "staff", "conditions": [
            {"attribute": "email", "op": "ends_with", "values": ["@example.com", "@corp.io"]}]},
        "eu": {"key": "eu", "conditions": [
            {"attribute": "country", "op": "in", "values": ["NL", "DE", "FR"]}]},
        "not-us-pro": {"key": "not-us-pro", "users": ["user-5"], "conditions": [
            {"attribute": "country", "op": "not_in", "values": ["US"]},
            {"attribute": "plan", "op": "starts_with", "values": ["pro-"]}]},
    }


def _generated(rng: random.Random) -> dict[str, Any]:
    flags: dict[str, Any] = {}
    for percent in (0, 1, 10, 33, 50, 99, 100):
        key = f"rollout-{percent}"
        flags[key] = {"key": key, "on": True, "rollout": {"on": percent, "off": 100 - percent}}
    for n in (2, 3, 4):
        variants = {f"v{i}": f"value-{i}" for i in range(n)}
        cuts = sorted(rng.sample(range(1, 100), n - 1))
        weights = [b - a for a, b in zip([0, *cuts], [*cuts, 100], strict=True)]
        key = f"ab-{n}"
        flags[key] = {"key": key, "kind": "string", "on": True, "variants": variants,
                      "default_variant": "v0", "off_variant": "v0",
                      "rollout": dict(zip(variants, weights, strict=True))}
    flags["segmented"] = {"key": "segmented", "kind": "integer", "on": True,
                          "variants": {"low": 1, "mid": 5, "high": 10},
                          "default_variant": "low", "off_variant": "low",
                          "targets": {"high": ["user-1", "user-2"]},
                          "rules": [{"segment": "not-us-pro", "variant": "high"},
                                    {"segment": "eu", "variant": "mid"}],
                          "rollout": {"low": 70, "mid": 20, "high": 10}}
    flags["staff-only"] = {"key": "staff-only", "on": True, "default_variant": "off",
                           "rules": [{"segment": "staff", "variant": "on"},
                                     {"segment": "beta", "variant": "on"}]}
    flags["killed"] = {"key": "killed", "on": False, "rollout": {"on": 50, "off": 50}}
    return flags


def cross_check_flagset(rule: Bucketing, seed: int = 19) -> FlagSet:
    """The demo's flags and segments with the generated ones, every split using `rule`."""
    demo = asyncio.run(demo_flag_store(WriteGate()).snapshot())
    doc = {"segments": {**msgspec.to_builtins(demo.segments), **_segments()},
           "flags": {**msgspec.to_builtins(demo.flags), **_generated(random.Random(seed))}}
    for flag in doc["flags"].values():
        flag["bucketing"] = rule
    return flagset_from_obj(doc)


def _key(rng: random.Random) -> str:
    return rng.choice([
        f"user-{rng.randrange(400)}",
        f"u{rng.getrandbits(64):x}",
        f"long-{rng.getrandbits(300):x}",
        "".join(chr(rng.choice(WIDE)) for _ in range(rng.randrange(1, 9))),
        f"ü-{rng.randrange(1000)}-ñ",
        rng.choice(("alice", "bob", "carol", "dave")),
    ])


def contexts(count: int, seed: int = 7) -> list[dict[str, Any]]:
    """`count` random contexts: keys ASCII and not, attributes that hit every segment."""
    rng = random.Random(seed)
    return [
        {"targetingKey": _key(rng), "email": f"p{rng.randrange(99)}{rng.choice(DOMAINS)}",
         "country": rng.choice(COUNTRIES), "plan": rng.choice(PLANS)}
        for _ in range(count)
    ]
