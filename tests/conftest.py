"""Shared fixtures of the grader's own tests."""

from __future__ import annotations

import functools
import textwrap
from pathlib import Path

import pytest

from grader.testing import grade_mutant as _grade_mutant

ROOT = Path(__file__).resolve().parents[1]
pytest_plugins = ["pytester"]

# --- a tiny course (one exercise, `01_toy`) for the plugin's and CLI's tests ---------------------------

PYPROJECT = """\
[tool.pytest.ini_options]
addopts = "--import-mode=importlib -p no:cacheprovider -p grader.plugin"
"""

STUB = '''\
def double(x):
    """Return 2 * x."""
    # TODO: Implement for 01_toy.
    raise NotImplementedError("01_toy: implement double")


def spin():
    """Return 1."""
    # TODO: Implement for 01_toy.
    raise NotImplementedError("01_toy: implement spin")
'''

SOLUTION = '''\
def double(x):
    return 2 * x


def spin():
    return 1
'''

PUBLIC = '''\
import pytest
from grader.checks import expect_equal


@pytest.mark.points(2)
def test_double(student):
    expect_equal(student.double(3), 6, "double(3)", hint="multiply by two")
'''

HIDDEN = '''\
import json, os, random

import numpy as np
import pytest
import torch

from grader.checks import expect_equal


@pytest.mark.points(3)
def test_double_many(student):
    for x in range(5):
        expect_equal(student.double(x), 2 * x, f"double({x})")


@pytest.mark.timeout(1)
def test_spin(student):
    expect_equal(student.spin(), 1, "spin()")


@pytest.mark.parametrize("n", [1, 2])
def test_draws(student, n):
    # Records what the seeded generators give, for the seeding tests.
    draws = [random.random(), float(np.random.rand()), float(torch.rand(()))]
    log = os.environ.get("TOY_DRAWS")
    if log:
        with open(log, "a") as out:
            out.write(json.dumps([os.environ["PYTEST_CURRENT_TEST"].split(" ")[0], draws]) + "\\n")
    expect_equal(student.double(n), 2 * n, f"double({n})")
'''


def _make_toy_course(root: Path) -> Path:
    (root / "exercises" / "01_toy").mkdir(parents=True)
    (root / "solutions" / "01_toy").mkdir(parents=True)
    (root / "pyproject.toml").write_text(PYPROJECT)
    (root / "exercises" / "01_toy" / "README.md").write_text("# 01_toy\n")
    (root / "exercises" / "01_toy" / "toy.py").write_text(STUB)
    (root / "exercises" / "01_toy" / "test_toy.py").write_text(PUBLIC)
    (root / "exercises" / "01_toy" / "test_toy_hidden.py").write_text(HIDDEN)
    (root / "solutions" / "01_toy" / "toy.py").write_text(SOLUTION)
    return root


def _submission(root: Path, source: str, name: str = "sub") -> Path:
    folder = root / name / "01_toy"
    folder.mkdir(parents=True)
    (folder / "toy.py").write_text(textwrap.dedent(source))
    return root / name


@pytest.fixture
def toy(pytester: pytest.Pytester) -> Path:
    """A toy course in pytester's folder (the current directory during the test)."""
    return _make_toy_course(pytester.path)


@pytest.fixture
def toy_submission(toy: Path):
    """`toy_submission(source)`: a submission folder whose 01_toy/toy.py holds `source`."""
    names = iter(f"sub{i}" for i in range(100))
    return lambda source: _submission(toy, source, next(names))


@pytest.fixture
def course_root() -> Path:
    return ROOT


@pytest.fixture(scope="session")
def graded_solutions():
    """The whole course graded on solutions/, once for the whole test session."""
    from grader import course, session

    return session.grade(ROOT, course.exercises(ROOT), solutions=True)


@pytest.fixture(scope="session")
def graded_stubs():
    """The whole course graded on the untouched stubs, once for the whole test session."""
    from grader import course, session

    return session.grade(ROOT, course.exercises(ROOT))


@pytest.fixture
def grade_mutant(tmp_path: Path):
    """`grade_mutant("05_cnn", ("old code", "new code"), ...)`: the Report of the edited reference solution."""
    return functools.partial(_grade_mutant, ROOT, tmp_path)
