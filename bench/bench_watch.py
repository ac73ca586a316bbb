"""10 000 pods through the real watch: the TUI on the lab's API server, under pod churn.

The lab gets one app, `fleet`, with 10 000 bare pods (5 000 per color) bound to the kwok
fake nodes: kwok runs them, no scheduler or ReplicaSet is involved, and they carry the app's
labels so Turnout counts them as the app's. The TUI then opens on that namespace through the
one assembly (the Kubernetes adapter, its list + watch cache), headless under Textual's
Pilot, while another process patches pods at about 100 changes/s.

Figures: first render (start to the overview's row of the app painted: its live color and
weights, its pods still loading), all 10 000 pods in (that row painted again), the app screen
opened, the refresh frame under churn (read every app from the watch cache, post it, let
the screens repaint), the event loop's worst stall under churn, peak resident memory, and
the watch cache's catch-up after a forced relist (its pod watch listing all 10 000 pods
again under churn, as after a 410, then watching: in sync again). Beside them, the same
figures for the demo backend at 10 000 pods (bench_tui's measurement, in a process of its own).

Pods are created and patched from child processes (keep-alive HTTPS, several threads), so
neither their CPU nor their memory is counted in the TUI's figures.
"""

from __future__ import annotations

import asyncio
import gzip
import http.client
import itertools
import json
import os
import resource
import signal
import ssl
import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

REPO = Path(__file__).resolve().parents[1]
PODS = 10_000
CHURN_PER_SECOND = 100
SAMPLES = 41
"""Frames measured under churn: a frame that meets one of the app's own refreshes (paced at
4 a second by the watch's events) takes several times one that does not, so the median needs
more than a few samples to settle."""
SIZE = (120, 40)
GOALS = {"first render": 1.0, "frame": 0.050, "memory": 200.0}
THREADS = 8
CHURN_THREADS = 16
"""Connections patching pods at once: up to this many changes in flight."""
CATCH_UP_BOUND = 180.0
"""Seconds the catch-up after a forced relist is waited for before it is reported as not done."""


# --- the lab and its load (run in child processes) -----------------------------------


def lab_env() -> tuple[dict[str, Any], bool]:
    """The running lab's env.json, starting a lab when none is up (then stopped at the end)."""
    labctl = [sys.executable, str(REPO / "lab" / "labctl.py")]
    started = False
    if subprocess.run([*labctl, "status"], capture_output=True).returncode != 0:
        subprocess.run([*labctl, "up"], check=True, stdout=subprocess.DEVNULL)
        started = True
    folder = Path(os.environ.get("TURNOUT_LAB_DIR", REPO / ".lab"))
    return dict(json.loads((folder / "env.json").read_text())), started


class Client:
    """One keep-alive HTTPS connection to the API server as the lab's admin."""

    def __init__(self, env: dict[str, Any]) -> None:
        folder = Path(env["lab_dir"])
        url = urlsplit(env["apiserver"])
        token = (folder / "pki" / "tokens.csv").read_text().split(",", 1)[0]
        context = ssl.create_default_context(cafile=str(folder / "pki" / "ca.crt"))
        self.conn = http.client.HTTPSConnection(url.hostname or "", url.port, context=context,
                                                timeout=60)
        self.headers = {"Authorization": f"Bearer {token}", "Accept": "application/json"}

    def send(self, method: str, path: str, body: object, kind: str = "application/json") -> int:
        self.conn.request(method, path, json.dumps(body),
                          {**self.headers, "Content-Type": kind})
        response = self.conn.getresponse()
        response.read()
        return response.status


def pod(namespace: str, color: str, index: int, node: str) -> dict[str, Any]:
    labels = {"app.kubernetes.io/name": "fleet", "turnout.dev/color": color,
              "app.kubernetes.io/version": "1.0.0"}
    return {"apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": f"fleet-{color}-{index:05d}", "namespace": namespace,
                         "labels": labels},
            "spec": {"nodeName": node, "containers": [
                {"name": "app", "image": "registry.local/fleet:1.0.0"}]}}


def pod_names(count: int) -> list[tuple[str, int]]:
    return [("blue" if i % 2 == 0 else "green", i // 2) for i in range(count)]


def seed(env: dict[str, Any], namespace: str, count: int) -> None:
    """The namespace, the app's Deployments (no replicas) and Services, then `count` pods."""
    sys.path.insert(0, str(REPO / "lab"))
    from lablib.seed import DemoApp, app_objects

    app = DemoApp("fleet", namespace, "none", versions=("1.0.0", "1.0.0"))
    client = Client(env)
    for obj in app_objects(app, {"blue": "", "green": ""}):
        if obj["kind"] == "Deployment":
            obj["spec"]["replicas"] = 0
        plural = {"Namespace": "namespaces", "Deployment": "deployments",
                  "Service": "services"}[obj["kind"]]
        base = "/apis/apps/v1" if obj["kind"] == "Deployment" else "/api/v1"
        path = f"{base}/{plural}" if plural == "namespaces" else \
            f"{base}/namespaces/{namespace}/{plural}"
        client.send("POST", path, obj)
    names, nodes = pod_names(count), env["nodes"]

    def create(part: int) -> None:
        mine = Client(env)
        for i in range(part, len(names), THREADS):
            color, index = names[i]
            status = mine.send("POST", f"/api/v1/namespaces/{namespace}/pods",
                               pod(namespace, color, index, nodes[i % len(nodes)]))
            if status >= 300 and status != 409:
                raise RuntimeError(f"creating a pod: HTTP {status}")
    threads = [threading.Thread(target=create, args=(p,)) for p in range(THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()


def churn(env: dict[str, Any], namespace: str, count: int, rate: float) -> None:
    """Patch one pod's annotation `rate` times a second, round-robin, until SIGTERM; print
    how many changes were made and over how long.

    The changes follow one schedule (change n is due n / rate seconds after the start) shared
    by CHURN_THREADS connections: a patch takes 50-100 ms at the API server on a busy
    machine, so one connection per change in flight (4 fixed-pace threads made 39-46/s)
    would cap the rate at the server's latency, not at `rate`."""
    stop = threading.Event()
    signal.signal(signal.SIGTERM, lambda *_: stop.set())
    names, made, began = pod_names(count), [0] * CHURN_THREADS, time.monotonic()
    tickets = itertools.count()  # next() on it is atomic under the GIL: each change once

    def patch(part: int) -> None:
        mine = Client(env)
        while not stop.is_set():
            n = next(tickets)
            stop.wait(max(0.0, began + n / rate - time.monotonic()))
            if stop.is_set():
                return
            color, index = names[n % len(names)]
            mine.send("PATCH", f"/api/v1/namespaces/{namespace}/pods/fleet-{color}-{index:05d}",
                      {"metadata": {"annotations": {"bench.turnout.dev/tick": str(n)}}},
                      "application/merge-patch+json")
            made[part] += 1
    threads = [threading.Thread(target=patch, args=(p,)) for p in range(CHURN_THREADS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    print(json.dumps({"changes": sum(made), "seconds": time.monotonic() - began}), flush=True)


def raw_list(env: dict[str, Any], namespace: str, query: str) -> tuple[float, int]:
    """Seconds to read every page of the namespace's pods (gzipped, as the TUI asks; bytes
    only, not decoded), and the pages: the floor for the TUI's own list of them."""
    client = Client(env)
    began, pages, token = time.perf_counter(), 0, ""
    while True:
        more = f"&continue={token}" if token else ""
        client.conn.request("GET", f"/api/v1/namespaces/{namespace}/pods?{query}{more}",
                            headers={**client.headers, "Accept-Encoding": "gzip"})
        answer = client.conn.getresponse()
        body = answer.read()
        if answer.getheader("Content-Encoding") == "gzip":
            body = gzip.decompress(body)
        pages += 1
        at = body.find(b'"continue":"')
        token = body[at + 12:body.index(b'"', at + 12)].decode() if at >= 0 else ""
        if not token:
            return time.perf_counter() - began, pages


def floor_rows(env: dict[str, Any], namespace: str) -> list[dict[str, Any]]:
    """The API server's own time to hand over the pods, beside the TUI's: pages of 500 read
    from etcd (a quorum read, what the TUI asks for), and resourceVersion=0 (any version, from
    the API server's watch cache; this server then ignores the limit and sends one page)."""
    rows = []
    for label, query in (("pages of 500, quorum read from etcd", "limit=500"),
                         ("resourceVersion=0, from the watch cache",
                          "limit=500&resourceVersion=0")):
        seconds, pages = min(raw_list(env, namespace, query) for _ in range(3))
        rows.append({"name": f"watch peer: raw list of {PODS} pods, {label} ({pages} pages)",
                     "value": seconds, "unit": "s"})
    return rows


def note(message: str) -> None:
    """Progress on stderr: a run takes minutes on a busy machine."""
    print(f"bench_watch: {message}", file=sys.stderr, flush=True)


def child(*args: str) -> list[str]:
    return [sys.executable, str(Path(__file__).resolve()), *args]


# --- the TUI on the lab --------------------------------------------------------------


async def lag_probe(stalls: list[float], stop: asyncio.Event, tick: float = 0.01) -> None:
    """How late the event loop wakes a 10 ms timer: no frame can paint while it is late."""
    while not stop.is_set():
        before = time.perf_counter()
        await asyncio.sleep(tick)
        stalls.append(time.perf_counter() - before - tick)


async def count_changes(changes: Any) -> int:
    """How many changes the watch cache announced until cancelled: one per watch event in the
    bench's namespace, the churn's patches and whatever else writes there meanwhile."""
    count = 0
    try:
        async for _ in changes:
            count += 1
    except asyncio.CancelledError:
        pass
    finally:
        await changes.aclose()
    return count


def watch_state(informer: Any) -> str:
    """Whether the pod watch's task still runs, and how it ended if not: what to look at when
    a relist was not seen."""
    task = informer._tasks.get("pods")
    if task is None or not task.done():
        return "running" if task else "absent"
    return "cancelled" if task.cancelled() else f"ended: {task.exception()!r}"


async def painted(app: Any) -> None:
    """Until the overview's table holds a row and the screen has been repainted since: the
    frame the operator sees. Not `Pilot.pause()`, which also waits (up to 1 s) for the
    process's CPU to go idle, and the pods' pages decoded behind the first frame keep it busy:
    that wait, not the TUI, was most of the first render's figure."""
    from textual.widgets import DataTable

    while True:
        table = app.screen.query("#apps")
        if table and table.first(DataTable).row_count:
            break
        await asyncio.sleep(0.005)
    await table.first(DataTable).wait_for_refresh()


async def tui_figures(env: dict[str, Any], namespace: str) -> list[dict[str, Any]]:
    from turnout.backend.assembly import Options, build_service
    from turnout.backend.config import Config
    from turnout.tui.app import TurnoutApp
    from turnout.tui.screens.app_detail import AppScreen

    config = Config(request_timeout=60.0, refresh_seconds=3600.0)
    service = build_service(config, Options(kubeconfig=env["kubeconfig"], context="lab",
                                            namespace=namespace))
    app = TurnoutApp(service, config, live=True)
    informer = service.cluster.informer  # type: ignore[attr-defined]

    def pods_shown() -> int:
        return sum(len(a.blue.pods) + len(a.green.pods) for a in app.apps)

    def all_in() -> bool:
        return pods_shown() >= PODS and not any(
            a.blue.pods_loading or a.green.pods_loading for a in app.apps)

    started = time.perf_counter()
    async with app.run_test(size=SIZE) as pilot:
        # First render: the overview's row of the app, its live color and weights (from the
        # Services and Deployments), with its pods still loading, painted.
        while not any(a.name == "fleet" for a in app.apps):
            await pilot.pause(0.01)
        await painted(app)
        first = time.perf_counter() - started
        note(f"first render {first:.2f} s ({pods_shown()} pods in)")
        while not all_in():
            await pilot.pause(0.01)
        await painted(app)
        every_pod = time.perf_counter() - started
        note(f"all {PODS} pods in {every_pod:.2f} s")
        while not informer.serves(namespace):
            await pilot.pause(0.05)
        opened = time.perf_counter()
        await app.push_screen(AppScreen("fleet", namespace))
        detail = time.perf_counter() - opened
        note(f"app screen {detail:.2f} s; churn starts")

        load = subprocess.Popen(child("--churn", namespace), stdout=subprocess.PIPE, text=True)
        stalls: list[float] = []
        stop = asyncio.Event()
        probe = asyncio.create_task(lag_probe(stalls, stop))
        frames = []
        await asyncio.sleep(2.0)  # the churn reaches its rate
        seen = asyncio.create_task(count_changes(informer.changes()))
        window = time.perf_counter()
        for _ in range(SAMPLES):
            # A frame: every app read from the watch cache, then the screens' repaint of it
            # (the reactive's watchers run as it is set), as a watch event's refresh does.
            t0 = time.perf_counter()
            app.apps = await service.apps(namespace)
            frames.append(time.perf_counter() - t0)
            await asyncio.sleep(0.2)
        window = time.perf_counter() - window
        seen.cancel()
        arrived = await seen
        note(f"frames {[round(f, 3) for f in frames]}; {arrived / window:.0f} changes/s arrived")
        before, gone = informer.relists["pods"], informer.expired["pods"]
        relisted = time.perf_counter()
        # The pod watch resumed with no resourceVersion: it lists everything again, then
        # watches, as after a 410. (Resuming from an old version such as "1" is no sure 410:
        # a young API server's watch cache holds every event since it started and replays
        # them, so no relist ever came on a freshly started lab.)
        await informer.interrupt("pods", resource_version="")
        # Bounded: a relist that never comes must not hang `make bench`; the row says so.
        caught_up = False
        while time.perf_counter() - relisted < CATCH_UP_BOUND:
            if informer.relists["pods"] != before and informer.synced["pods"]:
                caught_up = True
                break
            await asyncio.sleep(0.01)
        catch_up = time.perf_counter() - relisted
        note(f"catch-up {catch_up:.2f} s" + ("" if caught_up else
             f" (bound hit: {informer.expired['pods'] - gone} 410s, relists {before} -> "
             f"{informer.relists['pods']}, pod watch {watch_state(informer)})"))
        stop.set()
        await probe
        load.send_signal(signal.SIGTERM)
        made = json.loads(load.communicate(timeout=60)[0] or "{}")
    await service.close()
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    frames.sort()
    stalls.sort()
    rate = made.get("changes", 0) / max(made.get("seconds", 1.0), 1e-9)
    where = f"lab watch, {PODS} pods"
    return [
        {"name": f"watch: tui first render, overview row painted: live color, weights, pods loading "
                 f"({where}; goal <= 1 s)", "value": first, "unit": "s"},
        {"name": f"watch: tui all {PODS} pods in, overview row painted ({where})", "value": every_pod,
         "unit": "s"},
        {"name": f"watch: tui open app detail ({where})", "value": detail, "unit": "s"},
        {"name": "watch: tui refresh frame under churn, median (goal <= 50 ms)",
         "value": frames[len(frames) // 2], "unit": "s"},
        {"name": "watch: tui refresh frame under churn, worst", "value": frames[-1], "unit": "s"},
        {"name": "watch: event loop stall under churn, p95", "value":
         stalls[int(len(stalls) * 0.95)] if stalls else 0.0, "unit": "s"},
        {"name": "watch: pod changes made by the churn (its whole run, relist included)",
         "value": rate, "unit": "/s"},
        {"name": "watch: watch events reaching the TUI while frames were measured (any writer)",
         "value": arrived / window, "unit": "/s"},
        {"name": "watch: tui resident memory, peak (goal <= 200 MB)", "value": rss, "unit": "MB"},
        {"name": f"watch: cache catch-up after a forced relist ({PODS} pods, under churn)"
                 + ("" if caught_up else f"; NOT caught up within {CATCH_UP_BOUND:.0f} s"),
         "value": catch_up, "unit": "s"},
    ]


def demo_figures() -> list[dict[str, Any]]:
    """bench_tui's demo figures at the same pod count, measured in a process of their own."""
    code = (f"import json, sys, asyncio; sys.path.insert(0, {str(REPO / 'bench')!r}); "
            "import bench_tui; print(json.dumps(asyncio.run(bench_tui._turnout_figures())))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True)
    rows: list[dict[str, Any]] = json.loads(done.stdout.strip().splitlines()[-1])
    return [{**row, "name": f"watch beside: demo {row['name'].removeprefix('tui ')}"}
            for row in rows]


def run() -> list[dict[str, Any]]:
    """The benchmark rows: the lab through the watch, then the demo beside it."""
    env, started = lab_env()
    namespace = f"bench-watch-{uuid.uuid4().hex[:6]}"
    try:
        began = time.perf_counter()
        subprocess.run(child("--seed", namespace), check=True)
        seeded = time.perf_counter() - began
        # In a child process: its 30 MB pages must not count in the TUI's peak memory.
        floor = subprocess.run(child("--floor", namespace), check=True, capture_output=True,
                               text=True)
        rows = list(json.loads(floor.stdout))
        rows += asyncio.run(tui_figures(env, namespace))
        rows.append({"name": f"watch: seeding {PODS} pods into the lab (not the TUI)",
                     "value": seeded, "unit": "s"})
    finally:
        Client(env).send("DELETE", f"/api/v1/namespaces/{namespace}", {})
        if started:
            subprocess.run([sys.executable, str(REPO / "lab" / "labctl.py"), "down"], check=False)
    return rows + demo_figures()


def main(argv: list[str]) -> None:
    if argv[:1] in (["--seed"], ["--churn"], ["--floor"]):
        env, _ = lab_env()
        if argv[0] == "--seed":
            seed(env, argv[1], PODS)
        elif argv[0] == "--floor":
            print(json.dumps(floor_rows(env, argv[1])))
        else:
            churn(env, argv[1], PODS, CHURN_PER_SECOND)
        return
    for row in run():
        print(f"{row['name']:<70} {row['value']:>10.4g} {row['unit']}")


if __name__ == "__main__":
    main(sys.argv[1:])
