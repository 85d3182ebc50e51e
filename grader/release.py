"""The student release: a self-contained copy of the course without solutions or hidden checks.

    write_release(root, out)          # what `grader release OUT` does
    scan(out, secrets(root, chosen))  # the proof: nothing from a hidden check or a solution is in `out`

What ships: each exercise's folder without its `*_hidden.py` files, the `grader` package, `datasets/`,
`pyproject.toml` (its pytest `testpaths` pointed at `exercises/`), `.gitignore` and `LICENSE` when they
exist, a generated README and a student tox.ini (cpu and cuda environments that grade `exercises/`). Nothing else: not `solutions/`, `tests/`, `docs/` or `.ci/`. The same
course gives the same bytes in every release (sorted, no timestamps, no caches).
"""

from __future__ import annotations

import ast
import hashlib
import json
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable, Sequence

from grader import course, i18n, limits
from grader.i18n import _
from grader.course import CourseError, Exercise
from grader.errors import GraderError

# Never copied, wherever they are.
SKIP_NAMES = frozenset({
    "__pycache__", ".pytest_cache", ".ipynb_checkpoints", ".mypy_cache", ".ruff_cache", ".tox", ".git",
    ".DS_Store", ".venv",
})
SKIP_SUFFIXES = (".pyc", ".pyo", ".egg-info")
TOP_FILES = ("pyproject.toml", ".gitignore", "LICENSE")  # copied when the course has them
KEPT_IN_OUT = frozenset({".git"})  # --force keeps OUT's .git: OUT can be the student repository you push
INSTRUCTOR_ONLY = ("solutions", "tests", "docs", ".ci")  # top-level folders that never ship
NEVER_INTO = ("exercises", "solutions", "grader", "datasets", "tests", "docs", ".ci", ".git", ".venv")

MIN_STRING = 20  # string constants of hidden checks at least this long are searched for
MIN_LINE = 30  # lines of a solution at least this long are searched for


@dataclass(frozen=True)
class Leak:
    path: str  # relative to the release
    kind: str  # "hidden file", "instructor folder", "hidden check name", "hidden check text", "solution code",
    #            "copy of" (a file byte-identical to a hidden check or solution file)
    token: str

    def __str__(self) -> str:
        token = self.token if len(self.token) <= 70 else self.token[:67] + "..."
        return f"{self.path}: {self.kind} {token!r}"


@dataclass
class Secrets:
    """What must not appear in a release: found in the hidden checks and the solutions."""

    names: set[str] = field(default_factory=set)  # hidden check functions/classes and hidden file stems
    strings: set[str] = field(default_factory=set)  # string constants of hidden checks (messages, hints, ...)
    lines: set[str] = field(default_factory=set)  # solution lines that no stub, public check or README has
    digests: dict[str, str] = field(default_factory=dict)  # sha256 -> source, of hidden and solution files

    @property
    def summary(self) -> str:
        return (f"{len(self.names)} hidden check names, {len(self.strings)} hidden check strings, "
                f"{len(self.lines)} solution lines, {len(self.digests)} whole files")


@dataclass
class Release:
    out: Path
    exercises: list[Exercise]
    files: list[str]  # relative paths, sorted
    size: int  # bytes
    public_checks: int
    warnings: list[str]
    leaks: list[Leak]
    secrets: Secrets


# --- what goes into a release ----------------------------------------------------------------------------

def _skipped(path: Path) -> bool:
    return path.name in SKIP_NAMES or path.name.endswith(SKIP_SUFFIXES)


def _tree(folder: Path, hidden: bool = False) -> Iterable[Path]:
    """Every file under `folder`, sorted, without caches, and never a hidden check unless `hidden`."""
    for path in sorted(folder.iterdir()):
        if _skipped(path) or (course.is_hidden(path.name) and not hidden):
            continue
        if path.is_dir():
            yield from _tree(path, hidden)
        elif path.is_file():
            yield path


def grader_package(root: Path) -> Path:
    """The course's own `grader/` folder, or the imported package when the course has none."""
    if (root / "grader" / "__init__.py").is_file():
        return root / "grader"
    import grader

    return Path(grader.__file__).resolve().parent


def is_hidden_catalog(path: Path) -> bool:
    """The hidden checks' translations (grader/locale/hidden.pot, <lang>/LC_MESSAGES/hidden.po and .mo) and
    their extraction mapping (babel-hidden.cfg)."""
    return (path.stem in ("hidden", "babel-hidden") and path.suffix in (".pot", ".po", ".mo", ".cfg")
            and "locale" in path.parts)


def course_tree(root: Path, chosen: Sequence[Exercise], *, hidden: bool = False) -> dict[str, Path]:
    """The course's files a copy of it needs, by relative path: the chosen exercises' folders (hidden checks only
    when `hidden`) and the other files of exercises/ (a shared conftest.py), the grader package and datasets/;
    never caches. What a student release and the Gradescope autograder are made of."""
    files: dict[str, Path] = {}
    names = {ex.name for ex in chosen}
    exercises_dir = root / "exercises"
    for path in _tree(exercises_dir, hidden):
        rel = path.relative_to(exercises_dir)
        if len(rel.parts) > 1 and course.EXERCISE_NAME.match(rel.parts[0]) and rel.parts[0] not in names:
            continue
        files[f"exercises/{rel.as_posix()}"] = path
    package = grader_package(root)
    for path in _tree(package):
        if hidden or not is_hidden_catalog(path):
            files[f"grader/{path.relative_to(package).as_posix()}"] = path
    if (root / "datasets").is_dir():
        for path in _tree(root / "datasets"):
            files[f"datasets/{path.relative_to(root / 'datasets').as_posix()}"] = path
    return files


def plan(root: Path, chosen: Sequence[Exercise]) -> tuple[dict[str, Path | bytes], list[str]]:
    """The release as {relative path: source file or generated bytes}, and warnings about the course."""
    warnings: list[str] = []
    broken = {}
    for ex in chosen:
        try:
            ex.module  # raises unless the folder holds exactly one student module
        except CourseError as error:
            broken[ex.name] = error
    if broken:
        first = next(iter(broken.values()))
        ready = " ".join(ex.name for ex in chosen if ex.name not in broken)
        hint = f"; to release only the others: grader release OUT {ready}" if ready else ""
        raise CourseError(f"{first}{hint}")
    for ex in chosen:
        if not (ex.path / "README.md").is_file():
            warnings.append(f"{ex.name} has no README.md")
        if not [f for f in ex.check_files if not course.is_hidden(f)]:
            warnings.append(f"{ex.name} has no public checks")
    files: dict[str, Path | bytes] = dict(course_tree(root, chosen))
    if not (root / "datasets").is_dir():
        warnings.append("the course has no datasets/ folder")
    for name in TOP_FILES:
        if (root / name).is_file():
            files[name] = root / name
    if "pyproject.toml" not in files:
        raise CourseError(f"{root / 'pyproject.toml'} is missing: a release needs it to install and to run pytest")
    files["pyproject.toml"] = release_pyproject((root / "pyproject.toml").read_text(encoding="utf-8")).encode()
    if limits.TIMINGS in files:
        files[limits.TIMINGS] = public_timings(root, chosen, warnings)
    files[course.HIDDEN_SUMMARY] = hidden_summary(root, chosen)
    for language in i18n.LANGUAGES:
        files["README.md" if language == "en" else f"README.{language.replace('_', '-')}.md"] = student_readme(
            chosen, language).encode()
    files["tox.ini"] = STUDENT_TOX.encode()
    return dict(sorted(files.items())), warnings


STUDENT_TOX = """\
# Your exercises in a fresh environment, on the CPU or on a GPU.
#   tox -e cpu    grade every exercise on the CPU (GPU-only checks are skipped with a reason)
#   tox -e cuda   grade every exercise on the GPU; stops at once, in one line, without a GPU
# CPU-only torch wheels: PIP_EXTRA_INDEX_URL=https://download.pytorch.org/whl/cpu tox -e cpu

[tox]
requires = tox>=4
envlist = cpu

[testenv]
package = editable
passenv = PIP_INDEX_URL, PIP_EXTRA_INDEX_URL, PIP_FIND_LINKS

[testenv:cpu]
commands = grader all --device cpu {posargs}

[testenv:cuda]
commands = grader all --device cuda {posargs}
"""


_PYTEST_SECTION = re.compile(r"^\[tool\.pytest\.ini_options\][ \t]*$", re.M)
_TESTPATHS = re.compile(r"^testpaths[ \t]*=[ \t]*(\[[^\]]*\]|[^\n]*)[^\n]*$", re.M)  # arrays may span lines


def release_pyproject(text: str) -> str:
    """pyproject.toml with pytest's `testpaths` pointing at `exercises/` (the release has no `tests/`)."""
    section = _PYTEST_SECTION.search(text)
    if section is None:
        return text.rstrip("\n") + '\n\n[tool.pytest.ini_options]\ntestpaths = ["exercises"]\n'
    end = re.compile(r"^\[", re.M).search(text, section.end())
    stop = end.start() if end else len(text)
    body = text[section.end():stop]
    if _TESTPATHS.search(body):
        body = _TESTPATHS.sub('testpaths = ["exercises"]', body, count=1)
    else:
        body = '\ntestpaths = ["exercises"]' + body
    return text[:section.end()] + body + text[stop:]


def hidden_summary(root: Path, chosen: Sequence[Exercise]) -> bytes:
    """For the release's scoreboard: how many hidden checks and points each exercise has (no names)."""
    from grader import session  # imports torch

    summary: dict[str, dict] = {}
    for meta in session.collect(root, chosen):
        if meta.hidden:
            entry = summary.setdefault(meta.exercise, {"checks": 0, "points": 0.0})
            entry["checks"] += 1
            entry["points"] += meta.points
    return (json.dumps(summary, indent=1, sort_keys=True) + "\n").encode()


def public_timings(root: Path, chosen: Sequence[Exercise], warnings: list[str]) -> bytes:
    """The course's reference times (grader/limits.py) of the public checks of the chosen exercises only."""
    timings = limits.Timings.load(root)
    public = {str(f.relative_to(root).as_posix()) for ex in chosen for f in ex.check_files if not course.is_hidden(f)}
    timings.checks = {cid: t for cid, t in timings.checks.items() if cid.split("::")[0] in public}
    untimed = [name for name in sorted(public) if not any(cid.startswith(name + "::") for cid in timings.checks)]
    if untimed:
        warnings.append(f"no reference times for {', '.join(untimed)}: run `grader check` to measure them")
    with tempfile.TemporaryDirectory() as tmp:
        (Path(tmp) / "exercises").mkdir()
        return timings.save(Path(tmp)).read_bytes()


def _title(ex: Exercise, suffix: str = "") -> str:
    readme = ex.path / f"README{suffix}.md"
    if readme.is_file():
        for line in readme.read_text(encoding="utf-8").splitlines():
            if line.startswith("# "):
                return line[2:].strip()
    return ""


def student_readme(chosen: Sequence[Exercise], language: str) -> str:
    """The release's README.md (English) or README.<language>.md: how to install, work, check and hand in."""
    example = next((ex for ex in chosen if ex.name == "05_cnn"), chosen[0] if chosen else None)
    name = example.name if example else "05_cnn"
    with i18n.language(language):
        suffix = "" if language == "en" else f".{language.replace('_', '-')}"
        rows = "\n".join(
            f"| [{ex.name}](exercises/{ex.name}/README{suffix}.md) | `exercises/{ex.name}/{ex.module}.py` | "
            f"{_title(ex, suffix)} |" for ex in chosen)
        other = "[中文](README.zh-CN.md)" if language == "en" else "[English](README.md)"
        return other + "\n\n" + _("""\
# PyTorch course: exercises

Each folder in `exercises/` is one exercise. Read its `README.md`, fill in every function marked
`# TODO` in its module (the only file you edit), and run its checks until they pass.

## Install

You need Python 3.10 or newer. In this folder:

```
python -m venv .venv
source .venv/bin/activate          # Windows: .venv\\Scripts\\activate
pip install -e .
```

This installs PyTorch, the other libraries the course uses, and the `grader` command. It runs on
Linux, macOS and Windows.

## Check your work

```
pytest exercises/{name}            # one exercise's checks, with pytest's own output
grader run {name}                  # the same checks as a scoreboard with points
grader watch {name}                # the checks again every time you save the module
grader all                         # every exercise
grader list                        # the exercises and the module you edit in each
grader submit                      # the zip to hand in
```

A check that fails says what it expected and what it got, in one line; `pytest --tb=long` or
`grader run -v` also shows where in your code it went wrong. Untouched functions fail with "not
implemented yet". Every check is seeded: `grader all --seed 0` replays a run exactly. Messages are in
Chinese with `--lang zh_CN` (or a Chinese locale).

## Exercises

| exercise | the module you edit | topic |
|---|---|---|
{rows}

## How you are graded

Your instructor grades `exercises/NN_name/<module>.py` with the checks you have here and with further
checks that are not part of this repository: the scoreboard says, for each exercise, how many checks and
points those are. Only your module files are used, so keep all your work in them, and do not rename the
functions and classes the README asks for. `grader submit` makes the zip to hand in: it takes exactly
those files, and refuses one that would certainly score 0.

## Data

`datasets/` holds the data the exercises use (no download needed); `grader` verifies it against
`datasets/SHA256SUMS`. `python datasets/make_datasets.py` rebuilds it byte for byte (it needs
scikit-learn: `pip install scikit-learn`).
""").format(name=name, rows=rows)


# --- writing it ------------------------------------------------------------------------------------------

def _check_out(root: Path, out: Path, force: bool) -> None:
    root, target = root.resolve(), out.resolve()
    if target == root or target in root.parents:
        raise CourseError(f"{out} holds the course itself: release into a folder outside it")
    for name in NEVER_INTO:
        folder = root / name
        if target == folder or folder in target.parents:
            raise CourseError(f"{out} is inside the course's {name}/: release somewhere else")
    if target == Path.home().resolve() or target == Path(target.anchor):
        raise CourseError(f"refusing to release into {out}: choose a folder of its own")
    if target.exists() and not target.is_dir():
        raise CourseError(f"{out} exists and is not a folder")
    if target.is_dir() and not force and any(p.name not in KEPT_IN_OUT for p in target.iterdir()):
        raise CourseError(f"{out} is not empty: pass --force to replace what is in it")


def _clear(out: Path) -> None:
    for path in sorted(out.iterdir()):
        if path.name in KEPT_IN_OUT:
            continue
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path)
        else:
            path.unlink()


class ReleaseRefused(GraderError):
    """A stub would ship filled in; the release is not written."""

    exit_code = 1


def modified_stubs(root: Path, chosen: Sequence[Exercise]) -> list[str]:
    """The stubs (exercises/NN/module.py) that differ from their committed version, when the course is a git
    checkout; and those that pass a hidden check (so they are no stub), whatever git says."""
    root = Path(root)
    found = []
    for ex in chosen:
        rel = f"exercises/{ex.name}/{ex.module}.py"
        try:
            committed = subprocess.run(["git", "-C", str(root), "show", f"HEAD:{rel}"], capture_output=True,
                                       timeout=30)
        except (OSError, subprocess.TimeoutExpired):
            break  # no git here: the hidden checks below still decide
        if committed.returncode == 0 and committed.stdout != (root / rel).read_bytes():
            found.append(f"{rel} (differs from its committed version)")
    from grader import session  # imports torch: only a release needs it

    report = session.grade(root, chosen)
    passing = sorted({c.exercise for c in report.checks if c.hidden and c.outcome == "passed"})
    known = {f.split(" ", 1)[0] for f in found}
    found += [f"{rel} (passes a hidden check)" for rel in (f"exercises/{name}/{course.select(root, [name])[0].module}.py"
                                                           for name in passing) if rel not in known]
    return found


def write_release(root: Path, out: Path, names: Sequence[str] = (), *, force: bool = False,
                  allow_modified_stubs: bool = False) -> Release:
    """Write the student release of the exercises named (all by default) to `out`, then scan it for leaks.

    `out` must be missing or empty (a lone `.git` folder counts as empty) unless `force`; with `force`
    everything in it but a `.git` folder is replaced, so a second release of the same course gives the same
    tree. A stub that was filled in (see `modified_stubs`) refuses the release unless `allow_modified_stubs`.
    """
    root = Path(root)
    chosen = course.select(root, list(names))
    if not chosen:
        raise CourseError(f"no exercises in {root / 'exercises'}")
    _check_out(root, Path(out), force)
    if not allow_modified_stubs:
        modified = modified_stubs(root, chosen)
        if modified:
            raise ReleaseRefused(f"refusing to release filled-in stubs: {'; '.join(modified)} "
                                 f"(restore them, or pass --allow-modified-stubs)")
    files, warnings = plan(root, chosen)
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    _clear(out)
    size = 0
    for rel, source in files.items():
        dest = out / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(source, bytes):
            dest.write_bytes(source)
        else:
            shutil.copyfile(source, dest)
            shutil.copymode(source, dest)
        size += dest.stat().st_size
    found = secrets(root, chosen)
    public = sum(1 for rel in files if rel.startswith("exercises/") and Path(rel).name.startswith("test_"))
    return Release(out, chosen, list(files), size, public, warnings, scan(out, found), found)


# --- the proof: nothing hidden in it ---------------------------------------------------------------------

def _parse(path: Path) -> ast.Module | None:
    try:
        return ast.parse(path.read_text(encoding="utf-8"), str(path))
    except (SyntaxError, ValueError, UnicodeDecodeError):
        return None


def _public_text(root: Path, exercises: Sequence[Exercise]) -> tuple[str, set[str]]:
    """What students may see anyway: the stubs, public checks and READMEs (text, and its stripped lines),
    with the public modules' strings as Python joins them (a message written over several lines)."""
    texts = []
    for ex in exercises:
        for path in sorted(ex.path.iterdir()):
            if path.is_file() and not course.is_hidden(path) and path.suffix in (".py", ".md"):
                texts.append(path.read_text(encoding="utf-8", errors="replace"))
                if path.suffix == ".py" and (tree := _parse(path)) is not None:
                    texts += [node.value for node in ast.walk(tree)
                              if isinstance(node, ast.Constant) and isinstance(node.value, str)]
    text = "\n".join(texts)
    return text, {line.strip() for line in text.splitlines()}


def secrets(root: Path, chosen: Sequence[Exercise]) -> Secrets:
    """Collect what identifies the hidden checks and the solutions of the chosen exercises.

    Hidden check names and file names are searched as whole words and count wherever they appear, even in
    a README. Strings of hidden checks and lines of solutions count only when the public files (stubs,
    public checks, READMEs) of any exercise do not already contain them: a message shared with a public
    check (the grader's catalog ships every public check's messages), or a public file's name, is no secret.
    """
    public, public_lines = _public_text(root, course.exercises(root))
    public_names = {p.name for ex in chosen for p in ex.path.iterdir() if not course.is_hidden(p)}
    found = Secrets()
    for ex in chosen:
        for path in sorted(ex.path.rglob("*_hidden.py")):
            data = path.read_bytes()
            found.digests[hashlib.sha256(data).hexdigest()] = str(path.relative_to(root))
            found.names.add(path.stem)
            tree = _parse(path)
            if tree is None:
                continue
            found.names.update(_check_names(tree))
            for node in ast.walk(tree):
                if isinstance(node, ast.Constant) and isinstance(node.value, str):
                    text = node.value.strip()
                    if len(text) >= MIN_STRING and text not in public and text not in public_names:
                        found.strings.add(text)
        solution = root / "solutions" / ex.name
        if solution.is_dir():
            for path in sorted(p for p in solution.rglob("*") if p.is_file() and not _skipped(p)):
                data = path.read_bytes()
                found.digests[hashlib.sha256(data).hexdigest()] = str(path.relative_to(root))
                for line in data.decode("utf-8", errors="replace").splitlines():
                    line = line.strip()
                    if line.startswith(("import ", "from ")):
                        continue  # imports tell nothing, and the grader package shares many of them
                    if len(line) >= MIN_LINE and line not in public_lines and line not in public:
                        found.lines.add(line)
    return found


def _check_names(tree: ast.Module) -> set[str]:
    """The names pytest collects as checks: module-level `test*` functions, `Test*` classes and their `test*`
    methods (not a helper nested in a check, which may be called anything)."""
    names = set()
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)) and node.name.startswith("test"):
            names.add(node.name)
        elif isinstance(node, ast.ClassDef) and node.name.startswith("Test"):
            names.add(node.name)
            names.update(n.name for n in node.body
                         if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef)) and n.name.startswith("test"))
    return names


def scan(out: Path, found: Secrets) -> list[Leak]:
    """Every file of `out` (text or not) searched for hidden check files, names, strings and solution code."""
    out = Path(out)
    names = re.compile(rb"(?<![A-Za-z0-9_])(" + b"|".join(re.escape(n.encode()) for n in sorted(found.names)) +
                       rb")(?![A-Za-z0-9_])") if found.names else None
    texts = [("hidden check text", s.encode()) for s in sorted(found.strings)]
    texts += [("solution code", s.encode()) for s in sorted(found.lines)]
    leaks: list[Leak] = []
    for path in sorted(p for p in out.rglob("*") if p.is_file() and ".git" not in p.relative_to(out).parts):
        rel = path.relative_to(out).as_posix()
        if course.is_hidden(path.name):
            leaks.append(Leak(rel, "hidden file", path.name))
        if Path(rel).parts[0] in INSTRUCTOR_ONLY:
            leaks.append(Leak(rel, "instructor folder", Path(rel).parts[0]))
        data = path.read_bytes()
        digest = hashlib.sha256(data).hexdigest()
        if digest in found.digests:
            leaks.append(Leak(rel, "copy of", found.digests[digest]))
        if names is not None:
            leaks += [Leak(rel, "hidden check name", m.decode()) for m in sorted(set(names.findall(data)))]
        leaks += [Leak(rel, kind, token.decode()) for kind, token in texts if token in data]
    return leaks
