"""The course as nbgrader notebooks: `grader notebooks OUT` writes an nbgrader course directory.

    OUT/nbgrader_config.py
    OUT/source/05_cnn/05_cnn.ipynb      # one per exercise; `nbgrader generate_assignment 05_cnn` releases it

A source notebook holds, in order:
- the exercise's README as markdown, and a note on how the notebook is graded;
- a locked setup cell that checks the kernel can grade (grader importable, same version, course and data);
- the stub module, cut into cells (imports first, then one cell per top-level function or class). A cell
  whose stub the reference solution changes is a solution cell: the stub's text, then the solution's own
  definitions of the same names inside `### BEGIN SOLUTION` / `### END SOLUTION`. Run, the solution
  redefines the stub; released, with `ClearSolutions.code_stub` set to nothing, the region shrinks to one
  blank line. So the released code is the stub, line for line, plus blank lines: `release_code()`
  reproduces that and `write_course` refuses to write a notebook for which it is not so;
- one locked test cell per check (a parametrised case is a check), worth the points the grader gives it,
  calling `grader.notebook.check` (see there). A hidden check's cell holds only a comment in the release:
  its call, with an opaque id, is inside `### BEGIN HIDDEN TESTS` / `### END HIDDEN TESTS`.

Nothing here needs Jupyter or nbgrader: notebooks are written as plain nbformat 4 JSON.
Checks that need a CUDA GPU get no cell (see `collect_checks`).
"""

from __future__ import annotations

import ast
import copy
import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path


from grader import __version__, course, i18n
from grader.course import CourseError, Exercise
from grader.intake import notebook_code_cells
from grader.metadata import CheckMeta
from grader.notebook import ALIAS
from grader.i18n import _, ngettext
from grader.results import format_points, hidden_id

BEGIN_SOLUTION, END_SOLUTION = "### BEGIN SOLUTION", "### END SOLUTION"
BEGIN_HIDDEN, END_HIDDEN = "### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS"
CODE_STUB = ""  # what nbgrader puts where a solution region was: nothing (one blank line)
KERNELSPEC = {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}
EXECUTE_TIMEOUT = 1800  # seconds per cell: the first check cell grades every check (each has its own limit)


def config_source(course_id: str) -> str:
    """OUT/nbgrader_config.py."""
    return f"""\
\"\"\"nbgrader settings of the course written by `grader notebooks` (grader {__version__}).\"\"\"

c = get_config()  # nbgrader provides it

c.CourseDirectory.course_id = {course_id!r}

# A solution region is replaced by nothing, so that the released code is exactly the stub module.
c.ClearSolutions.code_stub = {{"python": {CODE_STUB!r}}}

# The first check cell of a notebook grades all of its checks in one go; each check has its own time limit.
c.Execute.timeout = {EXECUTE_TIMEOUT}
"""


# --- the checks of an exercise, as the grader collects them ------------------------------------------

def collect_checks(root: Path, exercises: Sequence[Exercise]) -> dict[str, list[CheckMeta]]:
    """Each exercise's checks (public, then hidden, in the grader's order) with their points. A check that
    needs a CUDA GPU has no cell: notebooks are graded where the kernel runs, on the CPU (a skipped check
    would cost its points in nbgrader, while `grader` does not offer them)."""
    from grader import session

    found: dict[str, list[CheckMeta]] = {ex.name: [] for ex in exercises}
    for meta in session.collect(root, exercises):
        if meta.exercise in found and not meta.cuda:
            found[meta.exercise].append(meta)
    for infos in found.values():
        infos.sort(key=lambda info: info.hidden)  # stable: public first, each in collection order
    return found


# --- the stub and the solution, cut into cells -----------------------------------------------------

@dataclass
class CodeCell:
    stub: str  # a slice of the stub module, verbatim
    solution: list[str] = field(default_factory=list)  # solution statements that redefine it, verbatim
    names: list[str] = field(default_factory=list)  # the top-level names the stub slice defines

    @property
    def source(self) -> str:
        if not self.solution:
            return self.stub
        region = "\n\n".join(self.solution)
        return (f"{self.stub}\n{BEGIN_SOLUTION}\n# The reference solution: it redefines the stub above, and the "
                f"students' notebook does not have it.\n{region}\n{END_SOLUTION}")


def _first_line(node: ast.stmt) -> int:
    return min([node.lineno] + [d.lineno for d in getattr(node, "decorator_list", [])])


def _chunks(source: str, tree: ast.Module) -> list[tuple[int, int, ast.stmt]]:
    """(first line, end line, statement) of each top-level statement; a chunk owns the comment lines
    directly above it (no blank line between), 1-based and inclusive."""
    lines = source.splitlines()
    chunks = []
    previous_end = 0
    for node in tree.body:
        start = _first_line(node)
        while start - 1 > previous_end and lines[start - 2].strip().startswith("#"):
            start -= 1
        chunks.append((start, node.end_lineno, node))
        previous_end = node.end_lineno
    return chunks


def _bound_names(node: ast.stmt) -> set[str]:
    if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
        return {node.name}
    if isinstance(node, (ast.Import, ast.ImportFrom)):
        return {(alias.asname or alias.name).split(".")[0] for alias in node.names}
    targets = []
    if isinstance(node, ast.Assign):
        targets = node.targets
    elif isinstance(node, (ast.AnnAssign, ast.AugAssign)):
        targets = [node.target]
    return {n.id for t in targets for n in ast.walk(t) if isinstance(n, ast.Name)}


def _is_docstring(node: ast.stmt) -> bool:
    return isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant) and isinstance(node.value.value, str)


def _without_docstrings(node: ast.AST) -> str:
    """The statement's AST, docstrings removed: a solution item equal to the stub's in this sense is not repeated."""
    node = copy.deepcopy(node)
    for sub in ast.walk(node):
        body = getattr(sub, "body", None)
        definition = isinstance(sub, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef, ast.Module))
        if definition and body and _is_docstring(body[0]):
            sub.body = body[1:] or [ast.Pass()]
    return ast.dump(node)


def split_module(stub: str, solution: str) -> list[CodeCell]:
    """Cut the stub into cells and put each solution statement that differs from the stub after the stub's
    definition of the same names (never before a cell already used, so the solution keeps its order)."""
    stub_tree, solution_tree = ast.parse(stub), ast.parse(solution)
    lines = stub.splitlines()
    chunks = _chunks(stub, stub_tree)
    starts = [1]
    for start, _, node in chunks:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)) and start > 1:
            starts.append(start)
    starts = sorted(set(starts))
    bounds = list(zip(starts, starts[1:] + [len(lines) + 1]))
    cells = [CodeCell("\n".join(lines[a - 1 : b - 1]).rstrip()) for a, b in bounds]
    cell_of: dict[str, int] = {}
    for start, _, node in chunks:
        index = max(i for i, (a, _) in enumerate(bounds) if a <= start)
        for name in _bound_names(node):
            cell_of[name] = max(cell_of.get(name, 0), index)
            cells[index].names.append(name)
    same = {_without_docstrings(node) for _, _, node in chunks}
    solution_lines = solution.splitlines()
    current = 0
    for start, end, node in _chunks(solution, solution_tree):
        if node is solution_tree.body[0] and _is_docstring(node):
            continue  # the module docstring: the stub's is the one students read
        if _without_docstrings(node) in same:
            continue
        place = max([current] + [cell_of[name] for name in _bound_names(node) if name in cell_of])
        cells[place].solution.append("\n".join(solution_lines[start - 1 : end]))
        current = place
    return [cell for cell in cells if cell.stub.strip() or cell.solution]


def release_code(source: str) -> str:
    """What `nbgrader generate_assignment` makes of a source cell: solution regions -> CODE_STUB lines,
    hidden test regions removed (the same rules as nbgrader's ClearSolutions and ClearHiddenTests)."""
    out, region = [], None
    for line in source.split("\n"):
        if BEGIN_SOLUTION.removeprefix("### ") in line:
            region = "solution"
            indent = re.match(r"\s*", line).group(0)
            out.extend(indent + stub_line for stub_line in CODE_STUB.split("\n"))
        elif BEGIN_HIDDEN.removeprefix("### ") in line:
            region = "hidden"
        elif END_SOLUTION.removeprefix("### ") in line or END_HIDDEN.removeprefix("### ") in line:
            region = None
        elif region is None:
            out.append(line)
    return "\n".join(out)


def same_code(a: str, b: str) -> bool:
    """Equal modules: the same AST (docstrings included) and the same non-blank lines."""
    def lines(text: str) -> list[str]:
        return [line.rstrip() for line in text.splitlines() if line.strip()]
    return ast.dump(ast.parse(a)) == ast.dump(ast.parse(b)) and lines(a) == lines(b)


# --- notebook cells --------------------------------------------------------------------------------

def _source_lines(text: str) -> list[str]:
    return text.splitlines(keepends=True)


def _nbgrader(grade_id: str, *, grade: bool = False, solution: bool = False, locked: bool = False,
              points: float | None = None) -> dict:
    meta = {"grade": grade, "grade_id": grade_id, "locked": locked, "schema_version": 3, "solution": solution,
            "task": False}
    if points is not None:
        meta["points"] = points
    return {"nbgrader": meta}


def _cell_id(grade_id: str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]", "-", grade_id)[:64]


def markdown_cell(text: str, grade_id: str, metadata: dict | None = None) -> dict:
    return {"cell_type": "markdown", "id": _cell_id(grade_id), "metadata": metadata or {},
            "source": _source_lines(text)}


def code_cell(text: str, grade_id: str, metadata: dict | None = None) -> dict:
    return {"cell_type": "code", "execution_count": None, "id": _cell_id(grade_id), "metadata": metadata or {},
            "outputs": [], "source": _source_lines(text)}


def _grade_id(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]+", "_", text).strip("_")[:100]


def setup_source(exercise: str, module: str) -> str:
    return f'''\
# Grading setup (do not edit): checks that this kernel has the course's grader, its checks and its data.
try:
    from grader import notebook as {ALIAS}
except Exception as error:
    raise RuntimeError(
        "this kernel cannot import the course's grader package ({{}}: {{}}): install the course into the "
        "kernel's environment (pip install -e COURSE_FOLDER) and restart the kernel".format(type(error).__name__, error)
    ) from None
{ALIAS}.setup({exercise!r}, module={module!r}, grader_version={__version__!r})'''


def check_source(exercise: str, info: CheckMeta, number: int) -> str:
    points = ngettext("{n} point", "{n} points", int(info.points) if info.points == int(info.points) else 2).format(
        n=format_points(info.points))
    call = f"from grader import notebook as {ALIAS}\n{ALIAS}.check({json.dumps(exercise)}, "
    if not info.hidden:
        return "# " + _("Check {check} ({points}).").format(check=info.key, points=points) + \
            f"\n{call}{json.dumps(info.key)})"
    return ("# " + _("Hidden check {n} ({points}): it runs when your work is graded.").format(n=number, points=points)
            + f"\n{BEGIN_HIDDEN}\n{call}hidden={json.dumps(hidden_id(exercise, info.key))})\n{END_HIDDEN}")


def intro(exercise: Exercise, public: int, hidden: int, points: float) -> str:
    return _("""\
## Working in this notebook

The code cells below are `{module}.py` of {exercise}: fill in every function marked `# TODO`, exactly as you
would in the file. Run the setup cell first, then your cells, then the check cells at the end: each runs one of
the course's checks (the same ones `grader run {exercise}` runs) on the code this notebook has defined, and fails
with a message saying what is wrong.

{public} public check(s) below run here; {hidden} hidden check(s) run only when your work is graded ({points}
points in all).""").format(module=exercise.module, exercise=exercise.name, public=public, hidden=hidden,
                           points=format_points(points))


def readme(exercise: Exercise) -> str:
    """The exercise's README in the current language (README.zh-CN.md beside README.md), else in English."""
    language = i18n.current()
    names = ([f"README.{language.replace('_', '-')}.md"] if language != "en" else []) + ["README.md"]
    for name in names:
        if (exercise.path / name).is_file():
            return (exercise.path / name).read_text(encoding="utf-8")
    return f"# {exercise.name}"


def build_notebook(root: Path, exercise: Exercise, checks: list[CheckMeta]) -> dict:
    """The source notebook of `exercise`, as nbformat 4 JSON."""
    stub_path = exercise.path / f"{exercise.module}.py"
    solution_path = root / "solutions" / exercise.name / f"{exercise.module}.py"
    if not solution_path.is_file():
        raise CourseError(f"{exercise.name} has no reference solution: {solution_path} is missing")
    if not checks:
        raise CourseError(f"{exercise.name} has no checks")
    stub, solution = stub_path.read_text(encoding="utf-8"), solution_path.read_text(encoding="utf-8")
    try:
        code = split_module(stub, solution)
    except SyntaxError as error:
        raise CourseError(f"{exercise.name}: cannot parse {Path(error.filename or '?').name} line {error.lineno}: "
                          f"{error.msg}") from None
    cells = [
        markdown_cell(readme(exercise), "readme"),
        markdown_cell(intro(exercise, sum(not c.hidden for c in checks), sum(c.hidden for c in checks),
                            sum(c.points for c in checks)), "intro"),
        code_cell(setup_source(exercise.name, exercise.module), "setup", _nbgrader("setup", locked=True)),
    ]
    used: set[str] = set()
    for index, cell in enumerate(code):
        grade_id = _grade_id(f"code_{'_'.join(cell.names) or index}")
        grade_id = grade_id if grade_id not in used else f"{grade_id}_{index}"
        used.add(grade_id)
        metadata = _nbgrader(grade_id, solution=True) if cell.solution else {}
        cells.append(code_cell(cell.source, grade_id, metadata))
    cells.append(markdown_cell(_("## Checks\n\nRun these after your code; each is worth the points it names."),
                               "checks"))
    hidden_number = 0
    for number, info in enumerate(checks, 1):
        hidden_number += info.hidden
        name = info.key.split("::", 1)[-1]
        grade_id = f"hidden_{hidden_number:02d}" if info.hidden else _grade_id(f"check_{number:02d}_{name}")
        cells.append(code_cell(check_source(exercise.name, info, hidden_number), grade_id,
                               _nbgrader(grade_id, grade=True, locked=True, points=info.points)))
    notebook = {"cells": cells, "metadata": {"kernelspec": KERNELSPEC, "language_info": {"name": "python"}},
                "nbformat": 4, "nbformat_minor": 5}
    released = notebook_code(notebook, release=True)
    if not same_code(released, stub):
        raise CourseError(f"{exercise.name}: the released notebook's code would not be the stub {stub_path.name} "
                          "(a bug in the notebook generator)")
    return notebook


def notebook_code(notebook: dict, *, release: bool = False) -> str:
    """The module a notebook defines: its code cells other than the setup and test cells, in order."""
    sources = notebook_code_cells(notebook)
    return "\n\n".join(release_code(text) if release else text for text in sources) + "\n"


# --- the course directory ---------------------------------------------------------------------------

@dataclass
class Written:
    path: Path
    checks: int
    points: float


def write_course(root: Path, out: Path, names: Sequence[str] = (), *, course_id: str = "pytorch-course",
                 force: bool = False) -> list[Written]:
    """Write OUT/nbgrader_config.py and OUT/source/<exercise>/<exercise>.ipynb for the chosen exercises.

    Files that exist with other content are only replaced with `force`."""
    chosen = course.select(root, list(names))
    if not chosen:
        raise CourseError(f"no exercises in {root / 'exercises'}")
    out = Path(out)
    inside = [root / name for name in ("exercises", "solutions", "grader", "datasets", "tests")]
    if out.resolve() == root.resolve() or any(f == out.resolve() or f in out.resolve().parents for f in inside):
        raise CourseError(f"{out} is the course itself or one of its folders: choose another directory")
    checks = collect_checks(root, chosen)
    files: dict[Path, str] = {out / "nbgrader_config.py": config_source(course_id)}
    written = []
    for ex in chosen:
        notebook = build_notebook(root, ex, checks[ex.name])
        path = out / "source" / ex.name / f"{ex.name}.ipynb"
        files[path] = json.dumps(notebook, indent=1, ensure_ascii=False) + "\n"
        written.append(Written(path, len(checks[ex.name]), sum(c.points for c in checks[ex.name])))
    clashes = [p for p, text in files.items() if p.exists() and p.read_text(encoding="utf-8") != text]
    if clashes and not force:
        raise CourseError(f"{clashes[0]} exists with other content ({len(clashes)} such files): "
                          "use --force to replace them")
    for path, text in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return written


def released_notebook(notebook: dict) -> dict:
    """What `nbgrader generate_assignment` makes of a source notebook, as far as cell sources go."""
    released = copy.deepcopy(notebook)
    for cell in released["cells"]:
        if cell["cell_type"] == "code":
            cell["source"] = _source_lines(release_code("".join(cell["source"])))
    return released


def release_leaks(root: Path, paths: Sequence[Path]) -> list:
    """Hidden check names and text and solution code (see `grader.release.scan`) in the notebooks' releases."""
    import tempfile

    from grader import release

    chosen = course.select(root, sorted({Path(p).parent.name for p in paths}))
    found = release.secrets(root, chosen)
    with tempfile.TemporaryDirectory(prefix="grader-notebooks-") as tmp:
        for path in paths:
            notebook = released_notebook(json.loads(Path(path).read_text(encoding="utf-8")))
            folder = Path(tmp) / Path(path).parent.name
            folder.mkdir(parents=True, exist_ok=True)
            (folder / Path(path).name).write_text(json.dumps(notebook, indent=1), encoding="utf-8")
            text = "\n".join("".join(cell["source"]) for cell in notebook["cells"])  # unescaped, for text searches
            (folder / (Path(path).stem + ".txt")).write_text(text, encoding="utf-8")
        return release.scan(Path(tmp), found)
