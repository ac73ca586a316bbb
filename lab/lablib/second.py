"""A second control plane on demand: ``labctl second up|down``.

A second kube-apiserver on the lab's etcd under its own key prefix, on its own port: a
cluster of its own (nothing it stores is seen by the first), as cheap as one process.
The lab's kubeconfig gains the contexts ``lab-b`` (admin) and ``lab-b-readonly`` beside
``lab`` and ``lab-readonly``. It has no controller-manager, scheduler or kwok: its
Deployments get no pods, which multi-context reads and traffic switches do not need.

Only tests that need two clusters start it; ``labctl down`` stops it with the rest.
``second down`` stops the process but keeps its port and contexts, so a client sees it
unavailable, and ``second up`` brings it back on the same port.
"""

from __future__ import annotations

import time
from pathlib import Path

from . import LabError, health, procs
from . import components as comp
from .kube import Kube, create_object
from .layout import Layout, free_ports, read_json, write_json
from .pki import Pki, Tokens
from .seed import rbac

PROCESS = "apiserver-b"
CONTEXT, READONLY_CONTEXT = "lab-b", "lab-b-readonly"
ETCD_PREFIX = "/registry-lab-b"


def _plan(env: dict, layout: Layout, port: int) -> comp.Plan:
    pki = Pki(layout.pki)
    rows = [line.split(",", 1)[0] for line in pki.tokens_csv.read_text().splitlines()]
    ports = {"apiserver": port, "etcd": env["ports"]["etcd"]}
    return comp.Plan(Path(env["binaries"]), layout, pki, Tokens(rows[0], rows[1]), ports)


def _kubeconfig(first: comp.Plan, second: comp.Plan) -> str:
    """The lab's kubeconfig with both clusters: contexts lab, lab-readonly, lab-b, lab-b-readonly."""
    text = comp.kubeconfig_text(first, {"lab": first.tokens.admin,
                                        "lab-readonly": first.tokens.readonly}, "lab")
    head, contexts = text.split("contexts:\n", 1)
    contexts, users = contexts.split("users:\n", 1)
    ca = head.split("certificate-authority-data: ", 1)[1].split("\n", 1)[0]
    head += ("- name: lab-b\n  cluster:\n"
             f"    server: {second.apiserver_url}\n    certificate-authority-data: {ca}\n")
    for name in (CONTEXT, READONLY_CONTEXT):
        contexts += f"- name: {name}\n  context:\n    cluster: lab-b\n    user: {name}\n"
    users += (f"- name: {CONTEXT}\n  user:\n    token: {second.tokens.admin}\n"
              f"- name: {READONLY_CONTEXT}\n  user:\n    token: {second.tokens.readonly}\n")
    return f"{head}contexts:\n{contexts}users:\n{users}"


def up(layout: Layout, timeout: float = 120.0) -> dict:
    """Start (or reuse) the second API server; return its record in env.json."""
    env = read_json(layout.env_json)
    if not env:
        raise LabError("the lab is not running (labctl up first)")
    record = env.get("second") or {"port": free_ports(1)[0], "context": CONTEXT,
                                   "readonly_context": READONLY_CONTEXT}
    plan = _plan(env, layout, record["port"])
    record["apiserver"] = plan.apiserver_url
    probe = health.http_probe(f"{plan.apiserver_url}/readyz", "ok", plan.pki.ca_crt)
    if PROCESS not in procs.running(layout):
        argv = [*comp.apiserver(plan), f"--etcd-prefix={ETCD_PREFIX}"]
        procs.start(layout, PROCESS, argv)
    began = time.monotonic()
    health.wait_for(PROCESS, probe, layout.log(PROCESS), timeout,
                    alive=lambda: PROCESS in procs.running(layout))
    kube = Kube(plan.apiserver_url, plan.tokens.admin, plan.pki.ca_crt)
    health.wait_for(PROCESS, health.kube_probe(kube, "/api/v1/namespaces/default"),
                    layout.log(PROCESS), timeout)
    for obj in rbac():
        create_object(kube, obj)
    record["ready_seconds"] = round(time.monotonic() - began, 1)
    first = _plan(env, layout, env["ports"]["apiserver"])
    layout.kubeconfig.write_text(_kubeconfig(first, plan))
    env["second"] = record
    env["pids"] = procs.running(layout)
    write_json(layout.env_json, env)
    return record


def down(layout: Layout) -> list[str]:
    """Stop the second API server only; its contexts stay (a client then sees it unavailable)."""
    pids = read_json(layout.pids_json) or {}
    if PROCESS not in pids:
        return []
    left = procs.stop_some(layout, [PROCESS])
    env = read_json(layout.env_json)
    if env:
        env["pids"] = procs.running(layout)
        write_json(layout.env_json, env)
    return left
