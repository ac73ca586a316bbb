"""The Kubernetes backend: `ClusterPort` over the API server, async and lean.

`build_kube_service` is what the CLI and the TUI call; everything else is
implementation, exported for tests and benchmarks.
"""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

from turnout.backend.kube.cluster import KubeCluster
from turnout.backend.kube.http import KubeHttp
from turnout.backend.kube.kubeconfig import KubeTarget, in_cluster_target, load_target

if TYPE_CHECKING:
    from turnout.backend.cli.context import CliContext
    from turnout.backend.service import ReleaseService

__all__ = ["KubeCluster", "KubeHttp", "KubeTarget", "build_kube_service", "in_cluster_target",
           "load_target"]


def build_kube_service(ctx: CliContext, kubeconfig_paths: list[Path],
                       target: KubeTarget | None = None) -> ReleaseService:
    """The release service on the kube context the options choose (or on `target`)."""
    from turnout.backend.service import ReleaseService

    target = target or load_target(kubeconfig_paths, ctx.opt("context"))
    gate = ctx.gate_for(target.context)
    timeout = float(ctx.opt("request_timeout") or ctx.config.request_timeout)
    http = KubeHttp(target, gate, timeout)
    cluster = KubeCluster(http, target.context, ctx.config.conventions, namespace=ctx.namespace)
    return ReleaseService(cluster, read_only=gate.read_only)
