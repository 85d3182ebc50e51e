"""`grader notebooks`: the course as nbgrader notebooks, graded by the same checks as `grader run`."""

from __future__ import annotations

import ast
import csv
import json
import os
import shutil
import subprocess
import sys
import types
from pathlib import Path

import pytest

import grader

# grader.data and grader.release are imported before pytester snapshots sys.modules (see test_cli.py).
from grader import course, data, nbcourse, notebook, release, session
from grader.results import hidden_id

ROOT = Path(__file__).resolve().parents[1]
EXERCISES = course.exercises(ROOT)
BIN = Path(sys.executable).parent


@pytest.fixture(autouse=True)
def fresh_notebook_state():
    notebook._READY.clear()
    notebook._RUNS.clear()
    yield
    notebook._READY.clear()
    notebook._RUNS.clear()


class _PerExercise(dict):
    """name -> value, computed on first use, so that one unfinished exercise fails only its own tests."""

    def __init__(self, make):
        super().__init__()
        self.make = make

    def __missing__(self, name: str):
        self[name] = self.make(course.select(ROOT, [name])[0])
        return self[name]


@pytest.fixture(scope="module")
def collected():
    return _PerExercise(lambda ex: nbcourse.collect_checks(ROOT, [ex])[ex.name])


@pytest.fixture(scope="module")
def built(collected):
    return _PerExercise(lambda ex: nbcourse.build_notebook(ROOT, ex, collected[ex.name]))


def _source(cell: dict) -> str:
    return "".join(cell["source"])


def _grade_cells(nb: dict) -> list[dict]:
    return [c for c in nb["cells"] if c["metadata"].get("nbgrader", {}).get("grade")]


def _setup_cell(nb: dict) -> dict:
    return next(c for c in nb["cells"] if c["metadata"].get("nbgrader", {}).get("grade_id") == "setup")


def _nonblank(text: str) -> list[str]:
    return [line.rstrip() for line in text.splitlines() if line.strip()]


# --- every exercise: the release is the stub, the source is the solution, the cells are the checks ------

@pytest.mark.parametrize("exercise", EXERCISES, ids=lambda ex: ex.name)
def test_released_code_is_the_stub(exercise, built):
    stub = (exercise.path / f"{exercise.module}.py").read_text()
    released = nbcourse.notebook_code(nbcourse.released_notebook(built[exercise.name]))
    assert ast.dump(ast.parse(released)) == ast.dump(ast.parse(stub))
    assert _nonblank(released) == _nonblank(stub)


def _same_definition(a, b) -> bool:
    if isinstance(a, types.FunctionType) and isinstance(b, types.FunctionType):
        return _same_code(a.__code__, b.__code__) and a.__defaults__ == b.__defaults__
    if isinstance(a, type) and isinstance(b, type):
        skip = {"__module__", "__qualname__", "__dict__", "__weakref__", "__firstlineno__", "__static_attributes__"}
        keys = set(vars(a)) - skip
        return keys == set(vars(b)) - skip and all(_same_definition(vars(a)[k], vars(b)[k]) for k in keys)
    if isinstance(a, types.ModuleType):
        return a is b
    try:
        return bool(a == b)
    except Exception:
        return type(a) is type(b)


def _same_code(a: types.CodeType, b: types.CodeType) -> bool:
    consts = len(a.co_consts) == len(b.co_consts) and all(
        _same_code(x, y) if isinstance(x, types.CodeType) else type(x) is type(y) and x == y
        for x, y in zip(a.co_consts, b.co_consts)
    )
    return a.co_code == b.co_code and a.co_names == b.co_names and a.co_varnames == b.co_varnames and consts


@pytest.mark.parametrize("exercise", EXERCISES, ids=lambda ex: ex.name)
def test_source_notebook_defines_the_reference_solution(exercise, built):
    solution = (ROOT / "solutions" / exercise.name / f"{exercise.module}.py").read_text()
    from_notebook, from_file = {"__name__": "__main__"}, {"__name__": "__main__"}
    exec(compile(nbcourse.notebook_code(built[exercise.name]), "<notebook>", "exec"), from_notebook)
    exec(compile(solution, "<solution>", "exec"), from_file)
    names = [n for n in from_file if not n.startswith("__")]
    different = [n for n in names if n not in from_notebook or not _same_definition(from_notebook[n], from_file[n])]
    assert not different, f"the source notebook's {different} are not the reference solution's"


@pytest.mark.parametrize("exercise", EXERCISES, ids=lambda ex: ex.name)
def test_one_graded_cell_per_check_with_the_graders_points(exercise, built, collected):
    checks = collected[exercise.name]
    cells = _grade_cells(built[exercise.name])
    assert [c["metadata"]["nbgrader"]["points"] for c in cells] == [info.points for info in checks]
    for cell, info in zip(cells, checks):
        source = _source(cell)
        released = nbcourse.release_code(source)
        assert f"{notebook.ALIAS}.check(" in source
        if info.hidden:
            assert hidden_id(exercise.name, info.key) in source
            assert "check(" not in released and info.key.split("::")[-1] not in released
            assert info.key.split("::")[-1].split("[")[0] not in json.dumps(cell["metadata"])
        else:
            assert json.dumps(info.key) in released


@pytest.mark.parametrize("exercise", EXERCISES, ids=lambda ex: ex.name)
def test_released_notebook_leaks_no_hidden_check_or_solution(exercise, built, tmp_path):
    path = tmp_path / "source" / exercise.name / f"{exercise.name}.ipynb"
    path.parent.mkdir(parents=True)
    path.write_text(json.dumps(built[exercise.name]))
    assert nbcourse.release_leaks(ROOT, [path]) == []


def test_write_course_and_replace_only_with_force(tmp_path, collected):
    (written,) = nbcourse.write_course(ROOT, tmp_path, ["05"])
    path = tmp_path / "source" / "05_cnn" / "05_cnn.ipynb"
    assert written.path == path and written.points == sum(info.points for info in collected["05_cnn"])
    assert "c.ClearSolutions.code_stub = {\"python\": ''}" in (tmp_path / "nbgrader_config.py").read_text()
    path.write_text("{}")
    with pytest.raises(course.CourseError, match="--force"):
        nbcourse.write_course(ROOT, tmp_path, ["05"])
    nbcourse.write_course(ROOT, tmp_path, ["05"], force=True)
    assert json.loads(path.read_text())["nbformat"] == 4


def test_split_keeps_solution_only_code_and_order():
    stub = 'import math\n\n\ndef f(x):\n    """Doc."""\n    raise NotImplementedError("x")\n\n\nclass C:\n    pass\n'
    solution = 'import math\nimport numpy as np\n\nK = 2\n\n\ndef _helper(x):\n    return K * x\n\n\n' \
               'def f(x):\n    return _helper(x)\n\n\nclass C:\n    pass\n'
    cells = nbcourse.split_module(stub, solution)
    assert [c.names for c in cells] == [["math"], ["f"], ["C"]]
    assert cells[0].solution == ["import numpy as np", "K = 2", "def _helper(x):\n    return K * x"]
    assert cells[1].solution == ["def f(x):\n    return _helper(x)"]
    assert cells[2].solution == []  # the same class: not repeated
    released = "\n\n".join(nbcourse.release_code(c.source) for c in cells)
    assert nbcourse.same_code(released, stub)
    namespace = {}
    exec("\n\n".join(c.source for c in cells), namespace)
    assert namespace["f"](3) == 6


# --- the toy course: the cells grade the notebook's namespace exactly as `grader run` grades the file -----

TOY_PARTLY_RIGHT = """\
def double(x):
    return 2 * x


def spin():
    return 2
"""


@pytest.fixture
def toy_notebook(toy, tmp_path, monkeypatch):
    monkeypatch.setenv(notebook.ROOT_VARIABLE, str(toy))
    for name in ("GRADER_SEED", "GRADER_DEVICE", "GRADER_HIDDEN_FEEDBACK"):
        monkeypatch.delenv(name, raising=False)
    nbcourse.write_course(toy, tmp_path / "nb")
    return json.loads((tmp_path / "nb" / "source" / "01_toy" / "01_toy.ipynb").read_text())


def _run_cells(nb: dict, code: str) -> tuple[dict, dict[str, float], dict[str, str]]:
    """Run the setup cell, `code` and every grade cell (as nbgrader autograde does: source versions), keeping
    an input history `In` as IPython does."""
    namespace = {"__name__": "__main__", "In": [""]}

    def run(source: str) -> None:
        namespace["In"].append(source)
        exec(source, namespace)

    run(_source(_setup_cell(nb)))
    run(code)
    points, messages = {}, {}
    for cell in _grade_cells(nb):
        grade_id = cell["metadata"]["nbgrader"]["grade_id"]
        try:
            run(_source(cell))
            points[grade_id] = cell["metadata"]["nbgrader"]["points"]
        except AssertionError as error:
            points[grade_id], messages[grade_id] = 0.0, str(error)
    return namespace, points, messages


def test_toy_source_notebook_gets_full_points(toy_notebook, toy, capsys):
    _, points, messages = _run_cells(toy_notebook, nbcourse.notebook_code(toy_notebook))
    report = session.grade(toy, course.exercises(toy), solutions=True)
    assert not messages
    assert sum(points.values()) == report.total == report.max_total == 8
    assert "passed: test_toy.py::test_double (2/2 points)" in capsys.readouterr().out


def test_toy_release_notebook_gets_zero_with_the_graders_messages(toy_notebook, toy):
    released = nbcourse.notebook_code(nbcourse.released_notebook(toy_notebook))
    _, points, messages = _run_cells(toy_notebook, released)
    assert sum(points.values()) == 0
    assert messages["check_01_test_double"] == "not implemented yet: double (01_toy)"
    assert all("not implemented yet" in m for m in messages.values())


def test_toy_partly_right_scores_as_grader_run(toy_notebook, toy, toy_submission):
    _, points, messages = _run_cells(toy_notebook, TOY_PARTLY_RIGHT)
    report = session.grade(toy, course.exercises(toy), submission=toy_submission(TOY_PARTLY_RIGHT))
    assert sum(points.values()) == report.total == 7  # all but spin's 1 point
    failed = [c for c in report.exercises[0].checks if c.outcome != "passed"]
    assert [m for m in messages.values()] == [c.message for c in failed]
    assert [k for k, p in points.items() if p == 0] == ["hidden_02"]


def test_source_notebook_of_01_gets_full_points_even_from_checks_that_read_the_source(built, collected):
    # 01's test_no_torch parses `student.__file__`: a notebook's module has the code its cells ran there.
    notebook_ = built["01_linear_model"]
    _, points, messages = _run_cells(notebook_, nbcourse.notebook_code(notebook_))
    assert not messages
    assert sum(points.values()) == sum(info.points for info in collected["01_linear_model"])
    _, _, messages = _run_cells(notebook_, nbcourse.notebook_code(notebook_) + "\nimport torch\n")
    assert [m for m in messages.values() if "uses torch" in m], messages


def test_hidden_feedback_outcome_hides_the_message(toy_notebook, monkeypatch):
    monkeypatch.setenv("GRADER_HIDDEN_FEEDBACK", "outcome")
    _, _, messages = _run_cells(toy_notebook, TOY_PARTLY_RIGHT)
    assert messages == {"hidden_02": "hidden check failed (0/1 points)"}


def test_check_cells_share_one_grading_session_until_other_code_runs(toy_notebook):
    namespace = {"__name__": "__main__", "In": [""]}
    exec(TOY_PARTLY_RIGHT, namespace)
    cells = [_source(c) for c in _grade_cells(toy_notebook)]

    def check_cell(source):  # what a check cell does: it says it is one, then grades
        namespace["In"].append(source)
        notebook.grader_cell(namespace)
        return notebook.run_checks("01_toy", namespace, hidden=False)

    first = check_cell(cells[0])
    assert check_cell(cells[0]) is first
    namespace["In"].append(nbcourse.release_code(cells[-1]))  # a released hidden check: a comment
    assert check_cell(cells[0]) is first
    namespace["In"].append("def double(x):\n    return x + x\n")
    assert check_cell(cells[0]) is not first
    assert "def double(x):\n    return x + x" in notebook.notebook_source(namespace)
    assert cells[0] not in notebook.notebook_source(namespace)


def test_public_cells_run_only_public_checks_from_any_working_directory(toy_notebook, tmp_path, monkeypatch):
    # A kernel runs in nbgrader's course folder, outside the course: `hidden=False` must still leave them out.
    monkeypatch.chdir(tmp_path)
    namespace = {"__name__": "__main__"}
    exec(TOY_PARTLY_RIGHT, namespace)
    assert list(notebook.run_checks("01_toy", namespace, hidden=False)) == ["test_toy.py::test_double"]


def test_unknown_check_asks_to_regenerate(toy_notebook):
    namespace = {"__name__": "__main__"}
    exec(TOY_PARTLY_RIGHT, namespace)
    with pytest.raises(notebook.NotebookSetupError, match="regenerate the notebooks"):
        notebook.check("01_toy", hidden="0123456789ab", namespace=namespace)


# --- a kernel that cannot grade says so, in the setup cell and in every check cell --------------------

def test_setup_without_the_grader_package_says_how_to_install(built, monkeypatch):
    monkeypatch.delattr(grader, "notebook")
    monkeypatch.setitem(sys.modules, "grader.notebook", None)
    with pytest.raises(RuntimeError, match=r"cannot import the course's grader package .*pip install -e"):
        exec(_source(_setup_cell(built["05_cnn"])), {})


def test_setup_with_another_grader_version(built):
    source = _source(_setup_cell(built["05_cnn"])).replace(f"'{grader.__version__}'", "'0.0.1'")
    with pytest.raises(notebook.NotebookSetupError, match="made by grader 0.0.1, but this kernel has grader"):
        exec(source, {})


def test_setup_and_checks_without_a_course(built, tmp_path, monkeypatch):
    monkeypatch.setenv(notebook.ROOT_VARIABLE, str(tmp_path))
    with pytest.raises(notebook.NotebookSetupError, match="no course at GRADER_COURSE_ROOT="):
        exec(_source(_setup_cell(built["05_cnn"])), {})
    with pytest.raises(notebook.NotebookSetupError, match="no course at"):
        exec(_source(_grade_cells(built["05_cnn"])[0]), {})


def test_setup_without_data(built, tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path))
    with pytest.raises(notebook.NotebookSetupError, match="the course data is missing"):
        exec(_source(_setup_cell(built["05_cnn"])), {})


# --- end to end, with nbgrader itself -----------------------------------------------------------------

def _sh(*args: str, cwd: Path) -> str:
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}  # nbgrader runs `alembic`
    done = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, timeout=900, check=False)
    assert done.returncode == 0, f"{' '.join(args)} failed:\n{done.stdout[-3000:]}\n{done.stderr[-3000:]}"
    return done.stdout + done.stderr


@pytest.mark.timeout(900)  # about a minute on an idle machine: two kernels, one of them trains the CNN
def test_nbgrader_generate_autograde_export_05_cnn(tmp_path, collected):
    assert (BIN / "nbgrader").is_file(), "nbgrader is missing: pip install -e '.[test]'"
    out = tmp_path / "course"
    _sh(str(BIN / "grader"), "notebooks", str(out), "05_cnn", cwd=ROOT)
    _sh(str(BIN / "nbgrader"), "generate_assignment", "05_cnn", cwd=out)

    source = out / "source" / "05_cnn" / "05_cnn.ipynb"
    released_file = out / "release" / "05_cnn" / "05_cnn.ipynb"
    stub = (ROOT / "exercises" / "05_cnn" / "cnn.py").read_text()
    released = json.loads(released_file.read_text())
    assert ast.dump(ast.parse(nbcourse.notebook_code(released))) == ast.dump(ast.parse(stub))
    hidden_names = {info.key.split("::")[-1].split("[")[0] for info in collected["05_cnn"] if info.hidden}
    assert not [name for name in hidden_names | {"test_cnn_hidden"} if name in released_file.read_text()]

    for student, notebook_file in (("solution", source), ("untouched", released_file)):
        (out / "submitted" / student / "05_cnn").mkdir(parents=True)
        shutil.copy(notebook_file, out / "submitted" / student / "05_cnn" / "05_cnn.ipynb")
    _sh(str(BIN / "nbgrader"), "autograde", "05_cnn", cwd=out)
    _sh(str(BIN / "nbgrader"), "export", "--to", "grades.csv", cwd=out)

    rows = {row["student_id"]: row for row in csv.DictReader((out / "grades.csv").open())}
    grader_max = sum(info.points for info in collected["05_cnn"])
    assert float(rows["solution"]["max_score"]) == grader_max
    assert float(rows["solution"]["score"]) == grader_max
    assert float(rows["untouched"]["score"]) == 0


def test_a_notebook_submission_graded_by_the_batch_scores_as_under_nbgrader(toy_notebook, toy, tmp_path):
    """The batch route takes the notebook as it is: a scratch cell that raises costs that cell, as in nbgrader."""
    from grader.batch import grade_batch

    _, points, _ = _run_cells(toy_notebook, TOY_PARTLY_RIGHT)
    ours = [c for c in toy_notebook["cells"] if c["cell_type"] != "code" or c["metadata"].get("nbgrader", {}).get(
        "grade") or c["metadata"].get("nbgrader", {}).get("grade_id") == "setup"]
    work = [nbcourse.code_cell(TOY_PARTLY_RIGHT, "work"), nbcourse.code_cell("print(undefined_name)", "scratch")]
    nb = {**toy_notebook, "cells": ours[:3] + work + ours[3:]}
    (tmp_path / "class" / "amy" / "01_toy").mkdir(parents=True)
    (tmp_path / "class" / "amy" / "01_toy" / "01_toy.ipynb").write_text(json.dumps(nb))
    summary = grade_batch(toy, tmp_path / "class", tmp_path / "out", histogram=False)
    data = summary.results[0]
    assert data["total"] == sum(points.values())
    assert any("notebook cell" in note and "NameError" in note for note in data["notes"]), data["notes"]


def test_checks_that_need_a_gpu_have_no_cell(built, collected):
    """A skipped check offers no points in `grader`; so it has no graded cell, and both totals agree."""
    from grader.metadata import CheckMeta

    ex = next(ex for ex in EXERCISES if ex.name == "09_gpu_training")
    every = session.collect(ROOT, [ex])
    assert any(meta.cuda for meta in every)
    cells = _grade_cells(built[ex.name])
    assert sum(c["metadata"]["nbgrader"]["points"] for c in cells) == sum(m.points for m in every if not m.cuda)
    assert isinstance(collected[ex.name][0], CheckMeta)
