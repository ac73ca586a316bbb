"""A pod described in plain lines, as `kubectl describe pod` reads; the CLI prints them and
the TUI styles them, so both show the same facts in the same order."""

from __future__ import annotations

from datetime import datetime

from turnout.backend.models import PodDetail
from turnout.backend.sanitize import inert
from turnout.backend.timefmt import age


def describe_lines(found: PodDetail, now: datetime) -> list[str]:
    """The plain-text description, every cell from the cluster made inert."""
    p = found.pod
    out = [f"Name:        {p.name}", f"App:         {found.namespace}/{found.app} ({p.color})",
           f"Node:        {p.node or '-'}", f"IP:          {found.ip or '-'}",
           f"Status:      {p.phase}{' (' + p.waiting_reason + ')' if p.waiting_reason else ''}",
           f"Ready:       {'yes' if p.ready else 'no'}",
           f"Restarts:    {p.restarts} ({p.restarts_5m} in the last 5 minutes)",
           f"Started:     {age(p.started_at, now)} ago" if p.started_at else "Started:     -"]
    for title, pairs in (("Labels", found.labels), ("Annotations", found.annotations)):
        out.append(f"{title}:" + ("" if pairs else "  <none>"))
        out += [f"  {k}={v}" for k, v in pairs]
    out.append("Conditions:  " + (", ".join(f"{t}={s}" for t, s in found.conditions) or "<none>"))
    out.append("Containers:")
    for c in found.containers:
        reason = f" ({c.reason})" if c.reason else ""
        last = (f", last ended {c.last_reason or 'with'} exit {c.last_exit_code}"
                if c.last_exit_code is not None else "")
        out.append(f"  {c.name}  {c.image}  {c.state}{reason}, ready {'yes' if c.ready else 'no'}, "
                   f"restarts {c.restarts}{last}")
    out.append("Events:" + ("" if found.events else "  <none>"))
    out += [f"  {age(e.at, now):>5}  {e.type:<8} {e.reason}  {e.message}" for e in found.events]
    out.append("Logs" + (f" of {found.log_container}" if found.log_container else "") + ":"
               + (f"  ({found.logs_note})" if found.logs_note else ""))
    out += [f"  {line}" for line in found.logs]
    return [inert(line, single_line=True) for line in out]
