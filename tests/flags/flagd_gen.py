"""Random flagd documents using every construct Turnout accepts, and contexts to test them."""

from __future__ import annotations

import random
from typing import Any

ATTRS = ["email", "country", "plan", "targetingKey"]
VALUES = ["a@example.com", "b@corp.io", "Zürich", "日本", "ü-ñ", "x\\y", "$z", "pro", "free", "",
          "user-1", "user-2", "user-3", "@exämple.com", "pro-max"]  # fmt: skip
# flagd-core splices $evaluators in with a regular expression: keep their text plain.
PLAIN = [v for v in VALUES if v.isascii() and "\\" not in v and "$" not in v]
VARIANTS = ["a", "b", "c"]
USERS = ["user-1", "user-2", "user-3", "ü-ñ", "user-9"]


def _test(rng: random.Random, plain: bool) -> dict[str, Any]:
    pool = PLAIN if plain else VALUES
    attr = {"var": rng.choice(ATTRS)}
    kind = rng.randrange(5)
    if kind == 0:
        return {"in": [attr, rng.sample(pool, rng.randint(1, 3))]}
    if kind == 1:
        return {"!": {"in": [attr, rng.sample(pool, rng.randint(1, 3))]}}
    if kind == 2:
        return {"!": [{"in": [attr, rng.sample(pool, 2)]}]}
    op = rng.choice(["starts_with", "ends_with"])
    values = [rng.choice(pool)[: rng.randint(0, 4)] or "p" for _ in range(rng.randint(1, 3))]
    tests = [{op: [attr, v]} for v in values]
    return tests[0] if len(tests) == 1 else {"or": tests}


def segment(rng: random.Random, plain: bool) -> dict[str, Any]:
    """JSON-logic of a segment: users, a test, an AND, or users OR conditions."""
    users = {"in": [{"var": "targetingKey"}, rng.sample(USERS if not plain else USERS[:3], 2)]}
    matched = _test(rng, plain) if rng.random() < 0.5 else {"and": [_test(rng, plain) for _ in range(2)]}
    return rng.choice([users, matched, {"or": [users, matched]}])


def _split(rng: random.Random) -> dict[str, Any]:
    cuts = sorted(rng.randint(0, 100) for _ in range(2))
    percents = [cuts[0], cuts[1] - cuts[0], 100 - cuts[1]]
    scale = rng.choice([1, 1, 3, 10, 1000])
    order = rng.sample(VARIANTS, 3)
    entries = [[v, p * scale] for v, p in zip(order, percents, strict=True)]
    if rng.random() < 0.2:  # a variant in two ranges
        entries.append([order[0], 0])
        entries[-1][1], entries[0][1] = entries[0][1] // 2, entries[0][1] - entries[0][1] // 2
    return {"fractional": entries}


def _chain(rng: random.Random, evaluators: list[str], depth: int = 0) -> Any:
    args: list[Any] = []
    for _ in range(rng.randint(1, 3)):
        kind = rng.randrange(3)
        if kind == 0 and evaluators:
            cond: Any = {"$ref": rng.choice(evaluators)}
        elif kind == 1:
            cond = {"in": [{"var": "targetingKey"}, rng.sample(USERS, 2)]}
        else:
            cond = segment(rng, plain=False)
        args += [cond, rng.choice(VARIANTS)]
    end = rng.randrange(4)
    if end == 0:
        args.append(_split(rng))
    elif end == 1:
        args.append(rng.choice(VARIANTS))
    elif end == 2 and depth < 2:
        args.append(_chain(rng, evaluators, depth + 1))  # a nested `if` in the else branch
    return {"if": args}


def document(rng: random.Random, flags: int) -> dict[str, Any]:
    """A flagd document of `flags` string flags over shared plain evaluators."""
    evaluators = {f"seg-{i}": segment(rng, plain=True) for i in range(3)}
    doc: dict[str, Any] = {"$evaluators": evaluators, "flags": {}}
    for index in range(flags):
        flag: dict[str, Any] = {
            "state": "DISABLED" if rng.random() < 0.1 else "ENABLED",
            "variants": {v: f"value-{v}" for v in VARIANTS},
            "defaultVariant": rng.choice(VARIANTS),
        }
        shape = rng.randrange(6)
        if shape == 0:
            flag["targeting"] = _split(rng)
        elif shape > 1:
            flag["targeting"] = _chain(rng, list(evaluators))
        doc["flags"][f"flag-{index}"] = flag
    return doc


def contexts(rng: random.Random, count: int) -> list[dict[str, Any]]:
    """Contexts with known and random keys, non-ASCII, missing and non-string attributes."""
    out = []
    for _ in range(count):
        ctx: dict[str, Any] = {}
        if rng.random() < 0.97:
            ctx["targetingKey"] = rng.choice([*USERS, f"u{rng.getrandbits(40):x}", "日本-user"])
        for attr in ATTRS[:3]:
            roll = rng.random()
            if roll < 0.6:
                ctx[attr] = rng.choice(VALUES) + rng.choice(["", "", "x", "@example.com"])
            elif roll < 0.7:
                ctx[attr] = rng.choice([7, 1.5, True, ["pro"]])
        out.append(ctx)
    return out
