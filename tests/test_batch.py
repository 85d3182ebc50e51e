"""`grader batch`: a class of broken and hostile submissions (tests/hostile/), graded in isolated processes.

One batch grades them all once (module fixture, 05_cnn only, short limits); the tests read its output. A
second batch is interrupted (SIGINT to the process group, then SIGKILL to the parent) and resumed, and
must end up equal to the uninterrupted one.
"""

from __future__ import annotations

import csv
import io
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from grader import session
from grader import intake
from grader.batch import Limits, grade_batch, sandbox, store
from grader.commands.batch import batch
from grader.course import CourseError, select
from grader.results import Report
from grader.testing import descendants, linux_only

ROOT = Path(__file__).resolve().parents[1]
HOSTILE = Path(__file__).resolve().parent / "hostile"
TRAP_MARKER = Path("/tmp/grader-hostile-trap-ran")
LIMITS = Limits(check_timeout=3.0, submission_timeout=120.0, memory_mb=512, output_kb=256)
CLI_LIMITS = ["--check-timeout", "3", "--submission-timeout", "120", "--memory-limit", "512", "--output-limit", "256"]
POOL_CHECKS = {"test_pool2d_output_size_default_stride", "test_pool2d_output_size_matches_pytorch"}  # 3 points
SIZE_CHECKS = POOL_CHECKS | {"test_conv2d_output_size_notes_net", "test_conv2d_output_size_padding_and_stride",
                             "test_conv2d_output_size_matches_pytorch"}  # 7 points

CNN_CHECKS = session.collect(ROOT, select(ROOT, ["05_cnn"]))
FULL = sum(meta.points for meta in CNN_CHECKS)  # 05_cnn's points

# student -> (total, {check name: outcome} for the checks that matter)
EXPECTED = {
    "partial": (7, dict.fromkeys(SIZE_CHECKS, "passed")),
    "syntax_error": (0, {"test_conv2d_output_size_notes_net": "error"}),
    "missing_module": (0, {"test_conv2d_output_size_notes_net": "error"}),
    "import_raises": (0, {"test_conv2d_output_size_notes_net": "error"}),
    "wrong_signature": (4, {"test_conv2d_output_size_padding_and_stride": "failed",
                            "test_conv2d_output_size_notes_net": "passed"}),
    "infinite_loop": (4, dict.fromkeys(POOL_CHECKS, "timeout")),
    "loop_ignores_timeout": (4, dict.fromkeys(POOL_CHECKS, "timeout")),
    "memory_hog": (4, {"test_conv2d_output_size_matches_pytorch": "passed"}),
    "output_flood": (4, dict.fromkeys(POOL_CHECKS, "crashed")),
    "os_exit_import": (0, {"test_conv2d_output_size_notes_net": "crashed",
                           "test_train_reaches_accuracy_on_digits28": "crashed"}),
    "os_exit_call": (4, dict.fromkeys(POOL_CHECKS, "crashed") | {"test_conv2d_output_size_matches_pytorch": "passed"}),
    "sys_exit": (4, dict.fromkeys(POOL_CHECKS, "failed")),
    "segfault": (4, dict.fromkeys(POOL_CHECKS, "crashed")),
    "keyboard_interrupt": (4, dict.fromkeys(POOL_CHECKS, "failed")),
    "leftover_threads": (7, dict.fromkeys(SIZE_CHECKS, "passed")),
    "fake_equality": (3, {"test_conv2d_output_size_notes_net": "failed", "test_conv2d_notes_example": "failed",
                          "test_pool2d_output_size_default_stride": "passed"}),
    "patched_compare": (6, {"test_conv2d_output_size_notes_net": "failed", "test_conv2d_notes_example": "failed",
                            "test_conv2d_output_size_padding_and_stride": "passed"}),
    "patched_oracle": (7, {"test_conv2d_notes_example": "failed", "test_max_pool2d_small": "failed"}),
    "fake_output": (7, {"test_conv2d_notes_example": "failed"}),
    "conftest_trap": (7, dict.fromkeys(SIZE_CHECKS, "passed")),
    "patched_grader": (6, {"test_conv2d_output_size_notes_net": "failed", "test_conv2d_notes_example": "failed"}),
    "frame_reader": (7, {"test_conv2d_notes_example": "failed", "test_max_pool2d_small": "failed"}),
    "forged_results": (7, {"test_conv2d_notes_example": "crashed", "test_max_pool2d_small": "crashed"}),
    "token_forger": (7, {"test_conv2d_notes_example": "crashed", "test_max_pool2d_small": "crashed"}),
    # In the sandbox solutions/ is out of reach; without one, reading it gives full marks.
    "reads_solution": (7 if sandbox.available() is None else FULL, {}),
    "sandbox_probe": (7, dict.fromkeys(SIZE_CHECKS, "passed")),
    "zip_top": (7, {}),
    "zip_wrapped": (7, {}),
    "solution_untrained": (42, {"test_train_reaches_accuracy_on_digits28": "failed",
                                "test_train_takes_sgd_momentum_steps": "failed",
                                "test_train_returns_the_model_and_lowers_the_loss": "failed"}),
}
# Graded again by the interrupted and resumed batch (quick ones).
RESUMED = ["fake_output", "import_raises", "keyboard_interrupt", "partial", "sys_exit", "syntax_error",
           "wrong_signature", "zip_top"]

# Our own tests run under the grader's plugin too: its 60 s default is too short for a whole batch.
pytestmark = [linux_only, pytest.mark.timeout(600)]


def make_class(folder: Path) -> Path:
    """The class: every folder of tests/hostile/, two zips of the baseline, and the reference solution
    with an untrained train() (full marks but the 4-point accuracy check, without the training time)."""
    folder.mkdir(parents=True, exist_ok=True)
    for entry in sorted(HOSTILE.iterdir()):
        if entry.is_dir():
            shutil.copytree(entry, folder / entry.name)
    baseline = (HOSTILE / "partial" / "05_cnn" / "cnn.py").read_bytes()
    with zipfile.ZipFile(folder / "zip_top.zip", "w") as archive:
        archive.writestr("05_cnn/cnn.py", baseline)
    with zipfile.ZipFile(folder / "zip_wrapped.zip", "w") as archive:
        archive.writestr("alice/05_cnn/cnn.py", baseline)
        archive.writestr("alice/05_cnn/conftest.py", "raise SystemExit('trap')\n")
        archive.writestr("alice/conftest.py", "raise SystemExit('trap')\n")
        archive.writestr("../../escaped.py", "raise SystemExit('trap')\n")
        archive.writestr("__MACOSX/alice/05_cnn/._cnn.py", b"\x00\x05\x16\x07")
    solution = (ROOT / "solutions" / "05_cnn" / "cnn.py").read_text()
    (folder / "solution_untrained" / "05_cnn").mkdir(parents=True)
    (folder / "solution_untrained" / "05_cnn" / "cnn.py").write_text(
        solution + "\n\ndef train(model, loader, epochs, lr):  # test: no training\n    return model\n")
    return folder


@pytest.fixture(scope="module")
def graded(tmp_path_factory):
    """The whole class graded once: (submissions folder, output folder, summary)."""
    TRAP_MARKER.unlink(missing_ok=True)
    base = tmp_path_factory.mktemp("batch")
    subs = make_class(base / "submissions")
    summary = grade_batch(ROOT, subs, base / "out", exercises=["05_cnn"], jobs=3, limits=LIMITS)
    return subs, base / "out", summary


def result(out: Path, student: str) -> dict:
    return json.loads((out / f"{student}.json").read_text())


def outcomes(data: dict) -> dict[str, str]:
    return {c["id"].split("::")[-1]: c["outcome"] for e in data["exercises"] for c in e["checks"]}


# --- the verdicts ----------------------------------------------------------------------------------------


@pytest.mark.parametrize("student", EXPECTED)
def test_each_submission_gets_its_expected_score(graded, student):
    _, out, summary = graded
    data = result(out, student)
    total, expected = EXPECTED[student]
    got = outcomes(data)
    assert len(got) == len(CNN_CHECKS) and data["max_total"] == FULL
    assert data["total"] == total, {k: v for k, v in got.items() if v != "passed"}
    for check, outcome in expected.items():
        assert got[check] == outcome, (check, data)
    assert student in summary.graded


def test_nothing_passes_without_being_reported_passed(graded):
    _, out, _ = graded
    for student in EXPECTED:
        for exercise in result(out, student)["exercises"]:
            for check in exercise["checks"]:
                assert (check["points"] > 0) == (check["outcome"] == "passed")
                assert check["outcome"] in ("passed", "failed", "error", "timeout", "crashed"), check


def test_crashes_and_kills_are_explained(graded):
    _, out, _ = graded

    def message(student, check):
        data = result(out, student)
        return next(c["message"] for e in data["exercises"] for c in e["checks"] if c["id"].endswith("::" + check))

    assert "did not stop" in message("loop_ignores_timeout", "test_pool2d_output_size_default_stride")
    assert "time limit" in message("infinite_loop", "test_pool2d_output_size_default_stride")
    assert "printed more than 256 KiB" in message("output_flood", "test_pool2d_output_size_default_stride")
    assert "exited with status 0" in message("os_exit_call", "test_pool2d_output_size_matches_pytorch")
    assert "ended by SIGSEGV" in message("segfault", "test_pool2d_output_size_default_stride")
    assert "Segmentation fault" in result(out, "segfault")["output"]  # faulthandler's report, captured
    assert "importing 05_cnn/cnn.py ended the grading process" in message("os_exit_import",
                                                                            "test_simple_cnn_output_shape")
    assert "replaced torch.conv2d, torch.nn.functional.conv2d" in message("patched_oracle", "test_conv2d_notes_example")
    assert "replaced" in message("patched_compare", "test_conv2d_output_size_notes_net")
    assert "missing from submission missing_module" in message("missing_module", "test_max_pool2d_small")
    hog = message("memory_hog", "test_pool2d_output_size_default_stride")
    assert "MemoryError" in hog or "memory" in hog
    # A restart per crashing check, none for a module that ends the process on import.
    assert result(out, "os_exit_call")["processes"] == 3
    assert result(out, "os_exit_import")["processes"] == 1
    assert result(out, "leftover_threads")["processes"] == 1


def test_printed_results_are_kept_as_output_only(graded):
    _, out, _ = graded
    data = result(out, "fake_output")
    assert '"outcome": "passed"' in data["output"] and "21 passed" in data["output"]
    assert data["total"] == 7
    flood = result(out, "output_flood")
    assert len(flood["output"]) < 20_000 and "more bytes not kept" in flood["output"]


def test_only_contract_modules_are_taken(graded):
    subs, out, _ = graded
    assert not TRAP_MARKER.exists(), TRAP_MARKER.read_text()
    assert not (subs.parent / "escaped.py").exists() and not (subs / "escaped.py").exists()
    assert "wrapping folder alice/" in " ".join(result(out, "zip_wrapped")["notes"])
    assert result(out, "missing_module")["notes"] == [
        "found 05_cnn/CNN.py, but the module must be named 05_cnn/cnn.py exactly (names are case-sensitive)",
        "no student module found: it holds 05_cnn; expected e.g. 05_cnn/cnn.py (or cnn.py, or a notebook "
        "05_cnn.ipynb)"]


def test_batch_verdicts_equal_in_process_grading(graded):
    subs, out, _ = graded
    exercises = select(ROOT, ["05_cnn"])
    direct = session.grade(ROOT, exercises, submission=subs / "solution_untrained")
    batch = Report.from_dict(result(out, "solution_untrained"))
    def verdicts(report):
        return [(c.id, c.outcome, c.points, c.message) for e in report.exercises for c in e.checks]

    assert verdicts(batch) == verdicts(direct)


def test_exports(graded):
    _, out, summary = graded
    rows = list(csv.DictReader(io.StringIO((out / "grades.csv").read_text())))
    assert [r["student"] for r in rows] == sorted(EXPECTED)
    assert {r["student"]: float(r["total"]) for r in rows} == {s: float(t) for s, (t, _) in EXPECTED.items()}
    assert all(float(r["max_total"]) == FULL and r["05_cnn"] == r["total"] for r in rows)
    assert (out / "histogram.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    data = result(out, "partial")
    module = (HOSTILE / "partial" / "05_cnn" / "cnn.py").read_bytes()
    assert data["submission_hash"] == intake.modules_hash({"05_cnn/cnn.py": module})
    assert data["target"] == "submission partial" and data["schema"] == store.SCHEMA
    assert result(out, "zip_top")["submission_hash"] == data["submission_hash"]
    assert not list(out.glob(".*"))


def test_rerun_grades_only_what_changed(graded, tmp_path):
    subs, graded_out, _ = graded
    out = tmp_path / "out"
    shutil.copytree(graded_out, out)
    started = []
    again = grade_batch(ROOT, subs, out, exercises=["05_cnn"], jobs=2, limits=LIMITS, histogram=False,
                        on_event=lambda run, what: started.append(run.student))
    assert not again.graded and not started and sorted(again.unchanged) == sorted(EXPECTED)
    # A changed module (a comment is enough) is graded again; the rest is kept.
    changed = tmp_path / "subs"
    shutil.copytree(subs / "partial", changed / "partial")
    shutil.copytree(subs / "syntax_error", changed / "syntax_error")
    with open(changed / "partial" / "05_cnn" / "cnn.py", "a") as module:
        module.write("# resubmitted\n")
    again = grade_batch(ROOT, changed, out, exercises=["05_cnn"], jobs=2, limits=LIMITS, histogram=False)
    assert again.graded == ["partial"] and again.unchanged == ["syntax_error"]
    assert result(out, "partial")["total"] == 7


# --- killed half way, then resumed ---------------------------------------------------------------------


def _start(subs: Path, out: Path) -> subprocess.Popen:
    command = [sys.executable, "-m", "grader.batch", str(subs), "--out", str(out), "-e", "05_cnn", "--jobs", "1",
               "--no-histogram", *CLI_LIMITS]
    return subprocess.Popen(command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                            start_new_session=True)


def _wait_for_results(out: Path, count: int, process: subprocess.Popen, timeout: float = 240) -> None:
    deadline = time.monotonic() + timeout
    while len(list(out.glob("*.json"))) < count:
        assert process.poll() is None, process.stdout.read().decode()
        assert time.monotonic() < deadline, "no progress"
        time.sleep(0.05)


def _wait_for_grading_process(process: subprocess.Popen, timeout: float = 60) -> set[int]:
    """The parent's descendants once a grading process (a grandchild, under the fork server) runs."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        family = descendants(process.pid)
        if any(descendants(pid) for pid in family):
            return family
        time.sleep(0.02)
    raise AssertionError("no grading process started")



def _gone(pids: set[int], timeout: float = 30) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not any(Path(f"/proc/{pid}").exists() and "Z" not in _state(pid) for pid in pids):
            return True
        time.sleep(0.1)
    return False


def _state(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return "Z"


def _comparable(data: dict) -> dict:
    volatile = {"graded_at", "wall_time", "cpu_time", "duration", "submission"}
    if isinstance(data, dict):
        return {k: _comparable(v) for k, v in data.items() if k not in volatile}
    if isinstance(data, list):
        return [_comparable(v) for v in data]
    return data


def test_killed_batch_resumes_to_the_same_result(graded, tmp_path, monkeypatch):
    subs_all, uninterrupted, _ = graded
    subs = tmp_path / "subs"
    subs.mkdir()
    for student in RESUMED:
        entry = subs_all / student if (subs_all / student).is_dir() else subs_all / f"{student}.zip"
        (shutil.copytree if entry.is_dir() else shutil.copy)(entry, subs / entry.name)
    # Two batches at once (their start-up, torch in the fork server, is most of the time): one gets Ctrl-C,
    # the other a kill -9, each once it has written a student's file and is grading the next one.
    out_int, out_kill = tmp_path / "interrupted", tmp_path / "killed"
    interrupted, killed = _start(subs, out_int), _start(subs, out_kill)

    _wait_for_results(out_int, 1, interrupted)
    _wait_for_grading_process(interrupted)
    os.killpg(interrupted.pid, signal.SIGINT)  # Ctrl-C: SIGINT to the whole foreground process group
    assert interrupted.wait(timeout=60) == 130
    assert not list(out_int.glob(".*.tmp")), "Ctrl-C left a temporary file"

    _wait_for_results(out_kill, 1, killed)
    family = _wait_for_grading_process(killed)
    os.kill(killed.pid, signal.SIGKILL)  # the parent alone: its grading processes must follow it
    killed.wait(timeout=60)
    assert _gone(family), "grading processes outlived the killed parent"

    monkeypatch.chdir(ROOT)
    for out in (out_int, out_kill):
        done = sorted(p.stem for p in out.glob("*.json"))
        for student in done:
            json.loads((out / f"{student}.json").read_text())  # never half written
        assert 1 <= len(done) < len(RESUMED), f"{out.name}: interrupted too late"
        # The rerun (in this process, through the same command) keeps what is done and grades the rest.
        rerun = CliRunner().invoke(batch, [str(subs), "--out", str(out), "-e", "05_cnn", "--jobs", "2",
                                           "--no-histogram", *CLI_LIMITS], standalone_mode=False)
        assert rerun.exception is None and rerun.return_value == 0, rerun.output
        assert f"{len(done)} submission(s) unchanged since they were graded" in rerun.output
        assert sorted(p.stem for p in out.glob("*.json")) == sorted(RESUMED)
        assert not list(out.glob(".*"))
        for student in RESUMED:
            assert _comparable(result(out, student)) == _comparable(result(uninterrupted, student)), student
        rows = list(csv.DictReader(io.StringIO((out / "grades.csv").read_text())))
        assert [r["student"] for r in rows] == sorted(RESUMED)
    for parent in (interrupted, killed):  # the killed one's temporary folders are removed by the rerun
        assert not list(Path(tempfile.gettempdir()).glob(f"grader-batch-{parent.pid}-*"))


# --- intake, without grading ----------------------------------------------------------------------------

CONTRACT = {"05_cnn": "cnn"}


def _zip(path: Path, members: dict[str, bytes | str]) -> Path:
    with zipfile.ZipFile(path, "w") as archive:
        for name, content in members.items():
            archive.writestr(name, content)
    return path


def test_zip_intake_refuses_what_is_unsafe(tmp_path):
    big = _zip(tmp_path / "big.zip", {"05_cnn/cnn.py": "#" * (intake.MAX_MODULE_BYTES + 1)})
    assert intake.read(big, CONTRACT).modules == {}
    corrupt = tmp_path / "corrupt.zip"
    corrupt.write_bytes(b"PK\x03\x04 not really a zip")
    sub = intake.read(corrupt, CONTRACT)
    assert sub.modules == {} and "cannot be read as a zip" in sub.notes[0]
    two = _zip(tmp_path / "two.zip", {"a/05_cnn/cnn.py": "x = 1", "b/05_cnn/cnn.py": "x = 2"})
    assert intake.read(two, CONTRACT).modules == {} and "several folders" in intake.read(two, CONTRACT).notes[0]
    traversal = _zip(tmp_path / "t.zip", {"../05_cnn/cnn.py": "x = 1", "/05_cnn/cnn.py": "x = 1"})
    assert intake.read(traversal, CONTRACT).modules == {}
    link = tmp_path / "link.zip"
    with zipfile.ZipFile(link, "w") as archive:
        info = zipfile.ZipInfo("05_cnn/cnn.py")
        info.external_attr = (0o120777 << 16)
        archive.writestr(info, "/etc/passwd")
    assert intake.read(link, CONTRACT).modules == {}
    deep = _zip(tmp_path / "deep.zip", {"x/y/z/05_cnn/cnn.py": "x = 1", "05_cnn/other.py": "y = 1"})
    assert intake.read(deep, CONTRACT).modules == {}
    good = _zip(tmp_path / "good.zip", {"05_cnn/cnn.py": "x = 1", "05_cnn/conftest.py": "boom", "setup.py": "boom"})
    assert intake.read(good, CONTRACT).modules == {"05_cnn/cnn.py": b"x = 1"}


def test_folder_intake_takes_regular_files_only(tmp_path):
    (tmp_path / "elsewhere.py").write_text("secret = 1\n")
    linked = tmp_path / "bob" / "05_cnn"
    linked.mkdir(parents=True)
    (linked / "cnn.py").symlink_to(tmp_path / "elsewhere.py")
    sub = intake.read(tmp_path / "bob", CONTRACT)
    assert sub.modules == {} and "symbolic link" in sub.notes[0]
    wrapped = tmp_path / "carol" / "exercises" / "05_cnn"
    wrapped.mkdir(parents=True)
    (wrapped / "cnn.py").write_text("x = 1\n")
    assert intake.read(tmp_path / "carol", CONTRACT).modules == {"05_cnn/cnn.py": b"x = 1\n"}


def test_discover_names_students_and_refuses_duplicates(tmp_path):
    (tmp_path / "ann").mkdir()
    _zip(tmp_path / "bo.zip", {"05_cnn/cnn.py": "x = 1"})
    (tmp_path / "notes.txt").write_text("hi")
    (tmp_path / ".DS_Store").write_text("")
    entries, ignored = intake.discover(tmp_path)
    assert [intake.student_id(e) for e in entries] == ["ann", "bo"] and ignored == ["notes.txt"]
    (tmp_path / "ann.zip").write_bytes((tmp_path / "bo.zip").read_bytes())
    with pytest.raises(CourseError, match="two submissions for student 'ann'"):
        intake.discover(tmp_path)


def test_a_grade_from_without_a_sandbox_is_redone_once_there_is_one():
    graded = {"submission_hash": "h", "grading_key": "k", "sandbox": store.SANDBOXED}
    assert store.is_current(graded, "h", "k", sandboxed=True)
    unsandboxed = {**graded, "sandbox": sandbox.NO_SANDBOX}
    assert store.is_current(unsandboxed, "h", "k", sandboxed=False)
    assert not store.is_current(unsandboxed, "h", "k", sandboxed=True)  # bubblewrap was installed since


def test_the_grading_key_follows_the_grader_its_code_and_the_data(tmp_path, monkeypatch):
    """A result is kept only while nothing that decides a grade has changed: the grader included."""
    exercises = select(ROOT, ["05_cnn"])
    key = store.grading_key(ROOT, exercises, None, "cpu", LIMITS.as_dict())
    assert key == store.grading_key(ROOT, exercises, None, "cpu", LIMITS.as_dict())
    monkeypatch.setattr("grader.__version__", "99.0")
    assert store.grading_key(ROOT, exercises, None, "cpu", LIMITS.as_dict()) != key
    monkeypatch.undo()
    data = tmp_path / "datasets"
    shutil.copytree(ROOT / "datasets", data)
    (data / "SHA256SUMS").write_text((data / "SHA256SUMS").read_text() + "\n")
    monkeypatch.setenv("COURSE_DATA_DIR", str(data))
    assert store.grading_key(ROOT, exercises, None, "cpu", LIMITS.as_dict()) != key
    monkeypatch.undo()
    real = Path.read_bytes
    plugin = (ROOT / "grader" / "plugin.py").resolve()
    monkeypatch.setattr(Path, "read_bytes", lambda self: real(self) + (b"#" if self.resolve() == plugin else b""))
    assert store.grading_key(ROOT, exercises, None, "cpu", LIMITS.as_dict()) != key
