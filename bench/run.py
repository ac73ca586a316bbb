"""`make bench`: run every benchmark module, print each figure beside its peers,
and write the same rows to bench/results/latest.json."""

from __future__ import annotations

import importlib
import json
import sys
import traceback
from pathlib import Path

HERE = Path(__file__).resolve().parent
MODULES = ("bench_flags", "bench_kube", "bench_tui", "bench_guard")


def main() -> int:
    sys.path.insert(0, str(HERE))
    rows: list[dict[str, object]] = []
    failed = 0
    for name in MODULES:
        if not (HERE / f"{name}.py").exists():
            continue
        print(f"\n## {name}")
        try:
            found = importlib.import_module(name).run()
        except Exception:  # a broken benchmark must not hide the others' figures
            traceback.print_exc()
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


if __name__ == "__main__":
    sys.exit(main())
