"""Flag evaluation beside the SDKs, and kill-switch propagation through Redis.

Same flags, same contexts, same run: Turnout's compiled evaluator, the
LaunchDarkly Python SDK (file data source), openfeature-flagd-core on the
exported flagd JSON, and GrowthBook. Then one writer turns a flag off and
several reader processes (each a `FlagReader` on the Redis store) report
when they saw it: the propagation time.

Run alone: `python bench/bench_flags.py`.
"""

from __future__ import annotations

import asyncio
import json
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import timeit
from collections.abc import Callable
from pathlib import Path
from typing import Any

from turnout.backend.flags.codec import convert, flagset_from_obj
from turnout.backend.flags.evaluate import Evaluator
from turnout.backend.flags.flagd_export import export_flagd
from turnout.backend.flags.model import Flag
from turnout.backend.flags.reader import FlagReader
from turnout.backend.flags.redis_store import RedisStore
from turnout.backend.gate import WriteGate

USERS = [
    {"targetingKey": f"user-{i}", "email": f"u{i}@{'example.com' if i % 7 == 0 else 'corp.io'}"}
    for i in range(1000)
]
BATCH_FLAGS = 50
READERS = 4

SIMPLE = {"key": "simple", "on": True, "rollout": {"on": 25, "off": 75}}
TARGETED = {
    "key": "targeted",
    "kind": "string",
    "on": True,
    "variants": {"control": "old", "blue": "blue-cta", "green": "green-cta"},
    "off_variant": "control",
    "default_variant": "control",
    "targets": {"blue": ["user-13", "user-14"]},
    "rules": [{"segment": "beta", "variant": "green"}, {"segment": "internal", "variant": "blue"}],
    "rollout": {"control": 34, "blue": 33, "green": 33},
}
SEGMENTS = {
    "beta": {"key": "beta", "users": ["user-7", "user-42", "user-99"]},
    "internal": {
        "key": "internal",
        "conditions": [{"attribute": "email", "op": "ends_with", "values": ["@example.com"]}],
    },
}


def _per_call(fn: Callable[[], Any], calls: int) -> float:
    """Best of 5 runs, microseconds per call."""
    runs = timeit.repeat(fn, number=1, repeat=5)
    return min(runs) / calls * 1e6


def _loop(evaluate: Callable[[dict[str, Any]], Any]) -> Callable[[], None]:
    def run() -> None:
        for user in USERS:
            evaluate(user)

    return run


def _document() -> dict[str, Any]:
    flags = {"simple": SIMPLE, "targeted": TARGETED}
    for i in range(BATCH_FLAGS):
        flags[f"batch-{i}"] = {"key": f"batch-{i}", "on": True, "rollout": {"on": i * 2, "off": 100 - i * 2}}
    return {"segments": SEGMENTS, "flags": flags}


def bench_turnout(doc: dict[str, Any]) -> list[dict[str, Any]]:
    evaluator = Evaluator(flagset_from_obj(doc))
    batch = Evaluator(
        flagset_from_obj({"flags": {k: v for k, v in doc["flags"].items() if k.startswith("batch-")}})
    )
    n = len(USERS)
    return [
        _row(
            "turnout: simple flag (25% rollout)",
            _per_call(_loop(lambda u: evaluator.evaluate("simple", u)), n),
        ),
        _row(
            "turnout: targeted A/B (targets, 2 segments, 3-way split)",
            _per_call(_loop(lambda u: evaluator.evaluate("targeted", u)), n),
        ),
        _row(
            f"turnout: batch, per flag ({BATCH_FLAGS} flags)",
            _per_call(_loop(batch.evaluate_all), n * BATCH_FLAGS),
        ),
    ]


def _row(name: str, value: float, unit: str = "µs") -> dict[str, Any]:
    return {"name": name, "value": round(value, 3), "unit": unit}


def bench_flagd(doc: dict[str, Any]) -> list[dict[str, Any]]:
    from openfeature.contrib.tools.flagd.core import FlagdCore
    from openfeature.evaluation_context import EvaluationContext

    core = FlagdCore()
    core.set_flags(export_flagd(flagset_from_obj(doc)))
    contexts = [EvaluationContext(u["targetingKey"], {"email": u["email"]}) for u in USERS]

    def loop(fn: Callable[[Any], Any]) -> Callable[[], None]:
        return lambda: [fn(c) for c in contexts] and None

    n = len(USERS)
    return [
        _row(
            "flagd-core: simple flag",
            _per_call(loop(lambda c: core.resolve_boolean_value("simple", False, c)), n),
        ),
        _row(
            "flagd-core: targeted A/B",
            _per_call(loop(lambda c: core.resolve_string_value("targeted", "x", c)), n),
        ),
    ]


def _ld_flag(key: str, variations: list[Any], fallthrough: dict[str, Any], **extra: Any) -> dict[str, Any]:
    return {
        "key": key,
        "version": 1,
        "on": True,
        "variations": variations,
        "offVariation": 0,
        "fallthrough": fallthrough,
        "salt": key,
        "targets": [],
        "rules": [],
        **extra,
    }


def bench_launchdarkly() -> list[dict[str, Any]]:
    from ldclient import Config, Context, LDClient
    from ldclient.integrations import Files

    split = {
        "rollout": {"variations": [{"variation": 1, "weight": 25000}, {"variation": 0, "weight": 75000}]}
    }
    ab = {
        "rollout": {
            "variations": [{"variation": i, "weight": w} for i, w in enumerate((34000, 33000, 33000))]
        }
    }
    rules = [
        {
            "id": "beta",
            "variation": 2,
            "clauses": [{"attribute": "key", "op": "in", "values": ["user-7", "user-42", "user-99"]}],
        },
        {
            "id": "internal",
            "variation": 1,
            "clauses": [{"attribute": "email", "op": "endsWith", "values": ["@example.com"]}],
        },
    ]
    flags = {
        "simple": _ld_flag("simple", [False, True], split),
        "targeted": _ld_flag(
            "targeted",
            ["old", "blue-cta", "green-cta"],
            ab,
            targets=[{"values": ["user-13", "user-14"], "variation": 1}],
            rules=rules,
        ),
    }
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as handle:
        json.dump({"flags": flags}, handle)
    source = Files.new_data_source(paths=[handle.name])
    client = LDClient(
        Config("sdk-key", update_processor_class=source, send_events=False, diagnostic_opt_out=True)
    )
    contexts = [Context.builder(u["targetingKey"]).set("email", u["email"]).build() for u in USERS]
    n = len(USERS)
    rows = [
        _row(
            "launchdarkly sdk: simple flag",
            _per_call(lambda: [client.variation("simple", c, False) for c in contexts] and None, n),
        ),
        _row(
            "launchdarkly sdk: targeted A/B",
            _per_call(lambda: [client.variation("targeted", c, "x") for c in contexts] and None, n),
        ),
    ]
    client.close()
    Path(handle.name).unlink()
    return rows


def bench_growthbook() -> list[dict[str, Any]]:
    from growthbook import GrowthBook

    features = {
        "simple": {
            "defaultValue": False,
            "rules": [{"force": True, "coverage": 0.25, "hashAttribute": "id"}],
        },
        "targeted": {
            "defaultValue": "old",
            "rules": [
                {"force": "blue-cta", "condition": {"id": {"$in": ["user-13", "user-14"]}}},
                {"force": "green-cta", "condition": {"id": {"$in": ["user-7", "user-42", "user-99"]}}},
                {"force": "blue-cta", "condition": {"email": {"$regex": "@example\\.com$"}}},
                {
                    "key": "targeted",
                    "variations": ["old", "blue-cta", "green-cta"],
                    "weights": [0.34, 0.33, 0.33],
                },
            ],
        },
    }
    gb = GrowthBook(attributes={}, features=features)
    attributes = [{"id": u["targetingKey"], "email": u["email"]} for u in USERS]

    def loop(key: str) -> Callable[[], None]:
        def run() -> None:
            for attrs in attributes:
                gb.set_attributes(attrs)  # switching user is part of a per-request evaluation
                gb.eval_feature(key)

        return run

    n = len(USERS)
    return [
        _row("growthbook: simple flag", _per_call(loop("simple"), n)),
        _row("growthbook: targeted A/B", _per_call(loop("targeted"), n)),
    ]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def _reader_main(url: str) -> None:
    """In a reader process: report when the kill switch is seen, with a wall-clock stamp."""
    reader = FlagReader(RedisStore(url, WriteGate()))
    await reader.start()
    context = {"targetingKey": "user-1"}
    print("ready", flush=True)
    for _ in range(int(sys.stdin.readline())):
        while not reader.is_enabled("kill-me", context):
            await asyncio.sleep(0.0005)
        while reader.is_enabled("kill-me", context):
            await asyncio.sleep(0.0005)
        print(time.time(), flush=True)
    await reader.close()


async def _propagation(url: str, rounds: int) -> list[float]:
    store = RedisStore(url, WriteGate())
    await store.accept_empty(by="bench", reason="a new store")
    flag = convert({"key": "kill-me", "on": True, "default_variant": "on"}, Flag, "bench")
    await store.put(flag, expected_version=None, by="bench", reason="")
    procs = [
        subprocess.Popen(
            [sys.executable, __file__, "--reader", url],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        for _ in range(READERS)
    ]
    for proc in procs:
        assert proc.stdout and proc.stdout.readline().strip() == "ready"
        assert proc.stdin
        proc.stdin.write(f"{rounds}\n")
        proc.stdin.flush()
    delays = []
    for _ in range(rounds):
        await store.set_enabled("kill-me", True, by="bench", reason="")
        await asyncio.sleep(0.3)
        start = time.time()
        await store.set_enabled("kill-me", False, by="bench", reason="")
        seen = [float(p.stdout.readline()) for p in procs if p.stdout]
        delays.append(max(seen) - start)
    for proc in procs:
        proc.wait(timeout=10)
    await store.close()
    return delays


def bench_propagation() -> list[dict[str, Any]]:
    binary = shutil.which("redis-server")
    if binary is None:
        return []
    port = _free_port()
    server = subprocess.Popen(
        [binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
        stdout=subprocess.DEVNULL,
    )
    try:
        time.sleep(0.3)
        delays = asyncio.run(_propagation(f"redis://127.0.0.1:{port}/0", rounds=10))
    finally:
        server.terminate()
        server.wait()
    return [
        _row(
            f"kill-switch propagation to {READERS} reader processes, median",
            statistics.median(delays) * 1e3,
            "ms",
        ),
        _row(f"kill-switch propagation to {READERS} reader processes, max", max(delays) * 1e3, "ms"),
    ]


def run() -> list[dict[str, Any]]:
    """Every figure as {"name", "value", "unit"} rows."""
    doc = _document()
    rows = bench_turnout(doc)
    for peer in (lambda: bench_flagd(doc), bench_launchdarkly, bench_growthbook):
        try:
            rows += peer()
        except ImportError as exc:  # the `bench` extra is optional
            rows.append(_row(f"skipped: {exc.name} not installed", 0.0, ""))
    return rows + bench_propagation()


if __name__ == "__main__":
    if len(sys.argv) == 3 and sys.argv[1] == "--reader":
        asyncio.run(_reader_main(sys.argv[2]))
    else:
        for row in run():
            print(f"{row['name']:<62} {row['value']:>10} {row['unit']}")
