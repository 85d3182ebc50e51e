"""Shared fixtures of the grader's own tests."""

from __future__ import annotations

import functools
from pathlib import Path

import pytest

from grader.testing import grade_mutant as _grade_mutant

ROOT = Path(__file__).resolve().parents[1]
pytest_plugins = ["pytester"]


@pytest.fixture
def course_root() -> Path:
    return ROOT


@pytest.fixture
def grade_mutant(tmp_path: Path):
    """`grade_mutant("05_cnn", ("old code", "new code"), ...)`: the Report of the edited reference solution."""
    return functools.partial(_grade_mutant, ROOT, tmp_path)
