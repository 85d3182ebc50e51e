"""Hidden stays hidden in every export: `--json` and `--gradescope` show a hidden check's points and outcome under an
opaque id, unless the instructor asks for its name and message (`--hidden-feedback message`)."""

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
addopts = "--import-mode=importlib -p no:cacheprovider -p grader.plugin"
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
        cli.run(["run", "01", "--json", "out.json", "--gradescope", "gs.json", *options])
    data = json.loads(Path("out.json").read_text())
    return exit_.value.code, capsys.readouterr().out, {c["id"].rsplit("::")[-1]: c for e in data["exercises"]
                                                       for c in e["checks"]}


def test_exports_hide_hidden_checks_by_default(course: Path, capsys):
    code, out, checks = _grade(capsys, "--submission", "submission")
    assert code == 1
    assert "SECRET" not in Path("out.json").read_text() and "SECRET" not in Path("gs.json").read_text()
    assert "test_mean_of" not in Path("out.json").read_text() + Path("gs.json").read_text()
    hidden = [c for c in checks.values() if c["hidden"]]
    assert sorted((c["outcome"], c["points"], c["message"]) for c in hidden) == [("failed", 0, ""), ("passed", 1, "")]
    assert all(c["id"].startswith("01_toy::hidden-") for c in hidden)
    # Public checks, points and totals are unchanged; the terminal (the instructor's) shows everything.
    assert checks["test_mean_public"]["outcome"] == "passed"
    assert json.loads(Path("out.json").read_text())["hidden_feedback"] == "outcome"
    assert "SECRET-MESSAGE" in out and "Total 2 / 3 points" in out
    tests = json.loads(Path("gs.json").read_text())["tests"]
    assert sum(t["score"] for t in tests) == 2 and {t["visibility"] for t in tests if "hidden" in t["tags"]} == {
        "after_published"}


def test_message_shows_hidden_checks_when_asked(course: Path, capsys):
    code, out, checks = _grade(capsys, "--submission", "submission", "--hidden-feedback", "message")
    assert code == 1
    assert "SECRET-MESSAGE" in checks["test_mean_of_empty_list"]["message"]
    assert checks["test_mean_of_empty_list"]["hidden"] is True
    gradescope = {t["name"]: t for t in json.loads(Path("gs.json").read_text())["tests"]}
    assert "SECRET-HINT" in gradescope["01_toy: test_mean_of_empty_list"]["output"]


def test_opaque_ids_are_stable_and_distinct():
    report = Report.from_checks("submission", 0, "cpu", [
        CheckResult("exercises/01_toy/test_toy_hidden.py::test_a", "01_toy", "failed", 0.0, 1.0, True, "the secret"),
        CheckResult("exercises/01_toy/test_toy_hidden.py::test_b", "01_toy", "timeout", 0.0, 1.0, True, "slow"),
        CheckResult("exercises/01_toy/test_toy.py::test_p", "01_toy", "failed", 0.0, 1.0, False, "why"),
    ])
    shown = report.to_dict("outcome")["exercises"][0]["checks"]
    assert [c["message"] for c in shown] == ["", "", "why"]
    assert [c["outcome"] for c in shown] == ["failed", "timeout", "failed"]
    assert len({c["id"] for c in shown}) == 3 and shown == report.to_dict("outcome")["exercises"][0]["checks"]
    assert "test_a" not in json.dumps(shown) and "the secret" not in json.dumps(shown)
    assert report.to_dict("message")["exercises"][0]["checks"][0]["message"] == "the secret"
