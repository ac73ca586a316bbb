"""``labctl status``: is each recorded component alive and answering its health check?"""

from __future__ import annotations

from dataclasses import dataclass

from . import health, procs
from .kube import Kube
from .layout import Layout


@dataclass(frozen=True)
class ComponentStatus:
    """One line of ``labctl status``."""

    name: str
    pid: int | None
    healthy: bool
    detail: str


def admin_kube(env: dict, layout: Layout) -> Kube:
    """An admin client from the token file the running API server uses."""
    token = layout.pki.joinpath("tokens.csv").read_text().split(",", 1)[0]
    return Kube(env["apiserver"], token, layout.pki / "ca.crt")


def probes(env: dict, layout: Layout) -> dict[str, health.Probe]:
    """A health probe per process name recorded in env.json."""
    ports = env["ports"]
    ca = layout.pki / "ca.crt"
    result: dict[str, health.Probe] = {
        "etcd": health.http_probe(f"{env['etcd']}/health", '"health":"true"'),
        "apiserver": health.http_probe(f"{env['apiserver']}/readyz", "ok", ca),
        "controller-manager": health.http_probe(
            f"https://127.0.0.1:{ports['controller_manager']}/healthz", "ok"),
        "scheduler": health.http_probe(f"https://127.0.0.1:{ports['scheduler']}/healthz", "ok"),
        "kwok": health.all_of(
            # A lab started before kwok served pods' logs has no kwok port: it is down.
            health.http_probe(f"https://127.0.0.1:{ports.get('kwok', 0)}/healthz", "ok", ca),
            health.nodes_probe(admin_kube(env, layout), len(env["nodes"]))),
        "redis": health.redis_probe(ports["redis"]),
        "prometheus": health.http_probe(f"{env['prometheus_url']}/-/ready"),
    }
    for app, colors in env["demo_services"].items():
        for color, url in colors.items():
            # /admin/fault answers even while a test makes /health fail on purpose.
            result[f"demo-{app}-{color}"] = health.http_probe(f"{url}/admin/fault")
    return result


def check(env: dict, layout: Layout) -> list[ComponentStatus]:
    """The status of every component of the lab described by ``env``."""
    alive = procs.running(layout)
    statuses = []
    for name, probe in probes(env, layout).items():
        if name not in alive:
            statuses.append(ComponentStatus(name, None, False, "process not running"))
            continue
        try:
            ok, detail = probe()
        except Exception as exc:  # a status report must not crash on one bad component
            ok, detail = False, f"{type(exc).__name__}: {exc}"
        statuses.append(ComponentStatus(name, alive[name], ok, detail))
    return statuses


def healthy(env: dict | None, layout: Layout) -> bool:
    """True when a lab is recorded and every component of it is up."""
    if not env:
        return False
    try:
        return all(s.healthy for s in check(env, layout))
    except (OSError, KeyError, ValueError):
        return False
