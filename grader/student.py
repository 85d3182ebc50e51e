"""Loading the student module of an exercise from the graded target, and pointing at student code."""

from __future__ import annotations

import functools
import sys
import types
from dataclasses import dataclass
from pathlib import Path
from typing import Callable

from grader.i18n import _
from grader.intake import CELL, CELLS_MARKER
from grader.results import submission_target


class StudentCodeError(Exception):
    """The student's module cannot be used at all (missing, syntax error, raises on import)."""


@dataclass(frozen=True)
class Target:
    """What is graded: `exercises/` (the stubs or a student's working copy), `solutions/`, or a submission."""

    kind: str  # "exercises", "solutions" or "submission"
    path: Path

    @property
    def label(self) -> str:
        return self.kind if self.kind != "submission" else submission_target(self.path)


@dataclass(frozen=True)
class Location:
    file: str
    line: int
    function: str

    def __str__(self) -> str:
        if self.function == "<module>":
            return _("{file} line {line}").format(file=Path(self.file).name, line=self.line)
        return _("{file} line {line}, in {function}").format(file=Path(self.file).name, line=self.line,
                                                              function=self.function)


def innermost_student_frame(tb: types.TracebackType | None, student_files: set[str]) -> Location | None:
    """The deepest traceback frame that runs in one of `student_files`."""
    found = None
    while tb is not None:
        code = tb.tb_frame.f_code
        if code.co_filename in student_files:
            found = Location(code.co_filename, tb.tb_lineno, getattr(code, "co_qualname", code.co_name))
        tb = tb.tb_next
    return found


class ModuleLoader:
    """Imports each student module once per grading session, turning every way it can break into one line."""

    def __init__(self, target: Target):
        self.target = target
        self._modules: dict[Path, types.ModuleType | StudentCodeError] = {}
        self._preloaded_files: set[str] = set()
        self.notes: list[str] = []  # what loading wants the reader of the results to know, one line each
        self._watched: dict[str, dict[str, Callable[[str], None]]] = {}  # exercise -> {qualname: on call}

    @property
    def files(self) -> set[str]:
        return {str(path) for path in self._modules} | self._preloaded_files

    def preload(self, exercise: str, module: types.ModuleType) -> None:
        """Grade `module`, built elsewhere (e.g. from a notebook's namespace), as `exercise`'s student module.

        Its `__name__` is the student module's name; `__student_files__`, if set, lists the files its code
        was compiled from (so that failures inside it are reported as the student's).
        """
        path = (self.target.path / exercise / f"{module.__name__}.py").absolute()
        self._modules[path] = module
        self._preloaded_files.update(getattr(module, "__student_files__", ()))

    def on_call(self, exercise: str, qualname: str, callback: Callable[[str], None]) -> None:
        """Call `callback(qualname)` whenever the student's function `qualname` ("conv2d", "SimpleCNN.forward")
        of `exercise` is called from now on (it is wrapped in its module or class)."""
        self._watched.setdefault(exercise, {})[qualname] = callback
        for path, module in self._modules.items():
            if path.parent.name == exercise and isinstance(module, types.ModuleType):
                _wrap(module, qualname, callback)

    def load(self, exercise: str, module_name: str) -> types.ModuleType:
        path = (self.target.path / exercise / f"{module_name}.py").absolute()
        if path not in self._modules:
            try:
                self._modules[path] = self._import(path, exercise, module_name)
                for qualname, callback in self._watched.get(exercise, {}).items():
                    _wrap(self._modules[path], qualname, callback)
            except StudentCodeError as error:
                self._modules[path] = error
        result = self._modules[path]
        if isinstance(result, StudentCodeError):
            raise result
        return result

    def _import(self, path: Path, exercise: str, module_name: str) -> types.ModuleType:
        shown = f"{exercise}/{module_name}.py"
        if not path.is_file():
            raise StudentCodeError(_("{module} is missing from {target}").format(module=shown, target=self.target.label))
        try:
            source = path.read_bytes()
            cells = source.startswith(CELLS_MARKER.encode())
            code = None if cells else compile(source, str(path), "exec", dont_inherit=True)
        except SyntaxError as error:
            raise StudentCodeError(_("{module} line {line}: {error}: {message}").format(
                module=shown, line=error.lineno, error=type(error).__name__, message=error.msg)) from None
        except (OSError, ValueError) as error:
            raise StudentCodeError(_("{module} cannot be read: {error}").format(module=shown, error=error)) from None
        module = types.ModuleType(module_name)
        module.__file__ = str(path)
        # Registered under its plain name so that pickling a student's class works as when they run it.
        sys.modules[module_name] = module
        if cells:
            self._run_cells(source.decode("utf-8", errors="replace"), path, shown, module)
            return module
        try:
            exec(code, module.__dict__)
        except BaseException as error:  # SystemExit and KeyboardInterrupt from student code included
            if isinstance(error, KeyboardInterrupt) and not _raised_in(error, str(path)):
                raise
            where = innermost_student_frame(error.__traceback__, {str(path)})
            module_line = _("{module} line {line}").format(module=shown, line=where.line) if where else shown
            raise StudentCodeError(_("{module}: importing it raised {error}: {message}").format(
                module=module_line, error=type(error).__name__, message=_first_line(error))) from None
        return module

    def _run_cells(self, source: str, path: Path, shown: str, module: types.ModuleType) -> None:
        """A module made from a notebook (`grader.intake.notebook_module`): each cell runs on its own, and one
        that raises is skipped, as nbgrader does; what it raised becomes a note."""
        lines = source.splitlines(keepends=True)
        starts = [i for i, line in enumerate(lines) if line.startswith(CELL)] + [len(lines)]
        for number, (start, end) in enumerate(zip(starts, starts[1:]), 1):
            try:
                # Padded with blank lines so that line numbers are the file's.
                code = compile("\n" * start + "".join(lines[start:end]), str(path), "exec", dont_inherit=True)
                exec(code, module.__dict__)
            except BaseException as error:
                if isinstance(error, KeyboardInterrupt) and not _raised_in(error, str(path)):
                    raise
                self.notes.append(_("{module}: notebook cell {number} (line {line}) raised {error}: {message}; it "
                                    "was skipped, as nbgrader does").format(module=shown, number=number,
                                                                            line=start + 1, error=type(error).__name__,
                                                                            message=_first_line(error)))


def _wrap(module: types.ModuleType, qualname: str, callback: Callable[[str], None]) -> None:
    owner, *path = [module, *qualname.split(".")[:-1]]
    for name in path:
        owner = getattr(owner, name, None)
    name = qualname.rsplit(".", 1)[-1]
    function = owner.__dict__.get(name) if owner is not None and hasattr(owner, "__dict__") else None
    if not callable(function) or getattr(function, "__grader_watched__", False):
        return

    @functools.wraps(function)
    def watched(*args, **kwargs):
        callback(qualname)
        return function(*args, **kwargs)

    watched.__grader_watched__ = True
    setattr(owner, name, watched)


def _raised_in(error: BaseException, file: str) -> bool:
    return innermost_student_frame(error.__traceback__, {file}) is not None


def _first_line(error: BaseException) -> str:
    text = str(error).strip()
    return text.splitlines()[0] if text else _("(no message)")
