"""The exercise contract, checked in one place (by `grader check`, the release and the course's own tests).

The contract is `../shared/CURRICULUM.md`, copied to docs/curriculum.md: each exercise's folder and module and
the public names students write; and the layout every exercise keeps: exactly one student module, a README,
public and hidden checks, a reference solution, and a stub whose every function raises NotImplementedError
naming the exercise, under the marker `# TODO: Implement for NN_name.`.
"""

from __future__ import annotations

import ast
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

from grader import course
from grader.course import CourseError, Exercise

_HEADING = re.compile(r"^###\s+(\d\d_[a-z0-9_]+)\s+\S+\s+module\s+`([A-Za-z_][\w]*\.py)`")
_NAME = re.compile(r"^-\s+`([A-Za-z_]\w*)")


@dataclass
class Entry:
    exercise: str  # "05_cnn"
    module: str  # "cnn.py"
    names: list[str] = field(default_factory=list)


def parse_curriculum(text: str) -> list[Entry]:
    """`### NN_name — module `x.py`` headings, and the backticked names that start their `- ` bullets."""
    contracts: list[Entry] = []
    current: Entry | None = None
    for line in text.splitlines():
        if line.startswith("#"):
            match = _HEADING.match(line)
            current = Entry(match.group(1), match.group(2)) if match else None
            if current:
                contracts.append(current)
            continue
        match = _NAME.match(line)
        if current is not None and match and match.group(1) not in current.names:
            current.names.append(match.group(1))
    return contracts


def module_level_names(tree: ast.Module) -> set[str]:
    """Names bound by the module's own statements (defs, classes, assignments, imports), not inside functions."""
    names: set[str] = set()

    def bind(target: ast.AST) -> None:
        if isinstance(target, ast.Name):
            names.add(target.id)
        elif isinstance(target, (ast.Tuple, ast.List)):
            for element in target.elts:
                bind(element)
        elif isinstance(target, ast.Starred):
            bind(target.value)

    def visit(statements: list[ast.stmt]) -> None:
        for node in statements:
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                names.add(node.name)
            elif isinstance(node, ast.Assign):
                for target in node.targets:
                    bind(target)
            elif isinstance(node, (ast.AnnAssign, ast.AugAssign)):
                bind(node.target)
            elif isinstance(node, (ast.Import, ast.ImportFrom)):
                for alias in node.names:
                    names.add(alias.asname or alias.name.split(".")[0])
            for body in ("body", "orelse", "finalbody"):  # if / try / with / for / while at module level
                if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
                    visit(getattr(node, body, []) or [])
            for handler in getattr(node, "handlers", []) or []:
                visit(handler.body)

    visit(tree.body)
    return names


@dataclass
class Findings:
    problems: list[str] = field(default_factory=list)
    summary: str = ""


def layout_problems(root: Path, exercise: Exercise) -> list[str]:
    """What an exercise's folder lacks for the layout contract (nothing: an empty list)."""
    problems = []
    try:
        module = exercise.module
    except CourseError as error:
        return [str(error)]
    if not (exercise.path / "README.md").is_file():
        problems.append(f"{exercise.name} has no README.md")
    if not any(not course.is_hidden(f) for f in exercise.check_files):
        problems.append(f"{exercise.name} has no public checks (test_{module}.py)")
    if not any(course.is_hidden(f) for f in exercise.check_files):
        problems.append(f"{exercise.name} has no hidden checks (test_{module}_hidden.py)")
    if not (root / "solutions" / exercise.name / f"{module}.py").is_file():
        problems.append(f"solutions/{exercise.name}/{module}.py is missing")
    stub = (exercise.path / f"{module}.py").read_text(encoding="utf-8")
    if f"# TODO: Implement for {exercise.name}." not in stub:
        problems.append(f"exercises/{exercise.name}/{module}.py has no `# TODO: Implement for {exercise.name}.` marker")
    if f'raise NotImplementedError("{exercise.name}: implement' not in stub:
        problems.append(f"exercises/{exercise.name}/{module}.py raises no NotImplementedError naming {exercise.name}")
    return problems


def check(root: Path, curriculum: Path, chosen: Sequence[Exercise], selected: bool = False) -> Findings:
    """The layout of the chosen exercises, and the curriculum's names in their stubs and solutions. Every chosen
    exercise must be in the curriculum; with `selected` (some exercises named), only theirs are checked."""
    found = Findings()
    for ex in chosen:
        found.problems += layout_problems(root, ex)
    if not curriculum.is_file():
        found.problems.append(f"no curriculum at {curriculum} (choose one with --curriculum)")
        return found
    contracts = parse_curriculum(curriculum.read_text(encoding="utf-8"))
    if not contracts:
        found.problems.append(f"{curriculum} has no `### NN_name — module `x.py`` headings")
        return found
    names = {ex.name for ex in chosen}
    found.problems += [f"{name} is not in the curriculum ({curriculum.name})"
                       for name in sorted(names - {c.exercise for c in contracts})]
    if selected:
        contracts = [c for c in contracts if c.exercise in names]
    checked = 0
    for entry in contracts:
        for kind in ("exercises", "solutions"):
            path = root / kind / entry.exercise / entry.module
            shown = f"{kind}/{entry.exercise}/{entry.module}"
            if not path.is_file():
                found.problems.append(f"{shown} is missing")
                continue
            try:
                tree = ast.parse(path.read_text(encoding="utf-8"), str(path))
            except (SyntaxError, ValueError, UnicodeDecodeError) as error:
                found.problems.append(f"{shown} cannot be parsed: {error}")
                continue
            missing = [name for name in entry.names if name not in module_level_names(tree)]
            if missing:
                found.problems.append(f"{shown} does not define {', '.join(missing)}")
            checked += 1
    found.summary = (f"{sum(len(c.names) for c in contracts)} names of {len(contracts)} exercises found in "
                     f"{checked} modules; the layout of {len(chosen)} exercises holds")
    return found
