"""``labctl up``: build (cached), start every component in dependency order, seed, wait.

Readiness order: etcd /health -> apiserver /readyz -> default namespace -> RBAC,
fake nodes, CRDs -> nodes Ready -> seeded pods Ready, with Redis, Prometheus and
the demo services started first because they depend on nothing.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import subprocess
import time
from pathlib import Path

from . import LabError, LabUnavailable, health, procs
from . import components as comp
from .kube import Kube, create_object
from .layout import REPO, Layout, free_ports, write_json
from .pki import make_pki, write_tokens
from .seed import APPS, COLORS, Helm, apply_crds, gateway_class, seed_apps, seed_cluster
from .stages import DEFAULT_LOG, kwok_config

PACKAGES = {"/usr/bin/redis-server": "redis-server", "/usr/bin/prometheus": "prometheus"}
"""Debian packages the lab runs, by the binary they provide."""

GATEWAY_API = "/apis/gateway.networking.k8s.io/v1"
KWOK_LOGS = "/apis/kwok.x-k8s.io/v1alpha1/logs"


def ensure_packages() -> None:
    """Install redis-server and prometheus from Debian when missing (root only)."""
    missing = [pkg for path, pkg in PACKAGES.items() if not Path(path).exists()]
    if not missing:
        return
    if os.geteuid() != 0:
        raise LabUnavailable(f"{' and '.join(missing)} missing and not root to apt-get install")
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    install = ["apt-get", "install", "-y", "--no-install-recommends", *missing]
    if subprocess.run(install, env=env, capture_output=True).returncode != 0:
        subprocess.run(["apt-get", "update"], env=env, capture_output=True)
        if subprocess.run(install, env=env, capture_output=True).returncode != 0:
            raise LabUnavailable(f"apt-get install {' '.join(missing)} failed")


def build_binaries() -> Path:
    """Run lab/build.sh (instant when cached) and return its output folder.

    Its progress goes to our stderr; its last stdout line is the folder. Exit 3
    means Go is missing, which makes the lab unavailable rather than broken.
    """
    result = subprocess.run(["bash", str(REPO / "lab" / "build.sh")],
                            stdout=subprocess.PIPE, text=True)
    if result.returncode == 3:
        raise LabUnavailable("Go is not installed and no cached lab binaries; need Go >= 1.26")
    if result.returncode != 0 or not result.stdout.strip():
        raise LabUnavailable(f"lab/build.sh failed (exit {result.returncode}); see its output")
    return Path(result.stdout.strip().splitlines()[-1])


def build_helm() -> Path:
    """Run lab/build-helm.sh (instant when cached) and return the helm binary."""
    result = subprocess.run(["bash", str(REPO / "lab" / "build-helm.sh")],
                            stdout=subprocess.PIPE, text=True)
    if result.returncode == 3:
        raise LabUnavailable("Go is not installed and no cached helm; need Go >= 1.26")
    if result.returncode != 0 or not result.stdout.strip():
        raise LabUnavailable(f"lab/build-helm.sh failed (exit {result.returncode}); see its output")
    return Path(result.stdout.strip().splitlines()[-1])


def reset_state(layout: Layout) -> None:
    """Stop any leftover lab processes and empty the state folder (the lock stays)."""
    left = procs.stop_all(layout)
    if left:
        raise LabError(f"could not stop leftover lab processes: {', '.join(left)}")
    for child in layout.root.iterdir():
        if child.name != layout.lock.name:
            shutil.rmtree(child) if child.is_dir() else child.unlink()
    layout.logs.mkdir()


def demo_name(app: str, color: str) -> str:
    """Process name of one demo service."""
    return f"demo-{app}-{color}"


def make_plan(layout: Layout, bin_dir: Path) -> comp.Plan:
    """PKI, tokens, ports and kubeconfigs for a fresh lab."""
    pki = make_pki(layout.pki)
    tokens = write_tokens(pki)
    names = [*comp.PORT_NAMES, *(demo_name(a.name, c) for a in APPS for c in COLORS)]
    plan = comp.Plan(bin_dir, layout, pki, tokens, dict(zip(names, free_ports(len(names)),
                                                             strict=True)))
    comp.write_kubeconfigs(plan)
    pod_log = layout.data("kwok") / "default.log"
    pod_log.write_text(DEFAULT_LOG)
    (layout.root / "kwok.yaml").write_text(kwok_config(bin_dir / "kwok-stages", pod_log))
    return plan


def demo_urls(plan: comp.Plan) -> dict[str, dict[str, str]]:
    """app -> color -> URL of its demo-service process."""
    return {a.name: {c: f"http://127.0.0.1:{plan.ports[demo_name(a.name, c)]}" for c in COLORS}
            for a in APPS}


class Starter:
    """Starts components of one plan and waits on them, naming the culprit on failure."""

    def __init__(self, plan: comp.Plan, timeout: float) -> None:
        self.plan, self.layout, self.timeout = plan, plan.layout, timeout

    def start(self, name: str, argv: list[str]) -> None:
        procs.start(self.layout, name, argv)

    def wait(self, name: str, probe: health.Probe, process: str | None = None) -> None:
        """Wait until ``probe`` passes; ``process`` (default ``name``) must stay alive."""
        proc = process or name
        health.wait_for(name, probe, self.layout.log(proc), self.timeout,
                        alive=lambda: proc in procs.running(self.layout))


def start_independent(s: Starter, demos: dict[str, dict[str, str]]) -> None:
    """etcd, Redis, Prometheus and the demo services: they need nothing else."""
    plan = s.plan
    s.start("etcd", comp.etcd(plan))
    s.start("redis", comp.redis(plan))
    targets = [url.removeprefix("http://") for colors in demos.values() for url in colors.values()]
    s.start("prometheus", comp.prometheus(plan, targets))
    for app in APPS:
        for color in COLORS:
            name = demo_name(app.name, color)
            s.start(name, comp.demo_service(app.name, color, app.version(color), plan.ports[name]))


def start_control_plane(s: Starter) -> Kube:
    """etcd -> apiserver -> controller-manager, scheduler, kwok; returns an admin client.

    kwok's Logs CRD is created before kwok starts: kwok lists it once at start and,
    if it is not served yet, only retries after a back-off of seconds.
    """
    plan = s.plan
    s.wait("etcd", health.http_probe(f"{plan.etcd_url}/health", '"health":"true"'))
    s.start("apiserver", comp.apiserver(plan))
    s.wait("apiserver", health.http_probe(f"{plan.apiserver_url}/readyz", "ok", plan.pki.ca_crt))
    kube = Kube(plan.apiserver_url, plan.tokens.admin, plan.pki.ca_crt)
    apply_crds(kube, plan.bin_dir / "kwok-crds", "kwok.x-k8s.io_logs.yaml")
    s.start("controller-manager", comp.controller_manager(plan))
    s.start("scheduler", comp.scheduler(plan))
    s.wait("apiserver", health.kube_probe(kube, KWOK_LOGS))
    s.start("kwok", comp.kwok(plan))
    s.wait("apiserver", health.kube_probe(kube, "/api/v1/namespaces/default"))
    return kube


def seed(s: Starter, kube: Kube, helm: Path, demos: dict[str, dict[str, str]],
         nodes: int) -> None:
    """RBAC, nodes, IngressClass, Gateway API CRDs, then the apps (helm install of the
    chart) once the CRDs are served."""
    seed_cluster(kube, nodes)
    apply_crds(kube, s.plan.bin_dir / "gateway-crds")
    for kind in ("gatewayclasses", "gateways", "httproutes"):
        s.wait("apiserver", health.kube_probe(kube, f"{GATEWAY_API}/{kind}"))
    create_object(kube, gateway_class())
    seed_apps(kube, Helm(helm, s.layout.kubeconfig, s.layout.root / "helm"), demos,
              s.layout.logs)


def wait_ready(s: Starter, kube: Kube, demos: dict[str, dict[str, str]], nodes: int) -> None:
    """Every component healthy and every seeded pod Running and Ready."""
    plan = s.plan
    s.wait("controller-manager", health.http_probe(
        f"https://127.0.0.1:{plan.ports['controller_manager']}/healthz", "ok"))
    s.wait("scheduler", health.http_probe(
        f"https://127.0.0.1:{plan.ports['scheduler']}/healthz", "ok"))
    s.wait("kwok", health.http_probe(f"{plan.kwok_url}/healthz", "ok", plan.pki.ca_crt))
    s.wait("kwok", health.nodes_probe(kube, nodes))
    namespaces = sorted({a.namespace for a in APPS})
    s.wait("seeded pods", health.pods_probe(kube, namespaces, 3 * len(COLORS) * len(APPS)),
           process="controller-manager")
    s.wait("redis", health.redis_probe(plan.ports["redis"]))
    for app, colors in demos.items():
        for color, url in colors.items():
            s.wait(demo_name(app, color), health.http_probe(f"{url}/health"))
    prom = f"http://127.0.0.1:{plan.ports['prometheus']}"
    s.wait("prometheus", health.http_probe(f"{prom}/-/ready"))
    s.wait("prometheus", health.prometheus_targets_probe(prom, len(APPS) * len(COLORS)))


def env_record(plan: comp.Plan, helm: Path, demos: dict, ready_seconds: float,
               nodes: int) -> dict:
    """The content of .lab/env.json."""
    return {
        "lab_dir": str(plan.layout.root),
        "kubeconfig": str(plan.layout.kubeconfig),
        "contexts": {"admin": "lab", "readonly": "lab-readonly"},
        "apiserver": plan.apiserver_url,
        "etcd": plan.etcd_url,
        "redis_url": f"redis://127.0.0.1:{plan.ports['redis']}/0",
        "prometheus_url": f"http://127.0.0.1:{plan.ports['prometheus']}",
        "demo_services": demos,
        "apps": [{"name": a.name, "namespace": a.namespace, "router": a.router,
                  "versions": dict(zip(COLORS, a.versions, strict=True))} for a in APPS],
        "nodes": [f"lab-node-{i}" for i in range(nodes)],
        "ports": plan.ports,
        "pids": procs.running(plan.layout),
        "logs": str(plan.layout.logs),
        "binaries": str(plan.bin_dir),
        "helm": str(helm),
        "started_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "ready_seconds": round(ready_seconds, 1),
    }


def up(layout: Layout, nodes: int = 2, timeout: float = 120.0) -> dict:
    """Start a fresh lab and return its env record; stops what it started on failure."""
    ensure_packages()
    bin_dir = build_binaries()
    helm = build_helm()
    began = time.monotonic()
    reset_state(layout)
    plan = make_plan(layout, bin_dir)
    starter, demos = Starter(plan, timeout), demo_urls(plan)
    try:
        start_independent(starter, demos)
        kube = start_control_plane(starter)
        seed(starter, kube, helm, demos, nodes)
        wait_ready(starter, kube, demos, nodes)
    except BaseException:
        procs.stop_all(layout)
        raise
    env = env_record(plan, helm, demos, time.monotonic() - began, nodes)
    write_json(layout.env_json, env)
    return env
