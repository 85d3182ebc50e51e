"""Grading in this process: one pytest session over the chosen exercises, its results as a `Report`."""

from __future__ import annotations

import contextlib
import io
from pathlib import Path
from typing import Callable, Sequence

import pytest

from grader.course import CourseError, Exercise
from grader.plugin import GRADING
from grader.results import Report


class _Collector:
    """Hooks into the session to report progress and keep its `Grading` once the session ends."""

    def __init__(self, on_total: Callable[[int], None] | None, on_check: Callable[[str], None] | None):
        self.on_total, self.on_check = on_total, on_check
        self.grading = None

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        if self.on_total:
            self.on_total(len(session.items))

    def pytest_runtest_logfinish(self, nodeid: str) -> None:
        if self.on_check:
            self.on_check(nodeid)

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        self.grading = session.config.stash.get(GRADING, None)


def grade(
    root: Path,
    exercises: Sequence[Exercise],
    *,
    solutions: bool = False,
    submission: Path | None = None,
    seed: int | None = None,
    device: str | None = None,
    hidden: bool = True,
    on_total: Callable[[int], None] | None = None,
    on_check: Callable[[str], None] | None = None,
) -> Report:
    """Run the checks of `exercises` against the chosen target and return the report.

    `hidden=False` leaves the hidden checks out (what a student release has). pytest's own terminal
    output is kept out of the way; a usage error comes back as a `CourseError`.
    """
    args = [str(ex.path) for ex in exercises]
    args += ["--rootdir", str(root), "-c", str(root / "pyproject.toml"), "-q", "--capture=sys", "-p", "no:cacheprovider"]
    if not hidden:
        args += ["--ignore-glob", "*_hidden.py"]
    if solutions:
        args.append("--solutions")
    if submission is not None:
        args += ["--submission", str(submission)]
    if seed is not None:
        args += ["--seed", str(seed)]
    if device is not None:
        args += ["--device", device]
    collector = _Collector(on_total, on_check)
    log = io.StringIO()
    with contextlib.redirect_stdout(log), contextlib.redirect_stderr(log):
        code = pytest.main(args, plugins=[collector])
    if code == pytest.ExitCode.INTERRUPTED:
        raise KeyboardInterrupt
    if collector.grading is None or code in (pytest.ExitCode.USAGE_ERROR, pytest.ExitCode.INTERNAL_ERROR):
        raise CourseError(_last_error(log.getvalue()) or f"pytest stopped with exit code {int(code)}")
    g = collector.grading
    return Report.from_checks(g.target.label, g.seed, g.device.type, g.results)


def _last_error(output: str) -> str:
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    errors = [line.removeprefix("ERROR: ") for line in lines if line.startswith(("ERROR", "E "))]
    return (errors or lines or [""])[-1]
