"""Fairness: correct code written the way others write it gets full marks; a realistic flaw costs its check, with
the hint that is true for it.

Each folder beside this file is one style students copy (d2l: the d2l-zh book; pytorch_tutorials: the official
tutorials and examples; notes: the course notes), holding every exercise's module written in that style. Each
style is graded once with the base seed, then its threshold checks (accuracy, loss) again under more seeds.
`flaws/NN_name.py` lists edits of those modules that make realistic mistakes: each must fail the check it names,
and show the hint it names (or no hint, where none would be true).
"""

from __future__ import annotations

import importlib.util
from pathlib import Path

import pytest

from grader import course, session
from grader.testing import assert_hint, grade_edited

ROOT = Path(__file__).resolve().parents[2]
HERE = Path(__file__).resolve().parent
STYLES = sorted(p.name for p in HERE.iterdir() if p.is_dir() and p.name not in ("flaws", "__pycache__"))
EXERCISES = course.exercises(ROOT)
SEEDS = (1, 2)  # beyond the base seed, for the threshold checks


def _flaws() -> list[tuple]:
    found = []
    for path in sorted((HERE / "flaws").glob("[0-9][0-9]_*.py")):
        spec = importlib.util.spec_from_file_location(f"flaws_{path.stem}", path)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        found += [(path.stem, *flaw) for flaw in module.FLAWS]
    return found


FLAWS = _flaws()


@pytest.fixture(scope="module")
def graded():
    """Each style, every exercise, at the base seed."""
    return {style: session.grade(ROOT, EXERCISES, submission=HERE / style) for style in STYLES}


def _lost(report) -> list[str]:
    return [f"{c.id}: {c.outcome}: {c.message}" for c in report.checks if c.outcome not in ("passed", "skipped")]


@pytest.mark.parametrize("style", STYLES)
def test_every_style_gets_full_marks(graded, style):
    report = graded[style]
    assert {e.name for e in report.exercises} == {ex.name for ex in EXERCISES}
    assert not _lost(report), "\n".join(_lost(report))


@pytest.mark.parametrize("seed", SEEDS)
@pytest.mark.parametrize("style", STYLES)
def test_thresholds_hold_under_other_seeds(graded, style, seed):
    ids = [c.id for c in graded[style].checks if c.thresholds]
    report = session.grade(ROOT, EXERCISES, submission=HERE / style, seed=seed, node_ids=ids)
    assert len(report.checks) == len(ids) and not _lost(report), "\n".join(_lost(report))


@pytest.mark.parametrize("exercise, style, what, edits, check, hint", FLAWS,
                         ids=[f"{flaw[0]}: {flaw[2]}" for flaw in FLAWS])
def test_a_flaw_costs_its_check_with_a_true_hint(tmp_path, exercise, style, what, edits, check, hint):
    source = HERE / style / exercise / f"{course.select(ROOT, [exercise])[0].module}.py"
    report = grade_edited(ROOT, tmp_path, exercise, source, *edits, checks=[check])
    failed = [c for c in report.checks if c.outcome != "passed"]
    assert failed, f"{what!r} passed {check}"
    for result in failed:
        assert_hint(result.message, hint, f"{what!r}: {result.name}")
