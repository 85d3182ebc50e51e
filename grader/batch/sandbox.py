"""The sandbox a submission is graded in, and the limits of a grading process.

Every grading of a submission (`grader batch`, `grader run/all --submission`, the Gradescope autograder, a
Dask worker) runs in a *slot*: a zygote process (`grader.batch.zygote`, torch and the grader preloaded) that
forks one grading process per run. With bubblewrap (`bwrap`, Debian's package `bubblewrap`) the zygote is
PID 1 of its own user, PID, network, IPC, UTS and cgroup namespaces, as uid 65534 with no capabilities, and
sees only what grading needs, read-only:

- the system's libraries, the Python installation and its packages, the grader package;
- the course's `pyproject.toml` and the folders of the exercises graded (their checks), and the data sets;
- one writable folder, the slot's own (the student's modules, working and temporary folders), a private
  `/tmp` and `/dev/shm`.

Not `solutions/`, no other submission, not the output folder, no network, no other process of the machine.
Without bubblewrap (macOS, a machine without it) the slot is a plain process: the process isolation and
limits below still hold, and the batch says so once (`available()` gives the reason).
"""

from __future__ import annotations

import functools
import io
import os
import shutil
import signal
import subprocess
import sys
import tempfile
from dataclasses import asdict, dataclass
from pathlib import Path

from grader.i18n import N_

MiB = 1 << 20
SANDBOX_UID = 65534  # "nobody" inside the sandbox
NO_SANDBOX = N_("no sandbox: bubblewrap (bwrap) is not installed, so submissions are graded with process isolation "
              "only")


@dataclass(frozen=True)
class Limits:
    check_timeout: float | None = None  # default limit of a check without its own marker (None: the course's)
    submission_timeout: float | None = None  # wall clock for one student, all processes together (None: the course's)
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


def scrubbed_env(home: Path, threads: int) -> dict[str, str]:
    """The whole environment of a grading process: nothing from the instructor's shell leaks in."""
    env = {
        "PATH": "/usr/local/bin:/usr/bin:/bin",
        "HOME": str(home),
        "TMPDIR": str(home / "tmp"),
        "USER": "grader",
        "LOGNAME": "grader",
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
    for name in ("COURSE_DATA_DIR", "CUDA_VISIBLE_DEVICES", "PYTHONPATH"):
        if os.environ.get(name):
            env[name] = os.path.abspath(os.environ[name]) if name == "COURSE_DATA_DIR" else os.environ[name]
    return env


# --- the sandbox -----------------------------------------------------------------------------------------------

NAMESPACES = ["--unshare-user", "--unshare-pid", "--unshare-net", "--unshare-ipc", "--unshare-uts",
              "--unshare-cgroup-try"]
BASE_OPTIONS = [*NAMESPACES, "--die-with-parent", "--new-session", "--as-pid-1", "--cap-drop", "ALL",
                "--uid", str(SANDBOX_UID), "--gid", str(SANDBOX_UID), "--hostname", "grader"]
ETC_FILES = ("ld.so.cache", "ld.so.conf", "ld.so.conf.d", "localtime", "alternatives", "fonts", "mime.types")


@functools.cache
def available() -> str | None:
    """None when submissions can be sandboxed here; else why not, in one line."""
    tool = shutil.which("bwrap")
    if tool is None:
        return NO_SANDBOX
    try:
        done = subprocess.run([tool, *BASE_OPTIONS, "--ro-bind", "/", "/", "true"], capture_output=True, timeout=30)
    except (OSError, subprocess.TimeoutExpired) as error:
        return f"no sandbox: bubblewrap cannot run here ({error})"
    if done.returncode != 0:
        reason = done.stderr.decode(errors="replace").strip().splitlines()
        return f"no sandbox: bubblewrap cannot create namespaces here ({reason[-1] if reason else done.returncode})"
    return None


def command(readable: list[Path], writable: list[Path], env: dict[str, str], device: str, hide: Path) -> list[str]:
    """The bwrap command line (to put before the zygote's) that shows the sandbox `readable` paths read-only,
    `writable` ones read-write, and nothing else of the machine: no folder of the import path that holds
    `hide` (the course root, with its solutions) is shown whole."""
    args = [shutil.which("bwrap") or "bwrap", *BASE_OPTIONS, "--clearenv"]
    for name, value in sorted(env.items()):
        args += ["--setenv", name, value]
    # The private /tmp first: the course, a slot's folder or a Dask worker's copy may lie under /tmp.
    args += ["--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp", "--tmpfs", "/dev/shm"]
    args += _system_mounts()
    bound: list[Path] = []
    hide = Path(hide).resolve()
    python = [p for p in _python_paths() if not hide.is_relative_to(p.resolve())]
    for path in sorted({Path(p).resolve() for p in [*python, *readable]}, key=lambda p: len(p.parts)):
        if path.exists() and not any(path.is_relative_to(b) for b in bound):
            args += ["--ro-bind", str(path), str(path)]
            bound.append(path)
    for path in writable:
        args += ["--bind", str(path), str(path)]
    if device in ("cuda", "auto"):
        args += ["--ro-bind", "/sys", "/sys"]
        args += [arg for dev in sorted(Path("/dev").glob("nvidia*")) for arg in ("--dev-bind", str(dev), str(dev))]
    return args


def _system_mounts() -> list[str]:
    """/usr and the top-level folders or merged-/usr links beside it, and the few files of /etc a process needs."""
    args = ["--ro-bind", "/usr", "/usr"]
    for name in ("bin", "sbin", "lib", "lib32", "lib64", "libx32"):
        top = Path("/") / name
        if top.is_symlink():
            args += ["--symlink", os.readlink(top), str(top)]
        elif top.is_dir():
            args += ["--ro-bind", str(top), str(top)]
    for name in ETC_FILES:
        if (Path("/etc") / name).exists():
            args += ["--ro-bind", f"/etc/{name}", f"/etc/{name}"]
    return args


def _python_paths() -> list[Path]:
    """This Python's installation, its virtual environment and every folder on its import path."""
    paths = [Path(sys.base_prefix), Path(sys.prefix), Path(sys.executable).resolve().parent]
    paths += [Path(entry).absolute() for entry in sys.path if entry and Path(entry).is_dir()]
    return [p for p in paths if p != Path("/")]


# --- in the grading process --------------------------------------------------------------------------------

PR_SET_PDEATHSIG = 1
PR_SET_DUMPABLE = 4


def enter(workdir: Path, env: dict[str, str], limits: Limits, output_fd: int, cpu: bool) -> None:
    """Called first thing in the grading process: own process group, die with the zygote, stdio to the
    capture pipe, fresh working folder, scrubbed environment, resource limits."""
    os.setsid()  # its own process group (and session): the zygote kills all of it at once; no terminal SIGINT
    die_with_parent()
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
    import resource

    _set_limit(resource.RLIMIT_CORE, 0)
    _set_limit(resource.RLIMIT_FSIZE, limits.max_file_mb * MiB)
    # A backstop that holds even if the parent is gone: CPU seconds, all threads together.
    cpu_seconds = int((limits.submission_timeout or 3600) * max(1, limits.threads)) + 30
    _set_limit(resource.RLIMIT_CPU, cpu_seconds, cpu_seconds + 10)
    if cpu:
        # Address space: what the grader has mapped now plus the allowance. (CUDA maps huge virtual ranges,
        # so on a GPU only the zygote's resident-memory watch applies.)
        _set_limit(resource.RLIMIT_AS, vm_size() + limits.memory_mb * MiB)


def _set_limit(which: int, soft: int, hard: int | None = None) -> None:
    import resource

    _, old_hard = resource.getrlimit(which)
    hard = soft if hard is None else hard
    if old_hard != resource.RLIM_INFINITY:
        soft, hard = min(soft, old_hard), min(hard, old_hard)
    try:
        resource.setrlimit(which, (soft, hard))
    except (ValueError, OSError):
        pass


def prctl(option: int, value: int) -> bool:
    try:
        import ctypes

        return ctypes.CDLL(None, use_errno=True).prctl(option, value, 0, 0, 0) == 0
    except (OSError, AttributeError):  # not Linux
        return False


def die_with_parent() -> None:
    """SIGKILL when our parent exits (the grading process's parent is the zygote; the zygote's, the batch)."""
    parent = os.getppid()
    prctl(PR_SET_PDEATHSIG, int(signal.SIGKILL))
    if os.getppid() != parent:  # the parent died before prctl took effect
        os._exit(70)


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
