"""`grader gradescope`: the autograder zip, unpacked into a simulated /autograder and run for real.

Each submission gets its own root (`AUTOGRADER_ROOT`, as Gradescope gives each its own container): `source/`
the unpacked zip, `run_autograder` copied beside it, the upload in `submission/`. setup.sh is not run (it
installs packages): run_autograder runs with this venv's python3 first on PATH and the unpacked course on
PYTHONPATH, so the grader that grades is the zip's copy (checked). Scores are compared with `grader batch`
on the same code.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from grader import gradescope
from grader.batch import grade_batch, store
from grader.course import CourseError
from grader.limits import TIMINGS
from grader.testing import linux_only

ROOT = Path(__file__).resolve().parents[1]
EXERCISE, MODULE = "01_linear_model", "linear_model.py"
REFERENCE = (ROOT / "solutions" / EXERCISE / MODULE).read_text(encoding="utf-8")
SUBMISSIONS = {  # student -> the files of the upload
    "reference": {f"{EXERCISE}/{MODULE}": REFERENCE},
    "stub": {f"{EXERCISE}/{MODULE}": (ROOT / "exercises" / EXERCISE / MODULE).read_text(encoding="utf-8")},
    "syntax_error": {f"{EXERCISE}/{MODULE}": "def forward(x, w)\n    return x * w\n"},
    "flat": {MODULE: REFERENCE},  # Gradescope's upload of the single file
}
DEFAULT_ROOT = "${AUTOGRADER_ROOT:-/autograder}"

# Gradescope's results.json, as its specification lists it (gradescope-autograders.readthedocs.io/en/latest/specs/).
TOP_KEYS = {"score", "execution_time", "output", "output_format", "test_output_format", "test_name_format",
            "visibility", "stdout_visibility", "extra_data", "tests", "leaderboard"}
TEST_KEYS = {"score", "max_score", "status", "name", "name_format", "number", "output", "output_format", "tags",
             "visibility", "extra_data"}
VISIBILITY = {"hidden", "after_due_date", "after_published", "visible"}
STATUS = {"passed", "failed"}
FORMATS = {"text", "html", "simple_format", "md", "ansi"}

pytestmark = [linux_only, pytest.mark.timeout(300)]  # the plugin's default of 60 s is per check; the fixtures grade 5 times


def is_number(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def check_spec(document: dict) -> None:
    """`document` is a results.json that Gradescope's specification allows (and adds up)."""
    assert isinstance(document, dict) and set(document) <= TOP_KEYS, set(document) - TOP_KEYS
    tests = document.get("tests", [])
    assert isinstance(tests, list)
    assert "score" in document or (tests and all("score" in t for t in tests)), "a score is required"
    for key in ("score", "execution_time"):
        assert key not in document or is_number(document[key]), key
    assert isinstance(document.get("output", ""), str)
    for key in ("output_format", "test_output_format", "test_name_format"):
        assert document.get(key, "text") in FORMATS, key
    for key in ("visibility", "stdout_visibility"):
        assert document.get(key, "visible") in VISIBILITY, key
    assert isinstance(document.get("extra_data", {}), dict)
    for test in tests:
        assert isinstance(test, dict) and set(test) <= TEST_KEYS, test
        for key in ("score", "max_score"):
            assert key not in test or is_number(test[key]), test
        for key in ("name", "number", "output"):
            assert isinstance(test.get(key, ""), str), test
        assert test.get("status", "passed") in STATUS, test
        assert test.get("visibility", "visible") in VISIBILITY, test
        for key in ("output_format", "name_format"):
            assert test.get(key, "text") in FORMATS, test
        assert isinstance(test.get("tags", []), list) and all(isinstance(t, str) for t in test.get("tags", []))
        assert 0 <= test["score"] <= test["max_score"]
    if tests:
        assert document["score"] == sum(t["score"] for t in tests)


def build(out: Path, *options: str) -> Path:
    done = subprocess.run([sys.executable, "-m", "grader", "gradescope", str(out), EXERCISE, *options], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert "Wrote the Gradescope autograder of 1 exercise(s) (01_linear_model)" in " ".join(done.stdout.split())
    return out


def unpack(archive: Path, root: Path, upload: dict[str, str]) -> Path:
    """A simulated Gradescope root for one submission; the zip's file modes are kept, as unzip keeps them."""
    with zipfile.ZipFile(archive) as members:
        for info in members.infolist():
            members.extract(info, root / "source")
            os.chmod(root / "source" / info.filename, (info.external_attr >> 16) & 0o777)
    shutil.copy2(root / "source" / "run_autograder", root / "run_autograder")  # what Gradescope's build does
    for name, source in upload.items():
        (root / "submission" / name).parent.mkdir(parents=True, exist_ok=True)
        (root / "submission" / name).write_text(source, encoding="utf-8")
    return root


def environment(root: Path, python_bin: Path = Path(sys.executable).parent) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if k != "COURSE_DATA_DIR"}
    return env | {"AUTOGRADER_ROOT": str(root), "PATH": f"{python_bin}{os.pathsep}{os.environ['PATH']}",
                  "PYTHONPATH": str(root / "source" / "course")}


def run_autograder(root: Path, **env) -> dict:
    done = subprocess.run([str(root / "run_autograder")], cwd=root, env=environment(root, **env),
                          capture_output=True, text=True, timeout=240)
    assert done.returncode == 0, done.stderr
    return json.loads((root / "results" / "results.json").read_text(encoding="utf-8"))


@pytest.fixture(scope="module")
def autograder(tmp_path_factory) -> Path:
    return build(tmp_path_factory.mktemp("zip") / "autograder.zip")


@pytest.fixture(scope="module")
def graded(autograder, tmp_path_factory) -> dict[str, tuple[Path, dict]]:
    """student -> (its Gradescope root, its results.json)."""
    base = tmp_path_factory.mktemp("gradescope")
    roots = {student: unpack(autograder, base / student, upload) for student, upload in SUBMISSIONS.items()}
    return {student: (root, run_autograder(root)) for student, root in roots.items()}


@pytest.fixture(scope="module")
def batch(tmp_path_factory) -> dict[str, dict]:
    """student -> `grader batch`'s record of the same upload."""
    base = tmp_path_factory.mktemp("batch")
    for student, upload in SUBMISSIONS.items():
        for name, source in upload.items():
            (base / "in" / student / name).parent.mkdir(parents=True, exist_ok=True)
            (base / "in" / student / name).write_text(source, encoding="utf-8")
    summary = grade_batch(ROOT, base / "in", base / "out", exercises=[EXERCISE], jobs=1, histogram=False)
    return {record["student"]: record for record in summary.results}


@pytest.fixture(scope="module")
def hidden_names(batch) -> set[str]:
    names = {c.name for c in store.report_of(batch["reference"]).checks if c.hidden}
    assert names
    return names


def test_zip_holds_the_scripts_and_the_course_without_solutions(autograder, tmp_path):
    with zipfile.ZipFile(autograder) as archive:
        infos = {info.filename: info for info in archive.infolist()}
        scripts = {name: archive.read(name).decode() for name in ("setup.sh", "run_autograder")}
        digests = {hashlib.sha256(archive.read(name)).hexdigest() for name in infos}
    for name in scripts:
        assert (infos[name].external_attr >> 16) & 0o777 == 0o755
        assert subprocess.run(["bash", "-n", "-c", scripts[name]]).returncode == 0
        assert "/autograder" not in scripts[name].replace(DEFAULT_ROOT, ""), f"{name} ignores AUTOGRADER_ROOT"
    assert "--index-url https://download.pytorch.org/whl/cpu" in scripts["setup.sh"]
    assert "apt-get install -y" in scripts["setup.sh"] and "bubblewrap" in scripts["setup.sh"]
    assert 'pip" install -e "$AUTOGRADER/source/course"' in scripts["setup.sh"]
    assert f"--exercise {EXERCISE} --hidden-feedback outcome" in scripts["run_autograder"]
    course = [name.removeprefix("course/") for name in infos if name.startswith("course/")]
    assert set(infos) == {"setup.sh", "run_autograder", *(f"course/{name}" for name in course)}
    for needed in (f"exercises/{EXERCISE}/{MODULE}", f"exercises/{EXERCISE}/test_linear_model.py",
                   f"exercises/{EXERCISE}/test_linear_model_hidden.py", "grader/__init__.py", "grader/gradescope.py",
                   "datasets/SHA256SUMS", "pyproject.toml", "README.md"):
        assert needed in course
    assert not [n for n in course if n.split("/")[0] in ("solutions", "tests", "docs", ".venv", ".git")]
    assert not [n for n in course if {"__pycache__", ".pytest_cache", ".git"} & set(n.split("/"))]
    assert not [n for n in course if n.startswith("exercises/") and not n.startswith(f"exercises/{EXERCISE}/")
                and n != TIMINGS]  # the reference's times: the checks' time limits
    assert hashlib.sha256(REFERENCE.encode()).hexdigest() not in digests  # the reference is nowhere in the zip
    assert build(tmp_path / "again.zip").read_bytes() == autograder.read_bytes()  # the same bytes every time


def test_results_follow_gradescope_spec(graded):
    for student, (_, document) in graded.items():
        check_spec(document)
        assert document["tests"], student
    # The grading ran the zip's copy of the grader, not this checkout's.
    done = subprocess.run([sys.executable, "-c", "import grader; print(grader.__file__)"], capture_output=True,
                          text=True, cwd=graded["reference"][0] / "source" / "course",
                          env=environment(graded["reference"][0]))
    assert done.stdout.strip() == str(graded["reference"][0] / "source" / "course" / "grader" / "__init__.py")


def test_scores_equal_grader_batch(graded, batch):
    for student, (_, document) in graded.items():
        expected = gradescope.results(store.report_of(batch[student]))
        assert document["score"] == expected["score"], student
        assert [(t["name"], t["score"], t["max_score"], t["status"]) for t in document["tests"]] == \
               [(t["name"], t["score"], t["max_score"], t["status"]) for t in expected["tests"]], student
    full = sum(t["max_score"] for t in graded["reference"][1]["tests"])
    scores = {student: document["score"] for student, (_, document) in graded.items()}
    assert scores == {"reference": full, "stub": 0, "syntax_error": 0, "flat": full} and full > 0
    syntax = graded["syntax_error"][1]["tests"]
    assert all(t["status"] == "failed" for t in syntax) and "SyntaxError" in syntax[0]["output"]
    assert "taken from linear_model.py (a module at the top)" in graded["flat"][1]["output"]


def test_hidden_checks_show_an_opaque_id_and_points_only(graded, hidden_names):
    for student, (_, document) in graded.items():
        hidden = [t for t in document["tests"] if t["visibility"] == "after_published"]
        assert len(hidden) == len(hidden_names), student
        for test in hidden:
            assert re.fullmatch(rf"{EXERCISE}: hidden-[0-9a-f]{{12}}", test["name"]), test
            assert test["output"] in ("", "error", "timeout", "crashed") and test["max_score"] > 0, test
        text = json.dumps(document)
        assert not [name for name in hidden_names if name in text], student


def test_hidden_feedback_message_shows_names_and_messages(tmp_path, hidden_names):
    archive = build(tmp_path / "autograder.zip", "--hidden-feedback", "message")
    document = run_autograder(unpack(archive, tmp_path / "root", SUBMISSIONS["stub"]))
    check_spec(document)
    hidden = {t["name"]: t for t in document["tests"] if t["visibility"] == "after_published"}
    assert set(hidden) == {f"{EXERCISE}: {name}" for name in hidden_names}
    assert all("not implemented yet" in t["output"] for t in hidden.values())


def test_a_grading_that_fails_still_writes_results(autograder, tmp_path, monkeypatch):
    # The grader cannot start at all: run_autograder writes the results.json itself.
    root = unpack(autograder, tmp_path / "root", SUBMISSIONS["reference"])
    broken = tmp_path / "bin"
    broken.mkdir()
    (broken / "python3").write_text("#!/bin/sh\nexit 1\n", encoding="utf-8")
    (broken / "python3").chmod(0o755)
    document = run_autograder(root, python_bin=broken)
    check_spec(document)
    assert document["score"] == 0 and "the grader stopped before it wrote the results" in document["output"]
    # The grader starts but cannot grade (here: an exercise the course lacks): score 0 and the reason.
    monkeypatch.chdir(root / "source" / "course")
    results = tmp_path / "results.json"
    assert gradescope.main(["grade", str(root / "submission"), str(results), "--exercise", "99_nope"]) == 0
    document = json.loads(results.read_text(encoding="utf-8"))
    check_spec(document)
    assert document["score"] == 0 and "unknown exercise '99_nope'" in document["output"]


def test_refuses_to_write_the_zip_into_the_course():
    with pytest.raises(CourseError, match="inside the course's datasets/"):
        gradescope.write_autograder(ROOT, ROOT / "datasets" / "autograder.zip", [EXERCISE])
    assert not (ROOT / "datasets" / "autograder.zip").exists()
