"""The sandbox (bubblewrap) around every grading of a submission, and a verdict no submission can change.

The hostile submissions are in tests/hostile/ (see its README); here they are graded through `grader run
--submission`, the path an instructor uses for one student, which must give what `grader batch` gives.
"""

from __future__ import annotations

import json
import shutil
import socket
import threading
from pathlib import Path

import pytest

from grader import cli, course
from grader.batch import Limits, grade_batch, grade_submission, sandbox
from grader.testing import linux_only

ROOT = Path(__file__).resolve().parents[1]
HOSTILE = Path(__file__).resolve().parent / "hostile"
LIMITS = Limits(check_timeout=3.0, submission_timeout=120.0, memory_mb=512, output_kb=256)
sandboxed = pytest.mark.skipif(sandbox.available() is not None, reason=str(sandbox.available()))
pytestmark = [linux_only, pytest.mark.timeout(300)]


def _total(student: str, *options: str, capsys) -> tuple[int, str]:
    with pytest.raises(SystemExit) as exit_:
        cli.run(["run", "05", "--submission", str(HOSTILE / student), "--json", "r.json", *options])
    out = capsys.readouterr().out
    return json.loads(Path("r.json").read_text())["total"], out


@pytest.mark.parametrize("student, expected, evidence", [
    ("patched_grader", 6, "replaced grader.plugin.Grading.pytest_runtest_makereport, grader.checks.fail (its code)"),
    ("frame_reader", 7, "values differ"),
    ("forged_results", 7, "without this grading process's token"),
    ("token_forger", 7, "neither counts"),
    ("patched_compare", 6, "replaced"),
    ("patched_oracle", 7, "replaced torch.conv2d"),
])
def test_tampering_gains_nothing_through_the_submission_path(tmp_path, monkeypatch, capsys, student, expected,
                                                             evidence):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr("grader.course.find_root", lambda start=None: ROOT)
    total, out = _total(student, "--hidden-feedback", "message", capsys=capsys)
    assert total == expected, out
    assert evidence in " ".join(out.split())


@sandboxed
def test_the_reference_solution_is_out_of_reach(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr("grader.course.find_root", lambda start=None: ROOT)
    total, out = _total("reads_solution", capsys=capsys)
    assert total == 7, out  # it would be full marks with solutions/ in reach


@sandboxed
def test_what_a_sandboxed_submission_cannot_do(tmp_path):
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        listener.bind(("127.0.0.1", 47813))
    except OSError:
        pytest.skip("port 47813 is in use here")
    listener.listen()
    listener.settimeout(0.5)
    reached: list = []
    stop = threading.Event()

    def accept():
        while not stop.is_set():
            try:
                reached.append(listener.accept())
            except OSError:
                pass

    watcher = threading.Thread(target=accept, daemon=True)
    watcher.start()
    subs, out = tmp_path / "subs", tmp_path / "out"
    for name in ("sandbox_probe", "partial"):
        shutil.copytree(HOSTILE / name, subs / name)
    try:
        summary = grade_batch(ROOT, subs, out, exercises=["05_cnn"], jobs=2, limits=LIMITS, histogram=False)
    finally:
        stop.set()
        watcher.join()
        listener.close()
    probe = json.loads((out / "sandbox_probe.json").read_text())
    lines = dict(line.removeprefix("PROBE ").split(": ", 1) for line in probe["output"].splitlines()
                 if line.startswith("PROBE "))
    assert not reached and lines["network"].startswith("refused")
    assert lines["solutions"].startswith("refused") and lines["home"].startswith("refused")
    assert json.loads(lines["processes"].removeprefix("managed: ").replace("'", '"')) == [1, 3]  # its zygote, itself
    assert not (ROOT / "exercises" / "probe.txt").exists()  # it wrote only into the sandbox's own root
    assert lines["other slots"] == "managed: ['slot-1']" or lines["other slots"] == "managed: ['slot-2']"
    assert probe["total"] == 7 and probe["sandbox"] == "bubblewrap"
    assert json.loads((out / "partial.json").read_text())["total"] == 7  # the other student, graded beside it
    assert sorted(summary.graded) == ["partial", "sandbox_probe"]


def test_one_submission_cannot_cost_another_exercise_points(tmp_path):
    """Patched comparisons in 05 and os._exit in a student function: 01 is still graded, and fully."""
    submission = tmp_path / "sub"
    shutil.copytree(HOSTILE / "patched_compare" / "05_cnn", submission / "05_cnn")
    shutil.copytree(ROOT / "solutions" / "01_linear_model", submission / "01_linear_model")
    report = grade_submission(ROOT, submission, course.select(ROOT, ["01", "05"]), limits=LIMITS)
    scores = {e.name: (e.score, e.max_score) for e in report.exercises}
    assert scores["01_linear_model"][0] == scores["01_linear_model"][1] > 0
    shutil.rmtree(submission / "05_cnn")
    shutil.copytree(HOSTILE / "os_exit_call" / "05_cnn", submission / "05_cnn")
    report = grade_submission(ROOT, submission, course.select(ROOT, ["01", "05"]), limits=LIMITS)
    scores = {e.name: e.score for e in report.exercises}
    assert scores == {"01_linear_model": report.exercises[0].max_score, "05_cnn": 4}


def test_without_bubblewrap_the_grade_says_so(tmp_path, monkeypatch):
    monkeypatch.setattr(sandbox, "available", lambda: sandbox.NO_SANDBOX)
    report = grade_submission(ROOT, HOSTILE / "partial", course.select(ROOT, ["05"]), limits=LIMITS)
    assert report.total == 7 and sandbox.NO_SANDBOX in report.notes
