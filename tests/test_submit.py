"""`grader submit`: what it refuses and why, the zip and its manifest, and the grading paths that read it."""

from __future__ import annotations

import hashlib
import io
import json
import shutil
import subprocess
import sys
import zipfile
from datetime import datetime
from pathlib import Path

import pytest

import grader
import grader.commands.submit as submit_command
from grader import course, intake, submit
from grader.batch import grade_batch
from grader.cli import run
from grader.testing import linux_only

ROOT = Path(__file__).resolve().parents[1]

# Batches grade in sandboxed processes: the plugin's 60 s default per check is tight on a busy 2-core machine.
pytestmark = pytest.mark.timeout(300)


def grader_cli(*args: str) -> int:
    with pytest.raises(SystemExit) as exit_info:
        run(list(args))
    return exit_info.value.code


def solution(toy: Path) -> str:
    return (toy / "solutions" / "01_toy" / "toy.py").read_text(encoding="utf-8")


def write_module(toy: Path, source: str | bytes, name: str = "toy.py") -> Path:
    path = toy / "exercises" / "01_toy" / name
    path.write_bytes(source.encode() if isinstance(source, str) else source)
    return path


def read_zip(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as archive:
        return {info.filename: archive.read(info) for info in archive.infolist()}


def nothing_written(toy: Path) -> bool:
    return not list(toy.rglob("*.zip")) and not (toy / submit.STUDENT_ID_FILE).exists()


# --- the zip and its manifest ------------------------------------------------------------------------------

def test_hands_in_exactly_the_modules_with_a_manifest(toy, capsys):
    module = write_module(toy, solution(toy))
    # What students hand in by mistake, around the one module: none of it may reach the zip.
    for junk in ("exercises/01_toy/notes.txt", "exercises/01_toy/__pycache__/toy.cpython-311.pyc",
                 "exercises/01_toy/.venv/lib/site.py", ".venv/lib/torch/__init__.py", "toy.py", "exercises/toy.py"):
        (toy / junk).parent.mkdir(parents=True, exist_ok=True)
        (toy / junk).write_text("junk = True\n")
    assert grader_cli("submit", "--id", "alice") == 0
    out, err = capsys.readouterr()
    assert "handed in 01_toy/toy.py for alice: submission-alice.zip" in out and "warning" not in err

    path = toy / "submission-alice.zip"
    files = read_zip(path)
    assert sorted(files) == ["01_toy/toy.py", intake.MANIFEST]
    assert files["01_toy/toy.py"] == module.read_bytes()
    manifest = json.loads(files[intake.MANIFEST])
    assert manifest["student"] == "alice" and manifest["grader_version"] == grader.__version__
    assert manifest["modules"] == {"01_toy/toy.py": hashlib.sha256(module.read_bytes()).hexdigest()}
    assert manifest["public_checks"] == {"01_toy": {"passed": 1, "checks": 1, "points": 2, "max_points": 2}}
    assert manifest["time"].endswith("Z") and datetime.fromisoformat(manifest["time"].replace("Z", "+00:00"))

    # Deterministic: the bytes are a function of the members, and a second hand-in differs in "time" only.
    assert submit.zip_bytes(files) == path.read_bytes()
    assert {info.date_time for info in zipfile.ZipFile(path).infolist()} == {submit.ZIP_TIME}
    assert grader_cli("submit", "--id", "alice", "--out", "again.zip") == 0
    again = read_zip(toy / "again.zip")
    assert again["01_toy/toy.py"] == files["01_toy/toy.py"]
    assert {**json.loads(again[intake.MANIFEST]), "time": ""} == {**manifest, "time": ""}


def test_intake_reads_the_zip_without_a_note(toy, capsys):
    write_module(toy, solution(toy))
    assert grader_cli("submit", "--id", "alice") == 0
    taken = intake.read(toy / "submission-alice.zip", {"01_toy": "toy"})
    assert taken.modules == {"01_toy/toy.py": solution(toy).encode()} and taken.notes == []


# --- refusals: exit 1, one line, nothing written -----------------------------------------------------------

def _misnamed(toy: Path) -> None:
    write_module(toy, solution(toy), "Toy.py")
    (toy / "exercises" / "01_toy" / "toy.py").unlink()


@pytest.mark.parametrize("prepare, message", [
    (lambda toy: write_module(toy, "def double(x):\n    return 2 *\n"),
     "exercises/01_toy/toy.py line 2: SyntaxError: invalid syntax"),
    (lambda toy: write_module(toy, "return 1\n"),
     "exercises/01_toy/toy.py line 1: SyntaxError: 'return' outside function"),
    (lambda toy: write_module(toy, b"def double(x):\n    return '\xc1\xbd' and 2 * x\n"),  # saved as GBK, not UTF-8
     "exercises/01_toy/toy.py line 2: SyntaxError: (unicode error) 'utf-8' codec can't decode"),
    (_misnamed, "exercises/01_toy/Toy.py must be named toy.py exactly (names are case-sensitive when graded)"),
    (lambda toy: write_module(toy, solution(toy), "Toy.py"),
     "exercises/01_toy/Toy.py beside toy.py: only toy.py is graded"),
    (lambda toy: (toy / "exercises" / "01_toy" / "toy.py").unlink(), "exercises/01_toy/toy.py is missing"),
    (lambda toy: None, "exercises/01_toy/toy.py is still the untouched stub (every function raises "
                       "NotImplementedError): implement something first, or pass --allow-stubs"),
    (lambda toy: write_module(toy, (toy / "exercises" / "01_toy" / "toy.py").read_text().replace("# TODO", "# notes")
                              .replace("\n", "\r\n")),  # re-saved by an editor
     "is still the untouched stub"),
    (lambda toy: write_module(toy, "x = 1\n"), "exercises/01_toy/toy.py defines no function or class"),
], ids=["syntax", "compile", "encoding", "case-instead", "case-beside", "missing", "stub", "stub-edited", "empty"])
def test_refuses_what_would_score_zero_in_one_line(toy, capsys, prepare, message):
    prepare(toy)
    assert grader_cli("submit", "--id", "alice") == 1
    err = capsys.readouterr().err.strip()
    assert err.startswith("grader: error: nothing handed in: ") and message in err, err
    assert len(err.splitlines()) == 1
    assert nothing_written(toy)


def test_refusals_answer_before_torch_is_imported(toy):
    code = ("import sys\nfrom grader.cli import run\ntry:\n    run(['submit'])\n"
            "except SystemExit as stop:\n    print(stop.code, 'torch' in sys.modules)\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, cwd=toy)
    assert result.stdout.split() == ["1", "False"], result.stderr


def test_allow_stubs_hands_in_the_stub_with_a_warning(toy, capsys):
    assert grader_cli("submit", "--id", "alice", "--allow-stubs") == 0
    err = capsys.readouterr().err
    assert ("warning: public checks not all passed: 01_toy 0 of 1 (0 / 2 points); handed in anyway "
            "(`grader run 01` shows why)") in err
    manifest = json.loads(read_zip(toy / "submission-alice.zip")[intake.MANIFEST])
    assert manifest["public_checks"]["01_toy"] == {"passed": 0, "checks": 1, "points": 0, "max_points": 2}


def test_failing_public_checks_warn_and_hand_in(toy, capsys):
    write_module(toy, solution(toy).replace("return 2 * x", "return 3 * x"))
    assert grader_cli("submit", "--id", "alice") == 0
    out, err = capsys.readouterr()
    assert "handed in 01_toy/toy.py" in out
    assert len(err.strip().splitlines()) == 2 and "warning: public checks not all passed: 01_toy 0 of 1" in err
    assert (toy / "submission-alice.zip").is_file()


def test_refusal_names_the_exercises_to_hand_in_instead(course_root):
    stubs = [submit.check_module(ex) for ex in course.select(course_root, [])]
    done = submit.check_module(course.Exercise("01_linear_model", course_root / "solutions" / "01_linear_model"))
    with pytest.raises(submit.Refused, match=r"^nothing handed in: 9 modules have nothing implemented yet "
                                             r"\(01_linear_model, .*09_gpu_training\): implement something first"):
        submit.refuse(stubs, allow_stubs=False)
    with pytest.raises(submit.Refused, match=r"8 modules .*: hand in the others with `grader submit 01`, "
                                             r"or pass --allow-stubs to hand them in anyway$"):
        submit.refuse([done, *stubs[1:]], allow_stubs=False)
    submit.refuse(stubs, allow_stubs=True)


def test_every_real_stub_is_a_stub_and_no_solution_is(course_root):
    for ex in course.select(course_root, []):
        solution = course.Exercise(ex.name, course_root / "solutions" / ex.name)
        stub, solved = submit.check_module(ex), submit.check_module(solution)
        assert submit.contract_module(ex) == ex.module
        assert not stub.problem and stub.unimplemented.startswith("is still the untouched stub"), ex.name
        assert not solved.problem and not solved.unimplemented, ex.name


@pytest.mark.parametrize("args, message", [
    (("--id", "a b"), "student id 'a b': use up to 64 letters"),
    (("--id", "../x"), "student id '../x'"),
    (("--id", "alice", "--out", "hand-in.tar"), "--out hand-in.tar: the file must end in .zip"),
    (("99", "--id", "alice"), "unknown exercise '99'"),
])
def test_usage_errors_exit_2_in_one_line(toy, capsys, args, message):
    write_module(toy, solution(toy))
    assert grader_cli("submit", *args) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("grader: error: ") and message in err and len(err.splitlines()) == 1
    assert nothing_written(toy)


# --- the student id ----------------------------------------------------------------------------------------

def test_student_id_is_asked_once_and_remembered(toy, capsys, monkeypatch):
    write_module(toy, solution(toy))
    assert grader_cli("submit") == 2  # not a terminal, no --id, nothing remembered
    assert capsys.readouterr().err.strip() == ("grader: error: no student id: pass --id STUDENT "
                                               "(it is asked only on a terminal)")

    monkeypatch.setattr(submit_command, "_interactive", lambda: True)
    monkeypatch.setattr(sys, "stdin", io.StringIO("not valid\nalice\n"))  # asked again after a bad id
    assert grader_cli("submit") == 0
    out = capsys.readouterr().out
    assert out.count("Your student id") == 2 and "handed in 01_toy/toy.py for alice" in out
    assert (toy / submit.STUDENT_ID_FILE).read_text(encoding="utf-8") == "alice\n"

    monkeypatch.setattr(sys, "stdin", io.StringIO(""))  # asking again would fail
    (toy / "submission-alice.zip").unlink()
    assert grader_cli("submit") == 0
    assert "Your student id" not in capsys.readouterr().out
    assert json.loads(read_zip(toy / "submission-alice.zip")[intake.MANIFEST])["student"] == "alice"
    assert grader_cli("submit", "--id", "bob") == 0  # --id wins for this hand-in, and is not remembered
    assert (toy / "submission-bob.zip").is_file()
    assert (toy / submit.STUDENT_ID_FILE).read_text(encoding="utf-8") == "alice\n"


# --- every grading path reads the zip as it is -------------------------------------------------------------

@linux_only
def test_grader_run_submission_grades_the_zip(toy, capsys):
    write_module(toy, solution(toy))
    assert grader_cli("submit", "--id", "alice") == 0
    capsys.readouterr()
    assert grader_cli("run", "01_toy", "--submission", "submission-alice.zip") == 0
    assert "8 / 8 points (100%)" in capsys.readouterr().out


@linux_only
def test_batch_grades_the_zip_as_the_folder_it_came_from_and_notes_tampering(pytester, capsys):
    """The real 01_linear_model, half done: the zip scores what exercises/ scores, check by check; a zip
    whose module was replaced after hand-in (by the finished solution) is graded as it is, with a note."""
    root = pytester.path
    shutil.copy(ROOT / "pyproject.toml", root)
    shutil.copytree(ROOT / "exercises" / "01_linear_model", root / "exercises" / "01_linear_model")
    reference = (ROOT / "solutions" / "01_linear_model" / "linear_model.py").read_text(encoding="utf-8")
    stub = (ROOT / "exercises" / "01_linear_model" / "linear_model.py").read_text(encoding="utf-8")
    half_done = reference[:reference.index("def sgd")] + stub[stub.index("def sgd"):]
    (root / "exercises" / "01_linear_model" / "linear_model.py").write_text(half_done, encoding="utf-8")
    assert grader_cli("submit", "--id", "carol") == 0
    assert "warning: public checks not all passed: 01_linear_model" in capsys.readouterr().err

    submissions = root / "submissions"
    submissions.mkdir()
    shutil.copy(root / "submission-carol.zip", submissions / "carol.zip")
    shutil.copytree(root / "exercises", submissions / "folder")
    files = read_zip(root / "submission-carol.zip")
    files["01_linear_model/linear_model.py"] = reference.encode()
    (submissions / "tampered.zip").write_bytes(submit.zip_bytes(files))
    summary = grade_batch(root, submissions, root / "grades", exercises=["01_linear_model"], histogram=False)
    assert not summary.failed
    results = {data["student"]: data for data in summary.results}

    def outcomes(student: str) -> list[tuple[str, str, float]]:
        return [(c["id"], c["outcome"], c["points"]) for e in results[student]["exercises"] for c in e["checks"]]

    assert outcomes("carol") == outcomes("folder")
    assert 0 < results["carol"]["total"] < results["carol"]["max_total"]
    assert results["carol"]["notes"] == []
    manifest = json.loads(files[intake.MANIFEST])["public_checks"]["01_linear_model"]
    public = [c for c in results["carol"]["exercises"][0]["checks"] if not c["hidden"]]
    assert manifest == {"passed": sum(c["outcome"] == "passed" for c in public), "checks": len(public),
                        "points": sum(c["points"] for c in public), "max_points": sum(c["max_points"] for c in public)}

    assert results["tampered"]["total"] == results["tampered"]["max_total"]  # graded on what it holds
    assert any(note.startswith("01_linear_model/linear_model.py changed after hand-in")
               for note in results["tampered"]["notes"])
