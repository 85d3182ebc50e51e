"""Gradescope's results.json: from `grader all --gradescope`, from a batch result, and for a failed run."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import grader.commands.batch  # imported before pytester snapshots sys.modules
import grader.commands.list
import grader.commands.run
from grader import gradescope
from grader.cli import run
from grader.results import CheckResult, Report

WRONG_SPIN = """\
def double(x):
    return 2 * x


def spin():
    return 2
"""


def cli(*args: str) -> int:
    with pytest.raises(SystemExit) as exit_info:
        run(list(args))
    return exit_info.value.code


def test_grader_all_writes_gradescope_results(toy, toy_submission):
    submission = toy_submission(WRONG_SPIN)
    assert cli("all", "--submission", str(submission), "--gradescope", "gs/results.json",
               "--hidden-feedback", "message") == 1
    data = json.loads(Path("gs/results.json").read_text())
    tests = {t["name"]: t for t in data["tests"]}
    assert set(tests) == {"01_toy: test_double", "01_toy: test_double_many", "01_toy: test_spin",
                          "01_toy: test_draws[1]", "01_toy: test_draws[2]"}
    assert data["score"] == 7 == sum(t["score"] for t in data["tests"])
    assert sum(t["max_score"] for t in data["tests"]) == 8
    assert tests["01_toy: test_double"] | {"output": ""} == {
        "name": "01_toy: test_double", "score": 2.0, "max_score": 2.0, "status": "passed", "output": "",
        "tags": ["01_toy"], "visibility": "visible"}
    spin = tests["01_toy: test_spin"]
    assert spin["status"] == "failed" and spin["score"] == 0 and spin["visibility"] == "after_published"
    assert "spin(): expected 1, got 2" in spin["output"]
    assert all(t["visibility"] == "after_published" for n, t in tests.items() if n != "01_toy: test_double")
    assert "7 / 8 points" in data["output"]


def _report() -> Report:
    checks = [
        CheckResult("exercises/05_cnn/test_cnn.py::test_a", "05_cnn", "passed", 2.0, 2.0, False),
        CheckResult("exercises/05_cnn/test_cnn_hidden.py::test_b", "05_cnn", "timeout", 0.0, 3.0, True, "too slow"),
        CheckResult("exercises/05_cnn/test_cnn_hidden.py::test_c", "05_cnn", "crashed", 0.0, 1.0, True, "os._exit"),
        CheckResult("exercises/05_cnn/test_cnn.py::test_d", "05_cnn", "error", 0.0, 1.0, False, "SyntaxError"),
        CheckResult("exercises/05_cnn/test_cnn.py::test_gpu", "05_cnn", "skipped", 0.0, 2.0, False, "needs a GPU"),
    ]
    return Report.from_checks("submission alice", 0, "cpu", checks)


def test_every_outcome_but_passed_is_failed_with_its_reason():
    report = _report()
    data = gradescope.results(report, "message")
    assert data["score"] == 2.0
    statuses = [(t["status"], t["output"], t["visibility"]) for t in data["tests"]]
    assert statuses == [
        ("passed", "", "visible"),
        ("failed", "timeout: too slow", "after_published"),
        ("failed", "crashed: os._exit", "after_published"),
        ("failed", "error: SyntaxError", "visible"),
        ("passed", "skipped: needs a GPU", "visible"),
    ]
    assert sum(t["max_score"] for t in data["tests"]) == report.max_total
    json.dumps(data)


def test_from_batch_and_failure(tmp_path):
    report = _report()
    batch_file = tmp_path / "alice.json"
    batch_file.write_text(json.dumps(report.to_dict("message") | {"schema": "grader-batch/2", "student": "alice"}))
    assert gradescope.main(["from-batch", str(batch_file), str(tmp_path / "results.json")]) == 0
    assert json.loads((tmp_path / "results.json").read_text()) == json.loads(json.dumps(gradescope.results(report)))
    assert "too slow" not in (tmp_path / "results.json").read_text()
    assert gradescope.main(["failure", str(tmp_path / "failed.json"), "the grader stopped"]) == 0
    failed = json.loads((tmp_path / "failed.json").read_text())
    assert failed["score"] == 0 and "the grader stopped" in failed["output"] and failed["tests"] == []
    assert gradescope.main(["from-batch", str(tmp_path / "missing.json"), str(tmp_path / "x.json")]) == 2
