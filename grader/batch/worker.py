"""The grading process: one per submission (or per restart), forked from a server that has torch loaded.

It puts itself under its limits (`sandbox.enter`), then runs one pytest session over the chosen exercises
against the submission, exactly as `grader run --submission` would (same plugin, seeds, checks), and sends
every event to the parent over a private pipe as it happens: the checks collected, each check's start, each
check's result the moment it is settled, and the student module's import. Messages are JSON, never pickle.
Everything the session prints, and everything student code prints, goes to a second pipe that the parent
only counts and keeps a bounded piece of: printing cannot forge a result.

Importing this module is the fork server's preload, so torch, NumPy, pytest and the grader are already
imported when a grading process starts.
"""

from __future__ import annotations

import faulthandler
import gc
import io
import json
import os
import resource
import sys
from pathlib import Path

import numpy  # noqa: F401  (preloaded for the grading processes)
import pytest
import pytest_timeout  # noqa: F401
import torch

import torch._inductor.config  # noqa: F401  (torch.use_deterministic_algorithms imports it, and torch._dynamo)
from _pytest.config import default_plugins

import grader.checks  # noqa: F401  (binds the comparison functions before any student code exists)
import grader.data  # noqa: F401
from grader.batch import sandbox
from grader.batch.tamper import Guard
from grader.course import is_hidden
from grader.plugin import GRADING, exercise_of

for _name in [*(f"_pytest.{name}" for name in default_plugins), "pdb", "tomllib", "faulthandler"]:  # every session's
    try:
        __import__(_name)
    except ImportError:  # pragma: no cover
        pass
for _name in filter(None, os.environ.get("GRADER_BATCH_PRELOAD", "").split(",")):
    try:  # heavy packages the chosen exercises use (torchvision...): imported once, in the fork server
        __import__(_name)
    except Exception:  # noqa: BLE001 - a grading process imports it again and reports what is wrong
        pass

# Everything loaded so far lives as long as the fork server: keep it out of every collection, so that a
# grading process neither scans it (pytest runs gc.collect() at its end) nor copies its pages by touching them.
gc.freeze()

_dumps = json.dumps
_exit = os._exit


def _plain(value):
    """JSON for what json does not know (a NumPy float32 threshold, say): a float if it is one, else text."""
    try:
        return float(value)
    except (TypeError, ValueError):
        return str(value)


class Channel:
    """The result pipe. Bound methods are kept, so student code that patches json or the class does not matter."""

    def __init__(self, connection):
        self._send = connection.send_bytes

    def send(self, message: dict) -> None:
        try:
            self._send(_dumps(message, default=_plain).encode())
        except (OSError, ValueError, TypeError):
            _exit(71)  # the parent is gone or the pipe was closed under us: nothing left to do


class WorkerPlugin:
    """Hooks into the session: deselects what is already graded, reports every event to the parent."""

    def __init__(self, channel: Channel, skip: set[str], stdio: tuple):
        self.channel = channel
        self.stdio = stdio
        self.skip = skip
        self.grading = None
        self.sent = 0
        self.guard: Guard | None = None

    @pytest.hookimpl(trylast=True)
    def pytest_configure(self, config: pytest.Config) -> None:
        # pytest's terminal reporter has bound the null stream by now; student code prints to the capture pipe.
        sys.stdout, sys.stderr = self.stdio
        faulthandler.enable(file=sys.stderr)  # a segfault's Python stack ends up in the captured output
        self.grading = config.stash[GRADING]
        loader = self.grading.loader
        original, channel = loader._import, self.channel

        def tracked_import(path, exercise, module_name):
            channel.send({"type": "import", "exercise": exercise, "module": module_name})
            try:
                return original(path, exercise, module_name)
            finally:
                channel.send({"type": "imported", "exercise": exercise})

        loader._import = tracked_import

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
        checks = []
        for item in session.items:
            points = item.get_closest_marker("points")
            timeout = item.get_closest_marker("timeout")
            limit = timeout.kwargs.get("timeout", timeout.args[0] if timeout.args else None) if timeout else None
            checks.append({
                "id": item.nodeid,
                "exercise": exercise_of(Path(item.path)),
                "hidden": is_hidden(item.path),
                "max_points": float(points.args[0]) if points else 1.0,
                "timeout": float(limit) if limit else None,
            })
        self.channel.send({"type": "collected", "checks": checks, "seed": self.grading.seed,
                           "device": self.grading.device.type})
        self._flush()
        modules = {item.module for item in session.items if getattr(item, "module", None) is not None}
        self.guard = Guard(modules)  # before any student code runs

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
                shown = ", ".join(replaced[:3]) + (f" and {len(replaced) - 3} more" if len(replaced) > 3 else "")
                report.outcome = "failed"
                report.grader_outcome = "failed"
                report.longrepr = (f"student code replaced {shown} while this check ran: a check cannot trust "
                                   f"its comparison then (the originals were put back)")
        return report

    def pytest_runtest_logfinish(self, nodeid: str) -> None:
        self._flush()

    @pytest.hookimpl(trylast=True)
    def pytest_sessionfinish(self, session: pytest.Session, exitstatus: int) -> None:
        self._flush()
        used = [resource.getrusage(who) for who in (resource.RUSAGE_SELF, resource.RUSAGE_CHILDREN)]
        self.channel.send({"type": "end", "status": int(exitstatus),  # the parent need not wait for the exit
                           "cpu_time": sum(u.ru_utime + u.ru_stime for u in used)})

    def _flush(self) -> None:
        if self.grading is None:
            return
        results = self.grading.results
        while self.sent < len(results):
            check = results[self.sent]
            self.sent += 1
            self.channel.send({"type": "result", "check": {
                "id": check.id, "exercise": check.exercise, "outcome": check.outcome, "points": check.points,
                "max_points": check.max_points, "hidden": check.hidden, "message": check.message,
                "duration": check.duration, "thresholds": check.thresholds,
            }})


def child_main(job: dict, results_connection, output_connection) -> None:
    """Entry point in the grading process (the target of the forkserver Process)."""
    output_fd = os.dup(output_connection.fileno())
    output_connection.close()
    keep = [results_connection.fileno()]
    workdir = Path(job["workdir"])
    sandbox.enter(workdir, job["env"], sandbox.Limits(**job["limits"]), keep, output_fd, job["device"] == "cpu")
    torch.set_num_threads(job["limits"]["threads"])
    channel = Channel(results_connection)
    channel.send({"type": "hello", "pid": os.getpid()})
    root = Path(job["root"])
    args = [str(root / "exercises" / name) for name in job["exercises"]]
    args += [
        "--rootdir", str(root), "-c", str(root / "pyproject.toml"), "-p", "no:cacheprovider",
        "-p", "pytest_timeout", "-p", "grader.plugin",  # these plugins only: autoloading is off
        "--capture=no", "-q", "--submission", job["submission"], "--device", job["device"],
    ]
    if job["seed"] is not None:
        args += ["--seed", str(job["seed"])]
    if job["limits"]["check_timeout"] is not None:
        args += ["-o", f"grader_timeout={job['limits']['check_timeout']}"]
    status = -1
    stdio = sys.stdout, sys.stderr
    report = sys.stdout = sys.stderr = io.StringIO()  # pytest's own report: not counted, not shown
    plugin = WorkerPlugin(channel, set(job["skip"]), stdio)
    try:
        status = int(pytest.main(args, plugins=[plugin]))
    except BaseException as error:  # noqa: BLE001 - whatever happens, the parent learns it from the pipe
        channel.send({"type": "failure", "error": f"{type(error).__name__}: {error}"[:500]})
    if status in (pytest.ExitCode.USAGE_ERROR, pytest.ExitCode.INTERNAL_ERROR) and plugin.guard is None:
        lines = [line for line in report.getvalue().splitlines() if line.strip()]
        channel.send({"type": "failure", "error": (lines[-1] if lines else f"pytest exit status {status}")[:500]})
    channel.send({"type": "end", "status": status})
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except Exception:  # noqa: BLE001
        pass
    # No interpreter shutdown: threads left running, atexit handlers and finalizers of student code never run.
    _exit(0)
