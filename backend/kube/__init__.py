"""The Kubernetes backend: `ClusterPort` over the API server, async and lean.

The assembly (`backend/assembly.py`) builds `KubeCluster` over `KubeHttp` for a
`KubeTarget`; the rest is implementation, exported for tests and benchmarks.
"""

from __future__ import annotations

from turnout.backend.kube.cluster import KubeCluster
from turnout.backend.kube.http import KubeHttp
from turnout.backend.kube.kubeconfig import KubeTarget, in_cluster_target, load_target

__all__ = ["KubeCluster", "KubeHttp", "KubeTarget", "in_cluster_target",
           "load_target"]
