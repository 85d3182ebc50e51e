"""The cold run, side by side: `pytest exercises/05_cnn --solutions` against the floor `python -c "import
torch"` (goal: at most 2.5 times), and `grader all --solutions` against one bare pytest run over the same
checks (goal: at most 1.15 times); then each exercise's check time from one `grader all --solutions` run.

    python benchmarks/exercise_times.py [--repeat 5]

Runs alternate (floor, 05, pytest, grader, floor, ...) so that all see the same machine load; prints the
medians and the two ratios, then a table of per-exercise check times.
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
    commands = {
        "python -c 'import torch'": [sys.executable, "-c", "import torch"],
        "pytest exercises/05_cnn --solutions": [sys.executable, "-m", "pytest", "exercises/05_cnn", "--solutions",
                                                "-q"],
        "pytest exercises --solutions": [sys.executable, "-m", "pytest", "exercises", "--solutions", "-q"],
        "grader all --solutions": [str(BIN / "grader"), "all", "--solutions"],
    }
    for command in commands.values():
        timed(command)  # warm the file cache
    runs: dict[str, list[float]] = {name: [] for name in commands}
    for _ in range(args.repeat):
        for name, command in commands.items():
            runs[name].append(timed(command))
    median = {name: statistics.median(times) for name, times in runs.items()}
    for name, times in runs.items():
        print(f"{name:38} median {median[name]:.2f} s  (runs: {', '.join(f'{t:.2f}' for t in times)})")
    names = list(commands)
    print(f"05 against import torch: ratio {median[names[1]] / median[names[0]]:.2f} (goal <= 2.5)")
    print(f"grader all against bare pytest: ratio {median[names[3]] / median[names[2]]:.2f} (goal <= 1.15)")

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
