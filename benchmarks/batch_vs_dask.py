"""The local batch against the same batch on a Dask cluster of as many single-threaded workers.

    python benchmarks/batch_vs_dask.py [--copies 8] [--workers 2] [--exercise 05_cnn ...]

Grades COPIES copies of solutions/ four ways, each a whole `python -m grader.batch` command timed as an
instructor would see it:

  local         --jobs WORKERS (one fork server, WORKERS grading processes at a time)
  dask cold     --dask tcp://...: a standing `dask scheduler` and `dask worker --nworkers WORKERS
                --nthreads 1` on 127.0.0.1 that have graded nothing yet (each worker starts its fork server)
  dask warm     the same cluster again, --force (the workers' fork servers are up: what every batch after
                the first one costs)
  dask local    --dask local --jobs WORKERS (a LocalCluster started and stopped by the command)

and checks that every student's result equals the local batch's (times aside). The cluster's own start
(scheduler and workers up) is timed apart, as it is paid once per cluster, not per batch.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
VOLATILE = {"graded_at", "wall_time", "cpu_time", "duration", "submission"}


def comparable(data):
    if isinstance(data, dict):
        return {k: comparable(v) for k, v in data.items() if k not in VOLATILE}
    if isinstance(data, list):
        return [comparable(v) for v in data]
    return data


def results(out: Path) -> dict[str, dict]:
    return {p.stem: comparable(json.loads(p.read_text())) for p in sorted(out.glob("*.json"))}


def timed(command: list[str]) -> float:
    start = time.perf_counter()
    done = subprocess.run(command, cwd=ROOT, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} exited {done.returncode}:\n{done.stdout}\n{done.stderr}")
    return elapsed


def start_cluster(work: Path, workers: int) -> tuple[str, list[subprocess.Popen], float]:
    """A scheduler and WORKERS worker processes on loopback; (address, processes, seconds until all are up)."""
    start = time.perf_counter()
    dask = [sys.executable, "-m", "dask"]
    scheduler_file = work / "scheduler.json"
    log = open(work / "cluster.log", "wb")
    processes = [subprocess.Popen([*dask, "scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard",
                                   "--scheduler-file", str(scheduler_file)], stdout=log, stderr=log,
                                  start_new_session=True, cwd=work)]
    while not scheduler_file.is_file():
        time.sleep(0.1)
    time.sleep(0.2)
    address = json.loads(scheduler_file.read_text())["address"]
    processes.append(subprocess.Popen([*dask, "worker", address, "--nworkers", str(workers), "--nthreads", "1",
                                       "--host", "127.0.0.1", "--no-dashboard"], stdout=log, stderr=log,
                                      start_new_session=True, cwd=work))
    from distributed import Client

    with Client(address, timeout=60) as client:
        client.wait_for_workers(workers, timeout=300)
    return address, processes, time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--copies", type=int, default=8)
    parser.add_argument("--workers", type=int, default=2, help="local --jobs, and Dask workers (one thread each)")
    parser.add_argument("--exercise", "-e", action="append", default=[], help="only these exercises (default: 05_cnn)")
    args = parser.parse_args()
    exercises = args.exercise or ["05_cnn"]
    work = Path(tempfile.mkdtemp(prefix="bench-dask-"))
    processes: list[subprocess.Popen] = []
    try:
        subs = work / "submissions"
        for i in range(args.copies):
            for name in exercises:
                shutil.copytree(ROOT / "solutions" / name, subs / f"copy{i:02d}" / name)
        batch = [sys.executable, "-m", "grader.batch", str(subs), "--no-histogram",
                 *(x for name in exercises for x in ("-e", name))]
        times = {"local": timed([*batch, "--out", str(work / "local"), "--jobs", str(args.workers)])}
        address, processes, cluster_start = start_cluster(work, args.workers)
        times["dask cold"] = timed([*batch, "--out", str(work / "dask"), "--dask", address])
        times["dask warm"] = timed([*batch, "--out", str(work / "dask"), "--dask", address, "--force"])
        times["dask local"] = timed([*batch, "--out", str(work / "dask-local"), "--dask", "local",
                                     "--jobs", str(args.workers)])
        expected = results(work / "local")
        same = all(results(work / out) == expected for out in ("dask", "dask-local"))
        print(f"machine: {os.cpu_count()} cores, load average {os.getloadavg()[0]:.1f} at the end")
        print(f"{args.copies} copies of solutions/ ({', '.join(exercises)}), {args.workers} processes or workers")
        print(f"cluster start (scheduler + {args.workers} workers, once): {cluster_start:7.1f} s")
        for name, seconds in times.items():
            print(f"{name:<11} {seconds:7.1f} s   {seconds / times['local']:.2f} x local")
        print(f"results equal to the local batch's: {same}")
        return 0 if same and len(expected) == args.copies else 1
    finally:
        for process in processes:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
