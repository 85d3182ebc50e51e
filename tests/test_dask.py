"""`grader batch --dask`: the same batch on a Dask cluster, here a real scheduler and workers on loopback.

A class of 05_cnn submissions (the reference solution three times, one module that does not compile) is
graded through `--dask` while one worker is killed (SIGKILL to its nanny's process group) half way: every
student must end up with the result a local batch gives, and the killed worker's grading processes must
go with it. A toy course with a check marked `cuda` shows where GPU checks go: recorded as skipped, with a
reason, on a cluster without a GPU worker; sent to the GPU worker once there is one.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest

pytest.importorskip("distributed")

from distributed import Client

from grader import data
from grader.batch import Limits, grade_batch, store
from grader.batch import dask as dask_batch
from grader.course import select
from grader.limits import TIMINGS
from grader.metadata import CUDA_SKIP
from grader.testing import descendants, linux_only

ROOT = Path(__file__).resolve().parents[1]
LIMITS = Limits(check_timeout=60.0, submission_timeout=300.0)
CLI_LIMITS = ["--check-timeout", "60", "--submission-timeout", "300"]
COPIES = ["ann", "ben", "cal"]  # the reference solution, unchanged
BROKEN = "eve"  # a module that does not compile

# Our own tests run under the grader's plugin too: its 60 s default is too short for a batch.
pytestmark = [linux_only, pytest.mark.timeout(600)]


class Cluster:
    """`dask scheduler` and `dask worker` processes on 127.0.0.1, each in its own process group."""

    def __init__(self, folder: Path):
        self.folder = folder
        self.workers: dict[str, subprocess.Popen] = {}
        scheduler_file = folder / "scheduler.json"
        self.scheduler = self._start(["scheduler", "--host", "127.0.0.1", "--port", "0", "--dashboard-address", "127.0.0.1:0",
                                      "--scheduler-file", str(scheduler_file)], "scheduler")
        deadline = time.monotonic() + 60
        while not scheduler_file.is_file():
            assert self.scheduler.poll() is None and time.monotonic() < deadline, self.log("scheduler")
            time.sleep(0.1)
        time.sleep(0.2)  # written in one go, but let it land
        self.address = json.loads(scheduler_file.read_text())["address"]
        self.client = Client(self.address, timeout=30)

    def _start(self, args: list[str], name: str) -> subprocess.Popen:
        log = open(self.folder / f"{name}.log", "wb")
        return subprocess.Popen([sys.executable, "-m", "dask", *args], cwd=self.folder, stdout=log,
                                stderr=subprocess.STDOUT, start_new_session=True)

    def log(self, name: str) -> str:
        return (self.folder / f"{name}.log").read_text(errors="replace")[-3000:]

    def add_worker(self, name: str, *extra: str) -> str:
        self.workers[name] = self._start(["worker", self.address, "--name", name, "--nworkers", "1", "--nthreads", "1",
                                          "--host", "127.0.0.1", "--dashboard-address", "127.0.0.1:0", *extra], name)
        deadline = time.monotonic() + 120
        while name not in self.names():
            assert self.workers[name].poll() is None and time.monotonic() < deadline, self.log(name)
            time.sleep(0.1)
        return self.names()[name]

    def names(self) -> dict[str, str]:
        """Worker name -> address, as the scheduler knows them."""
        workers = self.client.scheduler_info(n_workers=-1)["workers"]
        return {str(info.get("name")): address for address, info in workers.items()}

    def kill(self, name: str) -> None:
        os.killpg(self.workers[name].pid, signal.SIGKILL)
        self.workers[name].wait(timeout=30)

    def close(self) -> None:
        self.client.close()
        for process in [*self.workers.values(), self.scheduler]:
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=30)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    cluster = Cluster(tmp_path_factory.mktemp("dask"))
    try:
        cluster.add_worker("w1")
        cluster.add_worker("w2")
        yield cluster
    finally:
        cluster.close()


def make_class(folder: Path) -> Path:
    solution = (ROOT / "solutions" / "05_cnn" / "cnn.py").read_bytes()
    for student in COPIES:
        (folder / student / "05_cnn").mkdir(parents=True)
        (folder / student / "05_cnn" / "cnn.py").write_bytes(solution)
    (folder / BROKEN / "05_cnn").mkdir(parents=True)
    (folder / BROKEN / "05_cnn" / "cnn.py").write_text("def conv2d(:\n")
    return folder


def comparable(data):
    """A student's JSON without what differs from run to run (times, where the submission was read)."""
    volatile = {"graded_at", "wall_time", "cpu_time", "duration", "submission"}
    if isinstance(data, dict):
        return {k: comparable(v) for k, v in data.items() if k not in volatile}
    if isinstance(data, list):
        return [comparable(v) for v in data]
    return data


def result(out: Path, student: str) -> dict:
    return json.loads((out / f"{student}.json").read_text())



def gone(pids: set[int], timeout: float = 30) -> bool:
    def alive(pid):
        try:
            return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
        except OSError:
            return False

    deadline = time.monotonic() + timeout
    while any(alive(pid) for pid in pids):
        if time.monotonic() > deadline:
            return False
        time.sleep(0.1)
    return True


def student_of(key) -> str:
    """The student of a task key `grade-cpu-<student>-<digest>`."""
    return str(key).split("-", 2)[2].rsplit("-", 1)[0]


# --- a worker killed half way ------------------------------------------------------------------------------


def test_killed_worker_loses_nothing_and_results_equal_a_local_batch(cluster, tmp_path):
    subs = make_class(tmp_path / "subs")
    local_out, dask_out = tmp_path / "local", tmp_path / "dask"
    local = grade_batch(ROOT, subs, local_out, exercises=["05_cnn"], jobs=2, limits=LIMITS, histogram=False)
    assert sorted(local.graded) == sorted([*COPIES, BROKEN]) and not local.failed

    command = [sys.executable, "-m", "grader.batch", str(subs), "--out", str(dask_out), "-e", "05_cnn",
               "--dask", cluster.address, "--no-histogram", *CLI_LIMITS]
    batch = subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    # Half way: once the first student is written, kill the worker that has students left to grade.
    deadline = time.monotonic() + 300
    while not list(dask_out.glob("*.json")):
        assert batch.poll() is None and time.monotonic() < deadline, batch.stdout.read().decode()
        time.sleep(0.05)
    names = cluster.names()
    processing = cluster.client.processing()
    victim = max(names, key=lambda name: len(processing.get(names[name], [])))
    lost = {student_of(key) for key in processing.get(names[victim], []) if str(key).startswith("grade-cpu-")}
    done_before = {p.stem for p in dask_out.glob("*.json")}
    assert lost - done_before, f"{victim} had nothing left to grade: {processing}"
    family = descendants(cluster.workers[victim].pid)
    cluster.kill(victim)
    assert family and gone(family), "the killed worker's grading processes outlived it"

    output = batch.communicate(timeout=400)[0].decode()
    assert batch.returncode == 0, output
    assert "Dask cluster at" in output and "Batch results" in output
    assert sorted(p.stem for p in dask_out.glob("*.json")) == sorted([*COPIES, BROKEN])
    assert not list(dask_out.glob(".*"))
    for student in [*COPIES, BROKEN]:
        assert comparable(result(dask_out, student)) == comparable(result(local_out, student)), student
    assert result(dask_out, "ann")["total"] == result(dask_out, "ann")["max_total"] > 0
    assert result(dask_out, BROKEN)["total"] == 0
    # The students the dead worker held were graded elsewhere, once each.
    assert all(result(dask_out, student)["processes"] == 1 for student in lost)
    assert (dask_out / "grades.csv").read_text().count("\n") == 1 + len(COPIES) + 1

    # The same grading key as a local batch: either resumes the other (nothing changed, nothing graded).
    with dask_batch.connect(cluster.address) as grid:
        again = grade_batch(ROOT, subs, local_out, exercises=["05_cnn"], limits=LIMITS, histogram=False, executor=grid)
    assert not again.graded and sorted(again.unchanged) == sorted([*COPIES, BROKEN])


# --- checks marked cuda --------------------------------------------------------------------------------

TOY_MODULE = "def double(x):\n    return 2 * x\n"
TOY_CHECKS = '''\
import pytest
import torch

from grader.checks import expect, expect_equal


def test_double(student):
    expect_equal(student.double(3), 6, "double(3)")


@pytest.mark.cuda
@pytest.mark.points(2)
def test_double_on_the_gpu(student, device):
    got = student.double(torch.ones(2, device=device))
    expect(got.device.type == "cuda", f"double(x) of a CUDA tensor is on {got.device.type}")
'''


def toy_course(folder: Path) -> Path:
    (folder / "exercises" / "01_toy").mkdir(parents=True)
    (folder / "pyproject.toml").write_text((ROOT / "pyproject.toml").read_text())
    (folder / "exercises" / "01_toy" / "toy.py").write_text("def double(x):\n    raise NotImplementedError\n")
    (folder / "exercises" / "01_toy" / "test_toy.py").write_text(TOY_CHECKS)
    (folder / "subs" / "amy" / "01_toy").mkdir(parents=True)
    (folder / "subs" / "amy" / "01_toy" / "toy.py").write_text(TOY_MODULE)
    return folder


def test_gpu_checks_skipped_with_a_reason_without_a_gpu_worker_then_sent_to_one(cluster, tmp_path):
    toy = toy_course(tmp_path / "toy")
    out = tmp_path / "out"
    events = []
    with dask_batch.connect(cluster.address) as grid:
        assert not grid.gpu_workers()
        summary = grade_batch(toy, toy / "subs", out, device="cuda", limits=LIMITS, histogram=False, executor=grid,
                              on_event=lambda run, what: events.append((run.student, what)))
    assert summary.graded == ["amy"] and not summary.failed
    assert events == [("amy", "start")]  # the worker's word, for the progress bar
    checks = {c["id"].split("::")[-1]: c for e in result(out, "amy")["exercises"] for c in e["checks"]}
    assert checks["test_double"]["outcome"] == "passed"
    gpu = checks["test_double_on_the_gpu"]
    assert gpu["outcome"] == "skipped" and gpu["points"] == 0 and gpu["max_points"] == 2
    assert gpu["message"] == dask_batch.NO_GPU_WORKER
    # Graded as on the CPU: a later batch with a GPU worker grades it again.
    key = store.grading_key(toy, select(toy, []), None, "cpu", LIMITS.as_dict())
    assert result(out, "amy")["grading_key"] == key

    # A GPU worker joins: the check marked cuda (and only it) goes there.
    gpu_worker = cluster.add_worker("gpu", "--resources", "GPU=1")
    with dask_batch.connect(cluster.address) as grid:
        assert grid.gpu_workers() == [gpu_worker]
        summary = grade_batch(toy, toy / "subs", out, device="cuda", limits=LIMITS, histogram=False, executor=grid)
    try:
        import torch

        has_cuda = torch.cuda.is_available()
    except ImportError:  # pragma: no cover
        has_cuda = False
    if has_cuda:  # pragma: no cover - on a machine with a GPU
        data = result(out, "amy")
        assert summary.graded == ["amy"] and data["total"] == 3 and data["device"] == "cuda"
        assert f"checks marked cuda graded on the GPU worker {gpu_worker}" in data["events"]
    else:  # torch there has no CUDA: the GPU part fails on the GPU worker, and the student waits for a rerun
        assert summary.failed.keys() == {"amy"}
        assert summary.failed["amy"] == (f"the checks marked cuda could not be graded on {gpu_worker}: torch on "
                                         f"this worker sees no CUDA GPU (torch.cuda.is_available() is False)")
        assert result(out, "amy")["grading_key"] == key  # the earlier file is kept


def test_local_cluster_from_the_command_line(tmp_path):
    """`--dask local`: a LocalCluster of --jobs workers on 127.0.0.1, from `python -m grader.batch`, whose
    __main__ the spawned workers must not run again."""
    toy = toy_course(tmp_path / "toy")
    done = subprocess.run([sys.executable, "-m", "grader.batch", str(toy / "subs"), "--out", str(tmp_path / "out"),
                           "--dask", "local", "--jobs", "1", "--no-histogram"], cwd=toy, capture_output=True,
                          text=True, timeout=300)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "1 worker(s)" in done.stderr and done.stdout.count("Batch results") == 1
    data = result(tmp_path / "out", "amy")
    assert data["total"] == 1
    reason = next(c["message"] for e in data["exercises"] for c in e["checks"] if c["id"].endswith("_gpu"))
    assert reason == CUDA_SKIP  # --device cpu: the plugin's own reason, as without --dask


def test_a_task_grades_one_submission_without_the_checks_it_leaves_to_another(tmp_path, monkeypatch):
    """The task itself, outside Dask: the course from bytes, a one-submission Pool, `skip` deselected."""
    toy = toy_course(tmp_path / "toy")
    monkeypatch.setattr(tempfile, "tempdir", str(tmp_path))  # the worker's scratch folder, here
    monkeypatch.setenv("COURSE_DATA_DIR", str(data.data_dir()))  # the task points it at its copy
    course = dask_batch.course_bundle(toy, select(toy, []))
    assert {"pyproject.toml", "exercises/01_toy/test_toy.py", "datasets/SHA256SUMS"} <= course["files"].keys()
    assert TIMINGS in dask_batch.course_bundle(ROOT, select(ROOT, ["01_linear_model"]))["files"]  # the limits
    payload = {"exercises": ["01_toy"], "seed": None, "limits": LIMITS.as_dict(), "preload": [], "root": str(toy),
               "topic": "-", "student": "amy", "modules": {"01_toy/toy.py": TOY_MODULE.encode()}, "device": "cpu",
               "skip": []}
    full = dask_batch.grade_part(course, payload)
    assert full["error"] is None and full["processes"] == 1
    assert [(c["id"].split("::")[-1], c["outcome"]) for c in full["checks"]] == [
        ("test_double", "passed"), ("test_double_on_the_gpu", "skipped")]
    part = dask_batch.grade_part(course, {**payload, "skip": [full["checks"][0]["id"]]})
    assert [c["id"] for c in part["checks"]] == [full["checks"][1]["id"]] and part["order"] == [full["checks"][1]["id"]]
