"""Configuration: a YAML file in the XDG config directory, overridden by environment.

Precedence for read-only mode, highest first: the `--read-only` flag,
`TURNOUT_READ_ONLY`, the context's own setting, the global setting.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

import msgspec
import platformdirs

from turnout.backend.errors import ConfigError, InvalidInput
from turnout.backend.gate import WriteGate
from turnout.backend.timeouts import request_timeout

TRUE_WORDS = frozenset({"1", "true", "yes", "on"})
FALSE_WORDS = frozenset({"0", "false", "no", "off", ""})


class ContextSettings(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Settings for one kube context."""

    read_only: bool | None = None
    """Refuse writes on this context (None: follow the global setting)."""
    production: bool = False
    """Marks a production context: danger styling, and read-only unless said otherwise."""
    request_timeout: float | None = None
    """Seconds before a call to this context is abandoned (None: the global `request_timeout`);
    `--request-timeout` overrides it. Several contexts read side by side each keep their own."""


class Conventions(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Label and annotation keys that identify blue/green apps."""

    app_label: str = "app.kubernetes.io/name"
    """Label naming the app on its Deployments and Services."""
    color_label: str = "turnout.dev/color"
    """Label holding `blue` or `green` on Deployments, pods and the live Service selector."""
    plan_annotation: str = "turnout.dev/canary-plan"
    """Annotation on the live Service with the canary plan, e.g. `10,50,100`."""
    blue: str = "blue"
    """The color label's value for the blue color (e.g. `stable`)."""
    green: str = "green"
    """The color label's value for the green color (e.g. `canary`)."""
    live_service: str = "{app}"
    """The live Service's name, `{app}` standing for the app's name."""
    preview_service: str = "{app}-preview"
    """The preview Service's name (and the NGINX canary Ingress' backend)."""

    def live_name(self, app: str) -> str:
        """The name of `app`'s live Service."""
        return self.live_service.replace("{app}", app)

    def preview_name(self, app: str) -> str:
        """The name of `app`'s preview Service."""
        return self.preview_service.replace("{app}", app)

    def value(self, color: str) -> str:
        """The label value that names `color` (blue or green) in these conventions."""
        return self.green if color == "green" else self.blue

    def color(self, value: str | None) -> Literal["blue", "green"] | None:
        """The color a label value names, if any."""
        if value is None:
            return None
        return "blue" if value == self.blue else "green" if value == self.green else None


class GuardSettings(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """The rollback guard's triggers and pace."""

    interval: float = 2.0
    """Seconds between evaluations of every trigger."""
    health_failures: int = 3
    """Consecutive failed health checks that trip the guard."""
    prometheus_errors: int = 4
    """Consecutive unreachable-Prometheus errors that count as a failure."""
    error_rate: float = 0.05
    """Error ratio (0..1) above which the new color fails."""
    min_requests: float = 10
    """Fewer requests than this in the window is low traffic: inconclusive, never a pass."""
    window: str = "10s"
    """PromQL range window of the error-rate query."""
    log_errors_per_100: float = 10
    """Error log lines per 100 above which the new color fails."""
    log_pattern: str = r"\b(ERROR|FATAL|CRITICAL|panic|Traceback)\b"
    """Regular expression marking an error log line."""
    restarts_5m: int = 3
    """Restarts of one pod within 5 minutes above which it is crash-looping."""
    smoke_tests: str = ""
    """Path of a YAML list of smoke requests (name, path, status, contains, max_ms)."""
    kill_flags: bool = False
    """Also turn off the app's linked flags when the guard rolls back."""
    queries: dict[str, str] = {}
    """PromQL templates overriding the defaults, by signal (error_rate, requests, p95_ms, rps)."""
    app_queries: dict[str, dict[str, str]] = {}
    """Per-app PromQL templates, by app name then signal."""
    outage: Literal["hold", "fail"] = "hold"
    """What an unreachable measurement source means: `hold` (no promotion, no rollback on that
    signal; the app is `unknown` and one notification goes out per outage) or `fail` (after
    `prometheus_errors` unreachable reads in a row the signal fails and the guard rolls back)."""
    app_outage: dict[str, Literal["hold", "fail"]] = {}
    """Per-app outage policy (`hold` or `fail`), by app name."""
    evaluation_timeout: float = 10.0
    """Seconds one app's measurements may take before that app's evaluation is an `error`;
    the other apps are evaluated meanwhile."""
    runbook_url: str = ""
    """Runbook link put in every notification; `$app`, `$namespace`, `$context` are filled in."""
    dashboard_url: str = ""
    """Dashboard link put in every notification; same placeholders as `runbook_url`."""
    lease_name: str = "turnout-guard"
    """The coordination.k8s.io Lease the guard replicas elect their leader with."""
    lease_namespace: str = ""
    """Namespace of that Lease (empty: the guard's own namespace in a pod, else the context's)."""
    lease_duration: float = 8.0
    """Seconds a standby waits after the last renewal it saw before taking the lease over."""
    renew_deadline: float = 5.0
    """Seconds the leader may go without renewing before it stops acting (< lease_duration)."""
    retry_period: float = 1.0
    """Seconds between two attempts to acquire or renew the lease."""


class Config(msgspec.Struct, frozen=True, kw_only=True, forbid_unknown_fields=True):
    """Everything Turnout reads from its config file. Every field is optional."""

    read_only: bool = False
    """Refuse every write on every context (monitoring mode)."""
    theme: str = "turnout-dark"
    """TUI theme: turnout-dark, turnout-light, turnout-high-contrast, turnout-ansi."""
    request_timeout: float = 5.0
    """Seconds before a call to the API server, Redis or Prometheus is abandoned."""
    refresh_seconds: float = 2.0
    """How often the TUI refreshes metrics between watch events."""
    flags_url: str = ""
    """Flag store: redis://host:port/db, file:///path/flags.json, launchdarkly://PROJECT/ENV."""
    prometheus_url: str = ""
    """Prometheus base URL for golden signals (empty: no metrics)."""
    contexts: dict[str, ContextSettings] = {}
    """Per-context settings, by kube context name."""
    conventions: Conventions = Conventions()
    """How apps are recognised in the cluster."""
    namespace_conventions: dict[str, dict[str, str]] = {}
    """Per namespace, the conventions that differ from `conventions` there (apps Turnout did
    not create: e.g. {"podinfo": {"app_label": "app", "color_label": "version"}})."""
    keymap: dict[str, str] = {}
    """TUI key bindings by binding id, e.g. {"rollback": "ctrl+r"}."""
    guard: GuardSettings = GuardSettings()
    """The rollback guard (`turnout guard`)."""


ENV_OVERRIDES = {
    "TURNOUT_THEME": "theme",
    "TURNOUT_REQUEST_TIMEOUT": "request_timeout",
    "TURNOUT_FLAGS_URL": "flags_url",
    "TURNOUT_PROMETHEUS_URL": "prometheus_url",
}


def config_path() -> Path:
    """`$TURNOUT_CONFIG`, or config.yaml in the XDG config directory."""
    explicit = os.environ.get("TURNOUT_CONFIG")
    return Path(explicit) if explicit else Path(platformdirs.user_config_dir("turnout")) / "config.yaml"


def load_config(path: Path | None = None) -> Config:
    """Read the config file (absent is fine) and apply environment overrides."""
    path = path or config_path()
    raw: dict[str, object] = {}
    if path.exists():
        import yaml  # here, not at import: most sessions have no config file to parse

        try:
            loaded = yaml.safe_load(path.read_text()) or {}
        except (OSError, yaml.YAMLError) as err:
            raise ConfigError(f"config {path}: cannot read: {err}".splitlines()[0]) from None
        if not isinstance(loaded, dict):
            raise ConfigError(f"config {path}: expected a mapping at the top level")
        raw = loaded
    raw.update({field: os.environ[env] for env, field in ENV_OVERRIDES.items() if env in os.environ})
    _durations(raw, path, "request_timeout")
    for name, settings in dict(raw.get("contexts") or {}).items():  # type: ignore[call-overload]
        if isinstance(settings, dict):
            _durations(settings, path, f"contexts.{name}.request_timeout")
    try:
        config = msgspec.convert(raw, Config, strict=False)
        conventions_by_namespace(config)
    except msgspec.ValidationError as err:
        raise ConfigError(f"config {path}: {err}") from None
    return config


def conventions_by_namespace(config: Config) -> dict[str, Conventions]:
    """Each namespace's conventions: the global ones with that namespace's fields over them."""
    base = msgspec.to_builtins(config.conventions)
    return {ns: msgspec.convert({**base, **fields}, Conventions)
            for ns, fields in config.namespace_conventions.items()}


def _durations(raw: dict[str, object], path: Path, where: str) -> None:
    """kubectl's spelling of a timeout (3s, 1m, 500ms) in the file, as on the command line."""
    timeout = raw.get("request_timeout")
    if isinstance(timeout, str):
        try:
            raw["request_timeout"] = request_timeout(timeout)
        except InvalidInput as err:
            raise ConfigError(f"config {path}: {where}: {err}") from None


def env_flag(name: str) -> bool | None:
    """A boolean environment variable, or None when unset."""
    value = os.environ.get(name)
    if value is None:
        return None
    if value.strip().lower() in TRUE_WORDS:
        return True
    if value.strip().lower() in FALSE_WORDS:
        return False
    raise ConfigError(f"{name}={value!r}: expected 1/0, true/false, yes/no")


def resolve_gate(config: Config, context: str, flag: bool | None) -> WriteGate:
    """Read-only mode for `context`: flag > env > per-context > global."""
    env = env_flag("TURNOUT_READ_ONLY")
    settings = config.contexts.get(context, ContextSettings())
    per_context = settings.read_only
    if per_context is None and settings.production:
        per_context = True
    for value, why in ((flag, "--read-only"), (env, "TURNOUT_READ_ONLY"),
                       (per_context, f"context {context} setting"), (config.read_only, "config")):
        if value is not None:
            return WriteGate(read_only=value, why=why if value else "")
    return WriteGate()
