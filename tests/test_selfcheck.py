"""`grader check` on a tiny synthetic course: a sound one passes every point, each flaw fails its own point."""

from __future__ import annotations

import ast
import json
import sys
import textwrap
from pathlib import Path

import pytest

from grader import cli, selfcheck
from grader.contract import module_level_names, parse_curriculum
from grader.testing import forget_modules_under

ROOT = Path(__file__).resolve().parents[1]

PYPROJECT = """\
[tool.pytest.ini_options]
addopts = "--import-mode=importlib -p no:cacheprovider -p grader.plugin"
testpaths = ["tests"]
python_files = ["test_*.py"]
"""

CURRICULUM = """\
# Toy course

## The exercises

### 01_toy — module `toy.py`
- `add(a, b)`: the sum.
- `accuracy()`: a number over the bar.
- A bullet in prose names nothing.
"""

STUB = '''\
"""01_toy: a toy exercise."""


def add(a, b):
    """a + b."""
    # TODO: Implement for 01_toy.
    raise NotImplementedError("01_toy: implement add")


def accuracy():
    """A number of at least 0.8."""
    # TODO: Implement for 01_toy.
    raise NotImplementedError("01_toy: implement accuracy")
'''

SOLUTION = '''\
"""01_toy: the reference."""


def add(a, b):
    return a + b  # the reference adds its two arguments together


def accuracy():
    return 0.9
'''

PUBLIC = '''\
import pytest

from grader.checks import expect_equal


@pytest.mark.points(1)
def test_add_small(student):
    expect_equal(student.add(1, 2), 3, "add(1, 2)")
'''

HIDDEN = '''\
"""Hidden checks of 01_toy, only for the instructor."""

import zlib

import pytest

from grader.checks import expect_at_least, expect_equal

PENALTY = {penalty}  # base seed -> how much the accuracy drops under it


@pytest.mark.points(2)
def test_add_many_secretly(student):
    for a in range(3):
        expect_equal(student.add(a, 10), a + 10, f"add({{a}}, 10) in the secret sweep of sums")


def test_accuracy_bar(student, request, seed):
    base = (seed - zlib.crc32(request.node.nodeid.encode())) % 2**32
    expect_at_least(student.accuracy() - PENALTY.get(base, 0.0), 0.8, "toy accuracy")
'''

FLAWS = '''\


def test_free_points(student):
    assert callable(student.add)  # passes on the untouched stub: it cannot fail


def test_flaky(student):
    # Passes the first time it grades solutions/, fails every later time: not deterministic.
    from pathlib import Path

    if "solutions" in student.__file__:
        counter = Path(__file__).parents[2] / "flaky-runs.txt"
        runs = int(counter.read_text()) if counter.exists() else 0
        counter.write_text(str(runs + 1))
        assert runs == 0, f"run number {runs}"
'''


def make_course(root: Path, *, broken: bool = False) -> Path:
    """exercises/01_toy (stub, public and hidden checks), solutions/01_toy, docs/curriculum.md, pyproject.toml.

    `broken` adds one flaw per point: a hidden check that passes on the stub (2), a nondeterministic check (3),
    a threshold missed under seed 3 (4), a name the curriculum promises but nobody defines (5), and a
    README that names a hidden check (6).
    """
    exercise, solution = root / "exercises" / "01_toy", root / "solutions" / "01_toy"
    exercise.mkdir(parents=True)
    solution.mkdir(parents=True)
    (root / "docs").mkdir()
    (root / "pyproject.toml").write_text(PYPROJECT)
    readme = "# 01_toy: adding numbers\n\nImplement `add` and `accuracy`.\n"
    if broken:
        readme += "\nThe instructor also runs test_add_many_secretly.\n"
    (exercise / "README.md").write_text(readme)
    (exercise / "toy.py").write_text(STUB)
    (exercise / "test_toy.py").write_text(PUBLIC)
    hidden = HIDDEN.format(penalty="{3: 0.2}" if broken else "{}")
    (exercise / "test_toy_hidden.py").write_text(hidden + (FLAWS if broken else ""))
    (solution / "toy.py").write_text(SOLUTION)
    (root / "docs" / "curriculum.md").write_text(
        CURRICULUM + ("- `subtract(a, b)`: promised, never written.\n" if broken else "")
    )
    return root


@pytest.fixture
def course(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    root = tmp_path / "course"
    root.mkdir()
    monkeypatch.chdir(root)
    forget_modules_under(tmp_path.parent)
    yield root
    forget_modules_under(tmp_path)



def _points(report: selfcheck.SelfCheck) -> dict[int, selfcheck.Point]:
    return {p.number: p for p in report.points}


def test_a_sound_course_passes_every_point(course: Path):
    report = selfcheck.run(make_course(course))
    points = _points(report)
    assert report.ok, "\n".join(f"{p.number}: {p.details}" for p in report.points if not p.ok)
    assert sorted(points) == [1, 2, 3, 4, 5, 6, 7]
    assert "3 of 3 checks pass" in points[1].details[0]
    assert "all 2 hidden checks fail" in points[2].details[0]
    assert report.seeds == [0, 1, 2, 3, 4]
    [threshold] = report.thresholds
    assert threshold.check.endswith("test_toy_hidden.py::test_accuracy_bar")
    assert threshold.what == "toy accuracy" and threshold.relation == ">="
    assert sorted(threshold.margins) == [0, 1, 2, 3, 4]
    assert threshold.smallest[1] == pytest.approx(0.1)
    assert "smallest margin +0.1" in points[4].details[0]
    assert "2 names of 1 exercises found in 2 modules" in points[5].details[0]
    assert "none found" in points[6].details[0]


def test_each_flaw_fails_its_point(course: Path):
    report = selfcheck.run(make_course(course, broken=True))
    points = _points(report)
    assert not report.ok
    assert points[1].ok, points[1].details  # run 1 on the solutions still passes everything

    assert not points[2].ok
    assert any("test_free_points passes on the untouched stub" in d for d in points[2].details)
    assert not any("test_add_many_secretly" in d for d in points[2].details)

    assert not points[3].ok
    [flaky] = points[3].details
    assert "test_flaky: run 1 passed (1 pt), run 2 failed (0 pt) 'run number 1'" in flaky

    assert not points[4].ok
    [threshold] = report.thresholds
    assert threshold.failed_seeds == [3]
    assert threshold.smallest == (3, pytest.approx(-0.1))
    assert any("under seed 3: failed: toy accuracy is 0.7, expected at least 0.8" in d for d in points[4].details)
    assert any("smallest margin -0.1 under seed 3" in d and "4/5 seeds pass" in d for d in points[4].details)

    assert not points[5].ok
    assert points[5].details == ["exercises/01_toy/toy.py does not define subtract",
                                 "solutions/01_toy/toy.py does not define subtract"]

    assert not points[6].ok
    assert any(d.startswith("exercises/01_toy/README.md: hidden check name 'test_add_many_secretly'")
               for d in points[6].details)


def test_seeds_option_reruns_only_the_threshold_checks(course: Path, monkeypatch: pytest.MonkeyPatch):
    from grader import session

    calls = []
    real = session.grade

    def spy(*args, **kw):
        calls.append((kw.get("seed"), kw.get("node_ids")))
        return real(*args, **kw)

    monkeypatch.setattr(session, "grade", spy)
    report = selfcheck.run(make_course(course), seeds=3)
    assert report.seeds == [0, 1, 2]
    reruns = [c for c in calls if c[1] is not None]
    assert [seed for seed, _ in reruns] == [1, 2]
    assert all(ids == ["exercises/01_toy/test_toy_hidden.py::test_accuracy_bar"] for _, ids in reruns)


def test_cli_check_prints_a_table_and_writes_json(course: Path, capsys, monkeypatch: pytest.MonkeyPatch):
    make_course(course, broken=True)
    monkeypatch.setenv("COLUMNS", "200")
    with pytest.raises(SystemExit) as exit_:
        cli.run(["check", "--seeds", "4", "--json", "check.json"])
    assert exit_.value.code == 1
    out = capsys.readouterr().out
    for number, title in selfcheck.TITLES.items():
        assert title in out
    assert "✔" in out and "✘" in out
    assert "Thresholds on solutions/ under seeds 0..3" in out
    assert "-0.1 (seed 3)" in out
    assert "Self-check failed: points 2, 3, 4, 5, 6" in out
    data = json.loads((course / "check.json").read_text())
    assert data["ok"] is False and data["seeds"] == [0, 1, 2, 3]
    assert [p["ok"] for p in data["points"]] == [True, False, False, False, False, False, True]
    assert data["thresholds"][0]["smallest_margin"] == pytest.approx(-0.1)
    assert data["thresholds"][0]["failed_seeds"] == [3]


def test_cli_check_refuses_a_student_release(course: Path, capsys):
    make_course(course)
    import shutil

    shutil.rmtree(course / "solutions")
    with pytest.raises(SystemExit) as exit_:
        cli.run(["check"])
    assert exit_.value.code == 2
    [line] = capsys.readouterr().err.strip().splitlines()
    assert "no solutions/ folder" in line


def test_curriculum_option(course: Path):
    make_course(course)
    other = course / "other.md"
    other.write_text("### 01_toy — module `toy.py`\n- `add(a, b)`: yes.\n- `multiply(a, b)`: no.\n")
    report = selfcheck.run(course, curriculum=other, seeds=1)
    point = _points(report)[5]
    assert not point.ok
    assert "exercises/01_toy/toy.py does not define multiply" in point.details


# --- the curriculum's contract, parsed and looked up without importing --------------------------------------

def test_parse_the_course_curriculum():
    contracts = {c.exercise: c for c in parse_curriculum((ROOT / "docs" / "curriculum.md").read_text())}
    assert sorted(contracts) == [
        "01_linear_model", "02_backprop", "03_regression", "04_softmax", "05_cnn",
        "06_alexnet", "07_modern_cnn", "08_rnn", "09_gpu_training",
    ]
    assert contracts["05_cnn"].module == "cnn.py"
    assert contracts["05_cnn"].names == [
        "conv2d_output_size", "pool2d_output_size", "conv2d", "max_pool2d", "SimpleCNN", "train",
    ]
    # Prose bullets ("- Checked on CPU ...") and continuation lines name nothing.
    assert contracts["09_gpu_training"].names == ["get_device", "TinyCifarNet", "train_one_epoch", "evaluate", "fit"]
    assert contracts["08_rnn"].names == ["make_counting_data", "rnn_cell", "rnn_forward", "SimpleRNN", "train_counter"]
    assert contracts["01_linear_model"].module == "linear_model.py"


def test_the_course_curriculum_is_the_shared_one():
    shared = Path("/work/shared/CURRICULUM.md")
    if not shared.is_file():
        pytest.skip("no shared curriculum on this machine")
    assert (ROOT / "docs" / "curriculum.md").read_text() == shared.read_text()


def test_module_level_names():
    tree = ast.parse(textwrap.dedent("""
        import numpy as np
        import torch.nn
        from torch import nn as tnn
        A, (B, *C) = 1, (2, 3)
        D: int = 4
        if True:
            def f(): 
                inner = 1
        try:
            class K: 
                method = 1
        except ImportError:
            G = None
        def h():
            local = 2
    """))
    assert module_level_names(tree) == {"np", "torch", "tnn", "A", "B", "C", "D", "f", "K", "G", "h"}


def test_measuring_one_exercise_keeps_the_limits_of_the_others(tmp_path, monkeypatch):
    """The times are relative to one calibration: measuring 02 on a machine twice as slow rescales 01's kept
    times with it, so that 01's limits stay what they were."""
    from types import SimpleNamespace

    from grader import limits
    from grader.results import CheckResult, Report

    (tmp_path / "exercises").mkdir()
    old, new = "exercises/01_a/test_a.py::test_old", "exercises/02_b/test_b.py::test_new"
    before = limits.Timings(0.01, {old: 1.0, "exercises/02_b/test_b.py::test_gone": 3.0})
    before.save(tmp_path)
    monkeypatch.setattr(limits, "workload", lambda: 0.02)
    report = Report.from_checks("solutions", 0, "cpu", [CheckResult(new, "02_b", "passed", 1, 1, False, duration=0.5)])
    selfcheck.record_times(tmp_path, [SimpleNamespace(name="02_b")], [report])
    timings = limits.Timings.load(tmp_path)
    assert timings.calibration == 0.02 and timings.checks == {old: 2.0, new: 0.5}
    assert timings.limit(old, 60, timings.slowness(0.02)) == before.limit(old, 60, before.slowness(0.02)) == 40
