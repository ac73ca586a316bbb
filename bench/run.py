"""`make bench`: run every benchmark module, print each figure beside its peers,
and write the same rows to bench/results/latest.json.

Each module runs in a process of its own: a peak-memory figure must not include what
another module allocated (the stock client's 10 000 typed pods), nor its garbage."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
MODULES = ("bench_startup", "bench_flags", "bench_ofrep", "bench_kube", "bench_tui", "bench_watch",
           "bench_guard", "bench_guard_failover")


def main() -> int:
    rows: list[dict[str, object]] = []
    failed = 0
    for name in MODULES:
        if not (HERE / f"{name}.py").exists():
            continue
        print(f"\n## {name}", flush=True)
        found = _run_module(name)
        if found is None:  # a broken benchmark must not hide the others' figures
            failed += 1
            continue
        for row in found:
            print(f"  {row['name']:<60} {row['value']:>12.4g} {row['unit']}")
        rows.extend(found)
    out = HERE / "results" / "latest.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(rows, indent=2) + "\n")
    print(f"\n{len(rows)} figures written to {out.relative_to(HERE.parent)}")
    return 1 if failed else 0


def _run_module(name: str) -> list[dict[str, object]] | None:
    """The rows of one module, measured in a fresh interpreter; None if it failed."""
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "rows.json"
        code = (f"import json, sys; sys.path.insert(0, {str(HERE)!r}); import {name}; "
                f"open({str(out)!r}, 'w').write(json.dumps({name}.run()))")
        # Audit lines and incident reports of benchmark runs stay out of the operator's own.
        env = {**os.environ, "TURNOUT_STATE_DIR": str(Path(tmp) / "state")}
        done = subprocess.run([sys.executable, "-c", code], check=False, env=env)
        if done.returncode != 0 or not out.exists():
            print(f"  {name} failed (exit {done.returncode})", file=sys.stderr)
            return None
        rows: list[dict[str, object]] = json.loads(out.read_text())
        return rows


if __name__ == "__main__":
    sys.exit(main())
