"""Command lines and config files of the lab's components. Everything binds 127.0.0.1."""

from __future__ import annotations

import base64
import sys
from dataclasses import dataclass
from pathlib import Path

from .layout import REPO, Layout
from .pki import Pki, Tokens

PORT_NAMES = ("etcd", "etcd_peer", "apiserver", "controller_manager", "scheduler", "kwok",
              "redis", "prometheus")
"""Ports picked at start, besides one per demo-service process."""


@dataclass(frozen=True)
class Plan:
    """Everything needed to build a command line: binaries, paths, ports, credentials."""

    bin_dir: Path
    layout: Layout
    pki: Pki
    tokens: Tokens
    ports: dict[str, int]

    def bin(self, name: str) -> str:
        return str(self.bin_dir / "bin" / name)

    @property
    def apiserver_url(self) -> str:
        return f"https://127.0.0.1:{self.ports['apiserver']}"

    @property
    def etcd_url(self) -> str:
        return f"http://127.0.0.1:{self.ports['etcd']}"

    @property
    def kwok_url(self) -> str:
        return f"https://127.0.0.1:{self.ports['kwok']}"


def etcd(plan: Plan) -> list[str]:
    """etcd v3.6, single member, no fsync: the lab's data is disposable."""
    peer = f"http://127.0.0.1:{plan.ports['etcd_peer']}"
    return [plan.bin("etcd"), "--name=lab", f"--data-dir={plan.layout.data('etcd')}",
            f"--listen-client-urls={plan.etcd_url}", f"--advertise-client-urls={plan.etcd_url}",
            f"--listen-peer-urls={peer}", f"--initial-advertise-peer-urls={peer}",
            f"--initial-cluster=lab={peer}", "--unsafe-no-fsync", "--log-level=warn"]


def apiserver(plan: Plan) -> list[str]:
    """kube-apiserver with RBAC and static tokens, flags in the style of envtest."""
    pki = plan.pki
    return [plan.bin("kube-apiserver"), f"--etcd-servers={plan.etcd_url}",
            "--bind-address=127.0.0.1", "--advertise-address=127.0.0.1",
            f"--secure-port={plan.ports['apiserver']}", f"--cert-dir={pki.dir}",
            f"--tls-cert-file={pki.serving_crt}", f"--tls-private-key-file={pki.serving_key}",
            f"--client-ca-file={pki.ca_crt}", f"--token-auth-file={pki.tokens_csv}",
            "--authorization-mode=RBAC",
            "--service-account-issuer=https://kubernetes.default.svc.cluster.local",
            f"--service-account-key-file={pki.sa_pub}",
            f"--service-account-signing-key-file={pki.sa_key}",
            "--service-cluster-ip-range=10.0.0.0/24", "--allow-privileged=true",
            # Pod logs: the fake nodes' kubelet endpoint is kwok's server on 127.0.0.1
            # (their InternalIP; their Hostname would not resolve), verified by the lab CA.
            "--kubelet-preferred-address-types=InternalIP",
            f"--kubelet-certificate-authority={pki.ca_crt}",
            # Pods in a brand-new namespace would be refused until its default
            # ServiceAccount exists; tests create namespaces and pods back to back.
            "--disable-admission-plugins=ServiceAccount",
            "--profiling=false", "--v=0"]


def controller_manager(plan: Plan) -> list[str]:
    """kube-controller-manager: Deployments -> ReplicaSets -> Pods, EndpointSlices."""
    kubeconfig = str(plan.layout.root / "admin.kubeconfig")
    return [plan.bin("kube-controller-manager"), f"--kubeconfig={kubeconfig}",
            f"--authentication-kubeconfig={kubeconfig}", f"--authorization-kubeconfig={kubeconfig}",
            "--leader-elect=false", "--bind-address=127.0.0.1",
            f"--secure-port={plan.ports['controller_manager']}",
            f"--cert-dir={plan.layout.data('controller-manager')}",
            f"--service-account-private-key-file={plan.pki.sa_key}",
            f"--root-ca-file={plan.pki.ca_crt}",
            f"--cluster-signing-cert-file={plan.pki.ca_crt}",
            f"--cluster-signing-key-file={plan.pki.ca_key}",
            "--use-service-account-credentials=false",
            "--kube-api-qps=100", "--kube-api-burst=200", "--profiling=false"]


def scheduler(plan: Plan) -> list[str]:
    """kube-scheduler, configured by file (its --kubeconfig flag is deprecated).

    kwok does not schedule, so the real scheduler places pods on the fake nodes.
    """
    config = plan.layout.root / "scheduler.yaml"
    kubeconfig = plan.layout.root / "admin.kubeconfig"
    config.write_text(
        "apiVersion: kubescheduler.config.k8s.io/v1\n"
        "kind: KubeSchedulerConfiguration\n"
        f"clientConnection:\n  kubeconfig: {kubeconfig}\n  qps: 100\n  burst: 200\n"
        "leaderElection:\n  leaderElect: false\n"
    )
    return [plan.bin("kube-scheduler"), f"--config={config}",
            f"--authentication-kubeconfig={kubeconfig}", f"--authorization-kubeconfig={kubeconfig}",
            "--bind-address=127.0.0.1", f"--secure-port={plan.ports['scheduler']}",
            f"--cert-dir={plan.layout.data('scheduler')}", "--profiling=false"]


def kwok(plan: Plan) -> list[str]:
    """kwok managing the annotated fake nodes, serving their kubelet API (pod logs).

    Every fake node advertises 127.0.0.1 and kwok's port as its kubelet endpoint.
    Which file a pod's log shows comes from ``Logs`` objects (one per pod, named
    after it), else the default ClusterLogs in kwok.yaml (stages.DEFAULT_LOG).
    """
    port = plan.ports["kwok"]
    return [plan.bin("kwok"), f"--kubeconfig={plan.layout.root / 'admin.kubeconfig'}",
            f"--config={plan.layout.root / 'kwok.yaml'}", "--manage-all-nodes=false",
            "--manage-nodes-with-annotation-selector=kwok.x-k8s.io/node=fake",
            f"--server-address=127.0.0.1:{port}", "--node-ip=127.0.0.1", f"--node-port={port}",
            f"--tls-cert-file={plan.pki.kwok_crt}", f"--tls-private-key-file={plan.pki.kwok_key}",
            "--enable-crds=Logs"]


def redis(plan: Plan) -> list[str]:
    """redis-server in the foreground, no persistence, loopback only."""
    return ["/usr/bin/redis-server", "--bind", "127.0.0.1", "--port", str(plan.ports["redis"]),
            "--save", "", "--appendonly", "no", "--protected-mode", "yes",
            "--dir", str(plan.layout.data("redis")), "--daemonize", "no"]


def prometheus(plan: Plan, targets: list[str]) -> list[str]:
    """Prometheus scraping every demo-service process every second."""
    config = plan.layout.root / "prometheus.yml"
    quoted = ", ".join(f"'{t}'" for t in targets)
    config.write_text(
        "global:\n  scrape_interval: 1s\n  scrape_timeout: 1s\n  evaluation_interval: 1s\n"
        f"scrape_configs:\n  - job_name: demo\n    static_configs:\n      - targets: [{quoted}]\n"
    )
    return ["/usr/bin/prometheus", f"--config.file={config}",
            f"--storage.tsdb.path={plan.layout.data('prometheus')}",
            f"--web.listen-address=127.0.0.1:{plan.ports['prometheus']}",
            "--storage.tsdb.retention.time=6h", "--log.level=warn"]


def demo_service(app: str, color: str, version: str, port: int) -> list[str]:
    """One demo-service process (this same Python, stdlib only)."""
    return [sys.executable, str(REPO / "lab" / "demo_service.py"), "--app", app,
            "--color", color, "--version", version, "--port", str(port)]


def kubeconfig_text(plan: Plan, users: dict[str, str], current: str) -> str:
    """A kubeconfig with one context per user (context name == user name's role)."""
    ca = base64.b64encode(plan.pki.ca_crt.read_bytes()).decode()
    lines = ["apiVersion: v1", "kind: Config", f"current-context: {current}", "clusters:",
             "- name: lab", "  cluster:", f"    server: {plan.apiserver_url}",
             f"    certificate-authority-data: {ca}", "contexts:"]
    for context in users:
        lines += [f"- name: {context}", "  context:", "    cluster: lab", f"    user: {context}"]
    lines.append("users:")
    for context, token in users.items():
        lines += [f"- name: {context}", "  user:", f"    token: {token}"]
    return "\n".join(lines) + "\n"


def write_kubeconfigs(plan: Plan) -> None:
    """``.lab/kubeconfig`` (contexts lab, lab-readonly) and the components' admin one."""
    users = {"lab": plan.tokens.admin, "lab-readonly": plan.tokens.readonly}
    plan.layout.kubeconfig.write_text(kubeconfig_text(plan, users, "lab"))
    admin = plan.layout.root / "admin.kubeconfig"
    admin.write_text(kubeconfig_text(plan, {"lab": plan.tokens.admin}, "lab"))
    for path in (plan.layout.kubeconfig, admin):
        path.chmod(0o600)
