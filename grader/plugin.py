"""The grader's pytest plugin. It is active only inside a course: the course's pytest configuration loads it
(`addopts = "-p grader.plugin"` in its pyproject.toml), and so does every session `grader.session` builds.

It decides what is graded (exercises/, solutions/ or a submission), seeds every check from the base seed
and the check's id, gives each check its points, visibility and time limit (`grader.metadata`), and turns
every way a check can end into one of the outcomes passed, failed, error, timeout or skipped, with a
one-line reason (`--tb=long` adds the student's own frames).
"""

from __future__ import annotations

import contextlib
import dataclasses
import importlib
import inspect
import json
import os
import random
import re
import signal
import zlib
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import pytest_timeout
import torch

from grader import checks, i18n
from grader.checks import CheckFailed
from grader.course import (EXERCISE_NAME, HIDDEN_SUFFIX, HIDDEN_SUMMARY, exercise_of, in_exercise, is_hidden,
                           preload_modules, student_module_name)
from grader.i18n import LANGUAGES, _
from grader.limits import Timings, shortened_message, workload
from grader.metadata import CUDA_SKIP, DEVICES, CheckMeta
from grader.results import CheckResult, Report, hidden_lines
from grader.student import ModuleLoader, StudentCodeError, Target, innermost_student_frame

DEFAULT_SEED = 0
DEFAULT_TIMEOUT = 60.0
# pytest-timeout's timer: SIGALRM where the platform has it; a timer thread elsewhere (Windows).
TIMEOUT_METHOD = "signal" if hasattr(signal, "SIGALRM") else "thread"
META = pytest.StashKey[CheckMeta]()
THRESHOLDS = pytest.StashKey[list]()
SHORTENED = pytest.StashKey[tuple]()  # (the looping function, the cut limit) of a check whose limit was cut


class Grading:
    """One grading session: registered as a plugin object by `pytest_configure`, it holds the results."""

    def __init__(self, config: pytest.Config, target: Target, seed: int, device: torch.device, timeout: float,
                 timings: Timings, slowness: float):
        self.config = config
        self.target = target
        self.seed = seed
        self.device = device
        self.timeout = timeout
        self.timings = timings
        self.slowness = slowness
        self.loader = ModuleLoader(target)
        self.collected: dict[str, CheckMeta] = {}  # by check id, in collection order
        self.results: list[CheckResult] = []
        self.looped: set[tuple[str, str]] = set()  # (exercise, function) that ran past a limit in this run
        self.listeners: list = []  # told `looped(exercise, function)` and `limit_cut(check_id, function, seconds)`
        self.current: pytest.Item | None = None
        self._running: dict[str, CheckResult] = {}

    def seed_of(self, item: pytest.Item) -> int:
        return check_seed(self.seed, item.nodeid)

    def report(self) -> Report:
        return Report.from_checks(self.target.label, self.seed, self.device.type, self.results,
                                  notes=list(self.loader.notes), hidden_elsewhere=self.hidden_elsewhere(),
                                  lang=i18n.current())

    def hidden_elsewhere(self) -> dict[str, dict]:
        """In a student release: the hidden checks of the graded exercises, which only the instructor has."""
        summary = self.config.rootpath / HIDDEN_SUMMARY
        if not summary.is_file():
            return {}
        graded = {meta.exercise for meta in self.collected.values()}
        known = json.loads(summary.read_text(encoding="utf-8"))
        return {name: known[name] for name in sorted(graded) if name in known
                and not any((self.config.rootpath / "exercises" / name).glob(f"*{HIDDEN_SUFFIX}"))}

    def pytest_terminal_summary(self, terminalreporter) -> None:
        for line in hidden_lines(self.report()):
            terminalreporter.write_line(line, yellow=True)

    def pytest_report_header(self) -> str:
        limits = f", time limits x{self.slowness:.2g} for this machine" if self.timings.checks else ""
        return (f"grader: target={self.target.label}, seed={self.seed} (replay with --seed {self.seed}), "
                f"device={self.device.type}{limits}")

    def pytest_collection_modifyitems(self, items: list[pytest.Item]) -> None:
        for item in items:
            if not in_exercise(Path(item.path)):
                continue  # the grader's own tests are not graded checks
            meta = CheckMeta.of(item)
            meta = dataclasses.replace(meta, limit=meta.timeout or self.timings.limit(meta.id, self.timeout,
                                                                                     self.slowness))
            item.stash[META] = meta
            self.collected[meta.id] = meta
            # The marker pytest-timeout reads: the check's own limit, or the course's.
            item.add_marker(pytest.mark.timeout(meta.limit, method=TIMEOUT_METHOD))
            if meta.cuda and self.device.type != "cuda":
                item.add_marker(pytest.mark.skip(reason=_(CUDA_SKIP)))

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        # Heavy first-use imports (course.OPTIONAL_PRELOAD; torch._dynamo takes 1 to 2 s) are paid now, where the
        # checks or the student's modules need them, not inside whichever check comes first.
        exercises = {Path(item.path).parent for item in session.items if META in item.stash}
        files = [*{Path(item.path) for item in session.items if META in item.stash},
                 *(self.target.path / folder.name / f"{student_module_name(folder)}.py" for folder in exercises)]
        texts = [path.read_text(encoding="utf-8", errors="replace") for path in files if path.is_file()]
        for name in preload_modules(texts):
            with contextlib.suppress(Exception):  # a check that imports it says what is wrong
                importlib.import_module(name)

    @pytest.hookimpl(tryfirst=True)
    def pytest_runtest_setup(self, item: pytest.Item) -> None:
        self.current = item
        reset_torch_state()
        seed_everything(self.seed_of(item))

    def pytest_runtest_teardown(self, item: pytest.Item) -> None:
        self.current = None

    @pytest.hookimpl(wrapper=True)
    def pytest_timeout_set_timer(self, item: pytest.Item, settings):
        """pytest-timeout has armed SIGALRM: at the limit, first note which student function was running."""
        armed = yield
        if settings.method == "signal" and META in item.stash:
            handler = signal.getsignal(signal.SIGALRM)

            def noted(signum, frame):
                self._ran_past_limit(item, frame)
                handler(signum, frame)

            signal.signal(signal.SIGALRM, noted)
        return armed

    def _ran_past_limit(self, item: pytest.Item, frame) -> None:
        """A check's limit passed while `frame` ran: remember the student function it was in (once per run)."""
        files = self.loader.files
        while frame is not None and frame.f_code.co_filename not in files:
            frame = frame.f_back
        if frame is None:
            return
        exercise = exercise_of(Path(item.path))
        function = getattr(frame.f_code, "co_qualname", frame.f_code.co_name)
        if function != "<module>":
            self.loop_in(exercise, function)

    def loop_in(self, exercise: str, function: str) -> None:
        """`function` of `exercise`'s student module ran past a limit: later checks that call it get a short limit."""
        if (exercise, function) in self.looped:
            return
        self.looped.add((exercise, function))
        for listener in self.listeners:
            listener.looped(exercise, function)
        self.loader.on_call(exercise, function, self._cut_limit)

    def _cut_limit(self, function: str) -> None:
        """A function that already ran past a limit is called by the running check: cut its limit to a few times
        the reference's time for it, once."""
        item = self.current
        if item is None or SHORTENED in item.stash or META not in item.stash:
            return
        meta = item.stash[META]
        limit = min(meta.limit, self.timings.short_limit(meta.id, self.slowness))
        item.stash[SHORTENED] = (function, limit)
        hook = item.config.hook
        hook.pytest_timeout_cancel_timer(item=item)
        hook.pytest_timeout_set_timer(item=item, settings=pytest_timeout.Settings(limit, TIMEOUT_METHOD, False, False))
        for listener in self.listeners:
            listener.limit_cut(item.nodeid, function, limit)

    @pytest.hookimpl(wrapper=True, tryfirst=True)
    def pytest_runtest_call(self, item: pytest.Item):
        seed_everything(self.seed_of(item))
        checks.THRESHOLDS.clear()
        try:
            return (yield)
        except KeyboardInterrupt as error:
            # pytest would end the whole session; from student code it only fails this check.
            if innermost_student_frame(error.__traceback__, self.loader.files) is None:
                raise
            raise CheckFailed(_("student code raised KeyboardInterrupt")) from None
        finally:
            item.stash[THRESHOLDS] = list(checks.THRESHOLDS)

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(self, item: pytest.Item, call: pytest.CallInfo):
        report = yield
        report.grader_thresholds = item.stash.get(THRESHOLDS, [])
        if call.excinfo is not None and not call.excinfo.errisinstance(pytest.skip.Exception):
            report.grader_outcome, message = explain(call.excinfo, item, self.loader)
            if META in item.stash:  # other tests (the grader's own) keep pytest's full report
                report.longrepr = OneLineRepr(message, item, self._student_frames(call.excinfo))
        return report

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        # Called once per phase (setup, call, teardown); the check's result is settled after teardown.
        result = self._running.get(report.nodeid)
        if result is None:
            path = Path(report.fspath)
            meta = self.collected.get(report.nodeid)
            result = self._running[report.nodeid] = CheckResult(
                id=report.nodeid,
                exercise=exercise_of(path),
                outcome="passed",
                points=0.0,
                max_points=meta.points if meta else 0.0,
                hidden=is_hidden(path),
            )
        result.duration += report.duration
        result.thresholds += getattr(report, "grader_thresholds", []) if report.when == "call" else []
        if report.skipped and result.outcome == "passed":
            result.outcome, result.message = "skipped", _skip_reason(report)
        elif report.failed and result.outcome in ("passed", "skipped"):
            result.outcome = getattr(report, "grader_outcome", "failed")
            if report.when != "call" and result.outcome == "failed":
                result.outcome = "error"
            if isinstance(report.longrepr, OneLineRepr):
                result.message, result.traceback = report.longrepr.message, report.longrepr.student_frames
            else:
                result.message = _first_line_of(report)
        if report.when == "teardown":
            del self._running[report.nodeid]
            if result.outcome == "passed":
                result.points = result.max_points
            self.results.append(result)

    def pytest_collectreport(self, report: pytest.CollectReport) -> None:
        if report.failed:
            path = Path(report.fspath)
            lines = str(report.longrepr).strip().splitlines()
            self.results.append(
                CheckResult(
                    report.nodeid, exercise_of(path), "error", 0.0, 0.0, is_hidden(path),
                    _("cannot collect these checks: {error}").format(error=lines[-1] if lines else _("unknown error")),
                )
            )

    def _student_frames(self, excinfo: pytest.ExceptionInfo) -> str:
        """With --tb=long or --full-trace: the traceback's frames in student code, nothing of the grader's."""
        option = self.config.option
        if option.tbstyle not in ("long", "native") and not option.fulltrace:
            return ""
        files = self.loader.files
        frames = excinfo.traceback.filter(lambda entry: str(entry.path) in files)
        if not len(frames):
            return ""
        shown = pytest.ExceptionInfo.from_exc_info((excinfo.type, excinfo.value, excinfo.tb))
        shown.traceback = frames
        return str(shown.getrepr(style="long", abspath=True, chain=False, funcargs=False, truncate_locals=True))


GRADING = pytest.StashKey[Grading]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("grader", "course grading")
    group.addoption("--solutions", action="store_true", help="grade the reference solutions/ instead of exercises/")
    group.addoption(
        "--submission", metavar="DIR",
        help="grade a student's copy of exercises/ in this process (only the student modules are used; "
             "untrusted code: use `grader run --submission`, which sandboxes it)",
    )
    group.addoption("--seed", type=int, metavar="N", help=f"base seed of every check (ini: grader_seed, {DEFAULT_SEED})")
    group.addoption("--device", choices=DEVICES, help="device the checks run on (ini: grader_device, cpu)")
    group.addoption("--lang", choices=LANGUAGES, help="language of the messages (ini: grader_lang; default: the "
                                                        "locale's, English unless it is Chinese)")
    parser.addini("grader_seed", "base seed of every check", default=str(DEFAULT_SEED))
    parser.addini("grader_device", "cpu, cuda, mps or auto", default="cpu")
    parser.addini("grader_lang", "en or zh_CN (default: the locale's)", default="")
    parser.addini("grader_timeout", "default time limit of a check in seconds", default=str(DEFAULT_TIMEOUT))
    parser.addini("grader_threads", "torch's CPU threads while grading (1: same sums on every machine)", default="1")
    parser.addini("grader_reference_times", "time limits from the reference's times (grader/limits.py), or the "
                  "default for every check", type="bool", default=True)


def pytest_configure(config: pytest.Config) -> None:
    i18n.set_language(config.getoption("lang") or config.getini("grader_lang") or None)  # before checks import
    config.addinivalue_line("markers", "points(n): the points a check is worth (default 1)")
    config.addinivalue_line("markers", "cuda: the check needs a CUDA GPU; skipped unless run with --device cuda")
    root = config.rootpath
    if config.getoption("solutions") and config.getoption("submission"):
        raise pytest.UsageError("--solutions and --submission exclude each other")
    if config.getoption("submission"):
        path = Path(config.getoption("submission")).expanduser().absolute()
        if not path.is_dir():
            raise pytest.UsageError(f"--submission {path}: no such directory")
        target = Target("submission", path)
    elif config.getoption("solutions"):
        target = Target("solutions", root / "solutions")
    else:
        target = Target("exercises", root / "exercises")
    seed = config.getoption("seed")
    seed = int(config.getini("grader_seed")) if seed is None else seed
    torch.set_num_threads(int(config.getini("grader_threads")))
    timings = Timings.load(root) if config.getini("grader_reference_times") else Timings()
    slowness = timings.slowness(workload()) if timings.checks else 1.0
    grading = Grading(config, target, seed, _resolve_device(config), float(config.getini("grader_timeout")),
                      timings, slowness)
    config.stash[GRADING] = grading
    config.pluginmanager.register(grading, "grader-session")
    _make_deterministic()


def resolve_device(name: str) -> torch.device:
    """cpu, cuda, mps or auto (CUDA when there is a GPU, else Apple's MPS when there is one, else the CPU);
    ValueError for a device this machine does not have."""
    if name not in DEVICES:
        raise ValueError(f"device {name!r}: choose one of {', '.join(DEVICES)}")
    mps = getattr(torch.backends, "mps", None)
    has_mps = mps is not None and mps.is_available()
    if name == "auto":
        name = "cuda" if torch.cuda.is_available() else "mps" if has_mps else "cpu"
    if name == "cuda" and not torch.cuda.is_available():
        raise ValueError(_("--device cuda: no CUDA GPU is visible to torch (torch.cuda.is_available() is False)"))
    if name == "mps" and not has_mps:
        raise ValueError(_("--device mps: Apple's MPS is not available here (torch.backends.mps.is_available() "
                           "is False)"))
    return torch.device(name)


def _resolve_device(config: pytest.Config) -> torch.device:
    try:
        return resolve_device(config.getoption("device") or config.getini("grader_device"))
    except ValueError as error:
        raise pytest.UsageError(str(error)) from None


def _make_deterministic() -> None:
    # cuBLAS needs this set before its first use to be deterministic.
    os.environ.setdefault("CUBLAS_WORKSPACE_CONFIG", ":4096:8")
    # What torch.use_deterministic_algorithms(True) does, minus its inductor flag: that flag only concerns
    # torch.compile, and setting it imports torch._inductor (about 1.8 s, more than half of torch's import).
    torch._C._set_deterministic_algorithms(True)
    torch.backends.cudnn.benchmark = False


def reset_torch_state() -> None:
    """Undo global switches a previous check's student code may have flipped."""
    torch.set_grad_enabled(True)
    torch.set_default_dtype(torch.float32)
    _make_deterministic()


def check_seed(base: int, nodeid: str) -> int:
    """pytest-randomly's scheme: a check's seed depends on its id only, not on which checks ran before it."""
    return (base + zlib.crc32(nodeid.encode())) % 2**32


def seed_everything(seed: int) -> None:
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)  # seeds CUDA too
    torch.cuda.manual_seed_all(seed)


@pytest.fixture
def student(request: pytest.FixtureRequest):
    """The student module of the exercise this check file belongs to, from the graded target."""
    exercise_dir = request.path.parent
    if not EXERCISE_NAME.match(exercise_dir.name):
        raise pytest.UsageError(f"{request.path}: the `student` fixture only works in an exercise folder")
    loader = request.config.stash[GRADING].loader
    try:
        return loader.load(exercise_dir.name, student_module_name(exercise_dir))
    except StudentCodeError as error:
        pytest.fail(str(error), pytrace=False)


@pytest.fixture
def device(request: pytest.FixtureRequest) -> torch.device:
    """The device checks run on (`--device`)."""
    return request.config.stash[GRADING].device


@pytest.fixture
def seed(request: pytest.FixtureRequest) -> int:
    """This check's own seed, for checks that build their own generators."""
    return request.config.stash[GRADING].seed_of(request.node)


def _skip_reason(report: pytest.TestReport) -> str:
    if isinstance(report.longrepr, tuple) and len(report.longrepr) == 3:
        return report.longrepr[2].removeprefix("Skipped: ")
    return str(report.longrepr)


# --- turning an exception into an outcome and one line -------------------------------------------------

_TIMEOUT = re.compile(r"^Timeout \(?>([\d.]+)s")  # pytest-timeout: "Timeout (>1.0s) from pytest-timeout."
_CALLED = re.compile(r"^(\w+)\(\)")


def explain(excinfo: pytest.ExceptionInfo, item: pytest.Item, loader: ModuleLoader) -> tuple[str, str]:
    """(outcome, one-line reason) for a check that raised."""
    error = excinfo.value
    exercise = exercise_of(Path(item.path))
    where = innermost_student_frame(excinfo.tb, loader.files)
    text = _first_line(error)
    if excinfo.errisinstance(pytest.fail.Exception):
        match = _TIMEOUT.match(text)
        if match:
            shortened = item.stash.get(SHORTENED, None)
            if shortened is not None:
                return "timeout", shortened_message(*shortened)
            return "timeout", _("took longer than the {limit} s time limit (an endless loop, or far too slow?)").format(
                limit=match.group(1))
        return "failed", text
    if isinstance(error, NotImplementedError) and where is not None:
        return "failed", _("not implemented yet: {function} ({exercise})").format(function=where.function,
                                                                                    exercise=exercise)
    if isinstance(error, CheckFailed):
        return "failed", text
    if isinstance(error, AssertionError):
        return "failed", text or _("a check's condition does not hold")
    reason = f"{type(error).__name__}: {text}"
    if where is not None:
        return "failed", f"{reason} ({where})"
    if isinstance(error, TypeError):
        signature = _signature_hint(text, loader, exercise)
        if signature:
            return "failed", f"{reason} ({signature})"
    return "failed", reason


def _signature_hint(text: str, loader: ModuleLoader, exercise: str) -> str:
    """For `f() takes 2 positional arguments...`: where the student's `f` is defined."""
    match = _CALLED.match(text)
    if not match:
        return ""
    for path in loader.files:
        if Path(path).parent.name != exercise:
            continue
        try:
            module = loader.load(exercise, Path(path).stem)
            func = getattr(module, match.group(1), None)
            if func is None:
                return ""
            line = inspect.getsourcelines(func)[1]
            return _("{file} line {line}: compare its signature with the README").format(file=Path(path).name,
                                                                                         line=line)
        except (StudentCodeError, OSError, TypeError):
            return ""
    return ""


def _first_line_of(report: pytest.TestReport) -> str:
    crash = getattr(report.longrepr, "reprcrash", None)
    return crash.message.splitlines()[0] if crash is not None else str(report.longrepr).strip().splitlines()[-1]


def _first_line(error: BaseException) -> str:
    try:
        text = str(error).strip()
    except Exception:  # a student exception whose __str__ raises
        text = ""
    return text.splitlines()[0] if text else ""


class OneLineRepr:
    """A failure shown as its one-line reason instead of a traceback into grader code; the student's own
    frames follow it when they were asked for (`--tb=long`)."""

    def __init__(self, message: str, item: pytest.Item, student_frames: str = ""):
        self.message = message
        self.student_frames = student_frames
        self.reprcrash = _Crash(message, str(item.path), item.location[1] or 0)

    def toterminal(self, tw) -> None:
        if self.student_frames:
            for line in self.student_frames.splitlines():
                tw.line(line)
        tw.line(self.message, red=True, bold=True)

    def __str__(self) -> str:
        return f"{self.student_frames}\n{self.message}" if self.student_frames else self.message


@dataclass
class _Crash:
    message: str
    path: str
    lineno: int
