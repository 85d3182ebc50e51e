"""The parent side of batch grading: `jobs` sandboxed slots at a time, watched, and the verdicts kept here.

A `Slot` is one sandbox (`grader.batch.sandbox`) with its zygote (`grader.batch.zygote`), which forks the
grading processes (`grader.batch.worker.child_main`). Each student is graded by a `StudentRun` in one slot:
it starts a grading process there, reads its events, and keeps the verdicts. Whatever the process does, a
check counts as passed only when the process reported it passed, once, while it ran that check. If the
process exits, is killed (a check over its time limit, the submission over its time limit, too much output,
too much memory, a bad message) or crashes, the check it was running is recorded as timeout or crashed, and
a fresh process grades the checks still open. A process that dies while importing the student module ends
that exercise (every open check of it crashed) instead of being restarted for each check. Between two
students a slot is reset: every process left in it is killed and its folder emptied.
"""

from __future__ import annotations

import json
import os
import secrets
import select
import shutil
import signal
import socket
import struct
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import grader
from grader import data, i18n
from grader.batch import sandbox
from grader.batch.sandbox import Limits
from grader.course import Exercise
from grader.i18n import _
from grader.intake import Submission
from grader.limits import TIMINGS, UNMEASURED_BUDGET, Timings, shortened_message
from grader.metadata import CheckMeta
from grader.results import CheckResult

MAX_MESSAGE = 4 << 20
MAX_PROCESSES = 100  # per student: past this, open checks are recorded as crashed
POLL = 0.5  # seconds between deadline checks
DEFAULT_CHECK_TIMEOUT = 60.0
SLOT_START = 120.0  # seconds a zygote may take to import torch and say it is ready


class SlotGone(Exception):
    """The slot's zygote (and its sandbox) ended."""


class Slot:
    """One sandbox and the zygote in it; grades one student at a time, in its own folder."""

    def __init__(self, folder: Path, readable: list[Path], root: Path, device: str, preload: list[str],
                 threads: int, sandboxed: bool):
        self.folder = folder
        folder.mkdir(parents=True, exist_ok=True)
        self.log = folder.with_name(folder.name + ".log")  # the zygote's own stderr, outside its folder
        env = sandbox.scrubbed_env(folder, threads)
        env["GRADER_BATCH_PRELOAD"] = ",".join(preload)
        self.control, theirs = socket.socketpair(socket.AF_UNIX, socket.SOCK_SEQPACKET)
        cmd = [sys.executable, "-m", "grader.batch.zygote", str(theirs.fileno())]
        if sandboxed:
            cmd = sandbox.command(readable, [folder], env, device, hide=root) + cmd
        with open(self.log, "wb") as log:
            self.process = subprocess.Popen(cmd, pass_fds=[theirs.fileno()], env=env, stdin=subprocess.DEVNULL,
                                            stdout=log, stderr=log, start_new_session=True)
        theirs.close()
        self.ready = False
        self.used = False  # a student was graded here since the last reset
        self.pending: list[dict] = []

    def fileno(self) -> int:
        return self.control.fileno()

    def send(self, message: dict, fds: list[int] = ()) -> None:
        try:
            socket.send_fds(self.control, [json.dumps(message).encode()], list(fds))
        except OSError as error:
            raise SlotGone(f"the sandbox ended ({error.strerror})") from None

    def read(self, block: float | None = 0.0) -> list[dict]:
        """The messages the zygote has sent (waiting up to `block` seconds for one); SlotGone once it is gone."""
        messages, self.pending = self.pending, []
        while True:
            timeout = 0.0 if messages else block
            readable, _, _ = select.select([self.control], [], [], timeout)
            if not readable:
                return messages
            try:
                packet = self.control.recv(1 << 16)
            except OSError:
                packet = b""
            if not packet:
                if messages:
                    self.pending = []
                    return messages
                raise SlotGone(self.why_gone())
            messages.append(json.loads(packet))
            block = 0.0

    def wait_for(self, kind: str, timeout: float) -> dict:
        """Block until the zygote sends a message of `kind`; the others are kept for `read`."""
        deadline = time.monotonic() + timeout
        kept = []
        try:
            while True:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise SlotGone(f"the sandbox did not answer within {timeout:g} s")
                for message in self.read(block=left):
                    if message["type"] == kind:
                        return message
                    if message["type"] == "ready":
                        self.ready = True
                    else:
                        kept.append(message)
        finally:
            self.pending = kept + self.pending

    def why_gone(self) -> str:
        code = self.process.poll()
        try:
            lines = [line for line in self.log.read_text(encoding="utf-8", errors="replace").splitlines() if line.strip()]
        except OSError:
            lines = []
        last = f": {lines[-1].strip()[:300]}" if lines else ""
        return f"the sandbox ended (status {code}){last}"

    def reset(self) -> None:
        """Kill whatever the last student left running here and empty the folder."""
        if self.used:
            self.send({"type": "reset"})
            self.wait_for("clean", 30)
            for path in self.folder.iterdir():
                if path.is_dir() and not path.is_symlink():
                    shutil.rmtree(path, ignore_errors=True)
                else:
                    path.unlink(missing_ok=True)
        self.used = False

    def close(self) -> None:
        try:
            self.control.close()
        finally:
            for kill in (os.killpg, os.kill):
                try:
                    kill(self.process.pid, signal.SIGKILL)
                except (ProcessLookupError, PermissionError):
                    pass
            self.process.wait(timeout=10)


class Child:
    """One grading process (forked in a slot) and the two pipes it writes."""

    def __init__(self, slot: Slot, pid: int, results_fd: int, output_fd: int, token: str):
        self.slot = slot
        self.pid = pid  # in the slot's PID namespace
        self.token = token  # every message of this process carries it
        # Both pipes are read without blocking: a process that writes half a message and stops must not
        # stop the parent. Results are length-prefixed JSON, never pickle.
        self.results_fd: int | None = results_fd
        self.buffer = bytearray()
        self.output_fd: int | None = output_fd
        self.output_bytes = 0
        self.kill_reason: tuple[str, str] | None = None  # (outcome, message) when the parent ended it
        self.ended = False  # the session reported its end
        self.failure = ""  # what the session reported going wrong, if anything
        self.new_results = 0
        self.exitcode: int | None = None
        self.exit_reason: str | None = None  # why the zygote killed it ("memory"), if it did
        self.exited = False

    def kill(self, outcome: str, message: str) -> None:
        """Stop it, saying why (the first reason given is kept)."""
        if self.kill_reason is None:
            self.kill_reason = (outcome, message)
        self.stop()

    def stop(self) -> None:
        try:
            self.slot.send({"type": "kill", "pid": self.pid})
        except SlotGone:
            pass


@dataclass
class StudentRun:
    submission: Submission
    slot: Slot | None
    exercises: list[Exercise]
    limits: Limits
    started: float = field(default_factory=time.monotonic)
    checks: dict[str, CheckMeta] = field(default_factory=dict)  # in collection order
    results: dict[str, CheckResult] = field(default_factory=dict)
    current: str | None = None
    current_started: float = 0.0
    cut: tuple[str, float] | None = None  # the running check's limit was cut: (the looping function, the limit)
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
    notes: list[str] = field(default_factory=list)  # what loading the modules said (a notebook cell that raised)
    sandbox: str | None = None  # why it was graded without a sandbox (None: it was in one)
    looped: list[tuple[str, str]] = field(default_factory=list)  # (exercise, function) that ran past a limit
    slowness: float = 1.0  # how much slower than the reference's machine, as the grading process measured it
    budget: float | None = None  # the submission's time limit, once its checks are known
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
        self.results[check_id] = CheckResult(check_id, info.exercise, outcome, 0.0, info.points, info.hidden,
                                             message, duration)

    def record_open(self, outcome: str, message: str, exercise: str | None = None) -> None:
        for check_id in self.open_checks:
            if exercise is None or self.checks[check_id].exercise == exercise:
                self.record(check_id, outcome, message)


class Pool:
    """Grades submissions, `jobs` at a time; `on_done(run)` is called in this process as each one finishes.

    The slots (and their zygotes) are started on first use and kept until `close()`, so that several
    `run()`s (a Dask worker's tasks) share them."""

    def __init__(self, root: Path, exercises: list[Exercise], limits: Limits, *, seed: int | None, device: str,
                 jobs: int, work_root: Path, on_done: Callable[[StudentRun], None],
                 on_event: Callable[[StudentRun, str], None] | None = None, preload: list[str] = (),
                 skip: list[str] = (), verbose: bool = False):
        self.root = Path(root)
        self.exercises = list(exercises)
        self.limits = limits
        self.seed = seed
        self.device = device
        self.jobs = max(1, jobs)
        self.work_root = work_root
        self.on_done = on_done
        self.on_event = on_event or (lambda run, what: None)
        self.preload = list(preload)
        self.skip = sorted(skip)  # checks not to grade (those a Dask GPU part leaves to the CPU part)
        self.verbose = verbose  # keep the student's own frames of each failure
        self.running: list[StudentRun] = []
        self.slots: list[Slot] = []
        self.sandbox_note = sandbox.available()  # None: sandboxed
        self.timings = Timings.load(self.root)
        self._slot_count = 0

    @property
    def readable(self) -> list[Path]:
        """What the sandbox shows of the course: its settings, the graded exercises' folders, the grader, the data."""
        paths = [self.root / "pyproject.toml", data.data_dir(), Path(grader.__file__).resolve().parent]
        paths += [ex.path for ex in self.exercises]
        shared = [self.root / "exercises" / "conftest.py", self.root / TIMINGS]
        return paths + [path for path in shared if path.is_file()]

    def close(self) -> None:
        for slot in self.slots:
            slot.close()
        self.slots.clear()

    # --- the loop ----------------------------------------------------------------------------------------

    def run(self, submissions: list[Submission]) -> None:
        queue = list(submissions)
        while len(self.slots) < min(self.jobs, len(queue)):  # started together: each imports torch meanwhile
            self._new_slot()
        try:
            while queue or self.running:
                while queue and len(self.running) < self.jobs:
                    self._begin(queue.pop(0))
                self._step()
                for run in [r for r in self.running if r.finished]:
                    self.running.remove(run)
                    self.on_done(run)
        finally:
            for run in self.running:
                if run.child is not None:
                    run.child.kill("crashed", _("grading was interrupted"))
                    self._close(run.child)
            self.running.clear()

    def _begin(self, submission: Submission) -> None:
        busy = {id(r.slot) for r in self.running}
        slot = next((s for s in self.slots if id(s) not in busy and not s.used), None)
        slot = slot or next((s for s in self.slots if id(s) not in busy), None)
        run = StudentRun(submission, slot, self.exercises, self.limits, sandbox=self.sandbox_note)
        for cid in self.skip:  # the grading process deselects what is in run.results
            run.results[cid] = CheckResult(cid, "", "skipped", 0.0, 0.0, False)
        self.running.append(run)
        try:
            self._prepare(run)
            self._start_child(run)
        except SlotGone as gone:
            self._slot_failed(run, str(gone))

    def _prepare(self, run: StudentRun) -> None:
        """A clean slot for the student, with the student's modules in its folder."""
        if run.slot is None:
            run.slot = self._new_slot()
        run.slot.reset()
        run.slot.used = True
        (run.slot.folder / "submission").mkdir()
        run.submission.write_to(run.slot.folder / "submission")

    def _new_slot(self) -> Slot:
        self._slot_count += 1
        slot = Slot(self.work_root / f"slot-{self._slot_count}", self.readable, self.root, self.device, self.preload,
                    self.limits.threads, sandboxed=self.sandbox_note is None)
        self.slots.append(slot)
        return slot

    def _slot_failed(self, run: StudentRun, why: str) -> None:
        """The slot ended under this student: replace it; the run records what it was doing as crashed."""
        slot = run.slot
        if slot in self.slots:
            self.slots.remove(slot)
            slot.close()
        run.slot = None
        if run.child is not None:
            run.child.failure = run.child.failure or why
            run.child.exited = True
            self._child_exited(run)
        else:
            run.failed_starts += 1
            run.events.append(f"the sandbox could not start a grading process: {why}")
            if run.failed_starts >= 2:
                run.error = f"the sandbox could not start: {why}"
                run.finished = True
            else:
                try:
                    self._prepare(run)
                    self._start_child(run)
                except SlotGone as gone:
                    self._slot_failed(run, str(gone))

    def _step(self) -> None:
        waitables: dict[int, tuple[StudentRun, str]] = {}
        for run in self.running:
            child = run.child
            if child is None:
                continue
            waitables[run.slot.fileno()] = (run, "slot")
            if child.results_fd is not None:
                waitables[child.results_fd] = (run, "results")
            if child.output_fd is not None:
                waitables[child.output_fd] = (run, "output")
        now = time.monotonic()
        timeout = min([POLL] + [max(0.0, r.deadline - now) for r in self.running if r.child is not None])
        ready, _, _ = select.select(list(waitables), [], [], timeout) if waitables else ([], [], [])
        for fd in ready:
            run, kind = waitables[fd]
            if run.child is None:
                continue
            if kind == "results":
                self._read_results(run)
            elif kind == "output":
                self._read_output(run)
            else:
                self._read_slot(run)
        now = time.monotonic()
        for run in list(self.running):
            if run.child is not None and run.child.exited:
                self._child_exited(run)
            elif run.child is not None:
                self._watch(run, now)

    def _read_slot(self, run: StudentRun) -> None:
        try:
            messages = run.slot.read()
        except SlotGone as gone:
            self._slot_failed(run, str(gone))
            return
        for message in messages:
            if message["type"] == "exited" and run.child is not None and message["pid"] == run.child.pid:
                run.child.exitcode = int(message["status"])
                run.child.exit_reason = message.get("reason")
                run.child.exited = True

    # --- starting and watching a grading process -------------------------------------------------------

    def _start_child(self, run: StudentRun) -> None:
        run.processes += 1
        open_exercises = sorted({info.exercise for info in run.checks.values() if info.id not in run.results})
        process = run.slot.folder / f"process-{run.processes}"
        job = {
            "root": str(self.root),
            "exercises": open_exercises if run.checks else [ex.name for ex in run.exercises],
            "skip": sorted(run.results),
            "submission": str(run.slot.folder / "submission"),
            "workdir": str(process),
            "env": sandbox.scrubbed_env(process, self.limits.threads),
            "limits": self.limits.as_dict(),
            "seed": self.seed,
            "device": self.device,
            "token": secrets.token_hex(16),
            "looped": run.looped,
            "verbose": self.verbose,
            "lang": i18n.current(),
        }
        results_r, results_w = os.pipe()
        output_r, output_w = os.pipe()
        try:
            run.slot.send({"type": "grade", "job": job}, [results_w, output_w])
        finally:
            os.close(results_w)
            os.close(output_w)
        try:
            started = run.slot.wait_for("started", SLOT_START)
        except SlotGone:
            os.close(results_r)
            os.close(output_r)
            raise
        for fd in (results_r, output_r):
            os.set_blocking(fd, False)
        if run.processes == 1:
            run.started = time.monotonic()
        run.child = Child(run.slot, int(started["pid"]), results_r, output_r, job["token"])
        run.current, run.importing = None, None
        run.deadline = time.monotonic() + self.limits.idle_timeout
        self.on_event(run, "start")

    def budget(self, run: StudentRun) -> float:
        """The submission's time limit: the one asked for, else a multiple of the reference's time (limits.py)."""
        if self.limits.submission_timeout:
            return self.limits.submission_timeout
        names = [ex.name for ex in self.exercises]
        return self.timings.budget(names, run.slowness) or UNMEASURED_BUDGET

    def _watch(self, run: StudentRun, now: float) -> None:
        child = run.child
        budget = self.budget(run)
        if now >= run.started + budget:
            child.kill("submission-timeout", _("the submission's time limit ({limit} s) ran out before this check "
                                               "finished").format(limit=f"{budget:g}"))
            return
        if now >= run.deadline:
            if run.current is not None and run.cut is not None:
                child.kill("timeout", _("{reason} (the grading process was killed)").format(
                    reason=shortened_message(*run.cut)))
            elif run.current is not None:
                limit = self._timeout_of(run.current, run)
                child.kill("timeout", _("took longer than the {limit} s time limit and did not stop (the grading "
                                        "process was killed)").format(limit=f"{limit:.3g}"))
            else:
                child.kill("crashed", _("the grading process was silent for {seconds} s between checks and was "
                                        "killed").format(seconds=f"{self.limits.idle_timeout:g}"))

    def _timeout_of(self, check_id: str, run: StudentRun) -> float:
        info = run.checks.get(check_id)
        if info is not None and info.limit:
            return info.limit
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
                child.kill("crashed", _("printed more than {size} KiB of output (the grading process was "
                                        "stopped)").format(size=self.limits.output_kb))
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
                child.kill("crashed", _("the grading process sent a malformed message ({error}) and was "
                                        "stopped").format(error=f"{type(error).__name__}: {str(error)[:100]}"))
                if child.results_fd is not None:
                    os.close(child.results_fd)
                    child.results_fd = None
                return False
        return True

    def _handle(self, run: StudentRun, message: dict) -> None:
        if message.get("token") != run.child.token:
            raise ValueError("a message without this grading process's token")
        kind = message["type"]
        now = time.monotonic()
        if kind == "hello":
            pass
        elif kind == "collected":
            for check in message["checks"]:
                meta = CheckMeta.from_dict(check)
                run.checks.setdefault(meta.id, meta)
            run.seed = int(message["seed"]) if run.seed is None else run.seed
            run.slowness = min(100.0, max(1.0, float(message.get("slowness", 1.0))))
            run.budget = self.budget(run)
            run.device = str(message["device"]) if run.device is None else run.device
            run.deadline = now + self.limits.idle_timeout
        elif kind == "start":
            cid = str(message["id"])
            if cid not in run.checks or cid in run.results:
                raise ValueError(f"start of a check that is not open: {cid[:100]}")
            run.current, run.cut = cid, None
            limit = self._timeout_of(cid, run)
            run.deadline = now + limit + self.limits.grace(limit)
            run.current_started = now
            self.on_event(run, "check")
        elif kind == "result":
            result = CheckResult.from_dict(message["check"])
            # Messages name the submission by the slot's folder it was copied to; show the student instead.
            result.message = result.message.replace(str(run.slot.folder / "submission"), run.student)
            result.traceback = result.traceback.replace(str(run.slot.folder / "submission"), run.student)
            if result.id not in run.checks:  # a collection error: a "check" of its own
                if result.outcome != "error" or result.points:
                    raise ValueError(f"a result for a check that was never collected: {result.id[:100]}")
                run.checks[result.id] = CheckMeta(result.id, result.exercise, result.hidden, result.max_points,
                                                  None, False)
            elif result.id in run.results:
                # One of the two was not the grader's: neither is trusted.
                run.results[result.id] = CheckResult(
                    result.id, result.exercise, "crashed", 0.0, result.max_points, result.hidden,
                    _("the grading process sent two results for this check (student code writing to the grader's "
                      "pipe?): neither counts"))
                raise ValueError(f"a second result for {result.id[:100]}")
            elif result.outcome == "passed" and run.current != result.id:
                raise ValueError(f"a pass for {result.id[:100]}, which was not running")
            elif result.max_points != run.checks[result.id].points:
                raise ValueError(f"{result.id[:100]} reported with other points than it was collected with")
            run.results[result.id] = result
            child = run.child
            child.new_results += 1
            if run.current == result.id:
                run.current = None
            run.deadline = now + self.limits.idle_timeout
        elif kind == "looped":
            loop = (str(message["exercise"]), str(message["function"])[:200])
            if loop not in run.looped and len(run.looped) < 100:
                run.looped.append(loop)
        elif kind == "limit":
            cid, limit = str(message["id"]), float(message["limit"])
            if cid == run.current and 0 < limit < self._timeout_of(cid, run):
                run.deadline = run.current_started + limit + self.limits.grace(limit)
                run.cut = (str(message["function"])[:200], limit)
        elif kind == "import":
            run.importing = str(message["exercise"])
        elif kind == "imported":
            run.importing = None
        elif kind == "failure":
            run.child.failure = str(message["error"])[:500]
        elif kind == "notes":
            for note in message["notes"][:20]:
                note = str(note)[:300].replace(str(run.slot.folder / "submission"), run.student)
                if note not in run.notes:
                    run.notes.append(note)
        elif kind == "end":
            run.child.ended = True
            run.cpu_time += max(0.0, float(message.get("cpu_time", 0.0)))
            if run.checks and not run.open_checks:
                run.child.stop()  # all verdicts are in: no need to wait for pytest to tear down
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
                self._restart(run)
            return
        run.events.append(f"grading process {run.processes} ended early: {cause}")
        if child.kill_reason is not None and child.kill_reason[0] == "submission-timeout":
            run.record_open("timeout", message)
            run.finished = True
            return
        if run.importing is not None:
            module = run.modules.get(run.importing, "?")
            run.record_open("crashed", _("importing {module} ended the grading process: {cause}").format(
                module=f"{run.importing}/{module}.py", cause=cause),
                            exercise=run.importing)
        elif run.current is not None:
            run.record(run.current, outcome, message, time.monotonic() - run.current_started)
            child.new_results += 1
        if not run.open_checks:
            run.finished = True
            return
        run.no_progress = 0 if child.new_results else run.no_progress + 1
        if run.no_progress >= 2 or run.processes >= MAX_PROCESSES:
            run.record_open("crashed", _("not run: the grading process ended {n} times, last: {cause}").format(
                n=run.processes, cause=cause))
            run.finished = True
            return
        self._restart(run)

    def _restart(self, run: StudentRun) -> None:
        try:
            if run.slot is None:
                self._prepare(run)
            self._start_child(run)
        except SlotGone as gone:
            self._slot_failed(run, str(gone))

    def _why(self, child: Child) -> tuple[str, str, str]:
        """(outcome, message for the check that was running, the cause in a few words)."""
        if child.kill_reason is not None:
            outcome, message = child.kill_reason
            return ("timeout" if outcome == "submission-timeout" else outcome), message, message
        if child.exit_reason == "memory":
            cause = _("used more than {size} MiB of memory (the grading process was killed)").format(
                size=self.limits.memory_mb)
            return "crashed", cause, cause
        code = child.exitcode
        if child.failure:
            cause = _("the grading session failed: {error}").format(error=child.failure)
        elif code is None:
            cause = _("the grading process vanished")
        elif code < 0:
            try:
                name = signal.Signals(-code).name
            except ValueError:
                name = f"signal {-code}"
            if -code == signal.SIGXCPU:
                cause = _("the grading process used up its CPU time (SIGXCPU)")
                return "timeout", cause, cause
            cause = {
                signal.SIGKILL: _("the grading process was killed by SIGKILL (out of memory?)"),
                signal.SIGXFSZ: _("student code wrote a file larger than {size} MiB (SIGXFSZ)").format(
                    size=self.limits.max_file_mb),
            }.get(-code, _("the grading process was ended by {signal}").format(signal=name))
        elif child.ended:
            cause = _("the grading session was interrupted (KeyboardInterrupt outside student code?)")
        else:
            cause = _("the grading process exited with status {code} (os._exit() or similar in student code?)").format(
                code=code)
        return "crashed", _("{cause}, during this check").format(cause=cause), cause

    def _close(self, child: Child) -> None:
        if not child.exited:
            child.stop()
            try:
                deadline = time.monotonic() + 10
                while not child.exited and time.monotonic() < deadline:
                    for message in child.slot.read(block=0.5):
                        if message["type"] == "exited" and message["pid"] == child.pid:
                            child.exitcode, child.exited = int(message["status"]), True
            except SlotGone:
                child.exited = True
        for name in ("output_fd", "results_fd"):
            if getattr(child, name) is not None:
                os.close(getattr(child, name))
                setattr(child, name, None)
