"""The course itself: every check passes on solutions/, every hidden check fails on the untouched stubs."""

from __future__ import annotations

from pathlib import Path

import pytest

from grader import contract, course

ROOT = Path(__file__).resolve().parents[1]
EXERCISES = course.exercises(ROOT)


@pytest.fixture
def solutions(graded_solutions):
    return graded_solutions


@pytest.fixture
def stubs(graded_stubs):
    return graded_stubs


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


def test_the_contract_holds():
    found = contract.check(ROOT, ROOT / "docs" / "curriculum.md", EXERCISES)
    assert not found.problems, "\n".join(found.problems)
