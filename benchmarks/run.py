"""Run the benchmarks and print a table of medians and ratios against each baseline.

    python -m benchmarks.run            # full run (a few minutes)
    python -m benchmarks.run --quick    # fewer repeats, for CI
    python -m benchmarks.run --quick --only serving,container   # some benchmarks only

Container mode needs a running Docker Engine and the test image smnb-test/sklearn:1
(tests/images/build.sh).
Exits 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import sys
import time

from . import (
    bench_cloud_logs,
    bench_container,
    bench_first_line,
    bench_ingestion,
    bench_load_ext,
    bench_serving,
    bench_tuning,
    bench_ui,
)
from .common import Result

BENCHMARKS = ("load_ext", "first_line", "ingestion", "container", "serving", "cloud_logs", "ui",
              "tuning")
COLUMNS = ("benchmark", "baseline", "median", "Δ vs baseline", "ratio", "target", "result")


def _cells(r: Result) -> tuple[str, ...]:
    number = "{:,.0f} {}" if r.unit == "lines/s" else "{:.1f} {}"
    median = number.format(r.measured, r.unit)
    if r.baseline is None:  # a target of its own, nothing to compare with
        baseline = delta = ratio = "—"
    else:
        baseline = f"{r.baseline_name}: {number.format(r.baseline, r.unit)}"
        delta, ratio = "+" * (r.delta >= 0) + number.format(r.delta, r.unit), f"{r.ratio:.2f}×"
    verdict = "—" if r.informational else "PASS" if r.passed else "FAIL"
    return (r.name, baseline, median, delta, ratio, r.target, verdict)


def table(results: list[Result]) -> str:
    rows = [COLUMNS, *(_cells(r) for r in results)]
    widths = [max(len(row[i]) for row in rows) for i in range(len(COLUMNS))]
    lines = ["  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
             for row in rows]
    lines.insert(1, "  ".join("-" * w for w in widths))
    for r in results:
        lines += [f"· {r.name}: {note}" for note in r.notes]
    return "\n".join(lines)


def _calibration() -> float:
    """A fixed CPU-bound loop, so figures from different machines can be compared."""
    times = []
    for _ in range(5):
        began = time.perf_counter()
        sum(range(10**7))
        times.append((time.perf_counter() - began) * 1000)
    return min(times)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.run", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="fewer repeats (CI)")
    parser.add_argument("--repeat", type=int, help="repeats per timing benchmark")
    parser.add_argument("--only", help="comma-separated benchmarks to run, of: "
                        + ", ".join(BENCHMARKS) + " (default: all)")
    parser.add_argument("--lines", type=int, help="lines for the ingestion benchmark "
                        f"(at least {bench_ingestion.MIN_LINES:,}; default 500,000 quick, "
                        "1,000,000 full)")
    args = parser.parse_args(argv)
    if args.repeat is not None and args.repeat < 1:
        parser.error("--repeat: at least 1")
    if args.lines is not None and args.lines < bench_ingestion.MIN_LINES:
        parser.error(f"--lines: at least {bench_ingestion.MIN_LINES:,}")
    only = args.only.split(",") if args.only else list(BENCHMARKS)
    if unknown := [name for name in only if name not in BENCHMARKS]:
        parser.error(f"--only: {', '.join(unknown)}: not one of {', '.join(BENCHMARKS)}")
    repeat = args.repeat or (7 if args.quick else 21)
    lines = args.lines or (500_000 if args.quick else 1_000_000)

    began = time.perf_counter()
    plan = {"load_ext": lambda: [bench_load_ext.run(repeat)],
            "first_line": lambda: [bench_first_line.run(repeat)],
            "ingestion": lambda: bench_ingestion.run(lines, 3 if args.quick else 5),
            "container": lambda: bench_container.run(5 if args.quick else repeat),
            "serving": lambda: bench_serving.run(5 if args.quick else repeat),
            "cloud_logs": lambda: bench_cloud_logs.run(20 if args.quick else 60),
            "ui": lambda: bench_ui.run(8 if args.quick else 20, 15 if args.quick else 30),
            "tuning": lambda: bench_tuning.run(1 if args.quick else min(repeat, 3))}
    results = [r for name in BENCHMARKS if name in only for r in plan[name]()]
    print(table(results))
    print(f"({repeat} repeats per timing, {time.perf_counter() - began:.0f} s in all, "
          f"Python {sys.version.split()[0]}; this machine's speed: {_calibration():.0f} ms for "
          "sum(range(10**7)))")
    return 0 if all(r.passed for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
