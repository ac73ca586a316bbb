"""The one place a `ReleaseService` is built, from the configuration and the options.

The CLI, the TUI, `serve` (which runs the CLI) and the in-cluster guard all come
here; nothing changes the service afterwards. An environment is a set of
adapters chosen here: a Kubernetes cluster (with Prometheus, a flag store and the
release records beside it), the embedded demo, or, for the flag commands on a
machine with no cluster configured, a flag store alone.
"""

from __future__ import annotations

import asyncio
import os
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import msgspec

from turnout.backend.config import Config, GuardSettings, conventions_by_namespace, resolve_gate
from turnout.backend.contexts import Contexts
from turnout.backend.errors import ConfigError, InvalidInput, TurnoutError
from turnout.backend.flags.flag_console import FlagConsole
from turnout.backend.gate import WriteGate
from turnout.backend.service import ReleaseService

if TYPE_CHECKING:
    from turnout.backend.flags.store import FlagStore
    from turnout.backend.notify import Fanout
    from turnout.backend.ports import MetricsPort


class Options(msgspec.Struct, frozen=True, kw_only=True):
    """What the command line (or a test) chose for one session."""

    demo: bool = False
    seed: int = 7
    context: str | None = None
    kubeconfig: str | None = None
    namespace: str | None = None
    """The namespace `apps()` lists by default and writes resolve in; None for every one."""
    read_only: bool = False
    """--read-only: refuse every write, whatever the configuration says."""
    request_timeout: float | None = None
    flags_url: str | None = None
    """--flags-url, over `TURNOUT_FLAGS_URL` and the configuration."""
    flag_commands: bool = False
    """The flag commands: always a flag store (the local file by default), and a cluster only
    when one is configured."""
    keep_demo: bool = False
    """The demo world is kept in the state directory between sessions (the CLI and the TUI
    it opens); tests that build a demo of their own start from the seed."""
    guard_interval: float | None = None
    """`turnout guard --interval`: seconds between the guard's evaluations, over the
    configuration's `guard.interval`."""


def kubeconfig_paths(explicit: str | None) -> list[Path]:
    """--kubeconfig, else $KUBECONFIG (colon-separated), else ~/.kube/config."""
    if explicit:
        return [Path(explicit)]
    env = os.environ.get("KUBECONFIG")
    if env:
        return [Path(p) for p in env.split(os.pathsep) if p]
    return [Path.home() / ".kube" / "config"]


def build_service(config: Config, options: Options) -> ReleaseService:
    """The service for this session: the demo, a cluster, or (flag commands) a flag store."""
    if options.demo:
        return _demo(config, options)
    paths = kubeconfig_paths(options.kubeconfig)
    existing = [p for p in paths if p.is_file()]
    try:
        from turnout.backend.kube import in_cluster_target
    except ImportError:
        raise ConfigError("this build has no Kubernetes backend; try: turnout demo") from None
    # Like kubectl: with no kubeconfig, a pod uses its own service account.
    in_cluster = None if existing or options.kubeconfig else in_cluster_target()
    if existing or in_cluster is not None:
        return _kube(config, options, existing, in_cluster)
    if options.flag_commands:
        return _flags_only(config, options)
    shown = ", ".join(str(p) for p in paths)
    raise ConfigError(f"no kubeconfig found ({shown}); pass --kubeconfig, "
                      "or try the embedded demo: turnout demo")


def build_contexts(config: Config, options: Options, contexts: Sequence[str] = (), *,
                   every: bool = False) -> Contexts:
    """One service per context, for the views that read several side by side.

    `every` takes every context of the kubeconfig. A context whose service cannot be built
    (a broken kubeconfig entry, a failing credential plugin) stays in the view as an error.
    """
    names = list(dict.fromkeys(contexts))
    if every:
        from turnout.backend.kube.kubeconfig import context_names

        names = context_names(kubeconfig_paths(options.kubeconfig))
    if not names:
        raise ConfigError("no contexts to read: pass --context A,B or --all-contexts")
    services, broken = {}, {}
    for name in names:
        try:
            services[name] = build_service(config, msgspec.structs.replace(options, context=name))
        except TurnoutError as err:
            broken[name] = err
    return Contexts(services, {n: context_timeout(config, options, n) for n in names}, broken)


def context_timeout(config: Config, options: Options, context: str) -> float:
    """The request timeout of one context: --request-timeout, else the context's own
    setting, else the global one."""
    settings = config.contexts.get(context)
    own = settings.request_timeout if settings is not None else None
    return options.request_timeout or own or config.request_timeout


def _guard(config: Config, options: Options) -> GuardSettings:
    """The guard's settings: the configuration's, with --interval over its interval."""
    if options.guard_interval is None:
        return config.guard
    if not options.guard_interval > 0:
        raise InvalidInput("--interval must be a positive number of seconds")
    return msgspec.structs.replace(config.guard, interval=options.guard_interval)


def _gate(config: Config, options: Options, context: str) -> WriteGate:
    return resolve_gate(config, context, True if options.read_only else None)


def _demo(config: Config, options: Options) -> ReleaseService:
    from turnout.backend.demo import build_demo_service, state

    return build_demo_service(seed=options.seed, gate=_gate(config, options, "demo"),
                              guard=_guard(config, options), scope=options.namespace,
                              kept=state.state_file() if options.keep_demo else None,
                              notifier=_notifier)


def reset_demo() -> None:
    """Forget the kept demo world: the next demo session starts from the seed."""
    from turnout.backend.demo import state

    state.reset(state.state_file())


def flag_store(config: Config, options: Options, gate: WriteGate) -> FlagStore:
    """The flag store alone, without a service: what `flags serve` and `flags sync` read."""
    if options.demo:
        from turnout.backend.demo.flags import demo_flag_store

        return demo_flag_store(gate)
    from turnout.backend.flags.urls import open_store, resolve_url

    url = resolve_url(options.flags_url, config.flags_url)
    return open_store(url, gate, timeout=options.request_timeout or config.request_timeout)


def _kube(config: Config, options: Options, kubeconfigs: list[Path],
          in_cluster: object) -> ReleaseService:
    from turnout.backend.kube import KubeCluster, KubeHttp, KubeTarget, load_target
    from turnout.backend.release.kube_port import KubePort

    target = in_cluster if isinstance(in_cluster, KubeTarget) else load_target(
        kubeconfigs, options.context)
    gate = _gate(config, options, target.context)
    timeout = context_timeout(config, options, target.context)
    cluster = KubeCluster(KubeHttp(target, gate, timeout), target.context, config.conventions,
                          namespace=options.namespace,
                          by_namespace=conventions_by_namespace(config))
    return ReleaseService(cluster, _metrics(config), read_only=gate.read_only,
                          flags=_flags(config, options, gate), scope=options.namespace,
                          releases=KubePort(cluster), pace=asyncio.sleep,
                          guard=_guard(config, options), notifier=_notifier)


def _flags_only(config: Config, options: Options) -> ReleaseService:
    from turnout.backend.nocluster import NoCluster

    gate = _gate(config, options, "")
    return ReleaseService(NoCluster(), read_only=gate.read_only,
                          flags=_flags(config, options, gate), guard=_guard(config, options),
                          notifier=_notifier)


def _metrics(config: Config) -> MetricsPort | None:
    if not config.prometheus_url:
        return None
    from turnout.backend.metrics.prometheus import PrometheusMetrics

    guard = config.guard
    return PrometheusMetrics(config.prometheus_url, timeout=config.request_timeout,
                             window=guard.window, queries=guard.queries,
                             app_queries=guard.app_queries)


def _flags(config: Config, options: Options, gate: WriteGate) -> FlagConsole | None:
    """The flag store: always for the flag commands, else only when one is configured."""
    from turnout.backend.flags.urls import open_store, resolve_url

    if not (options.flag_commands or options.flags_url or config.flags_url):
        return None
    url = resolve_url(options.flags_url, config.flags_url)
    timeout = options.request_timeout or config.request_timeout
    return FlagConsole(open_store(url, gate, timeout=timeout))


def _notifier() -> Fanout:
    from turnout.backend.notify import from_environment

    return from_environment()
