"""Time `pytest exercises/05_cnn --solutions` against the floor `python -c "import torch"`, side by side,
and each exercise's check time from one `grader all --solutions` run.

    python benchmarks/exercise_times.py [--repeat 5]

Runs alternate (floor, checks, floor, checks...) so that both see the same machine load; prints medians
and their ratio (the goal is at most 2.5), then a table of per-exercise check times.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def timed(command: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(command, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    floor_cmd = [sys.executable, "-c", "import torch"]
    checks_cmd = [sys.executable, "-m", "pytest", "exercises/05_cnn", "--solutions", "-q"]
    timed(checks_cmd)  # warm the file cache
    floor, checks = [], []
    for _ in range(args.repeat):
        floor.append(timed(floor_cmd))
        checks.append(timed(checks_cmd))
    f, c = statistics.median(floor), statistics.median(checks)
    print(f"python -c 'import torch'               median {f:.2f} s  (runs: {', '.join(f'{t:.2f}' for t in floor)})")
    print(f"pytest exercises/05_cnn --solutions    median {c:.2f} s  (runs: {', '.join(f'{t:.2f}' for t in checks)})")
    print(f"ratio {c / f:.2f} (goal <= 2.5)")

    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "all.json"
        start = time.perf_counter()
        subprocess.run([str(BIN / "grader"), "all", "--solutions", "--json", str(out)], cwd=ROOT,
                       stdout=subprocess.DEVNULL, check=False)
        wall = time.perf_counter() - start
        report = json.loads(out.read_text())
    print(f"\ngrader all --solutions: {wall:.1f} s wall")
    print("| exercise | checks | check time (s) |\n| --- | ---: | ---: |")
    for ex in report["exercises"]:
        print(f"| {ex['name']} | {len(ex['checks'])} | {sum(c['duration'] for c in ex['checks']):.2f} |")


if __name__ == "__main__":
    main()
