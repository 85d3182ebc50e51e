"""The grading process: one per submission (or per restart), forked by a slot's zygote that has torch loaded.

It puts itself under its limits (`sandbox.enter`), then runs one pytest session over the chosen exercises
against the submission (the session `grader.session` builds: same plugin, seeds, checks as every other
path), and sends every event to the parent over a private pipe as it happens: the checks collected, each
check's start, each check's result the moment it is settled, and the student module's import. Messages are
length-prefixed JSON, never pickle. Everything the session prints, and everything student code prints, goes
to a second pipe that the parent only counts and keeps a bounded piece of: printing cannot forge a result.

Importing this module is the zygote's preload, so torch, NumPy, pytest and the grader are already imported
when a grading process starts.
"""

from __future__ import annotations

import faulthandler
import json
import os
import struct
import sys
from pathlib import Path

import numpy  # preloaded for the grading processes
import pytest
import pytest_timeout  # preloaded: the sessions load it with -p (plugin autoloading is off)
import torch
import torch._dynamo  # an optimizer's first step imports it, and it wraps torch.manual_seed: before the snapshot
from _pytest.config import default_plugins

import grader.checks  # binds the comparison functions before any student code exists
import grader.data  # preloaded
from grader import session
from grader.batch import sandbox
from grader.batch.tamper import Guard
from grader.course import Exercise
from grader.i18n import _
from grader.plugin import GRADING

for _name in [*(f"_pytest.{name}" for name in default_plugins), "pdb", "tomllib", "faulthandler"]:  # every session's
    try:
        __import__(_name)
    except ImportError:  # pragma: no cover
        pass
for _name in filter(None, os.environ.get("GRADER_BATCH_PRELOAD", "").split(",")):
    try:  # heavy packages the chosen exercises use (torchvision...): imported once, in the zygote
        __import__(_name)
    except Exception:  # a grading process imports it again and reports what is wrong
        pass

_dumps, _pack, _write, _exit = json.dumps, struct.pack, os.write, os._exit


def _plain(value):
    """JSON for what json does not know (a NumPy float32 threshold, say): a float if it is one, else text."""
    try:
        return float(value)
    except (TypeError, ValueError):
        return str(value)


class Channel:
    """The result pipe. The functions it uses are bound here, so student code that patches json, struct or os
    does not change what is sent; every message carries the run's token, which student code writing to the pipe
    does not have at hand."""

    def __init__(self, fd: int, token: str):
        self._fd = fd
        self._token = token

    def send(self, message: dict) -> None:
        try:
            data = _dumps({**message, "token": self._token}, default=_plain).encode()
            frame = _pack("!i", len(data)) + data
            while frame:
                frame = frame[_write(self._fd, frame):]
        except (OSError, ValueError, TypeError):
            _exit(71)  # the parent is gone or the pipe was closed under us: nothing left to do


class WorkerPlugin:
    """Hooks into the session: deselects what is already graded, reports every event to the parent."""

    def __init__(self, channel: Channel, skip: set[str], looped: list[list[str]], stdio: tuple):
        self.channel = channel
        self.stdio = stdio
        self.skip = skip
        self.known_loops = looped  # (exercise, function) that ran past a limit in an earlier grading process
        self.grading = None
        self.sent = 0
        self.guard: Guard | None = None

    @pytest.hookimpl(trylast=True)
    def pytest_configure(self, config: pytest.Config) -> None:
        # pytest's terminal reporter has bound the null stream by now; student code prints to the capture pipe.
        sys.stdout, sys.stderr = self.stdio
        faulthandler.enable(file=sys.stderr)  # a segfault's Python stack ends up in the captured output
        self.grading = config.stash[GRADING]
        for exercise, function in self.known_loops:
            self.grading.loop_in(str(exercise), str(function))
        self.grading.listeners.append(self)
        loader = self.grading.loader
        original, channel = loader._import, self.channel

        def tracked_import(path, exercise, module_name):
            channel.send({"type": "import", "exercise": exercise, "module": module_name})
            try:
                return original(path, exercise, module_name)
            finally:
                channel.send({"type": "imported", "exercise": exercise})

        loader._import = tracked_import

    def looped(self, exercise: str, function: str) -> None:
        self.channel.send({"type": "looped", "exercise": exercise, "function": function})

    def limit_cut(self, check_id: str, function: str, limit: float) -> None:
        self.channel.send({"type": "limit", "id": check_id, "function": function, "limit": limit})

    def pytest_collection_modifyitems(self, config: pytest.Config, items: list[pytest.Item]) -> None:
        if not self.skip:
            return
        kept = [item for item in items if item.nodeid not in self.skip]
        dropped = [item for item in items if item.nodeid in self.skip]
        if dropped:
            config.hook.pytest_deselected(items=dropped)
            items[:] = kept

    @pytest.hookimpl(trylast=True)
    def pytest_collection_finish(self, session: pytest.Session) -> None:
        collected = self.grading.collected
        checks = [collected[item.nodeid].to_dict() for item in session.items if item.nodeid in collected]
        self.channel.send({"type": "collected", "checks": checks, "seed": self.grading.seed,
                           "device": self.grading.device.type, "slowness": self.grading.slowness})
        self._flush()
        modules = {item.module for item in session.items if getattr(item, "module", None) is not None}
        self.guard = Guard(modules, [self.grading, self.grading.loader, self, self.channel])  # before student code

    @pytest.hookimpl(trylast=True)
    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        self._flush()

    def pytest_runtest_logstart(self, nodeid: str) -> None:
        self.channel.send({"type": "start", "id": nodeid})

    @pytest.hookimpl(wrapper=True, trylast=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call: pytest.CallInfo):
        report = yield
        # After the call; or after a setup that failed (no call follows), to put back what it replaced.
        if self.guard is not None and (call.when == "call" or (call.when == "setup" and report.failed)):
            replaced = self.guard.check()
            if replaced and report.outcome != "failed":
                shown = ", ".join(replaced[:3]) + (_(" and {n} more").format(n=len(replaced) - 3)
                                                   if len(replaced) > 3 else "")
                report.outcome = "failed"
                report.grader_outcome = "failed"
                report.longrepr = _("student code replaced {names} while this check ran: a check cannot trust its "
                                    "comparison then (the originals were put back)").format(names=shown)
        return report

    def pytest_runtest_logfinish(self, nodeid: str) -> None:
        self._flush()

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        self._flush()
        import resource

        used = [resource.getrusage(who) for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)]
        if self.grading.loader.notes:
            self.channel.send({"type": "notes", "notes": self.grading.loader.notes})
        self.channel.send({"type": "end", "status": int(exitstatus),  # the parent need not wait for the exit
                           "cpu_time": sum(u.ru_utime + u.ru_stime for u in used)})

    def _flush(self) -> None:
        if self.grading is None:
            return
        results = self.grading.results
        while self.sent < len(results):
            check = results[self.sent]
            self.sent += 1
            self.channel.send({"type": "result", "check": check.to_dict()})


def child_main(job: dict, results_fd: int, output_fd: int) -> None:
    """The grading process, forked by the zygote; it never returns."""
    workdir = Path(job["workdir"])
    limits = sandbox.Limits(**job["limits"])
    sandbox.enter(workdir, job["env"], limits, output_fd, job["device"] == "cpu")
    torch.set_num_threads(limits.threads)
    channel = Channel(results_fd, job.pop("token"))
    channel.send({"type": "hello", "pid": os.getpid()})
    root = Path(job["root"])
    exercises = [Exercise(name, root / "exercises" / name) for name in job["exercises"]]
    args = session.pytest_args(root, exercises, submission=Path(job["submission"]), seed=job["seed"],
                               device=job["device"], check_timeout=limits.check_timeout, capture="no",
                               verbose=job["verbose"], lang=job["lang"])
    args += ["-p", "pytest_timeout"]  # autoloading is off: the plugins the grading needs, and only those
    status = -1
    plugin = WorkerPlugin(channel, set(job["skip"]), job["looped"], (sys.stdout, sys.stderr))
    try:
        status, _ = session.run(args, [plugin])
    except BaseException as error:  # whatever happens, the parent learns it from the pipe
        channel.send({"type": "failure", "error": f"{type(error).__name__}: {error}"[:500]})
    channel.send({"type": "end", "status": status})
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except Exception:
        pass
    # No interpreter shutdown: threads left running, atexit handlers and finalizers of student code never run.
    _exit(0)
