"""`--hidden-feedback outcome`: a failing hidden check shows only that it failed, in the scoreboard and the JSON."""

from __future__ import annotations

import json
import sys
from pathlib import Path

import pytest

from grader import cli
from grader.results import CheckResult, Report
from grader.testing import forget_modules_under

PYPROJECT = """\
[tool.pytest.ini_options]
addopts = "--import-mode=importlib -p no:cacheprovider"
"""

STUB = '''\
def mean(xs):
    """The mean of a list of numbers."""
    # TODO: Implement for 01_toy.
    raise NotImplementedError("01_toy: implement mean")
'''

PUBLIC = '''\
from grader.checks import expect_close


def test_mean_public(student):
    expect_close(student.mean([1.0, 3.0]), 2.0, "mean([1.0, 3.0]) PUBLIC-MESSAGE")
'''

HIDDEN = '''\
from grader.checks import expect_close


def test_mean_of_one(student):
    expect_close(student.mean([5.0]), 5.0, "mean([5.0])")


def test_mean_of_empty_list(student):
    expect_close(student.mean([]), 0.0, "mean([]) SECRET-MESSAGE", hint="SECRET-HINT: return 0.0 for no numbers")
'''

# Passes the public check and one hidden check; the other hidden check fails with a message of its own.
SUBMISSION = '''\
def mean(xs):
    return sum(xs) / max(len(xs), 1) + (1.0 if not xs else 0.0)
'''


@pytest.fixture
def course(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """exercises/01_toy (stub, public and hidden checks) and a submission, in the working directory."""
    root = tmp_path / "course"
    exercise = root / "exercises" / "01_toy"
    exercise.mkdir(parents=True)
    (root / "pyproject.toml").write_text(PYPROJECT)
    (exercise / "toy.py").write_text(STUB)
    (exercise / "test_toy.py").write_text(PUBLIC)
    (exercise / "test_toy_hidden.py").write_text(HIDDEN)
    (root / "submission" / "01_toy").mkdir(parents=True)
    (root / "submission" / "01_toy" / "toy.py").write_text(SUBMISSION)
    monkeypatch.chdir(root)
    monkeypatch.setenv("COLUMNS", "250")  # the scoreboard on one line per check
    forget_modules_under(tmp_path.parent)
    yield root
    forget_modules_under(tmp_path)



def _grade(capsys, *options: str) -> tuple[int, str, dict]:
    with pytest.raises(SystemExit) as exit_:
        cli.run(["run", "01", "--json", "out.json", *options])
    data = json.loads(Path("out.json").read_text())
    return exit_.value.code, capsys.readouterr().out, {c["id"].rsplit("::")[-1]: c for e in data["exercises"]
                                                       for c in e["checks"]}


def test_message_is_the_default(course: Path, capsys):
    code, out, checks = _grade(capsys, "--submission", "submission")
    assert code == 1
    assert "SECRET-MESSAGE" in out and "SECRET-HINT" in out
    assert "SECRET-MESSAGE" in checks["test_mean_of_empty_list"]["message"]
    assert checks["test_mean_of_empty_list"]["hidden"] is True


def test_outcome_hides_the_message_of_a_failing_hidden_check(course: Path, capsys):
    code, out, checks = _grade(capsys, "--submission", "submission", "--hidden-feedback", "outcome")
    assert code == 1
    assert "SECRET" not in out
    assert "test_mean_of_empty_list [hidden] (1 pt): hidden check failed" in out
    assert checks["test_mean_of_empty_list"]["message"] == "hidden check failed"
    assert checks["test_mean_of_empty_list"]["outcome"] == "failed"
    assert checks["test_mean_of_empty_list"]["points"] == 0
    assert "SECRET" not in Path("out.json").read_text()
    # Passing checks and their points are unchanged.
    assert checks["test_mean_of_one"]["outcome"] == "passed" and checks["test_mean_of_one"]["points"] == 1
    assert checks["test_mean_public"]["outcome"] == "passed"
    assert "Total 2 / 3 points" in out


def test_outcome_keeps_the_messages_of_public_checks(course: Path, capsys):
    # The untouched stubs: every check fails; only the public one says why.
    code, out, checks = _grade(capsys, "--hidden-feedback", "outcome")
    assert code == 1
    assert "not implemented yet: mean (01_toy)" in checks["test_mean_public"]["message"]
    assert checks["test_mean_of_one"]["message"] == checks["test_mean_of_empty_list"]["message"] == \
        "hidden check failed"
    assert out.count("not implemented yet") == 1
    assert out.count("hidden check failed") == 2


def test_shown_message_by_outcome():
    report = Report("submission", 0, "cpu", hidden_messages=False)
    for outcome in ("failed", "error", "timeout"):
        check = CheckResult("x::t", "01_toy", outcome, 0.0, 1.0, hidden=True, message="the secret")
        assert report.shown_message(check) == f"hidden check {outcome}"
    public = CheckResult("x::p", "01_toy", "failed", 0.0, 1.0, hidden=False, message="why")
    assert report.shown_message(public) == "why"
    skipped = CheckResult("x::s", "01_toy", "skipped", 0.0, 1.0, hidden=True, message="needs a CUDA GPU")
    assert report.shown_message(skipped) == "hidden check skipped"
    report.hidden_messages = True
    assert report.shown_message(CheckResult("x::t", "01_toy", "failed", 0, 1, True, "the secret")) == "the secret"
