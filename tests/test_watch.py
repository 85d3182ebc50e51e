"""`grader watch`: the real command in a subprocess, on a submission to the toy course, through saves,
broken code, deletions, endless loops and Ctrl-C."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from grader.testing import linux_only

pytestmark = [linux_only, pytest.mark.timeout(60)]  # /proc, POSIX signals

WAIT = 30.0  # seconds any one thing may take to show up (a loaded 2-core machine, a spawned worker's import)
HEADER = re.compile(r"^\[\d\d:\d\d:\d\d\] ")

GOOD = """\
def double(x):
    return 2 * x


def spin():
    return 1
"""

# Blocked in a sleep, not spinning: the time limit's SIGALRM must reach the run's main thread to stop it.
ENDLESS = "import time\n" + GOOD.replace("    return 1\n", "    while True:\n        time.sleep(60)\n")
STUBBORN_LOOP = """\
    while True:  # not even the time limit stops this one
        try:
            time.sleep(0.05)
        except BaseException:
            pass
"""
STUBBORN = "import time\n" + GOOD.replace("    return 1\n", STUBBORN_LOOP)

# Fresh only in a process where no earlier run imported it: a torch switch and a counter kept on torch.
LEAKY = """\
import torch

FRESH = not torch.is_anomaly_enabled() and not hasattr(torch, "watch_runs")
torch.set_anomaly_enabled(True)
torch.watch_runs = 1


def double(x):
    return 2 * x if FRESH else -1


def spin():
    return 1
"""


class Watching:
    """`grader watch` in a subprocess; its output lines collected as they come."""

    def __init__(self, cwd: Path, *args: str):
        env = {**os.environ, "NO_COLOR": "1"}
        self.process = subprocess.Popen([sys.executable, "-m", "grader", "watch", *args], cwd=cwd, env=env,
                                        text=True, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
        self.lines: list[str] = []
        self.err: list[str] = []
        self._changed = threading.Condition()
        for stream, into in ((self.process.stdout, self.lines), (self.process.stderr, self.err)):
            threading.Thread(target=self._read, args=(stream, into), daemon=True).start()

    def _read(self, stream, into: list[str]) -> None:
        for line in stream:
            with self._changed:
                into.append(line.rstrip("\n"))
                self._changed.notify_all()

    def wait_for(self, condition, what: str) -> None:
        """Until `condition(lines)` holds; checked on every new line and every 50 ms (files change silently)."""
        deadline = time.monotonic() + WAIT
        with self._changed:
            while not condition(self.lines):
                if time.monotonic() > deadline:
                    raise AssertionError(f"no {what} after {WAIT} s; output:\n" + "\n".join(self.lines + self.err))
                self._changed.wait(0.05)

    def totals(self, n: int) -> list[str]:
        """Wait for the n-th scoreboard; all total lines so far."""
        self.wait_for(lambda lines: len(_totals(lines)) >= n, f"scoreboard #{n}")
        return _totals(self.lines)

    def interrupt(self) -> int:
        self.process.send_signal(signal.SIGINT)
        return self.process.wait(timeout=10)

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait()


def _totals(lines: list[str]) -> list[str]:
    return [line for line in lines if line.startswith("Total ")]


def _runs(lines: list[str]) -> list[list[str]]:
    """Each run's output: its header and what follows, up to the next header."""
    runs: list[list[str]] = []
    for line in lines:
        if HEADER.match(line):
            runs.append([line])
        elif runs:
            runs[-1].append(line)
    return [run for run in runs if run[0].endswith(": grading 01_toy")]


def _save(path: Path, source: str) -> None:
    """What an editor's atomic save does: write a temporary file beside it, rename it over the module."""
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(source)
    os.replace(tmp, path)


def _running(pid: int) -> bool:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


@pytest.fixture
def watch(toy: Path, toy_submission):
    """`watch(source, *options)`: `grader watch 01_toy` on a submission holding `source`; (watcher, module)."""
    started: list[Watching] = []

    def start(source: str, *options: str) -> tuple[Watching, Path]:
        submission = toy_submission(source)
        started.append(Watching(toy, "01_toy", "--submission", str(submission), *options))
        return started[-1], submission / "01_toy" / "toy.py"

    yield start
    for watcher in started:
        watcher.kill()


def test_first_run_then_one_run_per_save(watch):
    watcher, module = watch(GOOD)
    assert "8 / 8 points" in watcher.totals(1)[0]
    _save(module, GOOD)
    watcher.totals(2)
    # A burst: two writes, an atomic save and a chmod, as editors do them: one run.
    module.write_text(GOOD)
    module.write_text(GOOD)
    _save(module, GOOD)
    module.chmod(0o644)
    watcher.totals(3)
    time.sleep(1.0)
    runs = _runs(watcher.lines)
    assert len(runs) == 3 and len(_totals(watcher.lines)) == 3
    assert "first run" in runs[0][0] and all("01_toy/toy.py saved" in run[0] for run in runs[1:])
    assert all(run[-1].startswith("Total 8 / 8 points") for run in runs)
    assert watcher.process.poll() is None


def test_syntax_error_and_import_error_give_one_line_then_a_fix_passes(watch):
    watcher, module = watch(GOOD)
    watcher.totals(1)
    _save(module, "def double(x:\n")
    assert "0 / 8 points" in watcher.totals(2)[-1]
    _save(module, "import no_such_module_here\n" + GOOD)
    assert "0 / 8 points" in watcher.totals(3)[-1]
    _save(module, GOOD)
    assert "8 / 8 points" in watcher.totals(4)[-1]
    syntax, missing = _runs(watcher.lines)[1:3]
    for run, reason in ((syntax, "SyntaxError"), (missing, "ModuleNotFoundError")):
        assert [line for line in run if reason in line] == [next(line for line in run if reason in line)]
        assert not any("test_double" in line for line in run)  # not one line per check
        assert "01_toy: 5 checks [4 hidden] (8 pt): 01_toy/toy.py line 1:" in "\n".join(run)
        assert run[-1].startswith("Total ")


def test_deleted_or_renamed_module_is_waited_for(watch):
    watcher, module = watch(GOOD)
    watcher.totals(1)
    gone = "01_toy/toy.py is gone; waiting for it"

    def said_gone(n: int) -> None:
        watcher.wait_for(lambda lines: sum(line.endswith(gone) for line in lines) >= n, f"'{gone}' #{n}")

    module.unlink()
    said_gone(1)
    module.write_text(GOOD)
    watcher.totals(2)
    module.rename(module.with_name("toy_old.py"))
    said_gone(2)
    module.with_name("toy_old.py").rename(module)
    totals = watcher.totals(3)
    assert all("8 / 8 points" in total for total in totals)
    assert sum("01_toy/toy.py is back: grading 01_toy" in line for line in watcher.lines) == 2
    assert len(totals) == 3  # no run while it was gone


def test_endless_loop_is_stopped_by_the_time_limit_and_a_save_stops_a_run(watch):
    watcher, module = watch(GOOD)
    watcher.totals(1)
    _save(module, ENDLESS)
    assert "7 / 8 points" in watcher.totals(2)[-1]
    assert any("test_spin" in line and "time limit" in line for line in _runs(watcher.lines)[1])
    assert watcher.process.poll() is None
    _save(module, STUBBORN)
    watcher.wait_for(lambda lines: len(_runs(lines)) == 3, "the third run's header")
    time.sleep(1.5)  # the run has read the module by now (else it would grade the next save's) and is stuck in spin
    _save(module, GOOD)  # while the run that never ends is going
    assert "8 / 8 points" in watcher.totals(3)[-1]
    last = _runs(watcher.lines)[-1]
    assert "(the run in progress was stopped)" in last[0]
    assert len(_totals(watcher.lines)) == 3  # the stopped run printed nothing


def test_ctrl_c_exits_130_at_once_and_leaves_no_process(watch, tmp_path):
    pids = tmp_path / "pids"
    record = f"""\
    import os, subprocess
    child = subprocess.Popen(["sleep", "60"])
    with open({str(pids)!r}, "w") as out:
        out.write(f"{{os.getpid()}} {{child.pid}}")
"""
    watcher, _ = watch(STUBBORN.replace(STUBBORN_LOOP, record + STUBBORN_LOOP))
    watcher.wait_for(lambda _: pids.exists() and len(pids.read_text().split()) == 2, "the run's pids")
    started = time.monotonic()
    assert watcher.interrupt() == 130
    assert time.monotonic() - started < 5
    assert not any("Traceback" in line for line in watcher.err), watcher.err
    deadline = time.monotonic() + 5
    while any(_running(int(pid)) for pid in pids.read_text().split()) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert not any(_running(int(pid)) for pid in pids.read_text().split())


def test_no_state_leaks_from_one_run_to_the_next(watch):
    watcher, module = watch(LEAKY)
    watcher.totals(1)
    _save(module, LEAKY)
    assert all("8 / 8 points" in total for total in watcher.totals(2))


def test_spawn_path_is_fresh_too(watch):
    watcher, module = watch(LEAKY, "--start-method", "spawn")
    watcher.totals(1)
    _save(module, LEAKY)
    assert all("8 / 8 points" in total for total in watcher.totals(2))
    assert watcher.interrupt() == 130
