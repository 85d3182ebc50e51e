"""Batch grading against grading one submission at a time.

    python benchmarks/batch_vs_all.py [--copies 8] [--jobs 2] [--exercise 05_cnn ...]

Times `grader all --solutions` (a fresh process: torch imported, every check run) once before and once
after `grader batch` over COPIES copies of solutions/ with JOBS processes, and compares the batch with
COPIES sequential `grader all` runs (the faster of the two). The goal: batch <= 0.6 x (COPIES x one run).
Wall-clock times of whole commands, as an instructor sees them; CPU seconds too, which do not depend on
what else the machine is doing. The batch's totals must equal the single run's for every copy.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
GOAL = 0.6


def grader() -> list[str]:
    exe = Path(sys.executable).with_name("grader")
    return [str(exe)] if exe.exists() else [sys.executable, "-m", "grader"]


def timed(command: list[str]) -> tuple[float, float, int, str]:
    """(wall seconds, CPU seconds of the process and the children it waited for, exit status, output)."""
    start = time.perf_counter()
    process = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    output = process.stdout.read().decode(errors="replace")
    _, status, usage = os.wait4(process.pid, 0)
    wall = time.perf_counter() - start
    process.returncode = os.waitstatus_to_exitcode(status)
    return wall, usage.ru_utime + usage.ru_stime, process.returncode, output


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--copies", type=int, default=8)
    parser.add_argument("--jobs", type=int, default=2)
    parser.add_argument("--exercise", "-e", action="append", default=[], help="only these exercises (default: all)")
    args = parser.parse_args()
    selection = [x for name in args.exercise for x in ("-e", name)]
    work = Path(tempfile.mkdtemp(prefix="bench-batch-"))
    load_before = os.getloadavg()[0]
    try:
        single_json = work / "single.json"
        if args.exercise:
            single_cmd = [*grader(), "run", *args.exercise, "--solutions", "--json", str(single_json)]
        else:
            single_cmd = [*grader(), "all", "--solutions", "--json", str(single_json)]
        subs = work / "submissions"
        for i in range(args.copies):
            shutil.copytree(ROOT / "solutions", subs / f"copy{i:02d}")
        batch_cmd = [*grader(), "batch", str(subs), "--out", str(work / "out"), "--jobs", str(args.jobs),
                     *selection]
        # One `grader all` before the batch and one after: the machine's load may change in between.
        singles = []
        for when in ("before", "after"):
            if when == "after":
                batch, batch_cpu, status, output = timed(batch_cmd)
                if status != 0:
                    print(output, file=sys.stderr)
                    return 2
            wall, cpu, status, output = timed(single_cmd)
            if status not in (0, 1):
                print(output, file=sys.stderr)
                return 2
            singles.append((wall, cpu, os.getloadavg()[0]))
        total = json.loads(single_json.read_text())["total"]
        rows = list(csv.DictReader((work / "out" / "grades.csv").open()))
        totals = {float(r["total"]) for r in rows}
        graders_cpu = sum(json.loads(p.read_text()).get("cpu_time", 0.0) for p in (work / "out").glob("*.json"))
        single = min(w for w, _, _ in singles)  # the less disturbed run: the stricter comparison
        sequential = args.copies * single
        ratio = batch / sequential
        shown = " ".join(["grader", *single_cmd[1:-2]])
        print(f"machine: {os.cpu_count()} cores; load average {load_before:.1f} at the start, "
              f"{singles[0][2]:.1f} / {singles[1][2]:.1f} after each single run")
        for (wall, cpu, _), when in zip(singles, ("before", "after")):
            print(f"one `{shown}` ({when} the batch): {wall:7.1f} s wall, {cpu:7.1f} s CPU  ({total:g} points)")
        print(f"{args.copies} x the faster one, sequentially: {sequential:7.1f} s wall")
        print(f"`grader batch` of {args.copies} copies, --jobs {args.jobs}: {batch:7.1f} s wall, "
              f"{graders_cpu:7.1f} s CPU in grading processes + {batch_cpu:.1f} s in the parent "
              f"({len(rows)} students, totals {sorted(totals)})")
        print(f"ratio: {ratio:.2f} (goal <= {GOAL})  {'OK' if ratio <= GOAL else 'MISSED'}")
        if totals != {float(total)} or len(rows) != args.copies:
            print("the batch's totals differ from the single run's", file=sys.stderr)
            return 1
        return 0 if ratio <= GOAL else 1
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
