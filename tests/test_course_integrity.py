"""The course itself: every check passes on solutions/, every hidden check fails on the untouched stubs."""

from __future__ import annotations

from pathlib import Path

import pytest

from grader import course, session

ROOT = Path(__file__).resolve().parents[1]
EXERCISES = course.exercises(ROOT)


@pytest.fixture(scope="module")
def solutions():
    return session.grade(ROOT, EXERCISES, solutions=True)


@pytest.fixture(scope="module")
def stubs():
    return session.grade(ROOT, EXERCISES)


def _checks(report, exercise):
    return next(e.checks for e in report.exercises if e.name == exercise)


@pytest.mark.parametrize("exercise", [ex.name for ex in EXERCISES])
def test_every_check_passes_on_the_solution(solutions, exercise):
    bad = [f"{c.name}: {c.outcome} ({c.message})" for c in _checks(solutions, exercise)
           if c.outcome not in ("passed", "skipped")]
    assert not bad, "\n".join(bad)


@pytest.mark.parametrize("exercise", [ex.name for ex in EXERCISES])
def test_every_hidden_check_fails_on_the_stub(stubs, exercise):
    checks = _checks(stubs, exercise)
    assert any(c.hidden for c in checks), f"{exercise} has no hidden checks"
    passing = [c.name for c in checks if c.hidden and c.outcome == "passed"]
    assert not passing, f"hidden checks that pass on the untouched stub (they cannot fail): {passing}"


@pytest.mark.parametrize("exercise", EXERCISES, ids=lambda ex: ex.name)
def test_exercise_layout(exercise):
    assert (exercise.path / "README.md").is_file()
    assert (ROOT / "solutions" / exercise.name / f"{exercise.module}.py").is_file()
    assert [f for f in exercise.check_files if not course.is_hidden(f)], f"{exercise.name} has no public checks"
    stub = (exercise.path / f"{exercise.module}.py").read_text()
    assert f'raise NotImplementedError("{exercise.name}: implement' in stub
    assert f"# TODO: Implement for {exercise.name}." in stub
