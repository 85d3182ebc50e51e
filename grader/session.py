"""Every grading path builds its pytest run here: `grader run`/`all`/`watch`, the batch's grading process, the
notebooks' check cells and collection, `grader check` and the grader's own tests.

    report = grade(root, exercises, solutions=True)   # one pytest session in this process, as a Report
    checks = collect(root, exercises)                 # every check's CheckMeta; nothing runs
    args = pytest_args(root, exercises, ...)          # the command line, for a session run elsewhere

pytest's own terminal output is kept out of the way; a usage error comes back as a `CourseError`.
"""

from __future__ import annotations

import contextlib
import io
from pathlib import Path
from types import ModuleType
from typing import Callable, Mapping, Sequence

import pytest

from grader.course import CourseError, Exercise
from grader.metadata import CheckMeta
from grader.plugin import GRADING, Grading
from grader.results import CheckResult, Report


def pytest_args(
    root: Path,
    exercises: Sequence[Exercise],
    *,
    solutions: bool = False,
    submission: Path | None = None,
    seed: int | None = None,
    device: str | None = None,
    hidden: bool = True,
    node_ids: Sequence[str] | None = None,
    check_timeout: float | None = None,
    lang: str | None = None,
    capture: str = "sys",
    verbose: bool = False,
    reference_limits: bool = True,
) -> list[str]:
    """The pytest command line that grades `exercises` (or only the checks `node_ids`, ids as in
    `CheckResult.id`) of the course at `root` against the chosen target.

    `hidden=False` leaves the hidden checks out (what a student release has); `verbose` keeps the student's
    own frames of each failure (`--tb=long`); `reference_limits=False` gives every check the course's default
    time limit instead of one from the reference's times (for measuring them)."""
    root = Path(root).absolute()
    if node_ids is not None:
        args = [_absolute_node_id(root, node_id) for node_id in node_ids]
    else:
        args = [str(ex.path) for ex in exercises]
    if not args:
        # pytest would fall back to the configured testpaths: the grader's own tests, not the course's checks.
        raise CourseError("nothing to grade: no exercises or checks were chosen")
    # The course's own settings, and its plugin even where the configuration does not name it.
    args += ["--rootdir", str(root), "-c", str(root / "pyproject.toml"), "-p", "grader.plugin",
             "-p", "no:cacheprovider", "-q", f"--capture={capture}"]
    if not hidden:
        # pytest makes a relative glob absolute from the working directory: anchor it at the course instead.
        args += ["--ignore-glob", str(root / "*_hidden.py")]
    if solutions:
        args.append("--solutions")
    if submission is not None:
        args += ["--submission", str(submission)]
    if seed is not None:
        args += ["--seed", str(seed)]
    if device is not None:
        args += ["--device", device]
    if check_timeout is not None:  # one limit for every check without its own marker
        args += ["-o", f"grader_timeout={check_timeout:g}", "-o", "grader_reference_times=false"]
    if lang is not None:
        args += ["--lang", lang]
    if verbose:
        args.append("--tb=long")
    if not reference_limits:
        args += ["-o", "grader_reference_times=false"]
    return args


def run(args: list[str], plugins: Sequence[object] = ()) -> tuple[int, Grading | None]:
    """Run one pytest session in this process with pytest's output captured; (exit code, its `Grading`)."""
    keeper = _Keeper()
    log = io.StringIO()
    with contextlib.redirect_stdout(log), contextlib.redirect_stderr(log):
        code = pytest.main(args, plugins=[keeper, *plugins])
    if code == pytest.ExitCode.INTERRUPTED:
        raise KeyboardInterrupt
    if keeper.grading is None or code in (pytest.ExitCode.USAGE_ERROR, pytest.ExitCode.INTERNAL_ERROR):
        raise CourseError(_last_error(log.getvalue()) or f"pytest stopped with exit code {int(code)}")
    return int(code), keeper.grading


def grade(
    root: Path,
    exercises: Sequence[Exercise],
    *,
    on_total: Callable[[int], None] | None = None,
    on_start: Callable[[CheckMeta], None] | None = None,
    on_check: Callable[[CheckResult], None] | None = None,
    modules: Mapping[str, ModuleType] | None = None,
    **options,
) -> Report:
    """Grade `exercises` in this process and return the report (`options` as `pytest_args` takes them).

    `modules` maps an exercise to a student module built in memory (a notebook's namespace), graded instead
    of the target's file. `on_total(n)` is called once the checks are collected, `on_start(meta)` as each check
    starts and `on_check(result)` once it is settled.
    This runs the student's code in this process: untrusted submissions go through `grader.batch` (the sandbox).
    """
    _, grading = run(pytest_args(root, exercises, **options), [_Progress(on_total, on_start, on_check, modules)])
    return grading.report()


def collect(root: Path, exercises: Sequence[Exercise]) -> list[CheckMeta]:
    """Every check of `exercises`, in collection order; a check file that cannot be collected is a CourseError."""
    if not exercises:
        return []
    _, grading = run(pytest_args(root, exercises) + ["--collect-only"])
    broken = [r for r in grading.results if r.outcome == "error"]
    if broken:
        raise CourseError(f"cannot collect the checks: {broken[0].id}: {broken[0].message}")
    return list(grading.collected.values())


class _Keeper:
    """Keeps the session's `Grading` once pytest is done with it."""

    grading: Grading | None = None

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        self.grading = session.config.stash.get(GRADING, None)


class _Progress:
    def __init__(self, on_total, on_start, on_check, modules):
        self.on_total, self.on_start, self.on_check = on_total, on_start, on_check
        self.modules = dict(modules or {})
        self.grading: Grading | None = None

    def pytest_sessionstart(self, session: pytest.Session) -> None:
        self.grading = session.config.stash[GRADING]
        for exercise, module in self.modules.items():
            self.grading.loader.preload(exercise, module)

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        if self.on_total:
            self.on_total(len(session.items))

    def pytest_runtest_logstart(self, nodeid: str) -> None:
        meta = self.grading.collected.get(nodeid)
        if self.on_start and meta is not None:
            self.on_start(meta)

    def pytest_runtest_logfinish(self, nodeid: str) -> None:
        results = self.grading.results
        if self.on_check and results and results[-1].id == nodeid:
            self.on_check(results[-1])


def _absolute_node_id(root: Path, node_id: str) -> str:
    # pytest reads node ids relative to the working directory; ours are relative to the course root.
    file, sep, rest = node_id.partition("::")
    return str(Path(root) / file) + sep + rest


def _last_error(output: str) -> str:
    lines = [line.strip() for line in output.splitlines() if line.strip()]
    errors = [line.removeprefix("ERROR: ") for line in lines if line.startswith(("ERROR", "E "))]
    return (errors or lines or [""])[-1]
