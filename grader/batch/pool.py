"""The parent side of batch grading: N grading processes at a time, watched, and the verdicts kept here.

Each student is graded by a `StudentRun`: it starts a grading process (`worker.child_main`, forked from a
fork server that has torch loaded), reads its events, and keeps the verdicts. Whatever the process does,
a check counts as passed only when the process reported it passed. If the process exits, is killed (a
check over its time limit, the submission over its time limit, too much output, too much memory, a bad
message) or crashes, the check it was running is recorded as timeout or crashed, and a fresh process
grades the checks still open. A process that dies while importing the student module ends that exercise
(every open check of it crashed) instead of being restarted for each check.
"""

from __future__ import annotations

import contextlib
import json
import multiprocessing
import multiprocessing.connection
import os
import shutil
import signal
import struct
import tempfile
import time
from dataclasses import dataclass, field
from multiprocessing import forkserver, spawn
from pathlib import Path
from typing import Callable

from grader.batch import sandbox
from grader.batch.intake import Submission
from grader.batch.sandbox import Limits
from grader.course import Exercise
from grader.results import OUTCOMES, CheckResult

MAX_MESSAGE = 4 << 20
MAX_PROCESSES = 100  # per student: past this, open checks are recorded as crashed
POLL = 0.5  # seconds between memory readings and deadline checks
DEFAULT_CHECK_TIMEOUT = 60.0

_context = None


def context(env: dict[str, str], preload: list[str]):
    """The forkserver context, its server started once with torch and the grader preloaded and a clean
    environment (a forked child's /proc/self/environ is the server's, so the server must not hold secrets)."""
    global _context
    if _context is None:
        ctx = multiprocessing.get_context("forkserver")
        ctx.set_forkserver_preload(["grader.batch.worker"])
        saved = dict(os.environ)
        try:
            os.environ.clear()
            os.environ.update(env)
            os.environ["GRADER_BATCH_PRELOAD"] = ",".join(preload)  # read by worker.py in the server
            forkserver.ensure_running()
        finally:
            os.environ.clear()
            os.environ.update(saved)
        _context = ctx
    return _context


@contextlib.contextmanager
def _without_main():
    """Start a process without re-importing this program's __main__ in it (multiprocessing's default for
    spawn and forkserver): the grading process needs only its target, and the caller's script may not be
    guarded by `if __name__ == "__main__"`."""
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


@dataclass
class CheckInfo:
    id: str
    exercise: str
    hidden: bool
    max_points: float
    timeout: float | None


class Child:
    """One grading process and its two pipes."""

    def __init__(self, process, results_fd: int, output_fd: int):
        self.process = process
        # Both pipes are read without blocking: a process that writes half a message and stops must not
        # stop the parent. Results are length-prefixed JSON (multiprocessing's framing), never pickle.
        self.results_fd: int | None = results_fd
        self.buffer = bytearray()
        self.output_fd: int | None = output_fd
        self.output_bytes = 0
        self.kill_reason: tuple[str, str] | None = None  # (outcome, message) when the parent ended it
        self.ended = False  # the session reported its end
        self.failure = ""  # what the session reported going wrong, if anything
        self.new_results = 0
        self.rss_base: int | None = None
        self.exitcode: int | None = None

    @property
    def pid(self) -> int:
        return self.process.pid

    def kill(self, outcome: str, message: str) -> None:
        if self.kill_reason is None:
            self.kill_reason = (outcome, message)
        kill_group(self.pid)


def kill_group(pid: int | None) -> None:
    """SIGKILL the process group the grading process leads (student subprocesses included), then it."""
    if not pid:
        return
    for kill, target in ((os.killpg, pid), (os.kill, pid)):
        try:
            kill(target, signal.SIGKILL)
        except (ProcessLookupError, PermissionError):
            pass


@dataclass
class StudentRun:
    submission: Submission
    workdir: Path
    exercises: list[Exercise]
    limits: Limits
    started: float = field(default_factory=time.monotonic)
    checks: dict[str, CheckInfo] = field(default_factory=dict)  # in collection order
    results: dict[str, CheckResult] = field(default_factory=dict)
    current: str | None = None
    current_started: float = 0.0
    deadline: float = 0.0  # of the running check, or of silence while none runs
    importing: str | None = None
    processes: int = 0
    failed_starts: int = 0
    no_progress: int = 0
    seed: int | None = None
    device: str | None = None
    output: bytearray = field(default_factory=bytearray)
    output_total: int = 0
    cpu_time: float = 0.0  # CPU seconds of the grading processes that ended normally
    events: list[str] = field(default_factory=list)  # restarts and why, for the instructor
    error: str | None = None  # could not be graded at all (not a verdict on the student: not saved)
    finished: bool = False
    child: Child | None = None

    @property
    def student(self) -> str:
        return self.submission.student

    @property
    def modules(self) -> dict[str, str]:
        return {ex.name: ex.module for ex in self.exercises}

    @property
    def open_checks(self) -> list[str]:
        return [cid for cid in self.checks if cid not in self.results]

    def wall_time(self) -> float:
        return time.monotonic() - self.started

    def checks_in_order(self) -> list[CheckResult]:
        order = {cid: i for i, cid in enumerate(self.checks)}
        return sorted(self.results.values(), key=lambda c: (c.exercise, order.get(c.id, len(order)), c.id))

    # --- recording verdicts the process could not report -----------------------------------------------

    def record(self, check_id: str, outcome: str, message: str, duration: float = 0.0) -> None:
        if check_id in self.results:
            return
        info = self.checks.get(check_id)
        if info is None:
            return
        self.results[check_id] = CheckResult(check_id, info.exercise, outcome, 0.0, info.max_points, info.hidden,
                                             message, duration)

    def record_open(self, outcome: str, message: str, exercise: str | None = None) -> None:
        for check_id in self.open_checks:
            if exercise is None or self.checks[check_id].exercise == exercise:
                self.record(check_id, outcome, message)


class Pool:
    """Grades submissions, `jobs` at a time; `on_done(run)` is called in this process as each one finishes."""

    def __init__(self, root: Path, limits: Limits, *, seed: int | None, device: str, jobs: int, work_root: Path,
                 on_done: Callable[[StudentRun], None], on_event: Callable[[StudentRun, str], None] | None = None,
                 preload: list[str] = ()):
        self.root = root
        self.limits = limits
        self.seed = seed
        self.device = device
        self.jobs = max(1, jobs)
        self.work_root = work_root
        self.on_done = on_done
        self.on_event = on_event or (lambda run, what: None)
        self.running: list[StudentRun] = []
        server_env = sandbox.scrubbed_env(work_root, limits.threads)
        server_env["HOME"] = server_env["TMPDIR"] = tempfile.gettempdir()  # it outlives this batch's folders
        self.ctx = context(server_env, list(preload))

    # --- the loop ----------------------------------------------------------------------------------------

    def run(self, submissions: list[Submission], exercises: list[Exercise]) -> None:
        queue = list(submissions)
        started = 0
        try:
            while queue or self.running:
                while queue and len(self.running) < self.jobs:
                    sub = queue.pop(0)
                    started += 1
                    workdir = self.work_root / f"student-{started}"
                    (workdir / "submission").mkdir(parents=True)
                    sub.write_to(workdir / "submission")
                    run = StudentRun(sub, workdir, exercises, self.limits)
                    self.running.append(run)
                    self._start_child(run)
                self._step()
                for run in [r for r in self.running if r.finished]:
                    self.running.remove(run)
                    shutil.rmtree(run.workdir, ignore_errors=True)
                    self.on_done(run)
        finally:
            for run in self.running:
                if run.child is not None:
                    run.child.kill("crashed", "grading was interrupted")
                    self._close(run.child)
                shutil.rmtree(run.workdir, ignore_errors=True)
            self.running.clear()

    def _step(self) -> None:
        waitables: dict = {}
        for run in self.running:
            child = run.child
            if child is None:
                continue
            waitables[child.process.sentinel] = (run, "exit")
            if child.results_fd is not None:
                waitables[child.results_fd] = (run, "results")
            if child.output_fd is not None:
                waitables[child.output_fd] = (run, "output")
        now = time.monotonic()
        timeout = min([POLL] + [max(0.0, r.deadline - now) for r in self.running if r.child is not None])
        ready = multiprocessing.connection.wait(list(waitables), timeout=timeout) if waitables else []
        exited = []
        for obj in ready:
            run, kind = waitables[obj]
            if run.child is None:
                continue
            if kind == "results":
                self._read_results(run)
            elif kind == "output":
                self._read_output(run)
            else:
                exited.append(run)
        now = time.monotonic()
        for run in self.running:
            if run.child is not None and run not in exited:
                self._watch(run, now)
        for run in exited:
            self._child_exited(run)

    # --- starting and watching a grading process -------------------------------------------------------

    def _start_child(self, run: StudentRun) -> None:
        run.processes += 1
        open_exercises = sorted({info.exercise for info in run.checks.values() if info.id not in run.results})
        job = {
            "root": str(self.root),
            "exercises": open_exercises if run.checks else [ex.name for ex in run.exercises],
            "skip": sorted(run.results),
            "submission": str(run.workdir / "submission"),
            "workdir": str(run.workdir / f"process-{run.processes}"),
            "env": sandbox.scrubbed_env(run.workdir / f"process-{run.processes}", self.limits.threads),
            "limits": self.limits.as_dict(),
            "seed": self.seed,
            "device": self.device,
        }
        results_r, results_w = self.ctx.Pipe(duplex=False)
        output_r, output_w = self.ctx.Pipe(duplex=False)
        from grader.batch import worker  # noqa: PLC0415 - only its name is pickled

        process = self.ctx.Process(target=worker.child_main, args=(job, results_w, output_w),
                                   name=f"grade {run.student}", daemon=False)
        with _without_main():
            process.start()  # the first one waits for the fork server to be ready
        if run.processes == 1:
            run.started = time.monotonic()
        results_w.close()
        output_w.close()
        fds = []
        for connection in (results_r, output_r):
            fds.append(os.dup(connection.fileno()))
            connection.close()
            os.set_blocking(fds[-1], False)
        run.child = Child(process, *fds)
        run.current, run.importing = None, None
        run.deadline = time.monotonic() + self.limits.idle_timeout
        self.on_event(run, "start")

    def _watch(self, run: StudentRun, now: float) -> None:
        child = run.child
        if now >= run.started + self.limits.submission_timeout:
            child.kill("submission-timeout", f"the submission's time limit ({self.limits.submission_timeout:g} s) "
                                             f"ran out before this check finished")
            return
        if now >= run.deadline:
            if run.current is not None:
                limit = self._timeout_of(run.current, run)
                child.kill("timeout", f"took longer than the {limit:g} s time limit and did not stop "
                                      f"(the grading process was killed)")
            else:
                child.kill("crashed", f"the grading process was silent for {self.limits.idle_timeout:g} s "
                                      f"between checks and was killed")
            return
        size = sandbox.rss(child.pid)
        if size is not None and child.rss_base is not None:
            if size > child.rss_base + self.limits.memory_mb * sandbox.MiB:
                child.kill("crashed", f"used more than {self.limits.memory_mb} MiB of memory "
                                      f"(the grading process was killed)")

    def _timeout_of(self, check_id: str, run: StudentRun) -> float:
        info = run.checks.get(check_id)
        if info is not None and info.timeout:
            return info.timeout
        return self.limits.check_timeout or DEFAULT_CHECK_TIMEOUT

    # --- reading the pipes -------------------------------------------------------------------------------

    def _read_output(self, run: StudentRun) -> None:
        child = run.child
        while child.output_fd is not None:
            try:
                data = os.read(child.output_fd, 1 << 16)
            except BlockingIOError:
                return
            except OSError:
                data = b""
            if not data:
                os.close(child.output_fd)
                child.output_fd = None
                return
            child.output_bytes += len(data)
            run.output_total += len(data)
            room = self.limits.keep_output_kb * 1024 - len(run.output)
            if room > 0:
                run.output += data[:room]
            if child.output_bytes > self.limits.output_kb * 1024:
                child.kill("crashed", f"printed more than {self.limits.output_kb} KiB of output "
                                      f"(the grading process was stopped)")
                os.close(child.output_fd)
                child.output_fd = None
                return

    def _read_results(self, run: StudentRun) -> None:
        child = run.child
        while child.results_fd is not None:
            try:
                data = os.read(child.results_fd, 1 << 16)
            except BlockingIOError:
                break
            except OSError:
                data = b""
            if not data:
                os.close(child.results_fd)
                child.results_fd = None
                break
            child.buffer += data
            if not self._handle_frames(run):
                return

    def _handle_frames(self, run: StudentRun) -> bool:
        child, buffer = run.child, run.child.buffer
        while len(buffer) >= 4:
            (size,) = struct.unpack("!i", buffer[:4])
            try:
                if not 0 <= size <= MAX_MESSAGE:
                    raise ValueError(f"a message of {size} bytes")
                if len(buffer) < 4 + size:
                    return True
                message = json.loads(bytes(buffer[4:4 + size]))
                del buffer[:4 + size]
                self._handle(run, message)
            except (ValueError, TypeError, KeyError, AttributeError) as error:
                child.kill("crashed", f"the grading process sent a malformed message ({type(error).__name__}) "
                                      f"and was stopped")
                if child.results_fd is not None:
                    os.close(child.results_fd)
                    child.results_fd = None
                return False
        return True

    def _handle(self, run: StudentRun, message: dict) -> None:
        child = run.child
        kind = message["type"]
        now = time.monotonic()
        if kind == "hello":
            child.rss_base = sandbox.rss(child.pid)
        elif kind == "collected":
            for check in message["checks"]:
                cid = str(check["id"])
                if cid not in run.checks:
                    timeout = check.get("timeout")
                    run.checks[cid] = CheckInfo(cid, str(check["exercise"]), bool(check["hidden"]),
                                                float(check["max_points"]), float(timeout) if timeout else None)
            run.seed = int(message["seed"]) if run.seed is None else run.seed
            run.device = str(message["device"]) if run.device is None else run.device
            run.deadline = now + self.limits.idle_timeout
        elif kind == "start":
            cid = str(message["id"])
            run.current = cid
            limit = self._timeout_of(cid, run)
            run.deadline = now + limit + self.limits.grace(limit)
            run.current_started = now
            self.on_event(run, "check")
        elif kind == "result":
            result = _check_result(message["check"])
            # Messages name the submission by the private folder it was copied to; show the student instead.
            result.message = result.message.replace(str(run.workdir / "submission"), run.student)
            if result.id not in run.checks:  # a collection error: a "check" of its own
                run.checks[result.id] = CheckInfo(result.id, result.exercise, result.hidden, result.max_points, None)
            if result.id not in run.results:
                run.results[result.id] = result
                child.new_results += 1
            if run.current == result.id:
                run.current = None
            run.deadline = now + self.limits.idle_timeout
        elif kind == "import":
            run.importing = str(message["exercise"])
        elif kind == "imported":
            run.importing = None
        elif kind == "failure":
            child.failure = str(message["error"])[:500]
        elif kind == "end":
            child.ended = True
            run.cpu_time += max(0.0, float(message.get("cpu_time", 0.0)))
            if run.checks and not run.open_checks:
                kill_group(child.pid)  # all verdicts are in: no need to wait for pytest to tear down
        else:
            raise ValueError(kind)

    # --- a grading process ended -------------------------------------------------------------------------

    def _child_exited(self, run: StudentRun) -> None:
        child = run.child
        self._read_results(run)  # whatever it sent before it ended
        if child.output_fd is not None:
            self._read_output(run)
        self._close(child)
        run.child = None
        if child.ended and child.kill_reason is None and not child.failure and not run.open_checks:
            run.finished = True  # the normal end (possibly with no checks at all)
            return
        outcome, message, cause = self._why(child)
        if not run.checks:
            run.failed_starts += 1
            run.events.append(f"grading process {run.processes} ended before collecting the checks: {cause}")
            if run.failed_starts >= 2 or outcome == "timeout":
                run.error = f"the checks could not be collected: {cause}"
                run.finished = True
            else:
                self._start_child(run)
            return
        run.events.append(f"grading process {run.processes} ended early: {cause}")
        if child.kill_reason is not None and child.kill_reason[0] == "submission-timeout":
            run.record_open("timeout", message)
            run.finished = True
            return
        if run.importing is not None:
            module = run.modules.get(run.importing, "?")
            run.record_open("crashed", f"importing {run.importing}/{module}.py ended the grading process: {cause}",
                            exercise=run.importing)
        elif run.current is not None:
            run.record(run.current, outcome, message, time.monotonic() - run.current_started)
            child.new_results += 1
        if not run.open_checks:
            run.finished = True
            return
        run.no_progress = 0 if child.new_results else run.no_progress + 1
        if run.no_progress >= 2 or run.processes >= MAX_PROCESSES:
            run.record_open("crashed", f"not run: the grading process ended {run.processes} times, last: {cause}")
            run.finished = True
            return
        self._start_child(run)

    def _why(self, child: Child) -> tuple[str, str, str]:
        """(outcome, message for the check that was running, the cause in a few words)."""
        if child.kill_reason is not None:
            outcome, message = child.kill_reason
            return ("timeout" if outcome == "submission-timeout" else outcome), message, message
        code = child.exitcode
        if child.failure:
            cause = f"the grading session failed: {child.failure}"
        elif code is None:
            cause = "the grading process vanished"
        elif code < 0:
            try:
                name = signal.Signals(-code).name
            except ValueError:
                name = f"signal {-code}"
            if -code == signal.SIGXCPU:
                cause = "the grading process used up its CPU time (SIGXCPU)"
                return "timeout", cause, cause
            cause = {
                signal.SIGKILL: "the grading process was killed by SIGKILL (out of memory?)",
                signal.SIGXFSZ: f"student code wrote a file larger than {self.limits.max_file_mb} MiB (SIGXFSZ)",
            }.get(-code, f"the grading process was ended by {name}")
        elif child.ended:
            cause = "the grading session was interrupted (KeyboardInterrupt outside student code?)"
        else:
            cause = f"the grading process exited with status {code} (os._exit() or similar in student code?)"
        return "crashed", f"{cause}, during this check", cause

    def _close(self, child: Child) -> None:
        kill_group(child.pid)  # whatever it left behind: subprocesses in its group
        child.process.join(timeout=5)
        child.exitcode = child.process.exitcode
        for name in ("output_fd", "results_fd"):
            if getattr(child, name) is not None:
                os.close(getattr(child, name))
                setattr(child, name, None)
        try:
            child.process.close()
        except ValueError:
            pass


def _check_result(data: dict) -> CheckResult:
    """A CheckResult from a message, with every field checked: the pipe is not trusted to be well formed."""
    outcome = str(data["outcome"])
    if outcome not in OUTCOMES:
        raise ValueError(outcome)
    max_points = float(data["max_points"])
    points = float(data["points"])
    if not (0 <= points <= max_points):
        raise ValueError(points)
    thresholds = data.get("thresholds") or []
    if not isinstance(thresholds, list):
        raise TypeError("thresholds")
    return CheckResult(
        id=str(data["id"]), exercise=str(data["exercise"]), outcome=outcome, points=points, max_points=max_points,
        hidden=bool(data["hidden"]), message=str(data.get("message", ""))[:2000],
        duration=float(data.get("duration", 0.0)), thresholds=[dict(t) for t in thresholds][:50],
    )
