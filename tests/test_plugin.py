"""The pytest plugin, driven through pytester and the in-process session on a toy course."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from grader import course, session
from grader.plugin import check_seed


def grade(toy, **kwargs):
    return session.grade(toy, course.exercises(toy), **kwargs)


def outcomes(report):
    return {c.name: c.outcome for e in report.exercises for c in e.checks}


def test_solutions_get_full_points(toy):
    report = grade(toy, solutions=True)
    assert set(outcomes(report).values()) == {"passed"}
    assert report.total == report.max_total == 2 + 3 + 1 + 1 + 1


def test_stub_fails_with_not_implemented_yet(toy, pytester):
    result = pytester.runpytest("exercises/01_toy")
    result.assert_outcomes(failed=5)
    result.stdout.fnmatch_lines(["*not implemented yet: double (01_toy)*"])
    result.stdout.no_fnmatch_line("*Traceback*")
    result.stdout.no_fnmatch_line("*grader/plugin.py*")


def test_points_and_visibility(toy):
    report = grade(toy, solutions=True)
    checks = {c.name: c for e in report.exercises for c in e.checks}
    assert checks["test_double"].max_points == 2 and not checks["test_double"].hidden
    assert checks["test_double_many"].max_points == 3 and checks["test_double_many"].hidden


def test_header_shows_target_and_seed(toy, pytester):
    result = pytester.runpytest("exercises/01_toy", "--solutions", "--seed", "7")
    result.stdout.fnmatch_lines(["grader: target=solutions, seed=7 (replay with --seed 7), device=cpu"])


def test_failure_message_says_expected_and_got(toy_submission, toy):
    sub = toy_submission("def double(x):\n    return x + 2\n\ndef spin():\n    return 1\n")
    checks = {c.name: c for e in grade(toy, submission=sub).exercises for c in e.checks}
    assert checks["test_double"].outcome == "failed"
    assert checks["test_double"].message == "double(3): expected 6, got 5 (hint: multiply by two)"
    assert checks["test_double_many"].points == 0


def test_timeout_is_its_own_outcome(toy_submission, toy):
    sub = toy_submission("def double(x):\n    return 2 * x\n\ndef spin():\n    while True:\n        pass\n")
    checks = {c.name: c for e in grade(toy, submission=sub).exercises for c in e.checks}
    assert checks["test_spin"].outcome == "timeout"
    assert "1.0 s time limit" in checks["test_spin"].message
    assert checks["test_double"].outcome == "passed"


def test_skipped_outcome(toy, pytester):
    (toy / "exercises" / "01_toy" / "test_toy.py").write_text(
        "import pytest\n\n@pytest.mark.cuda\ndef test_on_gpu(student):\n    pass\n"
    )
    report = grade(toy, solutions=True)
    check = next(c for e in report.exercises for c in e.checks if c.name == "test_on_gpu")
    assert check.outcome == "skipped" and "needs a CUDA GPU" in check.message
    assert check.points == 0


@pytest.mark.parametrize(
    "source, expected",
    [
        ("def double(x)\n    return 2 * x\n", "01_toy/toy.py line 1: SyntaxError: expected ':'"),
        ("import os\nraise RuntimeError('boom')\n", "01_toy/toy.py line 2: importing it raised RuntimeError: boom"),
        ("import sys\nsys.exit(3)\n", "01_toy/toy.py line 2: importing it raised SystemExit: 3"),
    ],
    ids=["syntax-error", "raises-at-import", "exits-at-import"],
)
def test_broken_submission_scores_zero_with_file_and_line(toy_submission, toy, source, expected):
    report = grade(toy, submission=toy_submission(source))
    assert report.total == 0
    for check in report.exercises[0].checks:
        assert check.outcome == "error"
        assert check.message == expected


def test_missing_module(toy):
    empty = toy / "empty"
    (empty / "01_toy").mkdir(parents=True)
    report = grade(toy, submission=empty)
    assert {c.outcome for c in report.exercises[0].checks} == {"error"}
    assert report.exercises[0].checks[0].message == f"01_toy/toy.py is missing from submission {empty}"


def test_wrong_signature_names_the_definition(toy_submission, toy):
    sub = toy_submission("def double():\n    return 0\n\ndef spin():\n    return 1\n")
    check = next(c for c in grade(toy, submission=sub).exercises[0].checks if c.name == "test_double")
    assert check.outcome == "failed"
    assert "TypeError: double() takes 0 positional arguments but 1 was given" in check.message
    assert "toy.py line 1" in check.message


def test_error_inside_student_code_points_at_it(toy_submission, toy):
    sub = toy_submission("def double(x):\n    y = [1]\n    return y[5]\n\ndef spin():\n    return 1\n")
    check = next(c for c in grade(toy, submission=sub).exercises[0].checks if c.name == "test_double")
    assert check.message == "IndexError: list index out of range (toy.py line 3, in double)"


def test_only_the_student_module_is_taken_from_a_submission(toy_submission, toy):
    sub = toy_submission("def double(x):\n    return 2 * x\n\ndef spin():\n    return 1\n")
    (sub / "conftest.py").write_text("raise SystemExit('conftest from a submission must never run')\n")
    (sub / "01_toy" / "conftest.py").write_text("raise SystemExit('never')\n")
    (sub / "pytest.ini").write_text("[pytest]\naddopts = --collect-only\n")
    report = grade(toy, submission=sub)
    assert report.total == report.max_total


def test_keyboard_interrupt_from_student_code_fails_only_that_check(toy_submission, toy):
    sub = toy_submission("def double(x):\n    raise KeyboardInterrupt\n\ndef spin():\n    return 1\n")
    report = grade(toy, submission=sub)
    assert outcomes(report)["test_spin"] == "passed"
    assert outcomes(report)["test_double"] == "failed"


def _draws(toy, pytester, monkeypatch, *args):
    log = toy / f"draws-{len(list(toy.glob('draws-*')))}.jsonl"
    monkeypatch.setenv("TOY_DRAWS", str(log))
    pytester.runpytest("--solutions", *args)
    return dict(json.loads(line) for line in log.read_text().splitlines())


def test_seeding_is_reproducible_and_independent_of_order(toy, pytester, monkeypatch):
    hidden = "exercises/01_toy/test_toy_hidden.py"
    everything = _draws(toy, pytester, monkeypatch, hidden)
    again = _draws(toy, pytester, monkeypatch, hidden)
    alone = _draws(toy, pytester, monkeypatch, f"{hidden}::test_draws[2]")
    assert everything == again
    assert alone[f"{hidden}::test_draws[2]"] == everything[f"{hidden}::test_draws[2]"]
    # Each check gets its own stream, and --seed changes all of them.
    assert everything[f"{hidden}::test_draws[1]"] != everything[f"{hidden}::test_draws[2]"]
    other = _draws(toy, pytester, monkeypatch, hidden, "--seed", "5")
    assert other[f"{hidden}::test_draws[1]"] != everything[f"{hidden}::test_draws[1]"]


def test_check_seed_depends_on_id_only():
    assert check_seed(0, "a::b") == check_seed(0, "a::b") != check_seed(0, "a::c")
    assert check_seed(1, "a::b") != check_seed(0, "a::b")


def test_usage_errors(toy, pytester):
    result = pytester.runpytest("exercises/01_toy", "--submission", str(toy / "nope"))
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines(["*--submission*no such directory*"])
    result = pytester.runpytest("exercises/01_toy", "--solutions", "--submission", str(toy))
    assert result.ret == pytest.ExitCode.USAGE_ERROR


def test_global_torch_switches_do_not_leak_into_later_checks(toy_submission, toy):
    sub = toy_submission(
        "import torch\n\ndef double(x):\n    torch.set_grad_enabled(False)\n    torch.set_default_dtype(torch.float64)\n"
        "    return 2 * x\n\ndef spin():\n    assert torch.is_grad_enabled() and torch.get_default_dtype() == torch.float32\n"
        "    return 1\n"
    )
    report = grade(toy, submission=sub)
    assert set(outcomes(report).values()) == {"passed"}


@pytest.mark.parametrize("cuda, mps, expected", [(True, True, "cuda"), (False, True, "mps"), (False, False, "cpu")])
def test_auto_uses_apples_mps_where_there_is_no_cuda(monkeypatch, cuda, mps, expected):
    """Apple silicon: `--device auto` runs the device checks on MPS; `--device mps` elsewhere is one clear line."""
    import torch

    from grader.plugin import resolve_device

    monkeypatch.setattr(torch.cuda, "is_available", lambda: cuda)
    monkeypatch.setattr(torch.backends.mps, "is_available", lambda: mps)
    assert resolve_device("auto") == torch.device(expected)
    if mps:
        assert resolve_device("mps") == torch.device("mps")
    else:
        with pytest.raises(ValueError, match="MPS is not available here"):
            resolve_device("mps")


def test_heavy_first_use_imports_are_known_before_a_run():
    """The first torch.optim optimizer of a process imports torch._dynamo (1 to 2 s): the processes that fork
    runs (grader watch, a batch slot's zygote) import it first, and the plugin before the first check."""
    root = Path(__file__).resolve().parents[1]
    assert "torch._dynamo" in course.preload_modules(course.exercise_texts(root, course.select(root, ["05"])))
    assert course.preload_modules(["def double(x):\n    return 2 * x\n"]) == []
