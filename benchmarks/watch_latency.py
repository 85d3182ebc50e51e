"""Time `grader watch`'s feedback (a save of the module -> the scoreboard's total line) against the floor
`python -c "import torch"`, side by side.

    python benchmarks/watch_latency.py [--repeat 10] [--hidden] [--start-method spawn]

By default it grades 05_cnn's public checks, what a student has: it writes the student release of 05_cnn to
a temporary folder, copies the reference cnn.py into a submission there and starts `grader watch 05_cnn
--submission ...` in that release. `--hidden` watches `05_cnn --solutions` in this course instead (public and
hidden checks). After the first scoreboard, runs alternate (a re-save, then one `import torch`...) so that both
see the same machine load; prints medians and their ratio (the goal is at most 0.5).
"""

from __future__ import annotations

import argparse
import os
import queue
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
GRADER = Path(sys.executable).parent / "grader"
TIMEOUT = 120.0


class Watch:
    """`grader watch` in a subprocess; its output lines arrive, time-stamped, on `lines`."""

    def __init__(self, args: list[str], cwd: Path):
        env = {**os.environ, "PYTHONUNBUFFERED": "1"}
        self.process = subprocess.Popen([str(GRADER), "watch", *args], cwd=cwd, env=env, text=True,
                                        stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
        self.lines: queue.Queue[tuple[float, str]] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        for line in self.process.stdout:
            self.lines.put((time.perf_counter(), line.rstrip("\n")))

    def total_line(self) -> float:
        """When the next scoreboard's total line arrived."""
        deadline = time.monotonic() + TIMEOUT
        while True:
            stamp, line = self.lines.get(timeout=max(0.1, deadline - time.monotonic()))
            if line.startswith("Total "):
                return stamp
            if line.startswith(("grader: error", "could not grade")):
                raise SystemExit(f"grader watch: {line}")

    def stop(self) -> int:
        self.process.send_signal(signal.SIGINT)
        try:
            return self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            return self.process.wait()


def floor() -> float:
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", "import torch"], check=True)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--repeat", type=int, default=10)
    parser.add_argument("--hidden", action="store_true", help="05_cnn --solutions: public and hidden checks")
    parser.add_argument("--start-method", choices=["auto", "fork", "spawn"], default="auto")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        if args.hidden:
            cwd, module, options = ROOT, ROOT / "solutions" / "05_cnn" / "cnn.py", ["--solutions"]
        else:
            cwd = Path(tmp) / "student"
            release = [str(GRADER), "release", str(cwd), "05_cnn"]
            subprocess.run(release, cwd=ROOT, check=True, stdout=subprocess.DEVNULL)
            module = Path(tmp) / "submission" / "05_cnn" / "cnn.py"
            module.parent.mkdir(parents=True)
            shutil.copy(ROOT / "solutions" / "05_cnn" / "cnn.py", module)
            options = ["--submission", str(module.parent.parent)]
        source = module.read_bytes()
        watch = Watch(["05_cnn", *options, "--start-method", args.start_method], cwd)
        try:
            start = time.perf_counter()
            first = watch.total_line() - start
            saves, floors = [], []
            for _ in range(args.repeat):
                time.sleep(0.2)  # the run's process is reaped and the watcher waits again
                start = time.perf_counter()
                module.write_bytes(source)  # a re-save, same bytes
                saves.append(watch.total_line() - start)
                floors.append(floor())
        finally:
            code = watch.stop()
    s, f = statistics.median(saves), statistics.median(floors)
    checks = "public and hidden checks" if args.hidden else "public checks"
    print(f"grader watch 05_cnn ({checks}, {args.start_method}): first scoreboard {first:.2f} s after start")
    print(f"save -> total line        median {s:.2f} s  (runs: {', '.join(f'{t:.2f}' for t in saves)})")
    print(f"python -c 'import torch'  median {f:.2f} s  (runs: {', '.join(f'{t:.2f}' for t in floors)})")
    print(f"ratio {s / f:.2f} (goal <= 0.5); grader watch exited with {code} on SIGINT")


if __name__ == "__main__":
    main()
