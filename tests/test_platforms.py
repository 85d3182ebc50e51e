"""Students' laptops, simulated on Linux: the student commands with what Windows and macOS lack.

Each constraint is imposed on a fresh Python by a `sitecustomize` module (found first on PYTHONPATH): no SIGALRM
(Windows: pytest-timeout's thread method must be used), no `fork` and spawn only (Windows; macOS's default), no
`resource` module and no /proc (both missing on Windows), a GBK console (Chinese Windows), and a course in a
folder whose name has spaces and Chinese characters.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from grader.testing import linux_only

pytestmark = linux_only  # the simulations impose other platforms' constraints on Linux

ROOT = Path(__file__).resolve().parents[1]
GRADER = Path(sys.executable).with_name("grader")
EXERCISE = "01_linear_model"

CONSTRAINTS = {
    "no-sigalrm": """
        import signal
        for name in ("SIGALRM", "setitimer", "ITIMER_REAL", "alarm"):
            if hasattr(signal, name):
                delattr(signal, name)
    """,
    "no-fork": """
        import multiprocessing, os
        for name in ("fork", "forkpty"):  # (torch itself skips os.register_at_fork on Windows)
            if hasattr(os, name):
                delattr(os, name)
        multiprocessing.set_start_method("spawn", force=True)
    """,
    "no-resource-no-proc": """
        import builtins, io, os, sys
        sys.modules["resource"] = None  # `import resource` fails, as on Windows
        _open = builtins.open
        def _no_proc(file, *args, **kwargs):
            if str(os.fspath(file) if not isinstance(file, int) else "").startswith("/proc"):
                raise FileNotFoundError(2, "no /proc on this platform", str(file))
            return _open(file, *args, **kwargs)
        builtins.open = io.open = _no_proc
    """,
}


def _course(tmp_path: Path) -> Path:
    """Exercise 01 of the course (its stub, checks and reference), in a folder named with spaces and Chinese."""
    root = tmp_path / "我的 课程 folder"
    for kind in ("exercises", "solutions"):
        shutil.copytree(ROOT / kind / EXERCISE, root / kind / EXERCISE)
    shutil.copy(ROOT / "pyproject.toml", root)
    shutil.copy(ROOT / "exercises" / "reference-times.json", root / "exercises")
    return root


def _run(args: list[str], cwd: Path, tmp_path: Path, constraint: str | None = None, encoding: str = "utf-8",
         timeout: float = 240) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k not in ("PYTEST_ADDOPTS", "COLUMNS")}
    env["PYTHONIOENCODING"] = encoding
    if constraint is not None:
        site = tmp_path / f"site-{constraint}"
        site.mkdir(exist_ok=True)
        (site / "sitecustomize.py").write_text(textwrap.dedent(CONSTRAINTS[constraint]), encoding="utf-8")
        env["PYTHONPATH"] = str(site)
    return subprocess.run(args, cwd=cwd, env=env, capture_output=True, timeout=timeout)


def _text(done: subprocess.CompletedProcess, encoding: str = "utf-8") -> str:
    return (done.stdout + done.stderr).decode(encoding, errors="replace")


@pytest.mark.parametrize("constraint", sorted(CONSTRAINTS))
def test_the_student_commands_under_each_constraint(tmp_path, constraint):
    root = _course(tmp_path)
    checks = _run([sys.executable, "-m", "pytest", f"exercises/{EXERCISE}", "--solutions", "-q"], root, tmp_path,
                  constraint)
    assert checks.returncode == 0 and "INTERNALERROR" not in _text(checks), _text(checks)[-2000:]
    graded = _run([str(GRADER), "run", "01", "--solutions"], root, tmp_path, constraint)
    assert graded.returncode == 0 and "30 / 30 points" in _text(graded), _text(graded)[-2000:]
    stubs = _run([str(GRADER), "all"], root, tmp_path, constraint)
    assert stubs.returncode == 1 and "not implemented yet" in _text(stubs) and "Traceback" not in _text(stubs)


def test_without_sigalrm_an_endless_loop_is_stopped_by_the_timer_thread(toy, tmp_path):
    source = (toy / "solutions" / "01_toy" / "toy.py").read_text()
    (toy / "exercises" / "01_toy" / "toy.py").write_text(source.replace("return 1", "while True:\n        pass"))
    started = time.monotonic()
    done = _run([sys.executable, "-m", "pytest", "exercises/01_toy", "-q", "-p", "no:cacheprovider"], toy, tmp_path,
                "no-sigalrm", timeout=120)
    # pytest-timeout's thread method dumps the stacks and ends the run: it does not hang.
    assert time.monotonic() - started < 60 and "Timeout" in _text(done), _text(done)[-2000:]


def test_a_gbk_console_gets_plain_marks_not_a_crash(tmp_path):
    root = _course(tmp_path)
    done = _run([str(GRADER), "run", "01"], root, tmp_path, encoding="gbk")
    text = _text(done, "gbk")
    assert done.returncode == 1 and "UnicodeEncodeError" not in text and "Traceback" not in text, text[-2000:]
    assert "not implemented yet" in text and "✘" not in text
    chinese = _run([str(GRADER), "--lang", "zh_CN", "run", "01", "--solutions"], root, tmp_path, encoding="gbk")
    assert chinese.returncode == 0 and "30 / 30" in _text(chinese, "gbk"), _text(chinese, "gbk")[-2000:]


def test_watch_without_fork_uses_a_spawned_worker(tmp_path):
    root = _course(tmp_path)
    env = {k: v for k, v in os.environ.items() if k != "PYTEST_ADDOPTS"}
    site = tmp_path / "site-no-fork"
    site.mkdir()
    (site / "sitecustomize.py").write_text(textwrap.dedent(CONSTRAINTS["no-fork"]), encoding="utf-8")
    env["PYTHONPATH"] = str(site)
    watcher = subprocess.Popen([str(GRADER), "watch", "01", "--solutions"], cwd=root, env=env,
                               stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        lines = []
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            line = watcher.stdout.readline().decode(errors="replace")
            lines.append(line)
            if line.startswith("Total "):
                break
        assert lines[-1].startswith("Total 30 / 30 points"), "".join(lines)[-2000:]
        watcher.send_signal(signal.SIGINT)
        assert watcher.wait(timeout=30) == 130
    finally:
        if watcher.poll() is None:
            os.killpg(watcher.pid, signal.SIGKILL)


def test_a_release_in_a_folder_with_spaces_and_chinese(tmp_path):
    root = _course(tmp_path)
    shutil.copytree(ROOT / "datasets", root / "datasets")
    out = tmp_path / "发布 release"
    made = _run([str(GRADER), "release", str(out), "--allow-modified-stubs"], root, tmp_path)
    assert made.returncode == 0, _text(made)[-2000:]
    shutil.copy(ROOT / "solutions" / EXERCISE / "linear_model.py", out / "exercises" / EXERCISE)
    env_path = {"PYTHONPATH": str(out)}  # the release's own grader package, as on the student's laptop
    done = subprocess.run([sys.executable, "-m", "pytest", f"exercises/{EXERCISE}", "-q"], cwd=out,
                          env={**os.environ, **env_path}, capture_output=True, timeout=240)
    assert done.returncode == 0, _text(done)[-2000:]
    assert "more points are in" in _text(done)  # what the release does not check, said

