"""Build the release service the options ask for: the demo, or a real cluster."""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING

from turnout.backend.errors import ConfigError

if TYPE_CHECKING:
    from turnout.backend.cli.context import CliContext
    from turnout.backend.service import ReleaseService


def kubeconfig_paths(explicit: str | None) -> list[Path]:
    """--kubeconfig, else $KUBECONFIG (colon-separated), else ~/.kube/config."""
    if explicit:
        return [Path(explicit)]
    env = os.environ.get("KUBECONFIG")
    if env:
        return [Path(p) for p in env.split(os.pathsep) if p]
    return [Path.home() / ".kube" / "config"]


def connect(ctx: CliContext) -> ReleaseService:
    """The service for this invocation, scoped to `-n` when given."""
    service = _connect(ctx)
    service.scope = ctx.namespace
    return service


def _connect(ctx: CliContext) -> ReleaseService:
    if ctx.opt("demo"):
        from turnout.backend.demo import build_demo_service, state

        return build_demo_service(seed=ctx.opt("seed", 7), gate=ctx.gate_for("demo"),
                                  kept=state.state_file())
    paths = kubeconfig_paths(ctx.opt("kubeconfig"))
    existing = [p for p in paths if p.is_file()]
    try:
        from turnout.backend.kube import build_kube_service, in_cluster_target
    except ImportError:
        raise ConfigError("this build has no Kubernetes backend; try: turnout demo") from None
    # Like kubectl: with no kubeconfig, a pod uses its own service account.
    in_cluster = None if existing or ctx.opt("kubeconfig") else in_cluster_target()
    if not existing and in_cluster is None:
        shown = ", ".join(str(p) for p in paths)
        raise ConfigError(f"no kubeconfig found ({shown}); pass --kubeconfig, "
                          "or try the embedded demo: turnout demo")
    service: ReleaseService = build_kube_service(ctx, existing, in_cluster)
    if ctx.config.prometheus_url:
        from turnout.backend.metrics import PrometheusMetrics

        guard = ctx.config.guard
        service.metrics = PrometheusMetrics(ctx.config.prometheus_url, timeout=ctx.config.request_timeout,
                                            window=guard.window, queries=guard.queries,
                                            app_queries=guard.app_queries)
    if ctx.config.flags_url:
        from turnout.backend.flags.console import FlagConsole
        from turnout.backend.flags.urls import open_store

        store = open_store(ctx.config.flags_url, ctx.gate_for(service.context),
                           timeout=ctx.config.request_timeout)
        service.flags = FlagConsole(store, by=service.identity)
    return service
