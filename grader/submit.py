"""Handing in: the student modules of `exercises/` in the one layout `grader.intake` reads, with a manifest.

    modules = [check_module(ex) for ex in chosen]    # each module's source, or why it would certainly score 0
    refuse(modules, allow_stubs=False)               # raises `Refused` (one line) for any of those
    data = zip_bytes(members(modules, manifest(student, modules, public_checks(report))))

Nothing here imports student code: a module is compiled to find syntax errors, and its syntax tree tells a
stub. A module is still the untouched stub when every function in it, and every method but the constructors
(`__init__`, which stubs provide), does nothing but `raise NotImplementedError` (after its docstring). That
is the stub's defining property (every stub function body is that raise), not a comparison with the shipped
file: it holds in the course and in a student's clone alike, where git's HEAD may already hold the
student's own committed work, and after an editor re-saved the stub with other line endings or comments.
"""

from __future__ import annotations

import ast
import hashlib
import io
import json
import os
import re
import zipfile
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path

import grader
from grader import intake
from grader.course import CourseError, Exercise
from grader.errors import GraderError
from grader.i18n import _
from grader.results import Report

STUDENT_ID_FILE = ".grader-student-id"  # in the course root: the id asked once, one line
STUDENT_ID = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@-]{0,63}")  # it names the zip: no spaces, slashes or dots first
ZIP_TIME = (1980, 1, 1, 0, 0, 0)  # every member's timestamp: the same modules give the same bytes
_FUNCTIONS = (ast.FunctionDef, ast.AsyncFunctionDef)


class Refused(GraderError):
    """The hand-in would certainly score 0: nothing is written."""

    exit_code = 1


@dataclass
class Module:
    exercise: Exercise
    name: str  # "05_cnn/cnn.py": as intake names it, and as it lies in the zip
    shown: str  # "exercises/05_cnn/cnn.py": where the student finds it
    source: bytes | None = None  # None when it cannot be handed in
    problem: str = ""  # why it cannot be handed in (it would score 0 whatever the checks)
    unimplemented: str = ""  # how it is still the stub, "is still ..." (handed in only with --allow-stubs)


def contract_module(exercise: Exercise) -> str:
    """The module name the checks are written for: `cnn` from `test_cnn.py`, whatever the student's folder
    holds (it may hold `CNN.py` instead); the folder's one module when the check files do not tell."""
    names = {p.stem.removeprefix("test_").removesuffix("_hidden") for p in exercise.check_files}
    return names.pop() if len(names) == 1 else exercise.module


def check_module(exercise: Exercise) -> Module:
    """What `exercises/NN_name/` has to hand in for `exercise`."""
    file = f"{contract_module(exercise)}.py"
    module = Module(exercise, f"{exercise.name}/{file}", f"exercises/{exercise.name}/{file}")
    entries = os.listdir(exercise.path)  # the names as stored: a case-insensitive disk also answers for CNN.py
    wrong_case = sorted(name for name in entries if name.lower() == file.lower() and name != file)
    if wrong_case:
        found = f"exercises/{exercise.name}/{wrong_case[0]}"
        if file in entries:
            module.problem = _("{found} beside {file}: only {file} is graded; keep one of them, named {file}").format(
                found=found, file=file)
        else:
            module.problem = _("{found} must be named {file} exactly (names are case-sensitive when graded)").format(
                found=found, file=file)
        return module
    path = exercise.path / file
    if not path.is_file():
        module.problem = _("{module} is missing").format(module=module.shown)
        return module
    source = path.read_bytes()
    if len(source) > intake.MAX_MODULE_BYTES:
        module.problem = _("{module} is {size} bytes, more than the {limit} graded").format(
            module=module.shown, size=len(source), limit=intake.MAX_MODULE_BYTES)
        return module
    try:
        compile(source, module.shown, "exec", dont_inherit=True)  # as grader.student compiles it; nothing runs
    except SyntaxError as error:  # and reported as it reports it
        module.problem = _("{module} line {line}: {error}: {message}").format(
            module=module.shown, line=error.lineno, error=type(error).__name__, message=error.msg)
        return module
    except ValueError as error:  # null bytes, before Python 3.12
        module.problem = _("{module} cannot be compiled: {error}").format(module=module.shown, error=error)
        return module
    module.source = source
    module.unimplemented = _unimplemented(ast.parse(source))
    return module


def _unimplemented(tree: ast.Module) -> str:
    """Why the module is still the stub, or "" when some function of it is written."""
    functions = []
    for node in tree.body:
        if isinstance(node, _FUNCTIONS):
            functions.append(node)
        elif isinstance(node, ast.ClassDef):
            functions += [n for n in node.body if isinstance(n, _FUNCTIONS) and n.name != "__init__"]
    if not any(isinstance(node, (*_FUNCTIONS, ast.ClassDef)) for node in tree.body):
        return _("defines no function or class")
    if functions and all(_only_raises_not_implemented(f) for f in functions):
        return _("is still the untouched stub (every function raises NotImplementedError)")
    return ""


def _only_raises_not_implemented(function: ast.FunctionDef | ast.AsyncFunctionDef) -> bool:
    body = function.body
    if ast.get_docstring(function, clean=False) is not None:
        body = body[1:]
    if len(body) != 1 or not isinstance(body[0], ast.Raise) or body[0].exc is None:
        return False
    raised = body[0].exc.func if isinstance(body[0].exc, ast.Call) else body[0].exc
    return isinstance(raised, ast.Name) and raised.id == "NotImplementedError"


def refuse(modules: list[Module], allow_stubs: bool) -> None:
    """Raise `Refused`, in one line, when some module would certainly score 0 (stubs pass with `allow_stubs`)."""
    broken = [m for m in modules if m.problem]
    stubs = [m for m in modules if m.unimplemented and not allow_stubs]
    if broken:
        rest = [m.exercise.name for m in broken[1:] + stubs]
        more = " " + _("(and {n} more: {names})").format(n=len(rest), names=", ".join(rest)) if rest else ""
        raise Refused(_("nothing handed in: {problem}").format(problem=broken[0].problem) + more)
    if stubs:
        done = [m.exercise.name.split("_", 1)[0] for m in modules if not m.unimplemented]
        first = (_("hand in the others with `grader submit {names}`").format(names=" ".join(done)) if done
                 else _("implement something first"))
        hint = _("{first}, or pass --allow-stubs to hand them in anyway").format(first=first)
        if len(stubs) == 1:
            raise Refused(_("nothing handed in: {module} {why}: {hint}").format(
                module=stubs[0].shown, why=stubs[0].unimplemented, hint=hint))
        names = ", ".join(m.exercise.name for m in stubs)
        raise Refused(_("nothing handed in: {n} modules have nothing implemented yet ({names}): {hint}").format(
            n=len(stubs), names=names, hint=hint))


def public_checks(report: Report) -> dict[str, dict]:
    """The manifest's summary of the public checks: per exercise, checks passed of those graded, and points."""
    return {e.name: {"passed": e.passed, "checks": sum(c.outcome != "skipped" for c in e.checks),
                     "points": _number(e.score), "max_points": _number(e.max_score)} for e in report.exercises}


def _number(value: float) -> float | int:
    return int(value) if float(value).is_integer() else value


def manifest(student: str, modules: list[Module], checks: dict[str, dict]) -> dict:
    """`submission.json`: intake checks each module against its SHA-256 here (`intake._check_manifest`)."""
    time = datetime.now(timezone.utc).replace(microsecond=0)
    return {"student": student, "grader_version": grader.__version__,
            "modules": {m.name: hashlib.sha256(m.source).hexdigest() for m in sorted(modules, key=lambda m: m.name)},
            "time": time.isoformat().replace("+00:00", "Z"), "public_checks": checks}


def members(modules: list[Module], record: dict) -> dict[str, bytes]:
    """The zip's files: each module at `NN_name/module.py` and the manifest `record` at the top."""
    files = {m.name: m.source for m in modules}
    files[intake.MANIFEST] = (json.dumps(record, indent=2) + "\n").encode("utf-8")
    return files


def zip_bytes(files: dict[str, bytes]) -> bytes:
    """A zip of `files` whose bytes depend on nothing else: sorted members, fixed timestamps and modes."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name in sorted(files):
            info = zipfile.ZipInfo(name, date_time=ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.create_system = 3  # Unix, on every system: its mode bits below
            info.external_attr = 0o644 << 16
            archive.writestr(info, files[name], compresslevel=9)
    return buffer.getvalue()


def write_zip(out: Path, data: bytes, modules: list[Module]) -> None:
    """Write the zip to `out` once the one reader of submissions (`grader.intake`) takes from it exactly the
    modules handed in, without a note; a half-written zip never replaces an earlier one."""
    tmp = out.with_name(f".{out.stem}-writing.zip")
    out.parent.mkdir(parents=True, exist_ok=True)
    try:
        tmp.write_bytes(data)
        taken = intake.read(tmp, {m.exercise.name: contract_module(m.exercise) for m in modules})
        if taken.modules != {m.name: m.source for m in modules} or taken.notes:
            why = "; ".join(taken.notes) or "the modules differ"
            raise CourseError(f"the grader cannot read back the zip it wrote: {why}")
        os.replace(tmp, out)
    finally:
        tmp.unlink(missing_ok=True)


def valid_student_id(value: str) -> str:
    """`value` as a student id, or a CourseError that says what one may hold."""
    value = value.strip()
    if not STUDENT_ID.fullmatch(value):
        raise CourseError(_("student id {id}: use up to 64 letters, digits, '.', '_', '-' or '@', starting with a "
                            "letter or digit").format(id=repr(value)))
    return value


def remembered_student_id(root: Path) -> str | None:
    """The id kept in the course root's STUDENT_ID_FILE, or None when there is none."""
    path = root / STUDENT_ID_FILE
    if not path.is_file():
        return None
    lines = path.read_text(encoding="utf-8").splitlines()
    try:
        return valid_student_id(lines[0] if lines else "")
    except CourseError as error:
        raise CourseError(f"{path}: {error}; correct or delete it") from None


def remember_student_id(root: Path, student: str) -> None:
    (root / STUDENT_ID_FILE).write_text(student + "\n", encoding="utf-8")


def default_out(root: Path, student: str) -> Path:
    return root / f"submission-{student}.zip"


def check_out(out: Path) -> Path:
    if not out.name.lower().endswith(".zip"):
        raise CourseError(_("--out {out}: the file must end in .zip (graders read .zip files)").format(out=out))
    if out.is_dir():
        raise CourseError(_("--out {out} is a folder").format(out=out))
    return out

