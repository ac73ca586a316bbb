"""Random LaunchDarkly flags and segments (REST representation), and the SDK's view of them."""

from __future__ import annotations

import random
from typing import Any

ATTRS = ["email", "country", "plan", "key", "age"]
STRINGS = ["NZ", "Zürich", "日本", "pro", "free", "a@example.com", "b@corp.io", "user-1", "user-2", ""]
USERS = ["user-1", "user-2", "user-3", "ü-ñ", "user-9"]


def _clause(rng: random.Random) -> dict[str, Any]:
    op = rng.choice(["in", "in", "startsWith", "endsWith", "contains", "lessThan"])
    if op in ("in", "lessThan") and rng.random() < 0.3:
        values: list[Any] = [rng.choice([5, 30, 1.5])]
    else:
        values = [rng.choice(STRINGS)[: rng.randint(1, 6)] or "x" for _ in range(rng.randint(1, 2))]
    return {"attribute": rng.choice(ATTRS), "op": op, "values": values, "negate": rng.random() < 0.15}


def segment(rng: random.Random, key: str) -> dict[str, Any]:
    rules = [{"clauses": [_clause(rng) for _ in range(rng.randint(1, 2))]} for _ in range(rng.randint(0, 2))]
    if rules and rng.random() < 0.1:
        rules[0]["weight"] = 50000
    return {"key": key, "included": rng.sample(USERS, rng.randint(0, 2)),
            "excluded": rng.sample(USERS, 1) if rng.random() < 0.15 else [], "rules": rules, "version": 1}


def _serve(rng: random.Random, variations: int) -> dict[str, Any]:
    if rng.random() < 0.5:
        return {"variation": rng.randrange(variations)}
    cut = rng.randint(0, 100_000)
    weights = [cut, 100_000 - cut] + [0] * (variations - 2)
    if rng.random() < 0.1:
        weights[0] += 7000  # weights that do not sum to 100000
    rollout: dict[str, Any] = {"variations": [{"variation": i, "weight": w} for i, w in enumerate(weights)]}
    roll = rng.random()
    if roll < 0.08:
        rollout["bucketBy"] = "country"
    elif roll < 0.16:
        rollout["kind"] = "experiment"
        rollout["seed"] = 61
    return {"rollout": rollout}


def flag(rng: random.Random, key: str, segments: list[str], others: list[str]) -> dict[str, Any]:
    count = rng.choice([2, 3])
    boolean = count == 2 and rng.random() < 0.5
    values: list[Any] = [True, False] if boolean else [f"value-{i}" for i in range(count)]
    variations = [{"value": v, "name": f"var{i}"} for i, v in enumerate(values)]
    rules: list[dict[str, Any]] = []
    for number in range(rng.randint(0, 3)):
        if rng.random() < 0.45 and segments:
            clauses = [{"attribute": "segmentMatch", "op": "segmentMatch",
                        "values": rng.sample(segments, rng.randint(1, 2)), "negate": rng.random() < 0.1}]
        else:
            clauses = [_clause(rng) for _ in range(rng.randint(1, 2))]
        serve = _serve(rng, count) if rng.random() < 0.15 else {"variation": rng.randrange(count)}
        rules.append({"_id": f"r{number}", "clauses": clauses, **serve})
    targets = [{"values": rng.sample(USERS, rng.randint(1, 2)), "variation": rng.randrange(count)}
               for _ in range(rng.randint(0, 3))]
    env = {
        "on": rng.random() < 0.85,
        "offVariation": None if rng.random() < 0.1 else rng.randrange(count),
        "fallthrough": _serve(rng, count),
        "targets": targets,
        "rules": rules,
        "prerequisites": [{"key": rng.choice(others), "variation": 0}]
        if others and rng.random() < 0.1 else [],
    }
    return {"key": key, "kind": "boolean" if boolean else "multivariate", "variations": variations,
            "_version": 1, "environments": {"production": env}}


def sdk_flag(raw: dict[str, Any]) -> dict[str, Any]:
    """The server-side SDK's representation of a REST flag in the `production` environment."""
    env = raw["environments"]["production"]
    return {"key": raw["key"], "version": 1, "on": env["on"], "salt": "salt",
            "variations": [v["value"] for v in raw["variations"]], "offVariation": env["offVariation"],
            "fallthrough": env["fallthrough"], "targets": env["targets"], "rules": env["rules"],
            "prerequisites": env["prerequisites"], "deleted": False, "trackEvents": False}


def sdk_segment(raw: dict[str, Any]) -> dict[str, Any]:
    return {**raw, "salt": "salt", "deleted": False}


def contexts(rng: random.Random, count: int) -> list[dict[str, Any]]:
    out = []
    for _ in range(count):
        ctx: dict[str, Any] = {"targetingKey": rng.choice([*USERS, f"u{rng.getrandbits(32):x}"])}
        for attr in ("email", "country", "plan", "age"):
            roll = rng.random()
            if roll < 0.6:
                ctx[attr] = rng.choice(STRINGS) + rng.choice(["", "", "x", "@example.com"])
            elif roll < 0.7:
                ctx[attr] = rng.choice([5, 30, 1.5, True])
        out.append(ctx)
    return out
