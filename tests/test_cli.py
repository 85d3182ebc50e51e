"""The `grader` command: exit codes, the scoreboard, the JSON results."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import torch

import grader.commands.list  # imported before pytester snapshots sys.modules
import grader.commands.run
from grader.cli import run

JSON_KEYS = {"target", "seed", "device", "total", "max_total", "exercises"}
CHECK_KEYS = {"id", "outcome", "points", "max_points", "hidden", "message", "duration"}


def grader(*args: str) -> int:
    with pytest.raises(SystemExit) as exit_info:
        run(list(args))
    return exit_info.value.code


def test_solutions_exit_0_and_json_schema(toy, capsys):
    assert grader("all", "--solutions", "--json", "out.json") == 0
    out = capsys.readouterr().out
    assert "01_toy" in out and "100%" in out and "seed 0" in out and "device cpu" in out
    data = json.loads(Path("out.json").read_text())
    assert JSON_KEYS <= data.keys()
    assert data["target"] == "solutions" and data["total"] == data["max_total"] == 8
    (exercise,) = data["exercises"]
    assert {"name", "score", "max_score", "checks"} <= exercise.keys()
    assert all(CHECK_KEYS <= check.keys() for check in exercise["checks"])


def test_stubs_exit_1_with_reasons(toy, capsys):
    assert grader("run", "01_toy") == 1
    out = capsys.readouterr().out
    assert "not implemented yet: double (01_toy)" in out
    assert "0 / 8 points" in out


def test_json_is_the_same_run_after_run(toy):
    def outcomes(path):
        data = json.loads(Path(path).read_text())
        return [(c["id"], c["outcome"], c["points"], c["message"]) for e in data["exercises"] for c in e["checks"]]

    grader("all", "--json", "a.json", "--seed", "3")
    grader("all", "--json", "b.json", "--seed", "3")
    assert outcomes("a.json") == outcomes("b.json")


def test_exports_hide_hidden_checks_unless_asked(toy, capsys):
    assert grader("all", "--json", "h.json") == 1
    data = json.loads(Path("h.json").read_text())
    assert data["hidden_feedback"] == "outcome"
    checks = [c for e in data["exercises"] for c in e["checks"]]
    hidden = [c for c in checks if c["hidden"]]
    assert hidden and all(c["message"] == "" and "::hidden-" in c["id"] and "test_" not in c["id"] for c in hidden)
    assert all("not implemented yet" in c["message"] for c in checks if not c["hidden"])
    assert "implement spin" not in Path("h.json").read_text()
    assert "test_spin" in capsys.readouterr().out  # the terminal is the instructor's own: it shows everything
    assert grader("all", "--json", "m.json", "--hidden-feedback", "message") == 1
    assert "not implemented yet: spin" in Path("m.json").read_text()


@pytest.mark.parametrize(
    "args, message",
    [
        (("run", "99_nope"), "unknown exercise '99_nope'"),
        (("run",), "Missing argument 'EXERCISES...'"),
        (("all", "--device", "tpu"), "'tpu' is not one of"),
        (("all", "--solutions", "--submission", "."), "--solutions and --submission exclude each other"),
        (("frobnicate",), "No such command 'frobnicate'"),
    ],
)
def test_usage_errors_exit_2_in_one_line(toy, capsys, args, message):
    assert grader(*args) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("grader: error: ") and message in err
    assert len(err.splitlines()) == 1


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has a GPU")
def test_cuda_without_gpu_is_a_usage_error(toy, capsys):
    assert grader("all", "--device", "cuda") == 2
    assert capsys.readouterr().err.strip() == (
        "grader: error: --device cuda: no CUDA GPU is visible to torch (torch.cuda.is_available() is False)"
    )


def test_outside_a_course(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert grader("all") == 2
    assert "no course here" in capsys.readouterr().err


def test_console_script_end_to_end(toy):
    script = Path(sys.executable).with_name("grader")
    result = subprocess.run([str(script), "all", "--solutions"], capture_output=True, text=True, env=os.environ)
    assert result.returncode == 0, result.stderr
    assert "Traceback" not in result.stderr
    assert "8 / 8 points (100%)" in result.stdout
