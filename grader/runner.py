"""Grading in this process: one pytest session over the chosen exercises, its results as a `Report`."""

from __future__ import annotations

import contextlib
import io
from pathlib import Path
from types import ModuleType
from typing import Callable, Mapping, Sequence

import pytest

from grader.course import CourseError, Exercise
from grader.plugin import GRADING
from grader.results import Report


class _Collector:
    """Hooks into the session to report progress and keep its `Grading` once the session ends."""

    def __init__(self, on_total: Callable[[int], None] | None, on_check: Callable[[str], None] | None,
                 modules: Mapping[str, ModuleType] | None = None):
        self.on_total, self.on_check = on_total, on_check
        self.modules = dict(modules or {})
        self.grading = None

    def pytest_sessionstart(self, session: pytest.Session) -> None:
        for exercise, module in self.modules.items():
            session.config.stash[GRADING].loader.preload(exercise, module)

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
    node_ids: Sequence[str] | None = None,
    modules: Mapping[str, ModuleType] | None = None,
) -> Report:
    """Run the checks of `exercises` against the chosen target and return the report.

    `hidden=False` leaves the hidden checks out (what a student release has). `node_ids` (check ids as in
    `CheckResult.id`, relative to `root`) runs only those checks instead of the exercises' folders.
    `modules` maps an exercise to a student module built in memory (a notebook's namespace), graded instead
    of the target's file. pytest's own terminal output is kept out of the way; a usage error comes back as
    a `CourseError`.
    """
    if node_ids is not None:
        args = [_absolute_node_id(root, node_id) for node_id in node_ids]
    else:
        args = [str(ex.path) for ex in exercises]
    if not args:
        # pytest would fall back to the configured testpaths: the grader's own tests, not the course's checks.
        raise CourseError("nothing to grade: no exercises or checks were chosen")
    args += ["--rootdir", str(root), "-c", str(root / "pyproject.toml"), "-q", "--capture=sys", "-p", "no:cacheprovider"]
    if not hidden:
        # pytest makes a relative glob absolute from the working directory: anchor it at the course instead.
        args += ["--ignore-glob", str(Path(root).absolute() / "*_hidden.py")]
    if solutions:
        args.append("--solutions")
    if submission is not None:
        args += ["--submission", str(submission)]
    if seed is not None:
        args += ["--seed", str(seed)]
    if device is not None:
        args += ["--device", device]
    collector = _Collector(on_total, on_check, modules)
    log = io.StringIO()
    with contextlib.redirect_stdout(log), contextlib.redirect_stderr(log):
        code = pytest.main(args, plugins=[collector])
    if code == pytest.ExitCode.INTERRUPTED:
        raise KeyboardInterrupt
    if collector.grading is None or code in (pytest.ExitCode.USAGE_ERROR, pytest.ExitCode.INTERNAL_ERROR):
        raise CourseError(_last_error(log.getvalue()) or f"pytest stopped with exit code {int(code)}")
    g = collector.grading
    return Report.from_checks(g.target.label, g.seed, g.device.type, g.results)


def _absolute_node_id(root: Path, node_id: str) -> str:
    # pytest reads node ids relative to the working directory; ours are relative to the course root.
    file, sep, rest = node_id.partition("::")
    return str(Path(root) / file) + sep + rest


def _last_error(output: str) -> str:
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    errors = [line.removeprefix("ERROR: ") for line in lines if line.startswith(("ERROR", "E "))]
    return (errors or lines or [""])[-1]
