"""The real Node OpenFeature clients against Turnout backed by the lab's Redis.

Per mode (OFREP via `turnout flags serve`, flagd in-process via `turnout flags sync` to a
file or as flagd's gRPC sync stream):
10 000 random contexts over the demo's flags and a generated set resolve to
Turnout's own variants, and `turnout flags off` reaches the running Node process.
The propagation time is printed (and measured by `make bench`); the bound asserted
here is deliberately generous, since a loaded CI machine must not fail it.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.support.processes import TURNOUT, Processes, wait_for
from turnout.backend.flags.evaluate import Evaluator, Reason
from turnout.backend.flags.jsmurmur import js_murmur3
from turnout.backend.flags.model import FlagSet
from turnout.backend.flags.redis_store import RedisStore
from turnout.backend.gate import WriteGate

from .conftest import FILE_POLL, NodeClients, installed_flagd_rule
from .flagsets import contexts, cross_check_flagset

CONTEXTS = 10_000
TOKEN = "node-test-token"


def _seed(url: str, flagset: FlagSet) -> FlagSet:
    async def seed() -> FlagSet:
        store = RedisStore(url, WriteGate())
        try:
            await store.import_flagset(flagset, by="node-test", reason="seed")
            return await store.snapshot()
        finally:
            await store.close()

    return asyncio.run(seed())


def _request(flagset: FlagSet, ctxs: list[dict[str, Any]], per_context: int | None = None
             ) -> tuple[list[list[str]], str]:
    """The Node program's input, and for each context the flag keys it evaluates (all, or a
    rotating `per_context` of them: every OFREP evaluation is an HTTP request)."""
    keys = sorted(flagset.flags)
    flags = [{"key": k, "kind": flagset.flags[k].kind} for k in keys]
    if per_context is None:
        return [keys] * len(ctxs), json.dumps({"flags": flags, "contexts": ctxs})
    pick = [[(i * per_context + j) % len(keys) for j in range(per_context)] for i in range(len(ctxs))]
    chosen = [[keys[j] for j in row] for row in pick]
    return chosen, json.dumps({"flags": flags, "contexts": ctxs, "pick": pick})


def _serve(store_url: str, processes: Processes) -> str:
    _, url = processes.listening(["flags", "serve", "--flags-url", store_url, "--port", "0", "--rate",
                                  "1000000", "--burst", "1000000"], "http://127.0.0.1:",
                                 TURNOUT_OFREP_TOKEN=TOKEN)
    return url


def _sync(store_url: str, target: Path, processes: Processes) -> None:
    processes.turnout(["flags", "sync", "--flags-url", store_url, "--to", target.as_uri()])
    wait_for(target.exists, "the sync wrote the file")


def _sync_grpc(store_url: str, processes: Processes) -> str:
    """`flags sync --to grpc://127.0.0.1:0`; the HOST:PORT it listens on."""
    _, url = processes.listening(["flags", "sync", "--flags-url", store_url, "--to", "grpc://127.0.0.1:0"],
                                 "grpc://127.0.0.1:")
    return url.removeprefix("grpc://")


def _compare(flagset: FlagSet, keys: list[list[str]], ctxs: list[dict[str, Any]], output: str, *,
             disabled_has_variant: bool) -> int:
    ours = Evaluator(flagset)
    rows = [json.loads(line) for line in output.splitlines()]
    assert len(rows) == len(ctxs)
    checked = 0
    for ctx, row, row_keys in zip(ctxs, rows, keys, strict=True):
        for key, (variant, reason, error) in zip(row_keys, row, strict=True):
            expected = ours.evaluate(key, ctx)
            assert error is None, (key, ctx, error)
            if expected.reason == Reason.DISABLED:
                # flagd serves a disabled flag as the code default (no variant); OFREP as the off variant
                served = expected.variant if disabled_has_variant else None
                assert reason == "DISABLED" and variant == served
            else:
                assert variant == expected.variant, (key, ctx, variant, expected)
            checked += 1
    return checked


@pytest.mark.lab
def test_node_flagd_in_process_agrees_with_turnout_on_10000_contexts(
    node_clients: NodeClients, store_url: str, tmp_path: Path, processes: Processes
) -> None:
    version, rule = installed_flagd_rule()
    assert (version, rule) == ("4.0.1", "concat")  # the pinned version still hashes flagKey+targetingKey
    flagset = _seed(store_url, cross_check_flagset(rule))  # type: ignore[arg-type]
    target = tmp_path / "flags.json"
    _sync(store_url, target, processes)
    ctxs = contexts(CONTEXTS)
    keys, request = _request(flagset, ctxs)
    output = node_clients.run("evaluate.mjs", "flagd", str(target), stdin=request)
    assert _compare(flagset, keys, ctxs, output, disabled_has_variant=False) == CONTEXTS * len(flagset.flags)


@pytest.mark.lab
def test_node_flagd_grpc_sync_agrees_with_turnout_on_10000_contexts(
    node_clients: NodeClients, store_url: str, processes: Processes
) -> None:
    _, rule = installed_flagd_rule()
    flagset = _seed(store_url, cross_check_flagset(rule))  # type: ignore[arg-type]
    address = _sync_grpc(store_url, processes)
    ctxs = contexts(CONTEXTS, seed=5)
    keys, request = _request(flagset, ctxs)
    output = node_clients.run("evaluate.mjs", "flagd-grpc", address, stdin=request)
    assert _compare(flagset, keys, ctxs, output, disabled_has_variant=False) == CONTEXTS * len(flagset.flags)


@pytest.mark.lab
def test_node_ofrep_agrees_with_turnout_on_10000_contexts(
    node_clients: NodeClients, store_url: str, processes: Processes
) -> None:
    flagset = _seed(store_url, cross_check_flagset("cbor"))
    url = _serve(store_url, processes)
    ctxs = contexts(CONTEXTS, seed=8)
    keys, request = _request(flagset, ctxs, per_context=2)  # every flag ~1 200 times
    output = node_clients.run("evaluate.mjs", "ofrep", url, TOKEN, stdin=request, timeout=400)
    assert _compare(flagset, keys, ctxs, output, disabled_has_variant=True) == CONTEXTS * 2


def _kill_switch_seconds(node_clients: NodeClients, store_url: str, mode: str, target: str) -> float:
    return _kill_switch(node_clients, store_url, mode, target)[0]


def _kill_switch(node_clients: NodeClients, store_url: str, mode: str, target: str, *,
                 file_poll: bool = False, ready_with: str = "") -> tuple[float, list[str]]:
    """Seconds from the write's commit to the watcher's DISABLED answer, and the lines the
    watcher printed on the way (the change events it saw). `file_poll`: the app loads
    deploy/flagd-file-poll.cjs as deploy/flags.yaml does (NODE_OPTIONS=--require)."""
    args = ["watch.mjs", mode, target, "new-checkout", "boolean", "user-3"]
    preload = ("--require", str(FILE_POLL)) if file_poll else ()
    env = {"FLAGD_OFFLINE_FLAG_SOURCE_PATH": target} if file_poll else None
    watcher = node_clients.start(*args, *([TOKEN] if mode == "ofrep" else []), node_options=preload, env=env)
    try:
        assert watcher.stdout is not None
        ready = watcher.stdout.readline()
        assert ready.startswith("ready ") and "DISABLED" not in ready, ready
        assert ready_with in ready, ready
        off = subprocess.run([*TURNOUT, "flags", "off", "new-checkout", "--flags-url", store_url,
                              "--reason", "node kill-switch test", "-o", "json", "--yes"],
                             capture_output=True, text=True, timeout=60, stdin=subprocess.DEVNULL)
        assert off.returncode == 0, off.stderr
        # The write's own timestamp (stamped as it is committed), not the CLI's exit.
        written = datetime.fromisoformat(json.loads(off.stdout)["updated_at"]).timestamp()
        seen: list[str] = []
        while (line := watcher.stdout.readline()).startswith("changed "):
            seen.append(line)
        # the watcher exits once it sees DISABLED
        assert line.startswith("disabled "), (line, watcher.stderr.read() if watcher.stderr else "")
        return int(line.split()[1]) / 1000 - written, seen
    finally:
        if watcher.poll() is None:
            watcher.kill()
        watcher.wait(timeout=30)


@pytest.mark.lab
def test_kill_switch_reaches_the_node_ofrep_client(
    node_clients: NodeClients, store_url: str, processes: Processes
) -> None:
    _seed(store_url, cross_check_flagset("cbor"))
    seconds = _kill_switch_seconds(node_clients, store_url, "ofrep", _serve(store_url, processes))
    print(f"kill switch -> Node OFREP client: {seconds * 1000:.0f} ms")
    # Every OFREP evaluation is a request: the next one after the reader's reload. The bound
    # catches a kill switch left to the reader's TTL (minutes); how fast is for `make bench`.
    assert 0 <= seconds < 30


@pytest.mark.lab
@pytest.mark.parametrize(("file_poll", "listeners"), [(False, 1), (True, 2)],
                         ids=["provider's own poll", "deploy/flagd-file-poll.cjs"])
def test_kill_switch_reaches_the_node_flagd_file_client(
    node_clients: NodeClients, store_url: str, tmp_path: Path, processes: Processes,
    file_poll: bool, listeners: int
) -> None:
    """The provider alone polls the file with fs.watchFile's default, every 5 007 ms (one
    listener). With the preload the file's one poller has two listeners: the preload started
    it (250 ms) and the provider's joined it, so the provider polls at the preload's interval."""
    _seed(store_url, cross_check_flagset("concat"))
    target = tmp_path / "flags.json"
    _sync(store_url, target, processes)
    seconds, _ = _kill_switch(node_clients, store_url, "flagd", str(target), file_poll=file_poll,
                              ready_with=f"file-listeners={listeners}")
    print(f"kill switch -> Node flagd file client (file_poll={file_poll}): {seconds * 1000:.0f} ms")
    assert 0 <= seconds < 30


@pytest.mark.lab
def test_kill_switch_is_pushed_to_the_node_flagd_grpc_client(
    node_clients: NodeClients, store_url: str, processes: Processes
) -> None:
    _seed(store_url, cross_check_flagset("concat"))
    seconds, seen = _kill_switch(node_clients, store_url, "flagd-grpc", _sync_grpc(store_url, processes))
    print(f"kill switch -> Node flagd gRPC sync client: {seconds * 1000:.0f} ms")
    # The watcher evaluates nothing until the provider reports a pushed change naming the flag;
    # DISABLED is its first evaluation after that event (no poll on either side).
    assert seen and "new-checkout" in json.loads(seen[-1].split(" ", 2)[2]), seen


@pytest.mark.lab
def test_bad_requests_to_the_served_endpoint_and_it_keeps_serving(
    store_url: str, processes: Processes
) -> None:
    _seed(store_url, cross_check_flagset("cbor"))
    url = _serve(store_url, processes)
    auth = {"Authorization": f"Bearer {TOKEN}", "Content-Type": "application/json"}
    one = f"{url}/ofrep/v1/evaluate/flags/"
    cases = [
        (one + "new-checkout", b'{"context": {"targetingKey": ', auth, 400, "PARSE_ERROR"),
        (one + "new-checkout", b'{"context": {"targetingKey": "' + b"x" * (1 << 20) + b'"}}', auth, 400,
         "INVALID_CONTEXT"),
        (one + "no-such-flag", b'{"context": {"targetingKey": "a"}}', auth, 404, "FLAG_NOT_FOUND"),
        (one + "new-checkout", b'{"context": {"email": "a@x.org"}}', auth, 400, "TARGETING_KEY_MISSING"),
        (one + "new-checkout", b'{"context": {"targetingKey": "a"}}', {}, 401, None),
    ]
    with httpx.Client(timeout=30) as http:
        for path, body, headers, status, code in cases:
            response = http.post(path, content=body, headers=headers)
            assert response.status_code == status, (path, response.text)
            if code is not None:
                assert response.json()["errorCode"] == code
            fine = http.post(one + "new-checkout", json={"context": {"targetingKey": "a"}}, headers=auth)
            assert fine.status_code == 200 and fine.json()["key"] == "new-checkout"


def test_the_js_hash_port_matches_node_imurmurhash_on_10000_strings(node_clients: NodeClients) -> None:
    import random

    rng = random.Random(11)
    pools = [(0x20, 0x7F), (0x80, 0x100), (0x100, 0x800), (0x4E00, 0xA000), (0xE000, 0x10000),
             (0x10000, 0x10400), (0x80, 0xD800)]
    texts = ["".join(chr(rng.randrange(*rng.choice(pools))) for _ in range(rng.randrange(0, 24)))
             for _ in range(10_000)]
    program = ("import M from 'imurmurhash'; import { readFileSync } from 'node:fs';"
               "for (const s of JSON.parse(readFileSync(0, 'utf8'))) console.log(new M(s).result() >>> 0);")
    done = subprocess.run([node_clients.node, "--input-type=module", "-e", program], input=json.dumps(texts),
                          capture_output=True, text=True, cwd=node_clients.folder, timeout=120)
    assert done.returncode == 0, done.stderr
    theirs = [int(v) for v in done.stdout.split()]
    assert theirs == [js_murmur3(t) for t in texts]


@pytest.mark.parametrize("given", ["abc", "0.5", "5", "60000"])
def test_the_poll_preload_refuses_a_bad_interval_in_one_line(node_clients: NodeClients, given: str,
                                                             tmp_path: Path) -> None:
    done = subprocess.run([node_clients.node, "--require", str(FILE_POLL), "-e", "console.log('app ran')"],
                          capture_output=True, text=True, timeout=60,
                          env={"FLAGD_OFFLINE_FLAG_SOURCE_PATH": str(tmp_path / "flags.json"),
                               "TURNOUT_FLAGD_POLL_MS": given})
    assert done.returncode == 2 and "app ran" not in done.stdout
    assert done.stderr.count("\n") == 1 and "TURNOUT_FLAGD_POLL_MS" in done.stderr


def test_the_poll_preload_lets_an_app_run_and_exit(node_clients: NodeClients) -> None:
    # Not persistent: a process that has nothing else to do exits though the poller runs.
    argv = [node_clients.node, "--require", str(FILE_POLL), "-e", "console.log('app ran')"]
    for env in ({}, {"FLAGD_OFFLINE_FLAG_SOURCE_PATH": "/nonexistent/flags.json"}):
        done = subprocess.run(argv, capture_output=True, text=True, timeout=60, env=env)
        assert done.returncode == 0 and done.stdout == "app ran\n", done.stderr
