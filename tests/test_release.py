"""`grader release OUT`: the student repository holds no solution and no hidden check, and works on its own."""

from __future__ import annotations

import ast
import json
import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from grader import cli, course, release
from grader.course import HIDDEN_SUMMARY, CourseError

ROOT = Path(__file__).resolve().parents[1]


def _ready(ex: course.Exercise) -> bool:
    """Exercises still being written (no student module yet) cannot be released; the others can."""
    try:
        return bool(ex.module)
    except CourseError:
        return False


NAMES = [ex.name for ex in course.exercises(ROOT) if _ready(ex)]
CHOSEN = course.select(ROOT, NAMES)


def _tree(folder: Path) -> dict[str, bytes]:
    return {p.relative_to(folder).as_posix(): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


@pytest.fixture(scope="module")
def released(tmp_path_factory) -> release.Release:
    return release.write_release(ROOT, tmp_path_factory.mktemp("release") / "course", NAMES)


@pytest.fixture(scope="module")
def out(released) -> Path:
    return released.out


def test_the_release_has_the_student_parts(out: Path):
    assert "05_cnn" in NAMES
    for rel in ("README.md", "pyproject.toml", "grader/__init__.py", "grader/plugin.py", "grader/checks.py",
                "datasets/SHA256SUMS", "datasets/make_datasets.py", "exercises/05_cnn/README.md",
                "exercises/05_cnn/cnn.py", "exercises/05_cnn/test_cnn.py"):
        assert (out / rel).is_file(), f"{rel} is missing from the release"
    tox = (out / "tox.ini").read_text()
    assert "[testenv:cpu]" in tox and "[testenv:cuda]" in tox and "--solutions" not in tox
    for ex in CHOSEN:
        assert (out / "exercises" / ex.name / f"{ex.module}.py").read_bytes() == \
            (ex.path / f"{ex.module}.py").read_bytes(), f"{ex.name}: the stub must ship unchanged"
        for check in ex.check_files:
            assert (out / "exercises" / ex.name / check.name).exists() != course.is_hidden(check)
    listed = {f.split("  ", 1)[1] for f in (out / "datasets" / "SHA256SUMS").read_text().splitlines() if f.strip()}
    assert all((out / "datasets" / name).is_file() for name in listed)


def test_the_release_has_no_instructor_parts(out: Path):
    top = {p.name for p in out.iterdir()}
    assert not top & {"solutions", "tests", "docs", ".ci", "benchmarks", ".venv", ".git"}, top
    files = [p.relative_to(out).as_posix() for p in out.rglob("*")]
    assert not [f for f in files if f.endswith("_hidden.py") or "hidden" in Path(f).name and f != HIDDEN_SUMMARY]
    assert not [f for f in files if "__pycache__" in f or f.endswith((".pyc", ".egg-info")) or ".egg-info/" in f]


def test_no_hidden_check_or_solution_content_anywhere(released: release.Release, out: Path):
    assert released.leaks == []
    # Independently of release.scan: no hidden check function's name, and no solution file, in any released file.
    names, solutions = set(), set()
    for ex in CHOSEN:
        for hidden in ex.path.glob("*_hidden.py"):
            names |= {n.name for n in ast.walk(ast.parse(hidden.read_text())) if isinstance(n, ast.FunctionDef)
                      and n.name.startswith("test_")}
            names.add(hidden.stem)
        solutions |= {p.read_bytes() for p in (ROOT / "solutions" / ex.name).glob("*.py")}
    assert names, "the course has hidden checks to look for"
    pattern = re.compile(rb"(?<![A-Za-z0-9_])(" + b"|".join(re.escape(n.encode()) for n in names) + rb")(?![A-Za-z0-9_])")
    for rel, data in _tree(out).items():
        assert not pattern.search(data), f"{rel} names a hidden check: {pattern.search(data).group().decode()}"
        assert data not in solutions, f"{rel} is a solution"


def test_a_release_of_some_exercises_holds_nothing_hidden_either(tmp_path: Path):
    """The grader's catalog ships every public check's messages; a hidden check of 09 that shares one with a
    public check of 01 leaks nothing when only 09 is released."""
    assert release.write_release(ROOT, tmp_path / "course", ["09"], allow_modified_stubs=True).leaks == []


def test_the_scan_finds_what_leaks(released: release.Release, tmp_path: Path):
    fake = tmp_path / "fake"
    fake.mkdir()
    secret = sorted(released.secrets.strings)[0]
    line = sorted(released.secrets.lines)[0]
    hidden_name = sorted(n for n in released.secrets.names if n.startswith("test_") and not n.endswith("hidden"))[0]
    (fake / "notes.md").write_text(f"A message: {secret}\n")
    (fake / "helper.py").write_text(f"def f():\n    {line}\n")
    (fake / "README.md").write_text(f"See {hidden_name}.\n")
    (fake / "exercises" / "05_cnn").mkdir(parents=True)
    (fake / "exercises" / "05_cnn" / "test_cnn_hidden.py").write_text("")
    solution = ROOT / "solutions" / "05_cnn" / "cnn.py"
    (fake / "copy.py").write_bytes(solution.read_bytes())
    leaks = {(leak.path, leak.kind) for leak in release.scan(fake, released.secrets)}
    assert ("notes.md", "hidden check text") in leaks
    assert ("helper.py", "solution code") in leaks
    assert ("README.md", "hidden check name") in leaks
    assert ("exercises/05_cnn/test_cnn_hidden.py", "hidden file") in leaks
    assert ("copy.py", "copy of") in leaks
    # Whole words only: a public check whose name starts like a hidden one is no leak.
    (tmp_path / "clean").mkdir()
    (tmp_path / "clean" / "t.py").write_text(f"def {hidden_name}_public(): pass\n")
    assert release.scan(tmp_path / "clean", released.secrets) == []


def test_pyproject_points_pytest_at_the_exercises(out: Path):
    shipped = tomllib.loads((out / "pyproject.toml").read_text())
    source = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert shipped["tool"]["pytest"]["ini_options"]["testpaths"] == ["exercises"]
    del shipped["tool"]["pytest"]["ini_options"]["testpaths"]
    source["tool"]["pytest"]["ini_options"].pop("testpaths", None)
    assert shipped == source, "only testpaths may differ"


@pytest.mark.parametrize("text, expected", [
    ('[tool.pytest.ini_options]\ntestpaths = ["tests"]\naddopts = "-q"\n',
     '[tool.pytest.ini_options]\ntestpaths = ["exercises"]\naddopts = "-q"\n'),
    ('[tool.pytest.ini_options]\naddopts = "-q"\n\n[tool.other]\ntestpaths = 1\n',
     '[tool.pytest.ini_options]\ntestpaths = ["exercises"]\naddopts = "-q"\n\n[tool.other]\ntestpaths = 1\n'),
    ('[tool.pytest.ini_options]\ntestpaths = [\n    "tests",\n    "more",\n]\nx = 1\n',
     '[tool.pytest.ini_options]\ntestpaths = ["exercises"]\nx = 1\n'),
    ('[project]\nname = "x"\n', '[project]\nname = "x"\n\n[tool.pytest.ini_options]\ntestpaths = ["exercises"]\n'),
])
def test_release_pyproject(text, expected):
    assert release.release_pyproject(text) == expected
    assert tomllib.loads(release.release_pyproject(text))["tool"]["pytest"]["ini_options"]["testpaths"] == ["exercises"]


def test_the_student_readme(out: Path):
    readme = (out / "README.md").read_text()
    for command in ("pip install -e .", "pytest exercises/05_cnn", "grader run 05_cnn", "grader all"):
        assert command in readme
    for ex in CHOSEN:
        assert f"exercises/{ex.name}/{ex.module}.py" in readme


def _differ(one: dict[str, bytes], two: dict[str, bytes]) -> list[str]:
    return sorted(k for k in one.keys() | two.keys() if one.get(k) != two.get(k))


def test_two_releases_are_identical(tmp_path: Path):
    # Made back to back (others may be editing the course while these tests run).
    first = _tree(release.write_release(ROOT, tmp_path / "first", NAMES, allow_modified_stubs=True).out)
    again = release.write_release(ROOT, tmp_path / "again", NAMES, allow_modified_stubs=True).out
    assert not _differ(_tree(again), first), f"files that differ: {_differ(_tree(again), first)}"
    # Over an earlier release, with --force: the same tree again, stray files gone, a .git folder kept.
    (again / "stray.txt").write_text("old")
    (again / "exercises" / "05_cnn" / "cnn.py").write_text("# a student's work in the old release\n")
    (again / ".git").mkdir()
    (again / ".git" / "HEAD").write_text("ref: refs/heads/main\n")
    release.write_release(ROOT, again, NAMES, force=True, allow_modified_stubs=True)
    tree = _tree(again)
    assert tree.pop(".git/HEAD") == b"ref: refs/heads/main\n"
    assert not _differ(tree, first), f"files that differ: {_differ(tree, first)}"


def test_cli_refuses_a_non_empty_folder_without_force(tmp_path: Path, capsys, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.chdir(ROOT)
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("mine")
    with pytest.raises(SystemExit) as exit_:
        cli.run(["release", str(out), *NAMES])
    assert exit_.value.code == 2
    [line] = capsys.readouterr().err.strip().splitlines()
    assert line.startswith("grader: error:") and "--force" in line
    assert [p.name for p in out.iterdir()] == ["keep.txt"]
    with pytest.raises(SystemExit) as exit_:
        cli.run(["release", str(out), *NAMES, "--force", "--allow-modified-stubs"])
    assert exit_.value.code == 0
    assert "none found" in capsys.readouterr().out
    assert not (out / "keep.txt").exists() and (out / "pyproject.toml").is_file()


def test_a_filled_in_stub_refuses_the_release(toy, tmp_path: Path, capsys, monkeypatch: pytest.MonkeyPatch):
    stub = toy / "exercises" / "01_toy" / "toy.py"
    git = ["git", "-c", "user.name=t", "-c", "user.email=t@t", "-C", str(toy)]
    subprocess.run([*git[:-2], "init", "-q", str(toy)], check=True)
    subprocess.run([*git, "add", "-A"], check=True)
    subprocess.run([*git, "commit", "-qm", "course"], check=True)
    stub.write_text(stub.read_text() + "\n# my own notes\n")  # edited, still a stub

    def refused(*options: str) -> str:
        with pytest.raises(SystemExit) as exit_:
            cli.run(["release", str(tmp_path / f"out{len(options)}"), *options])
        assert exit_.value.code == 1
        [line] = capsys.readouterr().err.strip().splitlines()
        assert not (tmp_path / f"out{len(options)}").exists()
        return line

    assert "exercises/01_toy/toy.py (differs from its committed version)" in refused()
    (toy / ".git").rename(toy / "no-git")  # no git: the stub is judged by the hidden checks alone
    stub.write_text((toy / "solutions" / "01_toy" / "toy.py").read_text())
    assert "exercises/01_toy/toy.py (passes a hidden check)" in refused("--force")
    with pytest.raises(SystemExit) as exit_:
        cli.run(["release", str(tmp_path / "allowed"), "--allow-modified-stubs"])
    assert exit_.value.code == 1  # written, but the scan finds the solution's code in it
    assert (tmp_path / "allowed" / "exercises" / "01_toy" / "toy.py").is_file()


@pytest.mark.parametrize("where", [".", "..", "exercises/05_cnn/out", "solutions/x", "grader"])
def test_never_releases_over_the_course(where: str, monkeypatch: pytest.MonkeyPatch):
    def refuse(out):  # should the guard ever let one through, nothing is deleted
        raise AssertionError(f"about to empty {out}")

    monkeypatch.setattr(release, "_clear", refuse)
    with pytest.raises(CourseError):
        release.write_release(ROOT, ROOT / where, ["05"], force=True)


def _run(args: list[str], cwd: Path) -> subprocess.CompletedProcess:
    # The release's own grader package, not this checkout's editable install: as on a fresh machine.
    env = {k: v for k, v in os.environ.items() if k not in ("COURSE_DATA_DIR", "PYTEST_ADDOPTS", "PYTHONPATH")}
    env.update(PYTHONPATH=str(cwd), COLUMNS="200")
    return subprocess.run([sys.executable, *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=600)


@pytest.mark.timeout(600)
def test_pytest_in_the_release_runs_the_public_checks(out: Path):
    where = _run(["-c", "import grader, grader.data; print(grader.__file__); print(grader.data.data_dir())"], out)
    assert where.stdout.splitlines() == [str(out / "grader" / "__init__.py"), str(out / "datasets")], where.stderr
    done = _run(["-m", "pytest", "exercises/05_cnn", "-rA"], out)
    output = done.stdout + done.stderr
    assert done.returncode == 1, output
    assert "not implemented yet" in output
    public = [n.name for n in ast.walk(ast.parse((out / "exercises/05_cnn/test_cnn.py").read_text()))
              if isinstance(n, ast.FunctionDef) and n.name.startswith("test_")]
    assert f"{len(public)} failed" in output, output[-2000:]
    assert "hidden" not in output.lower()


@pytest.mark.timeout(600)
def test_grader_all_in_the_release_grades_the_public_checks(out: Path, tmp_path: Path):
    done = _run(["-m", "grader", "all", "--json", str(tmp_path / "r.json")], out)
    assert done.returncode == 1, done.stdout + done.stderr
    assert "Total 0 / " in done.stdout
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["total"] == 0 and report["max_total"] > 0
    checks = [c for e in report["exercises"] for c in e["checks"]]
    assert {e["name"] for e in report["exercises"]} == set(NAMES)
    assert checks and not [c for c in checks if c["hidden"] or "_hidden" in c["id"]]
