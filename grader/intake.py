"""Taking in a submission: the one reader of what students hand in, for every grading path (`grader batch`,
`grader run/all --submission`, the Gradescope autograder, `grader report`, `grader submit`).

A submission is a folder or a .zip. Only the contract modules are read from it, in any of these layouts:

    05_cnn/cnn.py ...              shaped like exercises/ (what `grader submit` writes)
    wrap/05_cnn/cnn.py ...         the same under one or two wrapping folders (LMS downloads, "compress folder")
    cnn.py ...                     modules at the top (Gradescope's upload of single files), or under a wrapper
    05_cnn.ipynb, 05_cnn/05_cnn.ipynb, cnn.ipynb
                                   a notebook: its code cells become the module (`notebook_module`)

Folders and files whose names start with "." and `__pycache__`/`__MACOSX` are skipped. Nothing else is ever
read, copied or executed: no conftest.py, pytest.ini, sitecustomize.py or .pth file comes near grading. Zips
are never extracted; their contract members are read with bounded reads after the names are checked. What
intake refused or adjusted is said in one line each (`Submission.notes`). A `submission.json` manifest
(written by `grader submit`) is checked against the modules, never trusted: a mismatch is a note.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import stat
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath
from typing import Iterator

from grader.course import EXERCISE_NAME, CourseError
from grader.i18n import _

MAX_MODULE_BYTES = 1 << 20  # one student module (a notebook may be up to 8 times that: outputs)
MAX_NOTEBOOK_BYTES = 8 << 20
MAX_ZIP_BYTES = 512 << 20  # the archive on disk (only its directory and the contract members are read)
MAX_ENTRIES = 200_000  # files listed in a folder or a zip (a whole virtual environment handed in fits)
MAX_WRAPPERS = 2  # wrapping folders above the layout
SKIPPED = ("__MACOSX", "__pycache__")
MANIFEST = "submission.json"
CELLS_MARKER = "# grader: notebook cells"  # first line of a module made from a notebook (see grader.student)
CELL = "# %%"  # the percent format's cell marker (Jupytext, VS Code, Spyder)


@dataclass
class Submission:
    student: str
    entry: Path  # the folder or .zip it came from
    modules: dict[str, bytes] = field(default_factory=dict)  # "05_cnn/cnn.py" -> source
    notes: list[str] = field(default_factory=list)  # what intake refused or adjusted, one line each

    @property
    def hash(self) -> str:
        return modules_hash(self.modules)

    def write_to(self, folder: Path) -> None:
        """Lay the modules out as a submission folder: `folder/05_cnn/cnn.py`, ..."""
        for name, source in self.modules.items():
            path = folder / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(source)


def modules_hash(modules: dict[str, bytes]) -> str:
    """SHA-256 over the modules' names and contents, independent of order, folder or archive."""
    digest = hashlib.sha256()
    for name in sorted(modules):
        content = modules[name]
        digest.update(f"{name}\0{len(content)}\0".encode())
        digest.update(content)
    return digest.hexdigest()


HAND_IN_PREFIX = "submission-"  # `grader submit` writes submission-<student>.zip


def student_id(entry: Path) -> str:
    """The student a submission is from: its name, without `.zip` and the prefix `grader submit` adds."""
    name = entry.name[: -len(".zip")] if entry.name.lower().endswith(".zip") else entry.name
    return name.removeprefix(HAND_IN_PREFIX) if entry.name.lower().endswith(".zip") else name


def skipped(name: str) -> bool:
    return name.startswith(".") or name in SKIPPED


def discover(folder: Path) -> tuple[list[Path], list[str]]:
    """The submission entries of a class's folder (sub-folders and .zip files) and the names it ignored."""
    folder = Path(folder)
    if not folder.is_dir():
        raise CourseError(f"{folder}: no such folder of submissions")
    entries, ignored, seen = [], [], {}
    for path in sorted(folder.iterdir()):
        if skipped(path.name):
            continue
        if not (path.is_dir() or (path.is_file() and path.name.lower().endswith(".zip"))):
            ignored.append(path.name)
            continue
        student = student_id(path)
        if student in seen:
            raise CourseError(f"two submissions for student {student!r}: {seen[student].name} and {path.name}")
        seen[student] = path
        entries.append(path)
    return entries, ignored


def read(entry: Path, contract: dict[str, str], student: str | None = None) -> Submission:
    """The contract modules of one submission; `contract` maps each exercise graded to its module name."""
    entry = Path(entry)
    submission = Submission(student or student_id(entry), entry)
    try:
        if entry.is_dir():
            listing: Listing = _FolderListing(entry)
        elif entry.is_file() and entry.name.lower().endswith(".zip"):
            listing = _ZipListing(entry)
        else:
            submission.notes.append(_("{name} is neither a folder nor a .zip").format(name=entry.name))
            return submission
        with listing:
            _take(listing, contract, submission)
    except _Refused as refused:
        submission.modules.clear()
        submission.notes.append(str(refused))
    return submission


# --- the layout, the same for folders and zips -------------------------------------------------------------

class _Refused(Exception):
    """The whole submission is refused, for the reason given."""


class Listing:
    """The files of a submission (relative POSIX paths) and a bounded reader of each."""

    paths: list[str]

    def read(self, path: str, limit: int) -> bytes:
        raise NotImplementedError

    def __enter__(self):
        return self

    def __exit__(self, *exc) -> None:
        pass


def _take(listing: Listing, contract: dict[str, str], submission: Submission) -> None:
    paths = [p for p in listing.paths if not any(skipped(part) for part in PurePosixPath(p).parts)]
    found = _locate(paths, contract, submission)
    for name, (path, kind) in sorted(found.items()):
        limit = MAX_NOTEBOOK_BYTES if kind == "notebook" else MAX_MODULE_BYTES
        try:
            content = listing.read(path, limit)
        except _Unreadable as why:
            submission.notes.append(_("{path} refused: {why}").format(path=path, why=why))
            continue
        if kind == "notebook":
            try:
                content = notebook_module(json.loads(content)).encode()
            except (ValueError, KeyError, TypeError, AttributeError) as error:
                submission.notes.append(_("{path} refused: not a readable notebook ({error})").format(path=path, error=type(error).__name__))
                continue
            submission.notes.append(_("{module} taken from the notebook {path}").format(module=name, path=path))
        submission.modules[name] = content
    if MANIFEST in paths or any(p.endswith("/" + MANIFEST) for p in paths):
        _check_manifest(listing, paths, contract, submission)
    if not submission.modules and contract:
        shown = sorted({PurePosixPath(p).parts[0] for p in paths})[:5]
        expected = next(f"{ex}/{module}.py" for ex, module in sorted(contract.items()))
        holds = (_("it holds {names}").format(names=", ".join(shown) + (" ..." if len(paths) > 5 else ""))
                 if shown else _("it is empty"))
        submission.notes.append(_("no student module found: {holds}; expected e.g. {expected} (or {module}, or a "
                                  "notebook {notebook})").format(holds=holds, expected=expected,
                                                                 module=expected.split("/")[1],
                                                                 notebook=expected.split("/")[0] + ".ipynb"))


def _locate(paths: list[str], contract: dict[str, str], submission: Submission) -> dict[str, tuple[str, str]]:
    """Contract name ("05_cnn/cnn.py") -> (the path it is read from, "module" or "notebook")."""
    by_prefix: dict[str, dict[str, tuple[str, str]]] = {}
    ranks: dict[str, int] = {}
    layouts = []
    for exercise, module in contract.items():
        name = f"{exercise}/{module}.py"
        layouts += [(name, f"{exercise}/{module}.py", "module", 0), (name, f"{module}.py", "module", 1),
                    (name, f"{exercise}/{exercise}.ipynb", "notebook", 2), (name, f"{exercise}.ipynb", "notebook", 3),
                    (name, f"{exercise}/{module}.ipynb", "notebook", 2), (name, f"{module}.ipynb", "notebook", 3)]
    for path in paths:
        parts = PurePosixPath(path).parts
        for name, tail, kind, rank in layouts:
            depth = len(PurePosixPath(tail).parts)
            prefix = "/".join(parts[:-depth])
            if len(parts) - depth <= MAX_WRAPPERS and "/".join(parts[-depth:]) == tail:
                current = by_prefix.setdefault(prefix, {})
                if name not in current or rank < ranks[f"{prefix}\0{name}"]:
                    current[name] = (path, kind)
                    ranks[f"{prefix}\0{name}"] = rank
    if not by_prefix:
        _note_wrong_case(paths, contract, submission)
        return {}
    depth_of = {prefix: len(PurePosixPath(prefix).parts) for prefix in by_prefix}
    best = min(depth_of.values())
    shallowest = sorted(p for p, d in depth_of.items() if d == best)
    if len(shallowest) > 1:
        raise _Refused(_("refused: student modules under several folders ({folders})").format(folders=", ".join(shallowest)))
    prefix = shallowest[0]
    if prefix:
        submission.notes.append(_("modules taken from the wrapping folder {folder}/").format(folder=prefix))
    found = by_prefix[prefix]
    for name, (path, kind) in found.items():
        if kind == "module" and "/" not in path.removeprefix(prefix).strip("/"):
            submission.notes.append(_("{module} taken from {path} (a module at the top)").format(module=name, path=path))
    return found


def _note_wrong_case(paths: list[str], contract: dict[str, str], submission: Submission) -> None:
    wanted = {f"{ex}/{module}.py".lower(): f"{ex}/{module}.py" for ex, module in contract.items()}
    wanted.update({f"{module}.py".lower(): f"{ex}/{module}.py" for ex, module in contract.items()})
    for path in paths:
        for tail, name in wanted.items():
            if path.lower().endswith(tail) and not path.endswith(name.rsplit("/", 1)[-1]):
                submission.notes.append(_("found {path}, but the module must be named {module} exactly (names are "
                                          "case-sensitive)").format(path=path, module=name))
                return


def _check_manifest(listing: Listing, paths: list[str], contract: dict[str, str], submission: Submission) -> None:
    """`grader submit`'s manifest: its SHA-256 of each module must match what was read."""
    path = min((p for p in paths if p == MANIFEST or p.endswith("/" + MANIFEST)), key=len)
    try:
        manifest = json.loads(listing.read(path, 1 << 20))
        hashes = dict(manifest["modules"])
    except (_Unreadable, ValueError, KeyError, TypeError):
        submission.notes.append(_("{path} cannot be read: the hand-in cannot be verified").format(path=path))
        return
    for name, content in sorted(submission.modules.items()):
        if hashes.get(name) != hashlib.sha256(content).hexdigest():
            submission.notes.append(_("{module} changed after hand-in: its SHA-256 differs from {path}").format(module=name, path=path))
    for name in sorted(set(hashes) - set(submission.modules)):
        if name.split("/")[0] in contract:  # only what is graded now
            submission.notes.append(_("{module} is listed in {path} but was not found").format(module=name, path=path))


# --- notebooks ----------------------------------------------------------------------------------------------

def notebook_code_cells(notebook: dict) -> list[str]:
    """The code of a notebook's own code cells, in order: not the grader's setup cell, not its check cells
    (nbgrader's metadata says which those are: `grade`, or the grade id "setup")."""
    sources = []
    for cell in notebook["cells"]:
        meta = (cell.get("metadata") or {}).get("nbgrader") or {}
        if cell.get("cell_type") != "code" or meta.get("grade") or meta.get("grade_id") == "setup":
            continue
        source = cell.get("source", "")
        sources.append("".join(source) if isinstance(source, list) else str(source))
    return sources


def notebook_module(notebook: dict) -> str:
    """The module a notebook defines, in the percent format: each cell runs on its own when it is imported,
    and a cell that raises is skipped with a note, as nbgrader runs a notebook (see grader.student)."""
    cells = [_without_magics(source) for source in notebook_code_cells(notebook)]
    return CELLS_MARKER + "\n" + "".join(f"{CELL} cell {i}\n{source.rstrip()}\n" for i, source in enumerate(cells, 1))


_MAGIC = re.compile(r"^(\s*)([%!].*)$", re.M)


def _without_magics(source: str) -> str:
    """IPython's `%magic` and `!shell` lines become comments: they are not Python."""
    return _MAGIC.sub(r"\1# \2", source)


# --- folders and zips -----------------------------------------------------------------------------------

class _Unreadable(Exception):
    """One file cannot be taken (why in its message)."""


class _FolderListing(Listing):
    def __init__(self, root: Path):
        self.root = root
        self.paths = []
        for folder, dirs, files in os.walk(root):  # does not follow links to folders
            dirs[:] = sorted(d for d in dirs if not skipped(d))
            base = Path(folder).relative_to(root)
            self.paths += [(base / name).as_posix() for name in sorted(files)]
            if len(self.paths) > MAX_ENTRIES:
                raise _Refused(_("refused: more than {n} files").format(n=MAX_ENTRIES))

    def read(self, path: str, limit: int) -> bytes:
        full = self.root / path
        if any((self.root / part).is_symlink() for part in _ancestors(path)):
            raise _Unreadable(_("a symbolic link"))
        info = full.lstat()
        if not stat.S_ISREG(info.st_mode):
            raise _Unreadable(_("not a regular file"))
        if info.st_size > limit:
            raise _Unreadable(_("{size} bytes, more than {limit}").format(size=info.st_size, limit=limit))
        with open(full, "rb") as source:
            content = source.read(limit + 1)
        if len(content) > limit:
            raise _Unreadable(_("more than {limit} bytes").format(limit=limit))
        return content


def _ancestors(path: str) -> Iterator[str]:
    parts = PurePosixPath(path).parts
    for i in range(1, len(parts) + 1):
        yield "/".join(parts[:i])


_UNSAFE = re.compile(r"(^|/)\.\.(/|$)|^/|^[A-Za-z]:|\x00")


class _ZipListing(Listing):
    def __init__(self, path: Path):
        size = path.stat().st_size
        if size > MAX_ZIP_BYTES:
            raise _Refused(_("{name} refused: {size} bytes, more than {limit}").format(name=path.name, size=size, limit=MAX_ZIP_BYTES))
        try:
            self.archive = zipfile.ZipFile(path)
            members = self.archive.infolist()
        except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, ValueError) as error:
            raise _Refused(_("{name} cannot be read as a zip: {error}").format(name=path.name, error=error)) from None
        if len(members) > MAX_ENTRIES:
            raise _Refused(_("{name} refused: {n} members, more than {limit}").format(name=path.name, n=len(members), limit=MAX_ENTRIES))
        self.members: dict[str, list[zipfile.ZipInfo]] = {}
        for info in members:
            name = info.filename.replace("\\", "/")
            if info.is_dir() or _UNSAFE.search(name):
                continue
            self.members.setdefault(name, []).append(info)
        self.paths = sorted(self.members)

    def read(self, path: str, limit: int) -> bytes:
        infos = self.members[path]
        if len(infos) > 1:
            raise _Unreadable(_("the zip holds it {n} times").format(n=len(infos)))
        info = infos[0]
        if stat.S_ISLNK(info.external_attr >> 16):
            raise _Unreadable(_("a symbolic link in the zip"))
        if info.flag_bits & 0x1:
            raise _Unreadable(_("encrypted"))
        if info.file_size > limit:
            raise _Unreadable(_("not a file of at most {limit} bytes").format(limit=limit))
        try:
            with self.archive.open(info) as member:  # the declared size may lie: read one byte past the cap
                content = member.read(limit + 1)
        except (zipfile.BadZipFile, OSError, EOFError, ValueError, NotImplementedError) as error:
            raise _Unreadable(_("cannot be read from the zip ({error})").format(error=error)) from None
        if len(content) > limit:
            raise _Unreadable(_("more than {limit} bytes once decompressed").format(limit=limit))
        return content

    def __exit__(self, *exc) -> None:
        self.archive.close()
