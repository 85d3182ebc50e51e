"""Helpers for course authors' tests: grade a reference solution (or any module) with a realistic mistake edited in."""

from __future__ import annotations

import itertools
import sys
from pathlib import Path
from typing import Sequence

import pytest

from grader import course, session
from grader.checks import HINT
from grader.i18n import _
from grader.results import Report

_counter = itertools.count()

# A test that grades submissions (their sandbox, `grader batch`, `grader run --submission`) or needs /proc.
linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"),
                                reason="grading submissions needs Linux, where their sandbox runs")


def grade_mutant(root: Path, workdir: Path, exercise: str, *edits: tuple[str, str], seed: int | None = None,
                 checks: Sequence[str] | None = None) -> Report:
    """Grade solutions/<exercise> with each `(old, new)` edit applied (each `old` must occur) as a submission.

    `checks` (check names, as `test_conv2d_values`, parametrised cases included) runs only those checks:
    the ones that should catch the mistake."""
    ex = course.select(root, [exercise])[0]
    return grade_edited(root, workdir, exercise, root / "solutions" / ex.name / f"{ex.module}.py", *edits,
                        seed=seed, checks=checks)


def grade_edited(root: Path, workdir: Path, exercise: str, source: Path, *edits: tuple[str, str],
                 seed: int | None = None, checks: Sequence[str] | None = None) -> Report:
    """Grade the module `source` (of `exercise`) with each `(old, new)` edit applied, as grade_mutant does."""
    ex = course.select(root, [exercise])[0]
    text = Path(source).read_text(encoding="utf-8")
    for old, new in edits:
        if old not in text:
            raise AssertionError(f"edit target not found in {source}: {old!r}")
        text = text.replace(old, new)
    submission = workdir / f"mutant-{next(_counter)}"
    (submission / ex.name).mkdir(parents=True)
    (submission / ex.name / f"{ex.module}.py").write_text(text, encoding="utf-8")
    node_ids = None
    if checks is not None:
        node_ids = [f"{file.relative_to(root).as_posix()}::{name}" for file in ex.check_files
                    for name in checks if _defines(file, name)]
        if not node_ids:
            raise AssertionError(f"none of the checks {list(checks)} is in {ex.name}")
    return session.grade(root, [ex], submission=submission, seed=seed, node_ids=node_ids)


def _defines(check_file: Path, name: str) -> bool:
    """Whether the file defines check `name` (a parametrised case, `test_x[1-0]`, by its function)."""
    return f"def {name.split('[', 1)[0]}(" in check_file.read_text(encoding="utf-8")


def failed_checks(report: Report) -> set[str]:
    """Names (without parameters) of the checks that did not pass (skipped ones are not failures)."""
    return {c.name.split("[")[0] for e in report.exercises for c in e.checks if c.outcome not in ("passed", "skipped")}


def forget_modules_under(root: Path) -> None:
    """Drop the modules whose files lie under `root` (a temporary course's checks and student modules).

    They are imported under plain names (`test_toy`, `toy`), and pytest would reuse a cached `test_toy` from
    an earlier test's course. Only these are dropped: restoring all of sys.modules (as pytester does) leaves
    lazily imported library modules (rich's) loaded twice.
    """
    for name, module in list(sys.modules.items()):
        file = getattr(module, "__file__", None)
        if file and Path(file).is_relative_to(root):
            del sys.modules[name]


def descendants(pid: int) -> set[int]:
    """Every process below `pid`, read from /proc (Linux)."""
    children: dict[int, list[int]] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        children.setdefault(int(fields[1]), []).append(int(stat.parent.name))
    found, todo = set(), [pid]
    while todo:
        for child in children.get(todo.pop(), []):
            found.add(child)
            todo.append(child)
    return found


def has_hint(message: str) -> bool:
    """Whether a failed check's message ends with a hint (`... (hint: ...)`, in the language in use)."""
    return _(HINT).split("{", 1)[0] in message


def assert_hint(message: str, hint: str | None, what: str) -> None:
    """That a failed check's `message` gives `hint`, or, where `hint` is None, no hint at all: a hint that names
    a cause must be true, so a mistake whose cause the check cannot detect gets none."""
    if hint is None:
        assert not has_hint(message), f"{what}: a hint names a cause that is not there: {message}"
    else:
        assert hint in message, f"{what}: expected the hint {hint!r}: {message}"
