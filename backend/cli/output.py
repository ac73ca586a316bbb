"""Rendering records for stdout: table, json, yaml, name. Data only, no colour."""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any, TextIO

import msgspec

from turnout.backend.contexts import ContextApps
from turnout.backend.models import COLORS, ActionResult, App
from turnout.backend.sanitize import inert

FORMATS = ("table", "json", "yaml", "name")


def app_view(app: App) -> dict[str, Any]:
    """The documented status schema of one app (README: "Status schema")."""
    traffic = app.traffic
    return {
        "name": app.name,
        "namespace": app.namespace,
        "context": app.context,
        "live": traffic.live,
        "weights": {"blue": traffic.weights.blue, "green": traffic.weights.green},
        "router": traffic.router,
        "plan": list(traffic.plan),
        "step": traffic.step,
        "colors": {c: _slot_view(app, c) for c in COLORS},
        "health": app.health,
        "verdicts": msgspec.to_builtins(app.verdicts),
        "guard": app.guard,
        "guard_report": msgspec.to_builtins(app.guard_report),
        "lock_holder": app.lock_holder or None,
        "operation": msgspec.to_builtins(app.operation or app.deploy),
        "drift": msgspec.to_builtins(app.drift),
    }


def _slot_view(app: App, color: str) -> dict[str, Any]:
    slot = app.slot(color)  # type: ignore[arg-type]
    metrics = app.metrics_of(color)  # type: ignore[arg-type]
    return {
        "version": slot.version, "image": slot.image, "desired": slot.desired,
        "ready": slot.ready, "available": slot.available,
        "restarts_5m": sum(p.restarts_5m for p in slot.pods),
        "error_rate": metrics.error_rate if metrics else None,
        "p95_ms": metrics.p95_ms if metrics else None,
        "rps": metrics.rps if metrics else None,
    }


def result_view(result: ActionResult) -> dict[str, Any]:
    """The schema of an action's outcome."""
    data: dict[str, Any] = msgspec.to_builtins(result)
    for side in ("before", "after"):
        data[side].pop("revision", None)
    return data


def write_apps(apps: Sequence[App], fmt: str, out: TextIO, *, single: bool = False) -> None:
    """Print apps in `fmt`; `single` prints one object rather than a list."""
    if fmt == "name":
        out.writelines(f"app/{inert(a.namespace)}/{inert(a.name)}\n" for a in apps)
    elif fmt == "table":
        write_table(out, APP_COLUMNS, [_app_row(a) for a in apps])
        for app in apps if single else ():
            _write_drift(app, out)
    else:
        views = [app_view(a) for a in apps]
        write_data(views[0] if single else {"items": views}, fmt, out)


def context_view(found: ContextApps) -> dict[str, Any]:
    """One context's state in the status schema: live, unavailable or error, and why."""
    return {"context": found.context, "state": found.state, "read_only": found.read_only,
            "request_timeout": found.timeout, "apps": len(found.apps),
            "error": found.error or None}


def write_contexts(found: Sequence[ContextApps], fmt: str, out: TextIO) -> None:
    """Apps of several contexts side by side: a CONTEXT column, and each context's state."""
    apps = [a for c in found for a in c.apps]
    if fmt == "name":
        out.writelines(f"context/{inert(a.context)}/app/{inert(a.namespace)}/{inert(a.name)}\n"
                       for a in apps)
    elif fmt == "table":
        write_table(out, ("CONTEXT", *APP_COLUMNS), [[a.context, *_app_row(a)] for a in apps])
        for c in found:
            write_context_state(c.context, c.state, c.error, fmt, out)
    else:
        write_data({"contexts": [context_view(c) for c in found],
                    "items": [app_view(a) for a in apps]}, fmt, out)


def write_context_state(context: str, state: str, error: str, fmt: str, out: TextIO) -> None:
    """One context's state below a table (or as a JSON line); nothing for a live one in a
    table, where its rows say it."""
    if fmt == "table" and state != "live":
        out.write(f"context {inert(context)}: {state.upper()}: {inert(error, single_line=True)}\n")
    elif fmt == "json":
        json.dump({"context": context, "state": state, "error": error or None}, out)
        out.write("\n")


def _write_drift(app: App, out: TextIO) -> None:
    """Why a drifted app's weights are no release state, and what each object says."""
    if app.drift is not None:
        out.write("\nDRIFTED: the routing objects disagree\n")
        out.writelines(f"  {inert(line)}\n" for line in (*app.drift.reasons, *app.drift.objects))


def write_data(data: Any, fmt: str, out: TextIO) -> None:
    """JSON or YAML of plain data."""
    if fmt == "yaml":
        import yaml  # here, not at import: only -o yaml needs it

        yaml.safe_dump(data, out, sort_keys=False)
    else:
        json.dump(data, out, indent=2)
        out.write("\n")


APP_COLUMNS = ("NAMESPACE", "APP", "LIVE", "WEIGHTS", "BLUE", "GREEN", "HEALTH", "LOCK", "OPERATION")


def _app_row(app: App) -> list[str]:
    def slot(color: str) -> str:
        s = app.slot(color)  # type: ignore[arg-type]
        return f"{s.version} {s.ready}/{s.desired}"

    w = app.traffic.weights
    operation = _operation_cell(app)
    weights = f"{w.blue}/{w.green}" + (" drifted" if app.drifted else "")
    return [app.namespace, app.name, app.traffic.live, weights,
            slot("blue"), slot("green"), app.health, app.lock_holder or "-", operation]


def _operation_cell(app: App) -> str:
    op, deploy = app.operation, app.deploy
    if op is not None:
        return f"{op.kind} {op.step}/{len(op.steps)} (unfinished)"
    if deploy is not None:
        return (f"deploy {deploy.stage} ({deploy.step + 1}/{len(deploy.steps)}, {deploy.status}) "
                f"by {deploy.by} since {deploy.started_at:%Y-%m-%dT%H:%M:%SZ}")
    return "-"


def write_table(out: TextIO, columns: Sequence[str], rows: Sequence[Sequence[str]],
                widths: Sequence[int] | None = None) -> list[int]:
    """A kubectl-style table: upper-case headers, columns padded, untrusted cells made inert.
    With `widths` (a table printed earlier), only the rows, aligned under it as far as they fit."""
    cells = ([] if widths else [list(columns)]) + [[inert(str(c)) for c in row] for row in rows]
    used = [max([len(r[i]) for r in cells] + [widths[i] if widths else 0]) for i in range(len(columns))]
    for row in cells:
        out.write("   ".join(c.ljust(w) for c, w in zip(row, used, strict=True)).rstrip() + "\n")
    return used


class AppStream:
    """`turnout watch`: an app is printed again only when what the table shows of it (or its
    guard) changed, not on every event; a table's header once, its later rows beneath it."""

    def __init__(self, fmt: str, out: TextIO, *, contexts: bool = False) -> None:
        self.fmt = fmt
        self.out = out
        self.contexts = contexts
        """Several contexts: a CONTEXT column, and each context's state when it changes."""
        self._shown: dict[tuple[str, str, str], list[str]] = {}
        self._states: dict[str, str] = {}
        self._widths: list[int] | None = None

    def state(self, context: str, state: str, error: str = "") -> None:
        """A context's state, printed when it changes; a context live from the start says so
        with its rows."""
        before, self._states[context] = self._states.get(context), state
        if state == before or (before is None and state == "live"):
            return
        if self.fmt == "table":
            why = f": {inert(error, single_line=True)}" if error else ""
            self.out.write(f"context {inert(context)}: {state.upper()}{why}\n")
        else:
            write_context_state(context, state, error, "json", self.out)
        self.out.flush()

    def show(self, apps: Sequence[App]) -> None:
        changed = [a for a in apps if self._shown.get(_key(a)) != _watched(a)]
        if not changed:
            return
        for app in changed:
            self._shown[_key(app)] = _watched(app)
        if self.fmt == "table":
            columns = ("CONTEXT", *APP_COLUMNS) if self.contexts else APP_COLUMNS
            rows = [[a.context, *_app_row(a)] if self.contexts else _app_row(a) for a in changed]
            self._widths = write_table(self.out, columns, rows, self._widths)
        elif self.fmt == "name":
            write_apps(changed, "name", self.out)
        else:
            for app in changed:
                json.dump(app_view(app), self.out)
                self.out.write("\n")
        self.out.flush()


def _key(app: App) -> tuple[str, str, str]:
    return app.context, app.namespace, app.name


def _watched(app: App) -> list[str]:
    return [*_app_row(app), app.guard]
