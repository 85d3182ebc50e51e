"""`grader watch`: grade one exercise on every save of its student module, torch kept imported between runs.

    Watcher(Job(root, exercise), method="fork").run()   # until Ctrl-C; returns 130

The watcher imports torch, pytest and the grader once. Each run grades in a fresh process, so that no module,
seed or torch switch of one run is seen by the next: on Linux a process forked from the watcher; where fork is
unavailable or unsafe (Windows, macOS) a spawned worker that imported everything while it waited, the next one
starting as soon as a run begins. A thread watches the module's folder (atomic saves replace the file) and hands
each burst of events over as one change; a change while a run is going stops that run and starts another.
"""

from __future__ import annotations

import contextlib
import gc
import importlib
import io
import multiprocessing
import os
import signal
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from pathlib import Path

import watchfiles
from rich.console import Console
from rich.text import Text

from grader import course, scoreboard
from grader.course import CourseError, Exercise
from grader.errors import EXIT_INTERRUPTED
from grader.i18n import _
from grader.results import Report, submission_target

QUIET_MS = 50  # a burst of file events ends after this long without another one


@dataclass(frozen=True)
class Job:
    """What every run grades: one exercise of the course at `root`, against exercises/, solutions/ or a submission."""

    root: Path
    exercise: Exercise
    solutions: bool = False
    submission: Path | None = None
    seed: int | None = None

    @property
    def module(self) -> Path:
        """The student module that is watched: `<target>/NN_name/<module>.py`."""
        target = self.submission or self.root / ("solutions" if self.solutions else "exercises")
        return Path(target).absolute() / self.exercise.name / f"{self.exercise.module}.py"

    @property
    def shown(self) -> str:
        return f"{self.exercise.name}/{self.exercise.module}.py"


def grade(job: Job) -> Report:
    """The one call into the grading layer: the same in-process entry point as `grader run`."""
    from grader import session

    return session.grade(job.root, [job.exercise], solutions=job.solutions, submission=job.submission, seed=job.seed)


def default_method() -> str:
    """fork on Linux; spawn where there is no fork (Windows) or forking after torch is not safe (macOS)."""
    return "fork" if sys.platform.startswith("linux") and hasattr(os, "fork") else "spawn"


def preload(job: Job) -> None:
    """Import once what every run imports: torch, NumPy, pytest and the plugins the course's configuration
    loads, the grader, and the heavy packages the exercise uses. Then keep it all out of the garbage
    collector's scans (pytest collects at its end; in a forked run, scanning would also copy every page)."""
    import pytest

    from grader import session

    # `--version` twice: pytest loads every plugin as a run does (assertion rewriting included), shows the
    # version and stops before configuring them (no torch switch is flipped here). Once, it loads nothing.
    args = ["--version", "--version", "--rootdir", str(job.root), "-c", str(job.root / "pyproject.toml"),
            "-p", "no:cacheprovider"]
    log = io.StringIO()
    # An error here is not reported: a run loads the plugins again and says what is wrong.
    with contextlib.redirect_stdout(log), contextlib.redirect_stderr(log), contextlib.suppress(Exception):
        pytest.main(args)
    # What a session imports once it starts (faulthandler, pdb: pytest's plugins; numpy.random: the seeding).
    for name in ["faulthandler", "pdb", "numpy.random", *_heavy_packages(job)]:
        with contextlib.suppress(Exception):  # likewise
            importlib.import_module(name)
    gc.freeze()


def _heavy_packages(job: Job) -> list[str]:
    return course.preload_modules(course.exercise_texts(job.root, [job.exercise], job.module.parents[1]))


# --- a run's process ------------------------------------------------------------------------------------------


def _child(conn: Connection, job: Job, spawned: bool) -> None:
    """A run: grade `job` and send back ("report", Report) or ("error", one line). A spawned worker first
    imports everything, then waits for the word to start."""
    _detach()
    if spawned:
        preload(job)
        try:
            conn.recv()
        except EOFError:  # the watcher is gone
            return
    try:
        reply = ("report", grade(job))
    except CourseError as error:
        reply = ("error", str(error))
    except BaseException as error:  # whatever stops the session, the watcher says it in one line
        reply = ("error", f"grading stopped: {type(error).__name__}: {error}")
    conn.send(reply)


def _detach() -> None:
    """Out of the terminal's way: its own process group (Ctrl-C reaches only the watcher, which kills the whole
    group), output to the null device (the watcher prints the results), and gone when the watcher is."""
    if hasattr(os, "setpgid"):
        os.setpgid(0, 0)
    else:
        signal.signal(signal.SIGINT, signal.SIG_IGN)
    null = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):
        os.dup2(null, fd)
    os.close(null)
    sentinel = multiprocessing.parent_process().sentinel
    _background(lambda: (wait([sentinel]), os._exit(1)), "grader-watch-orphan")


def _background(target: Callable[[], object], name: str) -> threading.Thread:
    """Start a daemon thread that takes no signal, so that every signal reaches the main thread and cuts its
    wait short: Ctrl-C the watcher's, a check's time limit (SIGALRM) a run's."""
    thread = threading.Thread(target=target, name=name, daemon=True)
    if not hasattr(signal, "pthread_sigmask"):  # Windows: signals are the main thread's anyway
        thread.start()
        return thread
    mask = signal.pthread_sigmask(signal.SIG_BLOCK, signal.valid_signals())
    try:
        thread.start()  # it inherits the blocked signals
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, mask)
    return thread


@dataclass
class _Run:
    process: multiprocessing.process.BaseProcess
    conn: Connection

    def stop(self) -> None:
        """Kill the run's process and everything it started (its process group, where there are groups)."""
        if hasattr(os, "killpg"):
            for kill in (os.killpg, os.kill):  # the process alone if it has not made its group yet
                with contextlib.suppress(ProcessLookupError, PermissionError):
                    kill(self.process.pid, signal.SIGKILL)
        else:
            self.process.kill()
        self.process.join()
        self.conn.close()


class _Starter:
    """Starts runs: forked from this process, or handed to the spawned worker that is waiting, ready."""

    def __init__(self, job: Job, method: str):
        self.job = job
        self._context = multiprocessing.get_context(method)
        self._spare = self._process(spawned=True) if method == "spawn" else None

    def _process(self, spawned: bool) -> _Run:
        ours, theirs = self._context.Pipe()
        process = self._context.Process(target=_child, args=(theirs, self.job, spawned), name="grader-watch-run")
        process.start()
        theirs.close()
        return _Run(process, ours)

    def start(self) -> _Run:
        if self._spare is None:
            return self._process(spawned=False)
        run = self._spare
        try:
            run.conn.send("go")
        except OSError:  # it died while it waited
            run.stop()
            run = self._process(spawned=True)
            run.conn.send("go")
        self._spare = self._process(spawned=True)
        return run

    def close(self) -> None:
        if self._spare is not None:
            self._spare.stop()


# --- the watcher ---------------------------------------------------------------------------------------------


class _Saves:
    """The module's changes, from a thread that watches its folder: each burst of events (an editor's write,
    rename and chmod, or an atomic save through a temporary file) arrives on `conn` as one `None`; a failure
    of the watch as its one line."""

    def __init__(self, module: Path):
        self._stop = threading.Event()
        self.conn, sender = multiprocessing.Pipe(duplex=False)
        # The thread that watchfiles starts inherits this one's blocked signals.
        self._thread = _background(lambda: self._watch(module, sender), "grader-watch-files")

    def _watch(self, module: Path, sender: Connection) -> None:
        try:
            for _ in watchfiles.watch(
                module.parent, watch_filter=lambda _, path: os.path.basename(path) == module.name,
                step=QUIET_MS, stop_event=self._stop, recursive=False,
            ):
                sender.send(None)
        except Exception as error:  # handed to the main thread, which stops in one line
            sender.send(f"watching {module.parent} stopped: {error}")

    def close(self) -> None:
        """Stop watching, and wait for the thread to leave watchfiles (one step at most) rather than let Python
        shut down around it."""
        self._stop.set()
        self._thread.join(timeout=1)


class Watcher:
    """Grades `job` now and on every save of its module until Ctrl-C; each run ends with the scoreboard."""

    def __init__(self, job: Job, method: str | None = None):
        self.job = job
        self.method = method or default_method()
        # Taken now: `Exercise.module` reads the exercise folder, which may lose the module while it is watched.
        self.module, self.shown = job.module, job.shown
        # Not wrapped: the total line stays one line for the editors and scripts that follow it.
        self.console = Console(file=sys.stdout, soft_wrap=True)
        self._run: _Run | None = None
        self._gone = False

    def run(self) -> int:
        """Watch until interrupted: 130 after Ctrl-C; SIGTERM and SIGHUP stop it as cleanly (128 + signal)."""
        stops = [getattr(signal, name) for name in ("SIGTERM", "SIGHUP") if hasattr(signal, name)]
        previous = {signum: signal.signal(signum, _exit_on_signal) for signum in stops}
        saves = _Saves(self.module)
        starter = None
        try:
            self._say(_("watching {module} ({target}); Ctrl-C stops").format(module=self.shown, target=self._target))
            if self.method == "fork":
                preload(self.job)
            starter = _Starter(self.job, self.method)
            self._changed(starter, _("first run"))
            while True:
                ready = wait([saves.conn] + ([self._run.conn] if self._run else []))
                if saves.conn in ready:  # a save makes a result that is ready too out of date
                    failure = saves.conn.recv()
                    if failure:
                        raise CourseError(failure)
                    self._changed(starter, _("{module} saved").format(module=self.shown))
                else:
                    self._finish()
        except KeyboardInterrupt:
            return EXIT_INTERRUPTED
        finally:
            if self._run:
                self._run.stop()
            if starter:
                starter.close()
            saves.close()
            for signum, handler in previous.items():
                signal.signal(signum, handler)

    @property
    def _target(self) -> str:
        if self.job.submission:
            return submission_target(self.job.submission)
        return "solutions" if self.job.solutions else "exercises"

    def _say(self, message: str, style: str = "dim") -> None:
        self.console.print(Text(f"[{time.strftime('%H:%M:%S')}] {message}", style=style))

    def _changed(self, starter: _Starter, reason: str) -> None:
        """Stop the run in progress, if any, and start another (or wait, while the module is gone)."""
        stopped = self._run is not None
        if self._run:
            self._run.stop()
            self._run = None
        if not self.module.is_file():
            if not self._gone:
                self._say(_("{module} is gone; waiting for it").format(module=self.shown), style="yellow")
            self._gone = True
            return
        if self._gone:
            reason, self._gone = _("{module} is back").format(module=self.shown), False
        note = " " + _("(the run in progress was stopped)") if stopped else ""
        self._say(_("{reason}: grading {exercise}").format(reason=reason + note, exercise=self.job.exercise.name))
        self._run = starter.start()

    def _finish(self) -> None:
        run, self._run = self._run, None
        try:
            kind, value = run.conn.recv()
        except EOFError:
            kind, value = "error", None
        run.stop()  # what it left behind (threads, subprocesses) goes with it
        if kind == "report":
            scoreboard.render(value, self.console)
        else:
            value = value or _("the grading process ended without a result (exit code {code})").format(
                code=run.process.exitcode)
            self.console.print(Text(_("could not grade: {reason}").format(reason=value), style="red"))


def _exit_on_signal(signum: int, _frame) -> None:
    raise SystemExit(128 + signum)
