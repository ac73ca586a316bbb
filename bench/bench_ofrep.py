"""Flags for other languages: OFREP throughput and latency, and the kill switch reaching Node.

`turnout flags serve` runs as its own process on a throwaway redis-server; a
keep-alive aiohttp client sends single and bulk evaluations with a fixed number
of requests in flight and times each. Then a real Node OpenFeature client
(tests/node, `npm ci`) per mode — OFREP and the flagd in-process file kept by
`turnout flags sync` — evaluates a flag in a loop while `turnout flags off`
turns it off; the row is the time from the write's commit to the Node
process's first DISABLED answer. The file mode runs twice: the provider alone
(Node's fs.watchFile polls every 5 007 ms) and with deploy/flagd-file-poll.cjs
preloaded, as deploy/flags.yaml runs the app (the provider's poll every 250 ms).
A further Node client follows `turnout flags sync --to grpc://` (flagd's gRPC
sync stream, each change pushed) and evaluates only when its provider reports
the pushed change. The in-process row is the same flag
through `Evaluator`, for the comparison.

Run alone: `python bench/bench_ofrep.py`.
"""

from __future__ import annotations

import asyncio
import json
import os
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import timeit
from datetime import datetime
from pathlib import Path
from typing import Any

import aiohttp

from turnout.backend.demo.flags import demo_flag_store
from turnout.backend.flags.evaluate import Evaluator
from turnout.backend.flags.redis_store import RedisStore
from turnout.backend.gate import WriteGate

REPO = Path(__file__).resolve().parents[1]
NODE_DIR = REPO / "tests" / "node"
FILE_POLL = REPO / "deploy" / "flagd-file-poll.cjs"
TURNOUT = [sys.executable, "-m", "turnout.backend"]
SINGLE_REQUESTS, BULK_REQUESTS, IN_FLIGHT = 4000, 1000, 16
KILL_ROUNDS = 5


def _row(name: str, value: float, unit: str) -> dict[str, Any]:
    return {"name": name, "value": round(value, 3), "unit": unit}


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _seed(url: str) -> None:
    async def seed() -> None:
        store = RedisStore(url, WriteGate())
        demo = await demo_flag_store(WriteGate()).snapshot()
        await store.import_flagset(demo, by="bench", reason="seed")
        await store.close()

    asyncio.run(seed())


def _start(argv: list[str]) -> subprocess.Popen[str]:
    return subprocess.Popen([*TURNOUT, *argv], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                            env={**os.environ, "TURNOUT_OFREP_TOKEN": ""})


def _stop(proc: subprocess.Popen[str]) -> None:
    proc.terminate()
    try:
        proc.wait(timeout=20)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(timeout=20)


async def _load(url: str, path: str, bodies: list[bytes]) -> tuple[float, list[float]]:
    """(requests per second, per-request seconds) with IN_FLIGHT requests at a time."""
    latencies: list[float] = []
    queue = list(reversed(bodies))
    headers = {"Content-Type": "application/json"}
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=IN_FLIGHT)) as http:

        async def worker() -> None:
            while queue:
                body = queue.pop()
                started = time.perf_counter()
                async with http.post(url + path, data=body, headers=headers) as response:
                    await response.read()
                    assert response.status == 200, response.status
                latencies.append(time.perf_counter() - started)

        began = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(IN_FLIGHT)))
        elapsed = time.perf_counter() - began
    return len(bodies) / elapsed, latencies


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def bench_ofrep(url: str, flags: int) -> list[dict[str, Any]]:
    single = [json.dumps({"context": {"targetingKey": f"user-{i}", "email": f"u{i}@corp.io"}}).encode()
              for i in range(SINGLE_REQUESTS)]
    bulk = single[:BULK_REQUESTS]
    rows = []
    for name, path, bodies, per in (("single", "/ofrep/v1/evaluate/flags/search-ranking", single, 1),
                                    ("bulk", "/ofrep/v1/evaluate/flags", bulk, flags)):
        asyncio.run(_load(url, path, bodies[:200]))  # warm up connections and the reader
        rate, latencies = asyncio.run(_load(url, path, bodies))
        label = f"ofrep {name} ({IN_FLIGHT} in flight" + (f", {flags} flags/response)" if per > 1 else ")")
        rows += [
            _row(f"{label}: evaluations/s", rate * per, "/s"),
            _row(f"{label}: latency p50", _percentile(latencies, 0.50) * 1e3, "ms"),
            _row(f"{label}: latency p99", _percentile(latencies, 0.99) * 1e3, "ms"),
        ]
    return rows


def bench_in_process() -> list[dict[str, Any]]:
    flagset = asyncio.run(demo_flag_store(WriteGate()).snapshot())
    evaluator = Evaluator(flagset)
    users = [{"targetingKey": f"user-{i}", "email": f"u{i}@corp.io"} for i in range(1000)]
    best = min(timeit.repeat(lambda: [evaluator.evaluate("search-ranking", u) for u in users],
                             number=1, repeat=5))
    return [_row("in-process Evaluator, same flag (for comparison)", best / len(users) * 1e6, "µs")]


def _kill_switch_once(url: str, mode: str, target: str, file_poll: bool) -> float:
    node = shutil.which("node")
    assert node is not None
    preload = ["--require", str(FILE_POLL)] if file_poll else []
    env = {**os.environ, "FLAGD_OFFLINE_FLAG_SOURCE_PATH": target} if file_poll else None
    argv = [node, *preload, "watch.mjs", mode, target, "new-checkout", "boolean", "user-3"]
    watcher = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=NODE_DIR,
                               env=env)
    try:
        assert watcher.stdout is not None and watcher.stderr is not None
        ready = watcher.stdout.readline()
        assert ready.startswith("ready "), f"node watch.mjs {mode}: {ready!r} {watcher.stderr.read()[-1000:]}"
        off = subprocess.run([*TURNOUT, "flags", "off", "new-checkout", "--flags-url", url, "-o", "json",
                              "--yes"], capture_output=True, text=True, timeout=60, check=True)
        written = datetime.fromisoformat(json.loads(off.stdout)["updated_at"]).timestamp()
        while (line := watcher.stdout.readline()).startswith("changed "):
            pass  # the gRPC watcher's change events, before its DISABLED answer
        seen = line.split()
        assert seen and seen[0] == "disabled", line
        return int(seen[1]) / 1000 - written
    finally:
        if watcher.poll() is None:
            watcher.kill()
        watcher.wait(timeout=20)
        subprocess.run([*TURNOUT, "flags", "on", "new-checkout", "--flags-url", url, "--yes"],
                       capture_output=True, timeout=60, check=True)


def _file_replaced_once(url: str, synced: Path, on: bool) -> float:
    async def flip() -> float:
        store = RedisStore(url, WriteGate())
        try:
            saved = await store.set_enabled("new-checkout", on, by="bench", reason="")
        finally:
            await store.close()
        assert saved.updated_at is not None
        return saved.updated_at.timestamp()

    written = asyncio.run(flip())
    state = "ENABLED" if on else "DISABLED"
    deadline = time.monotonic() + 30
    while json.loads(synced.read_text())["flags"]["new-checkout"]["state"] != state:
        assert time.monotonic() < deadline, "the sync did not rewrite the file"
        time.sleep(0.001)
    return time.time() - written


def bench_sync(url: str, synced: Path) -> list[dict[str, Any]]:
    delays = []
    for _ in range(10):
        delays.append(_file_replaced_once(url, synced, False))
        _file_replaced_once(url, synced, True)
    return [_row("kill switch -> flagd file replaced by turnout flags sync, median",
                 statistics.median(delays) * 1e3, "ms"),
            _row("kill switch -> flagd file replaced by turnout flags sync, max", max(delays) * 1e3, "ms")]


def bench_kill_switch(url: str, serving: str, synced: Path, streaming: str) -> list[dict[str, Any]]:
    if shutil.which("node") is None or not (NODE_DIR / "node_modules").is_dir():
        return [_row("skipped: Node clients not installed (make node-deps)", 0.0, "")]
    rows = []
    for mode, target, poll, label in (
            ("ofrep", serving, False, "OFREP provider (a request per evaluation)"),
            ("flagd", str(synced), False, "flagd file, provider's own 5 s poll"),
            ("flagd", str(synced), True, "flagd file, 250 ms poll (flagd-file-poll.cjs)"),
            ("flagd-grpc", streaming, False, "flagd in-process gRPC sync (pushed)")):
        delays = []
        for _ in range(KILL_ROUNDS):
            delays.append(_kill_switch_once(url, mode, target, poll))
            time.sleep(1.0)  # the sync has rewritten the file with the flag back on
        rows += [_row(f"kill switch -> Node {label}, median", statistics.median(delays) * 1e3, "ms"),
                 _row(f"kill switch -> Node {label}, max", max(delays) * 1e3, "ms")]
    return rows


def run() -> list[dict[str, Any]]:
    """Every figure as {"name", "value", "unit"} rows."""
    binary = shutil.which("redis-server")
    if binary is None:
        return [_row("skipped: redis-server not installed", 0.0, "")]
    port = _free_port()
    redis = subprocess.Popen([binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                              "--appendonly", "no"], stdout=subprocess.DEVNULL)
    url = f"redis://127.0.0.1:{port}/0"
    procs: list[subprocess.Popen[str]] = []
    try:
        time.sleep(0.3)
        _seed(url)
        serve = _start(["flags", "serve", "--flags-url", url, "--port", "0", "--rate", "1e9",
                        "--burst", "1000000000"])
        procs.append(serve)
        assert serve.stdout is not None
        serving = serve.stdout.readline().strip()
        with tempfile.TemporaryDirectory() as folder:
            synced = Path(folder) / "flags.json"
            procs.append(_start(["flags", "sync", "--flags-url", url, "--to", synced.as_uri()]))
            stream = _start(["flags", "sync", "--flags-url", url, "--to", "grpc://127.0.0.1:0"])
            procs.append(stream)
            assert stream.stdout is not None
            streaming = stream.stdout.readline().strip().removeprefix("grpc://")
            while not synced.exists():
                time.sleep(0.05)
            flags = len(asyncio.run(demo_flag_store(WriteGate()).snapshot()).flags)
            rows = bench_in_process() + bench_ofrep(serving, flags) + bench_sync(url, synced)
            rows += bench_kill_switch(url, serving, synced, streaming)
    finally:
        for proc in procs:
            _stop(proc)
        redis.terminate()
        redis.wait()
    return rows


if __name__ == "__main__":
    for row in run():
        print(f"{row['name']:<72} {row['value']:>10} {row['unit']}")
