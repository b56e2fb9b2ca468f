"""Run the benchmarks: `python -m benchmarks.run [--quick] [--only NAME ...]`.

Prints a table and writes benchmarks/results.json (merged with the figures of earlier runs
when --only runs a subset).
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

from . import engine_overhead, history_growth, inbox_scale, throughput

MODULES = {
    module.NAME: module for module in (engine_overhead, history_growth, inbox_scale, throughput)
}
RESULTS = Path(__file__).with_name("results.json")
# key -> (label, target, "<=" or ">=")
FIGURES = {
    "engine_overhead_ratio": ("1 engine overhead (HTTP / raw Spiff)", 2.0, "<="),
    "engine_overhead_procedure_ratio": ("1 same, on a shipped procedure's task", 2.0, "<="),
    "history_growth_ratio": ("2 history growth (round 200 / 1)", 1.25, "<="),
    "inbox_scale_ratio_sqlite": ("3 inbox p95 1M / 10k, SQLite", 1.5, "<="),
    "inbox_scale_ratio_postgres": ("3 inbox p95 1M / 10k, PostgreSQL", 1.5, "<="),
    "throughput_scaling_4v1": ("4 throughput 4 workers / 1, PG", 1.6, ">="),
}


def _verdict(value, target, op) -> str:
    if value is None:
        return "skipped"
    ok = value <= target if op == "<=" else value >= target
    return "ok" if ok else "MISSED"


def table(results: dict) -> str:
    lines = [f"{'figure':40} {'value':>9} {'target':>9}  verdict", "-" * 70]
    for key, (label, target, op) in FIGURES.items():
        value = results.get(key)
        shown = "-" if value is None else f"{value:9.2f}"
        lines.append(f"{label:40} {shown:>9} {op + str(target):>9}  {_verdict(value, target, op)}")
    lines.append("")
    lines.append("raw figures:")
    for key, value in results.items():
        if key in FIGURES or key.endswith("_plan") or key == "meta":
            continue
        shown = f"{value:.3f}" if isinstance(value, float) else str(value)
        lines.append(f"  {key:48} {shown}")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small sizes: a smoke run")
    parser.add_argument(
        "--only", action="append", choices=sorted(MODULES), help="run only this figure"
    )
    args = parser.parse_args(argv)
    names = args.only or list(MODULES)

    results: dict = {}
    if args.only and RESULTS.exists():
        results = json.loads(RESULTS.read_text())
    started = time.monotonic()
    for name in names:
        t0 = time.monotonic()
        print(f"== {name} ...", flush=True)
        try:
            results.update(MODULES[name].run(quick=args.quick))
            results.pop(f"{name}_error", None)
        except Exception as exc:  # keep the other figures; name the failure in the results
            results[f"{name}_error"] = f"{type(exc).__name__}: {exc}"[:500]
            print(f"   {name} FAILED: {results[f'{name}_error']}", flush=True)
        print(f"   {name} took {time.monotonic() - t0:.0f} s", flush=True)
    results["meta"] = {
        "quick": args.quick,
        "ran": names,
        "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "seconds": round(time.monotonic() - started, 1),
        "python": platform.python_version(),
        "cpus": os.cpu_count(),
        "load_average": os.getloadavg(),
    }
    RESULTS.write_text(json.dumps(results, indent=2, ensure_ascii=False) + "\n")
    print()
    print(table(results))
    print(f"\nwrote {RESULTS} in {results['meta']['seconds']} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
