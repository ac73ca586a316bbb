#!/usr/bin/env python3
"""Turnout's lab: a real local Kubernetes control plane, Redis and Prometheus.

    python3 lab/labctl.py up       start (or reuse) the lab; state in .lab/
    python3 lab/labctl.py status   health of each component (exit 1 if any is down)
    python3 lab/labctl.py env      print .lab/env.json
    python3 lab/labctl.py down     stop every process the lab started
    python3 lab/labctl.py second up|down
                                   a second API server (own etcd prefix and port, contexts
                                   lab-b and lab-b-readonly), for tests over two clusters

Exit codes: 0 ok, 1 the lab failed, 3 the lab cannot be had on this machine
(no Go, not root to install packages, build failed). Stdlib only.
"""

from __future__ import annotations

import argparse
import contextlib
import fcntl
import json
import shlex
import sys
from collections.abc import Iterator

from lablib import LabError, LabUnavailable, procs, second
from lablib.layout import Layout, read_json
from lablib.startup import up
from lablib.status import check, healthy

EXIT_FAILED, EXIT_UNAVAILABLE = 1, 3


@contextlib.contextmanager
def locked(layout: Layout) -> Iterator[None]:
    """Serialise up/down: two test sessions starting at once must share one lab."""
    layout.root.mkdir(parents=True, exist_ok=True)
    with open(layout.lock, "w") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        yield


def cmd_up(layout: Layout, args: argparse.Namespace) -> int:
    """Reuse a healthy lab, or start a fresh one."""
    with locked(layout):
        env = read_json(layout.env_json)
        if healthy(env, layout):
            print(f"lab: already running (kubeconfig {env['kubeconfig']})")
            return 0
        env = up(layout, nodes=args.nodes, timeout=args.timeout)
    print(f"lab: ready in {env['ready_seconds']} s")
    print(f"lab: kubectl --kubeconfig {env['kubeconfig']} get pods -A   "
          "(contexts: lab = admin, lab-readonly = get/list/watch)")
    print(f"lab: redis {env['redis_url']}  prometheus {env['prometheus_url']}")
    print('lab: eval "$(python3 lab/labctl.py env --shell)"; '
          f"turnout --kubeconfig {env['kubeconfig']}")
    return 0


def cmd_down(layout: Layout, args: argparse.Namespace) -> int:
    """Stop every recorded lab process and check none is left."""
    with locked(layout):
        left = procs.stop_all(layout)
        layout.env_json.unlink(missing_ok=True)
    if left:
        print(f"lab: still running after SIGKILL: {', '.join(left)}", file=sys.stderr)
        return EXIT_FAILED
    print("lab: stopped")
    return 0


def cmd_status(layout: Layout, args: argparse.Namespace) -> int:
    """One line per component; non-zero exit unless all are healthy."""
    env = read_json(layout.env_json)
    if not env:
        print("lab: not running (no .lab/env.json)")
        return EXIT_FAILED
    statuses = check(env, layout)
    for s in statuses:
        mark = "ok  " if s.healthy else "DOWN"
        print(f"{mark} {s.name:<22} pid {s.pid or '-':<8} {s.detail}")
    return 0 if all(s.healthy for s in statuses) else EXIT_FAILED


def cmd_second(layout: Layout, args: argparse.Namespace) -> int:
    """Start or stop the second API server (started on demand: most tests need one cluster)."""
    with locked(layout):
        if args.action == "up":
            record = second.up(layout, timeout=args.timeout)
            print(f"lab: second API server {record['apiserver']} ready "
                  f"(contexts {record['context']}, {record['readonly_context']})")
            return 0
        left = second.down(layout)
    if left:
        print(f"lab: still running after SIGKILL: {', '.join(left)}", file=sys.stderr)
        return EXIT_FAILED
    print("lab: second API server stopped (its contexts stay, unavailable)")
    return 0


def shell_exports(env: dict) -> str:
    """Settings that point Turnout at the lab's Prometheus and Redis flag store."""
    return "\n".join([
        f"export TURNOUT_PROMETHEUS_URL={shlex.quote(env['prometheus_url'])}",
        f"export TURNOUT_FLAGS_URL={shlex.quote(env['redis_url'])}",
        f"export TURNOUT_LAB_KUBECONFIG={shlex.quote(env['kubeconfig'])}",
    ])


def cmd_env(layout: Layout, args: argparse.Namespace) -> int:
    """Print env.json (or, with --shell, export lines) for scripts and test fixtures."""
    env = read_json(layout.env_json)
    if not env:
        print("lab: not running (no .lab/env.json)", file=sys.stderr)
        return EXIT_FAILED
    print(shell_exports(env) if args.shell else json.dumps(env, indent=2, sort_keys=True))
    return 0


def parse_args(argv: list[str]) -> argparse.Namespace:
    """Sub-commands and their options."""
    parser = argparse.ArgumentParser(prog="labctl", description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    start = sub.add_parser("up", help="start or reuse the lab")
    start.add_argument("--nodes", type=int, default=2, help="fake kwok nodes (default 2)")
    start.add_argument("--timeout", type=float, default=120.0, help="seconds per start-up step")
    sub.add_parser("down", help="stop the lab")
    other = sub.add_parser("second", help="a second API server on its own etcd prefix")
    other.add_argument("action", choices=("up", "down"))
    other.add_argument("--timeout", type=float, default=120.0, help="seconds to become ready")
    sub.add_parser("status", help="health of each component")
    env = sub.add_parser("env", help="print .lab/env.json")
    env.add_argument("--shell", action="store_true",
                     help="print export lines for Turnout's Prometheus and flag-store settings")
    return parser.parse_args(argv)


COMMANDS = {"up": cmd_up, "down": cmd_down, "status": cmd_status, "env": cmd_env,
            "second": cmd_second}


def main(argv: list[str]) -> int:
    """Run one sub-command; errors are one line on stderr."""
    args = parse_args(argv)
    try:
        return COMMANDS[args.command](Layout(), args)
    except LabUnavailable as exc:
        print(f"lab: unavailable: {exc}", file=sys.stderr)
        return EXIT_UNAVAILABLE
    except LabError as exc:
        print(f"lab: failed: {exc}", file=sys.stderr)
        return EXIT_FAILED
    except BrokenPipeError:  # `labctl up | head -1`: the work is done, only output was cut
        sys.stderr.close()
        return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
