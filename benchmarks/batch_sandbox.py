"""What the sandbox costs: `grader batch` with bubblewrap against the same batch with process isolation only.

    python benchmarks/batch_sandbox.py [--copies 8] [--jobs 2] [--repeat 3] [--exercise 05_cnn ...]

COPIES copies of solutions/ are graded with JOBS slots, alternately in the sandbox and without it (each run
from a fresh output folder, so everything is graded), REPEAT times each; the medians of the wall times are
compared. The goal: the sandbox adds at most 10%. Both must give every copy the same totals.
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

from grader import course
from grader.batch import grade_batch, sandbox

ROOT = Path(__file__).resolve().parents[1]
GOAL = 1.10


def batch(subs: Path, out: Path, exercises: list[str], jobs: int, sandboxed: bool) -> tuple[float, list[float]]:
    real = sandbox.available
    if not sandboxed:
        sandbox.available = lambda: sandbox.NO_SANDBOX
    try:
        shutil.rmtree(out, ignore_errors=True)
        start = time.perf_counter()
        summary = grade_batch(ROOT, subs, out, exercises=exercises, jobs=jobs, histogram=False)
        wall = time.perf_counter() - start
    finally:
        sandbox.available = real
    expected = "bubblewrap" if sandboxed else sandbox.NO_SANDBOX
    assert all(r["sandbox"] == expected for r in summary.results), [r["sandbox"] for r in summary.results]
    return wall, [r["total"] for r in summary.results]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--copies", type=int, default=8)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--exercise", "-e", action="append", default=[], help="only these exercises (default: all)")
    args = parser.parse_args()
    if sandbox.available() is not None:
        print(sandbox.available(), file=sys.stderr)
        return 2
    chosen = [ex.name for ex in course.select(ROOT, args.exercise)]
    walls: dict[bool, list[float]] = {True: [], False: []}
    with tempfile.TemporaryDirectory(prefix="grader-bench-") as tmp:
        subs = Path(tmp) / "subs"
        for i in range(args.copies):
            for name in chosen:
                shutil.copytree(ROOT / "solutions" / name, subs / f"student{i:02d}" / name)
        totals = {}
        for round_ in range(args.repeat):
            for sandboxed in (round_ % 2 == 0, round_ % 2 != 0):  # alternate which goes first
                wall, got = batch(subs, Path(tmp) / "out", chosen, args.jobs, sandboxed)
                walls[sandboxed].append(wall)
                totals.setdefault(sandboxed, got)
                print(f"round {round_ + 1}: {'sandbox   ' if sandboxed else 'no sandbox'} {wall:6.1f} s", flush=True)
        assert totals[True] == totals[False], totals
    with_, without = statistics.median(walls[True]), statistics.median(walls[False])
    ratio = with_ / without
    print(f"{args.copies} copies of {', '.join(chosen)}, {args.jobs} jobs, medians of {args.repeat}: "
          f"sandbox {with_:.1f} s, no sandbox {without:.1f} s, ratio {ratio:.3f} "
          f"({'meets' if ratio <= GOAL else 'misses'} the goal of {GOAL:.2f})")
    return 0 if ratio <= GOAL else 1


if __name__ == "__main__":
    sys.exit(main())
