"""Batch grading on a Dask cluster: the same grading as `grader batch`, spread over many machines.

    grader batch SUBMISSIONS --out OUT --dask tcp://scheduler:8786      # or --dask local, --dask scheduler.json

    with connect("tcp://scheduler:8786") as cluster:
        grade_batch(root, submissions, out, exercises=["05_cnn"], executor=cluster)

The client (this process) reads the submissions, decides what needs grading, and alone writes OUT, so
resuming, grades.csv and the progress bar work as without Dask. Workers only grade. A task carries what a
worker needs: the submission's contract modules (bytes, never a path) and, once per worker, the course (the
chosen exercises' folders, pyproject.toml and the data sets), so a worker needs only the grader installed.
On the worker a task is a one-submission run of the local batch's `Pool`: the same isolated grading
process, limits, restarts and verdicts.

A worker that dies loses nothing: the scheduler hands its tasks to another worker, and `retries=` covers a
task that raises. Task keys are pure (student, submission hash, seed and the grading), and the client
writes each student once, from the first result that comes in.

GPU: a check marked `cuda` needs a GPU worker, one started with `--resources GPU=1`. With --device cuda
or auto, a submission is first graded on any worker on the CPU; the checks the plugin skipped there for
want of a GPU are then graded on a GPU worker (device cuda, `resources={"GPU": 1}`) and merged in. On a
cluster without a GPU worker they are recorded as skipped, with a reason. See docs/instructor-guide.md, section 6.
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import functools
import hashlib
import json
import logging
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
import warnings
from pathlib import Path
from typing import Callable

from grader import data
from grader.batch.pool import Pool, StudentRun
from grader.batch.sandbox import Limits
from grader.course import CourseError, Exercise
from grader.errors import DataError
from grader.intake import Submission
from grader.limits import TIMINGS
from grader.metadata import CheckMeta
from grader.results import CheckResult

GPU = "GPU"  # the worker resource a GPU part asks for: `dask worker ... --resources GPU=1`
NO_GPU_WORKER = ("needs a CUDA GPU: no worker of the Dask cluster has one (start a GPU worker with "
                 "`dask worker ADDRESS --resources GPU=1`, then run the batch again)")
RETRIES = 2  # a task that raises is tried again, up to this many times (a lost worker does not count)
POLL = 0.1  # seconds between looks at finished tasks
WATCH = 5.0  # seconds between looks for GPU workers while GPU parts wait
GPU_WAIT = 300.0  # how long GPU parts wait once the cluster has no GPU worker left


# --- the client ----------------------------------------------------------------------------------------


@contextlib.contextmanager
def _without_main():
    """Start processes without re-importing this program's __main__ in them (multiprocessing's default for
    spawn): a LocalCluster's worker needs only its target, and the caller's script may not be guarded by
    `if __name__ == "__main__"`."""
    from multiprocessing import spawn

    real = spawn.get_preparation_data

    def preparation(name):
        data = real(name)
        data.pop("init_main_from_path", None)
        data.pop("init_main_from_name", None)
        return data

    spawn.get_preparation_data = preparation
    try:
        yield
    finally:
        spawn.get_preparation_data = real


def connect(address: str, workers: int | None = None, timeout: float = 30.0) -> "DaskGrading":
    """A `DaskGrading` on the scheduler at `address` (tcp://host:8786, or a scheduler file written by
    `dask scheduler --scheduler-file`), or on a new `LocalCluster` of `workers` processes for "local"."""
    try:
        from distributed import Client, LocalCluster
    except ImportError:
        raise CourseError("--dask needs the dask extra: pip install 'pytorch-course-grader[dask]'") from None
    cluster, unpatch = None, contextlib.ExitStack()
    try:
        if address == "local":
            # The workers are spawned processes: keep them from re-running this program's __main__ (the nanny
            # restarts a lost worker at any time, so for as long as the cluster lives).
            unpatch.enter_context(_without_main())
            with _sigint_ignored():  # inherited by the workers: Ctrl-C reaches this process, which stops them
                cluster = LocalCluster(n_workers=workers or 2, threads_per_worker=1, processes=True,
                                       host="127.0.0.1", dashboard_address=None, silence_logs=logging.ERROR)
            client = Client(cluster)
        elif address.endswith(".json"):
            if not Path(address).expanduser().is_file():  # Client would wait for it to appear
                raise CourseError(f"--dask {address}: no such scheduler file")
            client = Client(scheduler_file=str(Path(address).expanduser()), timeout=timeout)
        else:
            client = Client(address, timeout=timeout)
    except (OSError, TimeoutError, asyncio.TimeoutError, ValueError) as error:
        if cluster is not None:
            cluster.close()
        unpatch.close()
        raise CourseError(f"cannot reach the Dask scheduler at {address}: {error}") from None
    return DaskGrading(client, cluster, unpatch)


@contextlib.contextmanager
def _sigint_ignored():
    try:
        previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
    except ValueError:  # not the main thread: leave it
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


class DaskGrading:
    """Grades a batch's submissions on a Dask cluster; pass it to `grade_batch(..., executor=...)`."""

    def __init__(self, client, cluster=None, cleanup: contextlib.ExitStack | None = None):
        self.client = client
        self.cluster = cluster
        self._cleanup = cleanup or contextlib.ExitStack()
        self._use_gpu: bool | None = None

    def __enter__(self) -> "DaskGrading":
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def close(self) -> None:
        try:
            self.client.close()
            if self.cluster is not None:
                self.cluster.close()
        finally:
            self._cleanup.close()

    @property
    def address(self) -> str:
        return self.client.scheduler.address

    def workers(self) -> dict[str, dict]:
        return self.client.scheduler_info(n_workers=-1)["workers"]

    def gpu_workers(self) -> list[str]:
        return sorted(a for a, w in self.workers().items() if (w.get("resources") or {}).get(GPU, 0) >= 1)

    def describe(self) -> str:
        workers = self.workers()
        gpus = self.gpu_workers()
        threads = sum(int(w.get("nthreads", 1)) for w in workers.values())
        return (f"Dask cluster at {self.address}: {len(workers)} worker(s), {threads} thread(s), "
                f"{len(gpus)} with a GPU")

    def uses_gpu(self, device: str) -> bool:
        """Whether the checks marked cuda go to GPU workers: asked for and possible. Decided once per batch."""
        if self._use_gpu is None:
            self._use_gpu = device != "cpu" and bool(self.gpu_workers())
        return self._use_gpu

    def key_device(self, device: str) -> str:
        """The device part of the grading key: "cpu" when everything is graded on the CPU (the same grading as
        a local `--device cpu` batch), "cpu+cuda" when the checks marked cuda run on GPU workers. A batch
        graded without a GPU worker is so graded again once there is one."""
        return "cpu+cuda" if self.uses_gpu(device) else "cpu"

    # --- a batch -----------------------------------------------------------------------------------------

    def run(self, root: Path, submissions: list[Submission], exercises: list[Exercise], *, limits: Limits,
            seed: int | None, device: str, on_done: Callable[[StudentRun], None],
            on_event: Callable[[StudentRun, str], None] | None = None, preload: list[str] = ()) -> None:
        """Grade `submissions`; `on_done(run)` is called here, once per student, as each one is finished."""
        _Batch(self, root, submissions, exercises, limits=limits, seed=seed, use_gpu=self.uses_gpu(device),
               device=device, on_done=on_done, on_event=on_event or (lambda run, what: None),
               preload=list(preload)).run()


class _Batch:
    """One batch on the cluster: the tasks in flight and the students not finished yet."""

    def __init__(self, grid: DaskGrading, root: Path, submissions: list[Submission], exercises: list[Exercise], *,
                 limits: Limits, seed: int | None, use_gpu: bool, device: str,
                 on_done: Callable[[StudentRun], None], on_event: Callable[[StudentRun, str], None],
                 preload: list[str]):
        self.grid, self.client = grid, grid.client
        self.root, self.submissions, self.exercises = Path(root), submissions, exercises
        self.limits, self.seed, self.use_gpu, self.device = limits, seed, use_gpu, device
        self.on_done, self.on_event = on_done, on_event
        self.common = {"exercises": [ex.name for ex in exercises], "seed": seed, "limits": limits.as_dict(),
                       "preload": preload, "root": str(self.root)}
        self.runs: dict[str, StudentRun] = {}  # student -> the run handed to on_done
        self.pending: dict = {}  # future -> (student, "cpu" or "cuda")
        self.started: collections.deque = collections.deque()  # start events from the workers
        self.next_gpu_look = 0.0
        self.cuda_ids: dict[str, set[str]] = {}  # student -> the checks its GPU part grades
        self.finished: set[str] = set()
        self.no_gpu_since: float | None = None

    def run(self) -> None:
        from distributed import as_completed

        course = course_bundle(self.root, self.exercises)
        with warnings.catch_warnings():  # the data sets make a large task; it is sent to each worker once
            warnings.simplefilter("ignore", UserWarning)
            # A task, not scattered data: the scheduler keeps its input, so a lost copy is made again.
            self.course = self.client.submit(_identity, course, key=f"grader-course-{course['token'][:16]}", pure=True)
        self.token = _digest(course["token"], self.common)
        self.common["topic"] = topic = f"grader-batch-{_digest(self.token, time.time(), os.getpid())}"
        self.client.subscribe_topic(topic, self._started)
        self.completed = as_completed()
        try:
            for submission in self.submissions:
                self.runs[submission.student] = StudentRun(submission, None, self.exercises, self.limits)
                payload = {**self.common, "student": submission.student, "modules": submission.modules,
                           "device": "cpu", "skip": []}
                self._submit(submission, "cpu", payload)
            while not self.completed.is_empty():
                self._watch()
                for future in self.completed.next_batch(block=False):
                    self._collect(future)
                if not self.completed.has_ready():
                    time.sleep(POLL)
        finally:
            with contextlib.suppress(Exception):
                self.client.unsubscribe_topic(topic)
            if self.pending:  # interrupted: what runs on a worker runs to its end there, and is dropped
                self.client.cancel(list(self.pending))
            self.client.cancel([self.course])

    def _submit(self, submission: Submission, part: str, payload: dict) -> None:
        key = f"grade-{part}-{submission.student}-{_digest(self.token, part, submission.hash, payload['skip'])}"
        extra = {"resources": {GPU: 1}, "priority": 1} if part == "cuda" else {}
        future = self.client.submit(grade_part, self.course, payload, key=key, retries=RETRIES, pure=True, **extra)
        self.pending[future] = (submission.student, part)
        self.completed.add(future)

    def _collect(self, future) -> None:
        student, part = self.pending.pop(future)
        run = self.runs[student]
        if student in self.finished:
            return
        try:
            result = future.result()
        except (Exception, asyncio.CancelledError) as error:  # whatever it was, the student waits
            what = "the Dask task" if part == "cpu" else "the GPU part (checks marked cuda)"
            self._finish(run, error=f"{what} failed: {type(error).__name__}: {str(error)[:300]}")
            return
        if part == "cpu":
            self._cpu_done(run, result)
        else:
            self._cuda_done(run, result)

    def _cpu_done(self, run: StudentRun, result: dict) -> None:
        _fill(run, result)
        if result["error"] is not None:
            self._finish(run, error=result["error"])
            return
        cuda = [c for c in run.results.values() if c.outcome == "skipped" and c.id in run.checks
                and run.checks[c.id].cuda]
        if not cuda or self.device == "cpu":
            self._finish(run)
        elif not self.use_gpu:
            for check in cuda:
                check.message = NO_GPU_WORKER
            self._finish(run)
        else:
            ids = {c.id for c in cuda}
            names = sorted({c.exercise for c in cuda})
            self.cuda_ids[run.student] = ids
            skip = sorted(cid for cid, info in run.checks.items() if info.exercise in names and cid not in ids)
            payload = {**self.common, "exercises": names, "student": run.student, "modules": run.submission.modules,
                       "device": "cuda", "skip": skip}
            self._submit(run.submission, "cuda", payload)

    def _cuda_done(self, run: StudentRun, result: dict) -> None:
        ids = self.cuda_ids[run.student]
        got = {c["id"]: CheckResult.from_dict(c) for c in result["checks"] if c["id"] in ids}
        if result["error"] is not None or got.keys() != ids:
            # Not a verdict on the student (a GPU worker without CUDA, say): nothing is saved, a rerun tries again.
            why = result["error"] or f"{len(ids) - len(got)} of them not reported"
            lines = [line for line in bytes(result["output"]).decode(errors="replace").splitlines() if line.strip()]
            self._finish(run, error=f"the checks marked cuda could not be graded on {result['worker']}: {why}"
                                    + (f" (its output ends: {lines[-1].strip()[:200]})" if lines else ""))
            return
        run.results.update(got)
        run.device = "cuda"
        run.events.append(f"checks marked cuda graded on the GPU worker {result['worker']}")
        run.events += [f"GPU worker: {event}" for event in result["events"]]
        _add_output(run, result)
        self._finish(run)

    def _finish(self, run: StudentRun, error: str | None = None) -> None:
        if run.student in self.finished:
            return
        self.finished.add(run.student)
        run.error = error
        run.finished = True
        self.on_done(run)

    def _started(self, event) -> None:
        """A worker began a task (its `log_event`, on the client's event loop): passed on from the main loop."""
        self.started.append(event[1])

    def _watch(self) -> None:
        """Tell on_event which students a worker began; give up on GPU parts no GPU worker is left for."""
        while self.started:
            message = self.started.popleft()
            student = message.get("student") if isinstance(message, dict) else None
            if student in self.runs and student not in self.finished and message.get("part") == "cpu":
                self.on_event(self.runs[student], "start")
        now = time.monotonic()
        if now < self.next_gpu_look:
            return
        self.next_gpu_look = now + WATCH
        waiting = [f for f, (_, part) in self.pending.items() if part == "cuda"]
        if not waiting or self.grid.gpu_workers():
            self.no_gpu_since = None
            return
        self.no_gpu_since = self.no_gpu_since or now
        if now - self.no_gpu_since >= GPU_WAIT:
            self.client.cancel(waiting)
            for future in waiting:
                student, _ = self.pending.pop(future)
                self._finish(self.runs[student], error=f"no GPU worker in the Dask cluster for {GPU_WAIT:g} s: the "
                                                       f"checks marked cuda were not graded (a rerun grades them)")


def _fill(run: StudentRun, result: dict) -> None:
    """Put a part's verdicts, events and output into the client's `StudentRun`, in collection order."""
    checks = [CheckResult.from_dict(c) for c in result["checks"]]
    by_id = {c.id: c for c in checks}
    collected = {m["id"]: CheckMeta.from_dict(m) for m in result["collected"]}
    for cid in [*result["order"], *by_id]:
        check = by_id.get(cid)
        if check is not None and cid not in run.checks:
            run.checks[cid] = collected.get(cid) or CheckMeta(cid, check.exercise, check.hidden, check.max_points,
                                                               None, False)
            run.results[cid] = check
    run.notes = list(result.get("notes", []))
    run.sandbox = result.get("sandbox")
    run.budget, run.slowness = result.get("budget"), float(result.get("slowness", 1.0))
    run.seed = result["seed"]
    run.device = result["device"]
    run.events = list(result["events"])
    run.output, run.output_total, run.processes, run.cpu_time = bytearray(), 0, 0, 0.0
    run.started = time.monotonic()
    _add_output(run, result)


def _add_output(run: StudentRun, result: dict) -> None:
    room = run.limits.keep_output_kb * 1024 - len(run.output)
    run.output += result["output"][:max(0, room)]
    run.output_total += result["output_total"]
    run.processes += result["processes"]
    run.cpu_time += result["cpu_time"]
    run.started -= result["wall_time"]  # wall_time() is then the time the parts took on their workers


def _digest(*parts) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True, default=str).encode()).hexdigest()[:16]


def _identity(value):
    return value


def course_bundle(root: Path, exercises: list[Exercise]) -> dict:
    """What a worker needs of the course, as bytes by relative path: pyproject.toml (pytest's settings),
    exercises/conftest.py, the reference's times (the checks' time limits), the chosen exercises' folders, and
    the data sets (the files SHA256SUMS lists)."""
    root = Path(root)
    files: dict[str, bytes] = {}

    def add(path: Path, name: str) -> None:
        if path.is_file() and not path.is_symlink():
            files[name] = path.read_bytes()

    add(root / "pyproject.toml", "pyproject.toml")
    add(root / "exercises" / "conftest.py", "exercises/conftest.py")
    add(root / TIMINGS, TIMINGS)
    for ex in exercises:
        for path in sorted(ex.path.rglob("*")):
            relative = path.relative_to(ex.path)
            if not any(part.startswith(".") or part == "__pycache__" for part in relative.parts):
                add(path, f"exercises/{ex.name}/{relative.as_posix()}")
    folder = data.data_dir()
    try:
        listed = data.checksums(folder)
    except DataError:
        listed = {}  # the workers say what is missing, as a local batch would
    if listed:
        add(folder / "SHA256SUMS", "datasets/SHA256SUMS")
    for name in listed:
        if ".." not in Path(name).parts:
            add(folder / name, f"datasets/{name}")
    return {"token": _digest({name: hashlib.sha256(content).hexdigest() for name, content in files.items()}),
            "files": files}


# --- on a worker -------------------------------------------------------------------------------------------

_lock = threading.Lock()
_courses: dict[str, Path] = {}


def grade_part(course: dict, payload: dict) -> dict:
    """The task: grade one submission (or its GPU part) in a one-submission `Pool`, on this worker."""
    _announce(payload)
    if payload["device"] == "cuda" and not _cuda_available():
        return {"student": payload["student"], "order": [], "collected": [], "checks": [], "seed": None,
                "device": None, "events": [],
                "output": b"", "output_total": 0, "processes": 0, "cpu_time": 0.0, "wall_time": 0.0,
                "worker": _worker_address(),
                "error": "torch on this worker sees no CUDA GPU (torch.cuda.is_available() is False)"}
    root = _course_root(course)
    exercises = [Exercise(name, root / "exercises" / name) for name in payload["exercises"]]
    submission = Submission(payload["student"], Path(payload["student"]), dict(payload["modules"]))
    limits = Limits(**payload["limits"])
    done: list[StudentRun] = []
    with _lock:  # one task at a time per worker process: its slot is reused from task to task
        pool = _pool(root, exercises, limits, payload)
        pool.on_done, pool.skip = done.append, sorted(payload["skip"])
        pool.run([submission])
    return _pack(done[0], root, payload["root"])


_pools: dict[str, Pool] = {}


def _pool(root: Path, exercises: list[Exercise], limits: Limits, payload: dict) -> Pool:
    """This worker process's Pool for these exercises and settings: its sandboxed slot (torch loaded) lives as
    long as the worker, so only the first task pays for starting it."""
    key = _digest(str(root), payload["exercises"], limits.as_dict(), payload["seed"], payload["device"],
                  payload["preload"])
    if key not in _pools:
        work_root = Path(tempfile.mkdtemp(prefix="grader-dask-", dir=_scratch()))
        _pools[key] = Pool(root, exercises, limits, seed=payload["seed"], device=payload["device"], jobs=1,
                           work_root=work_root, on_done=lambda run: None, preload=payload["preload"])
    return _pools[key]


def _pack(run: StudentRun, root: Path, client_root: str) -> dict:
    def local(text: str) -> str:  # paths into this worker's copy of the course, as the client names them
        return text.replace(str(root), client_root)

    checks = []
    for check in run.checks_in_order():
        if check.id in run.checks:
            checks.append({**check.to_dict(), "message": local(check.message)})
    return {
        "student": run.student,
        "order": list(run.checks),
        "collected": [meta.to_dict() for meta in run.checks.values()],
        "checks": checks,
        "seed": run.seed,
        "device": run.device,
        "events": [local(e) for e in run.events],
        "output": bytes(run.output).replace(str(root).encode(), client_root.encode()),
        "output_total": run.output_total,
        "processes": run.processes,
        "cpu_time": run.cpu_time,
        "wall_time": run.wall_time(),
        "error": None if run.error is None else local(run.error),
        "notes": [local(note) for note in run.notes],
        "sandbox": run.sandbox,
        "budget": run.budget,
        "slowness": run.slowness,
        "worker": _worker_address(),
    }


@functools.cache
def _cuda_available() -> bool:
    """Whether torch sees a GPU here: asked once, in a fresh process (this one does not import torch)."""
    try:
        done = subprocess.run([sys.executable, "-c", "import torch; print(torch.cuda.is_available())"],
                              capture_output=True, text=True, timeout=300)
    except (OSError, subprocess.TimeoutExpired):
        return False
    return done.stdout.strip() == "True"


def _course_root(course: dict) -> Path:
    """This worker's copy of the course, written once per worker process (and per course version)."""
    token = course["token"]
    with _lock:
        root = _courses.get(token)
        if root is None:
            root = Path(_scratch()) / f"grader-course-{token}"
            if not (root / ".complete").is_file():
                shutil.rmtree(root, ignore_errors=True)
                for name, content in course["files"].items():
                    path = root / name
                    path.parent.mkdir(parents=True, exist_ok=True)
                    path.write_bytes(content)
                (root / ".complete").touch()
            _courses[token] = root
        if (root / "datasets" / "SHA256SUMS").is_file():
            os.environ["COURSE_DATA_DIR"] = str(root / "datasets")  # read by the grading processes' environment
    return root


def _scratch() -> str:
    """The Dask worker's own scratch folder (removed with the worker), else the temporary folder."""
    try:
        from distributed import get_worker

        return get_worker().local_directory
    except (ImportError, ValueError, AttributeError):
        return tempfile.gettempdir()


def _announce(payload: dict) -> None:
    """Tell the client this task began (the progress bar's list of students being graded)."""
    try:
        from distributed import get_worker

        get_worker().log_event(payload["topic"], {"student": payload["student"], "part": payload["device"]})
    except (ImportError, ValueError, AttributeError, KeyError):
        pass


def _worker_address() -> str:
    try:
        from distributed import get_worker

        return get_worker().address
    except (ImportError, ValueError, AttributeError):
        return "this process"
