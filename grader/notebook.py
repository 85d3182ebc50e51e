"""What the cells of the course's Jupyter notebooks call: the notebook's namespace graded as the student module.

A notebook made by `grader notebooks` starts with a setup cell and ends with one test cell per check:

    from grader import notebook as _grader_nb
    _grader_nb.setup("05_cnn", module="cnn", grader_version="0.1.0")     # the first cell
    ...
    _grader_nb.check("05_cnn", "test_cnn.py::test_conv2d_notes_example")  # a public check's cell
    _grader_nb.check("05_cnn", hidden="5d1c0e9a7b3f")                     # a hidden check's cell

`check` builds the student module from the notebook's globals (what its code cells defined) and grades it
with the very check files and plugin that `grader run` uses (same ids, seeds and points), through
`session.grade(..., modules=...)`. A check that does not pass raises `AssertionError` with the check's one-line
message, so that nbgrader gives its cell 0 points. Hidden checks are named by an opaque id only.

Where the course is: `$GRADER_COURSE_ROOT`, else the folder the `grader` package sits in (a checkout or a
student release installed with `pip install -e`). Settings, read from the kernel's environment:
`GRADER_SEED` (default 0), `GRADER_DEVICE` (cpu, cuda, mps or auto; default cpu), `GRADER_HIDDEN_FEEDBACK`
(`message`, the default, or `outcome`: a failing hidden check then says only that it failed) and `GRADER_LANG`
(en or zh_CN; default: the locale's).
"""

from __future__ import annotations

import ast
import os
import re
import sys
import tempfile
import types
from dataclasses import dataclass
from pathlib import Path

import grader
from grader import checks as _checks  # binds the comparison functions before student code runs
from grader import course, i18n, session
from grader.course import CourseError, check_key
from grader.errors import DataError, GraderError
from grader.metadata import DEVICES
from grader.i18n import _
from grader.results import CheckResult, format_points, hidden_id
from grader.scoreboard import STATUS

ROOT_VARIABLE = "GRADER_COURSE_ROOT"
ALIAS = "_grader_nb"  # the name test cells import this module as
IPYTHON_NAMES = frozenset({"In", "Out", "get_ipython", "exit", "quit"})


class NotebookSetupError(GraderError, RuntimeError):
    """The kernel cannot grade this notebook: no course, no data, or another grader version."""


# --- where the course is, and whether this kernel can grade it ----------------------------------------

def course_root() -> Path:
    """The course checkout (or student release) whose check files the notebooks run."""
    configured = os.environ.get(ROOT_VARIABLE)
    root = Path(configured).expanduser() if configured else Path(grader.__file__).resolve().parent.parent
    where = f"{ROOT_VARIABLE}={configured}" if configured else f"the folder of the grader package ({root})"
    if not (root / "exercises").is_dir():
        raise NotebookSetupError(
            f"no course at {where}: it has no exercises/ folder. Install the course itself into this kernel "
            f"(`pip install -e COURSE_FOLDER`) or set {ROOT_VARIABLE} to the course folder, then restart the kernel"
        )
    if not (root / "pyproject.toml").is_file():
        raise NotebookSetupError(f"the course at {root} has no pyproject.toml (the checks' pytest settings)")
    return root


def _data_problem() -> str | None:
    from grader import data

    folder = data.data_dir()
    try:
        listed = data.checksums(folder)
    except DataError:
        return f"the course data is missing: no {folder / 'SHA256SUMS'} (set COURSE_DATA_DIR to the course's datasets/ folder)"
    missing = [name for name in listed if not (folder / name).is_file()]
    if missing:
        return f"the course data in {folder} is incomplete: {len(missing)} files missing, e.g. {missing[0]}"
    return None


_READY: set[tuple[Path, str]] = set()  # (course root, exercise) found complete, data included


def ready(exercise: str, module: str | None = None) -> Path:
    """The course root, once the course, the exercise and the data are there; raises `NotebookSetupError`."""
    root = course_root()
    if (root, exercise) in _READY and module is None:
        return root
    folder = root / "exercises" / exercise
    if not folder.is_dir():
        raise NotebookSetupError(f"the course at {root} has no exercise {exercise}: is it the right course?")
    try:
        found = course.student_module_name(folder)
    except CourseError as error:
        raise NotebookSetupError(str(error)) from None
    if module is not None and found != module:
        raise NotebookSetupError(
            f"this notebook is {exercise}/{module}.py, but the course's {exercise} has {found}.py: "
            "regenerate the notebooks with `grader notebooks`"
        )
    problem = _data_problem()
    if problem:
        raise NotebookSetupError(problem)
    _READY.add((root, exercise))
    return root


def setup(exercise: str, module: str | None = None, grader_version: str | None = None) -> None:
    """The notebook's first cell: say what is wrong, loudly, before any check could silently score 0."""
    __tracebackhide__ = True
    grader_cell(sys._getframe(1).f_globals)
    if grader_version is not None and grader_version != grader.__version__:
        raise NotebookSetupError(
            f"this notebook was made by grader {grader_version}, but this kernel has grader {grader.__version__} "
            f"({Path(grader.__file__).parent}): install grader {grader_version} or regenerate the notebooks"
        )
    root = ready(exercise, module)
    print(_("grader {version} is ready to check {exercise} (course: {root})").format(
        version=grader.__version__, exercise=exercise, root=root))


# --- the notebook's namespace as the student module --------------------------------------------------

def student_module(name: str, namespace: dict) -> types.ModuleType:
    """A module holding what the notebook defined (its public globals), named like the student module."""
    module = types.ModuleType(name)
    files = set()
    main = namespace.get("__name__", "__main__")
    for key, value in namespace.items():
        if key.startswith("_") or key in IPYTHON_NAMES:
            continue
        module.__dict__[key] = value
        if getattr(value, "__module__", None) == main:
            files.update(_code_files(value))
    module.__student_files__ = sorted(files)
    return module


def notebook_source(namespace: dict) -> str:
    """The code the notebook ran, in the order it ran (from IPython's input history), without the setup and
    check cells; empty outside IPython."""
    history = namespace.get("In")
    if not isinstance(history, list):
        return ""
    cells = [text for index, text in enumerate(history) if isinstance(text, str) and text.strip()
             and not _neutral(namespace, index) and _parses(text)]
    return "\n\n".join(cells) + "\n"


def _parses(text: str) -> bool:
    try:
        ast.parse(text)
        return True
    except (SyntaxError, ValueError):
        return False


def _code_files(value: object) -> set[str]:
    members = vars(value).values() if isinstance(value, type) else (value,)
    files = set()
    for member in members:
        if isinstance(member, property):
            member = member.fget
        member = getattr(member, "__func__", member)  # staticmethod, classmethod
        code = getattr(member, "__code__", None)
        if isinstance(code, types.CodeType):
            files.add(code.co_filename)
    return files


# --- running the checks --------------------------------------------------------------------------------

@dataclass(frozen=True)
class Settings:
    seed: int | None
    device: str
    hidden_feedback: str
    lang: str

    @classmethod
    def from_environment(cls) -> Settings:
        seed = os.environ.get("GRADER_SEED", "").strip()
        device = os.environ.get("GRADER_DEVICE", "cpu").strip() or "cpu"
        feedback = os.environ.get("GRADER_HIDDEN_FEEDBACK", "message").strip() or "message"
        if seed and not re.fullmatch(r"-?\d+", seed):
            raise NotebookSetupError(f"GRADER_SEED={seed!r} is not an integer")
        if device not in DEVICES:
            raise NotebookSetupError(f"GRADER_DEVICE={device!r}: choose {', '.join(DEVICES)}")
        if feedback not in ("message", "outcome"):
            raise NotebookSetupError(f"GRADER_HIDDEN_FEEDBACK={feedback!r}: choose message or outcome")
        try:
            lang = i18n.set_language(os.environ.get("GRADER_LANG", "").strip() or None)
        except ValueError as error:
            raise NotebookSetupError(f"GRADER_LANG: {error}") from None
        return cls(int(seed) if seed else None, device, feedback, lang)


def grader_cell(namespace: dict) -> None:
    """Remember that the cell running now is one of ours (the setup or a check cell): it changes nothing the
    notebook defines, so it is left out of the notebook's code and does not make earlier results stale."""
    index = _cell_index(namespace)
    if index >= 0:
        _GRADER_CELLS.setdefault(id(namespace), set()).add(index)


def _neutral(namespace: dict, index: int) -> bool:
    """Cell `index` of the input history cannot have changed what the notebook defines: one of ours, or one
    with no statement at all (a released hidden check's comment)."""
    if index in _GRADER_CELLS.get(id(namespace), set()):
        return True
    source = namespace["In"][index]
    try:
        return isinstance(source, str) and not ast.parse(source).body
    except SyntaxError:
        return False


_GRADER_CELLS: dict[int, set[int]] = {}  # id(namespace) -> indices in `In` of the cells that called us


@dataclass
class _Run:
    root: Path
    namespace_id: int
    settings: Settings
    cell: int  # index in IPython's `In` of the cell that ran the checks; -1 outside IPython
    results: dict[str, CheckResult]


_RUNS: dict[tuple[str, bool], _Run] = {}


def _cell_index(namespace: dict) -> int:
    history = namespace.get("In")
    return len(history) - 1 if isinstance(history, list) and history else -1


def _still_valid(run: _Run, namespace: dict, settings: Settings) -> bool:
    """Nothing but check cells ran since `run`'s cell (itself a check cell): its results still hold."""
    if run.namespace_id != id(namespace) or run.settings != settings or run.cell < 0 or run.root != course_root():
        return False
    history = namespace.get("In")
    now = _cell_index(namespace)
    if not isinstance(history, list) or now < run.cell:
        return False
    return all(_neutral(namespace, i) for i in range(run.cell, now + 1))


def run_checks(exercise: str, namespace: dict, *, hidden: bool,
               settings: Settings | None = None) -> dict[str, CheckResult]:
    """Grade `namespace` as `exercise`'s student module: its public checks, or all of them (`hidden=True`).

    Results by check key. Inside IPython the results are kept while only check cells run, so that a
    notebook's test cells share one grading session instead of starting one each.
    """
    settings = settings or Settings.from_environment()
    run = _RUNS.get((exercise, hidden))
    if run is not None and _still_valid(run, namespace, settings):
        return run.results
    root = ready(exercise)
    ex = course.select(root, [exercise])[0]
    module = student_module(ex.module, namespace)
    # The submission holds only the notebook's code as a file, for checks that read the module's source
    # (`student.__file__`); were the preloaded module ever missed, that code is what would be graded.
    with tempfile.TemporaryDirectory(prefix="grader-notebook-") as submission:
        path = Path(submission) / ex.name / f"{ex.module}.py"
        path.parent.mkdir()
        path.write_text(notebook_source(namespace), encoding="utf-8")
        module.__file__ = str(path)
        report = session.grade(root, [ex], submission=Path(submission), seed=settings.seed, device=settings.device,
                              hidden=hidden, modules={ex.name: module})
    results = {check_key(c.id): c for c in report.checks}
    _RUNS[(exercise, hidden)] = _Run(root, id(namespace), settings, _cell_index(namespace), results)
    return results


def check(exercise: str, name: str | None = None, *, hidden: str | None = None, namespace: dict | None = None) -> None:
    """One test cell: run check `name` (`test_cnn.py::test_x`), or the hidden check with opaque id `hidden`,
    against the notebook's code. Prints a line when it passes; raises `AssertionError` when it does not."""
    __tracebackhide__ = True
    if (name is None) == (hidden is None):
        raise TypeError("check() takes a check name or hidden=ID, not both")
    if namespace is None:
        namespace = sys._getframe(1).f_globals
    grader_cell(namespace)
    settings = Settings.from_environment()
    results = run_checks(exercise, namespace, hidden=hidden is not None, settings=settings)
    if hidden is None:
        result = results.get(name)
        label = name
    else:
        result = next((c for key, c in results.items() if c.hidden and hidden_id(exercise, key) == hidden), None)
        label = _("hidden check {id}").format(id=hidden)
    if result is None:
        broken = [c for c in results.values() if "::" not in c.id and c.outcome == "error"]
        if broken:  # a check file that cannot even be collected
            raise AssertionError(broken[0].message)
        raise NotebookSetupError(
            _("{exercise} has no check {label} in the course at {root}: the checks changed since this notebook "
              "was made; regenerate the notebooks with `grader notebooks`").format(
                exercise=exercise, label=label, root=course_root()))
    points = _("{points}/{max} points").format(points=format_points(result.points),
                                                max=format_points(result.max_points))
    if result.outcome == "passed":
        print(_("passed: {check} ({points})").format(check=label, points=points))
        return
    outcome = _(STATUS[result.outcome])
    if result.hidden and settings.hidden_feedback == "outcome":
        raise AssertionError(_("hidden check {outcome} ({points})").format(outcome=outcome, points=points))
    if result.outcome == "skipped":
        raise AssertionError(_("skipped, so no points: {reason}").format(reason=result.message))
    message = result.message or outcome
    raise AssertionError(message if result.outcome == "failed" else f"{outcome}: {message}")
