"""The limits a grading process runs under, and how the child process puts itself under them.

This is process isolation, not a security sandbox: the child runs as the same user, sees the same file
system and network, and student code in it can do anything that user can. See docs/instructor-guide.md
("Threat model") for what it does and does not defend against, and how to add a real sandbox.
"""

from __future__ import annotations

import ctypes
import io
import os
import resource
import signal
import sys
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

MiB = 1 << 20


@dataclass(frozen=True)
class Limits:
    check_timeout: float | None = None  # default limit of a check without its own marker (None: the course's)
    submission_timeout: float = 1800.0  # wall clock for one student, all processes together
    memory_mb: int = 4096  # memory a grading process may add to what the grader itself uses
    output_kb: int = 1024  # stdout+stderr a grading process may write before it is stopped
    keep_output_kb: int = 16  # how much of that output is kept in the student's JSON
    threads: int = 1  # torch intra-op threads per grading process
    max_file_mb: int = 1024  # largest file a grading process may write
    idle_timeout: float = 120.0  # longest silence from a grading process while no check runs

    def grace(self, timeout: float) -> float:
        """Time past a check's own limit before the parent kills the process (pytest-timeout goes first)."""
        return min(5.0, max(1.0, timeout / 2))

    def as_dict(self) -> dict:
        return asdict(self)


def scrubbed_env(workdir: Path, threads: int) -> dict[str, str]:
    """The whole environment of a grading process: nothing from the instructor's shell leaks in."""
    env = {
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "HOME": str(workdir),
        "TMPDIR": str(workdir / "tmp"),
        "LANG": "C.UTF-8",
        "LC_ALL": "C.UTF-8",
        "PYTHONDONTWRITEBYTECODE": "1",
        "PYTHONIOENCODING": "utf-8",
        "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1",
        "OMP_NUM_THREADS": str(threads),
        "MKL_NUM_THREADS": str(threads),
        "OPENBLAS_NUM_THREADS": str(threads),
        "MPLBACKEND": "Agg",
        "CUBLAS_WORKSPACE_CONFIG": ":4096:8",
        "NO_PROXY": "*",
    }
    for name in ("COURSE_DATA_DIR", "CUDA_VISIBLE_DEVICES"):
        if os.environ.get(name):
            env[name] = os.path.abspath(os.environ[name]) if name == "COURSE_DATA_DIR" else os.environ[name]
    return env


# --- in the child ------------------------------------------------------------------------------------------

PR_SET_PDEATHSIG = 1


def enter(workdir: Path, env: dict[str, str], limits: Limits, keep_fds: list[int], output_fd: int, cpu: bool) -> None:
    """Called first thing in the grading process: own process group, die with the parent, stdio to the
    capture pipe, fresh working folder, scrubbed environment, resource limits."""
    os.setsid()  # its own process group (and session): the parent kills all of it at once; no terminal SIGINT
    _die_with_parent()
    _close_inherited_fds(keep_fds + [output_fd])
    null = os.open(os.devnull, os.O_RDONLY)
    os.dup2(null, 0)
    os.close(null)
    os.dup2(output_fd, 1)
    os.dup2(output_fd, 2)
    os.close(output_fd)
    sys.stdin = open(0, "r", closefd=False)
    sys.stdout = io.TextIOWrapper(open(1, "wb", buffering=0, closefd=False), encoding="utf-8", errors="replace",
                                  write_through=True)
    sys.stderr = io.TextIOWrapper(open(2, "wb", buffering=0, closefd=False), encoding="utf-8",
                                  errors="backslashreplace", write_through=True)
    cwd = workdir / "cwd"
    (workdir / "tmp").mkdir(parents=True, exist_ok=True)
    cwd.mkdir(parents=True, exist_ok=True)
    os.chdir(cwd)
    os.environ.clear()
    os.environ.update(env)
    tempfile.tempdir = str(workdir / "tmp")
    sys.dont_write_bytecode = True
    _set_limit(resource.RLIMIT_CORE, 0)
    _set_limit(resource.RLIMIT_FSIZE, limits.max_file_mb * MiB)
    # A backstop that holds even if the parent is gone: CPU seconds, all threads together.
    cpu_seconds = int(limits.submission_timeout * max(1, limits.threads)) + 30
    _set_limit(resource.RLIMIT_CPU, cpu_seconds, cpu_seconds + 10)
    if cpu:
        # Address space: what the grader has mapped now plus the allowance. (CUDA maps huge virtual ranges,
        # so on a GPU only the parent's resident-memory watch applies.)
        _set_limit(resource.RLIMIT_AS, vm_size() + limits.memory_mb * MiB)


def _set_limit(which: int, soft: int, hard: int | None = None) -> None:
    _, old_hard = resource.getrlimit(which)
    hard = soft if hard is None else hard
    if old_hard != resource.RLIM_INFINITY:
        soft, hard = min(soft, old_hard), min(hard, old_hard)
    try:
        resource.setrlimit(which, (soft, hard))
    except (ValueError, OSError):
        pass


def _die_with_parent() -> None:
    """SIGKILL when our parent (the fork server) exits; it exits when the grading parent dies."""
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, int(signal.SIGKILL), 0, 0, 0)
    except (OSError, AttributeError):
        return
    if os.getppid() == 1:  # the parent died before prctl took effect
        os._exit(70)


def _close_inherited_fds(keep: list[int]) -> None:
    """Close what the fork server handed down (its "alive" pipe above all: holding it would keep the
    fork server, and so us, alive after the parent is killed)."""
    from multiprocessing import forkserver, resource_tracker

    server = forkserver._forkserver
    inherited = [server._forkserver_alive_fd, getattr(resource_tracker._resource_tracker, "_fd", None)]
    inherited += list(getattr(server, "_inherited_fds", None) or [])
    for fd in inherited:
        if fd is not None and fd not in keep and fd > 2:
            try:
                os.close(fd)
            except OSError:
                pass
    server._forkserver_alive_fd = None
    server._inherited_fds = None


def vm_size() -> int:
    """Bytes of address space this process has mapped."""
    with open("/proc/self/statm") as statm:
        return int(statm.read().split()[0]) * os.sysconf("SC_PAGE_SIZE")


def rss(pid: int) -> int | None:
    """Resident bytes of process `pid` (None once it is gone)."""
    try:
        with open(f"/proc/{pid}/statm") as statm:
            return int(statm.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")
    except (OSError, ValueError, IndexError):
        return None
