"""Taking in a class's submissions: one folder or .zip per student, of which only the contract modules are read.

A submission is shaped like `exercises/`: `05_cnn/cnn.py`, ... (optionally under one wrapping folder, as LMS
downloads and "compress folder" make them). Nothing else in it is ever read, copied or executed: no
conftest.py, pytest.ini, sitecustomize.py or .pth file comes near the grading process. Zips are never
extracted; their contract members are read with bounded reads after the names are checked.
"""

from __future__ import annotations

import hashlib
import re
import stat
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from grader.course import EXERCISE_NAME, CourseError

MAX_MODULE_BYTES = 1 << 20  # one student module
MAX_ZIP_BYTES = 512 << 20  # the archive on disk (only its directory and the contract members are read)
MAX_ZIP_MEMBERS = 20_000
IGNORED_TOP = ("__MACOSX",)


@dataclass
class Submission:
    student: str
    entry: Path  # the folder or .zip it came from
    modules: dict[str, bytes] = field(default_factory=dict)  # "05_cnn/cnn.py" -> source
    notes: list[str] = field(default_factory=list)  # what intake refused or adjusted, for the instructor

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


def student_id(entry: Path) -> str:
    return entry.name[: -len(".zip")] if entry.name.lower().endswith(".zip") else entry.name


def discover(folder: Path) -> tuple[list[Path], list[str]]:
    """The submission entries of `folder` (sub-folders and .zip files) and the names it ignored."""
    folder = Path(folder)
    if not folder.is_dir():
        raise CourseError(f"{folder}: no such folder of submissions")
    entries, ignored, seen = [], [], {}
    for path in sorted(folder.iterdir()):
        if path.name.startswith(".") or path.name in IGNORED_TOP:
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


def read(entry: Path, contract: dict[str, str]) -> Submission:
    """The contract modules of one submission; `contract` maps each exercise graded to its module name."""
    wanted = {f"{exercise}/{module}.py" for exercise, module in contract.items()}
    submission = Submission(student_id(entry), entry)
    if entry.is_dir():
        _read_folder(entry, wanted, submission)
    else:
        _read_zip(entry, wanted, submission)
    if not submission.modules and wanted:
        submission.notes.append(f"no student module found (expected e.g. {sorted(wanted)[0]})")
    return submission


# --- folders -----------------------------------------------------------------------------------------------


def _read_folder(entry: Path, wanted: set[str], submission: Submission) -> None:
    base = entry
    if not any(_lexists(entry / name) for name in wanted):
        inner = [p for p in entry.iterdir() if not p.name.startswith(".") and p.name not in IGNORED_TOP]
        wrapper = inner[0] if len(inner) == 1 else None
        if wrapper and wrapper.is_dir() and not wrapper.is_symlink() and not EXERCISE_NAME.match(wrapper.name):
            base = wrapper
            submission.notes.append(f"modules taken from the wrapping folder {inner[0].name}/")
    for name in sorted(wanted):
        path = base / name
        if not _lexists(path):
            continue
        if path.is_symlink() or path.parent.is_symlink():
            submission.notes.append(f"{name} refused: a symbolic link")
            continue
        info = path.lstat()
        if not stat.S_ISREG(info.st_mode):
            submission.notes.append(f"{name} refused: not a regular file")
        elif info.st_size > MAX_MODULE_BYTES:
            submission.notes.append(f"{name} refused: {info.st_size} bytes, more than {MAX_MODULE_BYTES}")
        else:
            with open(path, "rb") as source:
                content = source.read(MAX_MODULE_BYTES + 1)
            if len(content) > MAX_MODULE_BYTES:
                submission.notes.append(f"{name} refused: more than {MAX_MODULE_BYTES} bytes")
            else:
                submission.modules[name] = content


def _lexists(path: Path) -> bool:
    try:
        path.lstat()
        return True
    except OSError:
        return False


# --- zips --------------------------------------------------------------------------------------------------

_UNSAFE = re.compile(r"(^|/)\.\.(/|$)|^/|^[A-Za-z]:|\x00")


def _read_zip(entry: Path, wanted: set[str], submission: Submission) -> None:
    size = entry.stat().st_size
    if size > MAX_ZIP_BYTES:
        submission.notes.append(f"{entry.name} refused: {size} bytes, more than {MAX_ZIP_BYTES}")
        return
    try:
        with zipfile.ZipFile(entry) as archive:
            members = archive.infolist()
            if len(members) > MAX_ZIP_MEMBERS:
                submission.notes.append(f"{entry.name} refused: {len(members)} members, more than {MAX_ZIP_MEMBERS}")
                return
            chosen = _contract_members(members, wanted, submission)
            for name, info in sorted(chosen.items()):
                content = _read_member(archive, info, name, submission)
                if content is not None:
                    submission.modules[name] = content
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, ValueError, NotImplementedError) as error:
        submission.modules.clear()
        submission.notes.append(f"{entry.name} cannot be read as a zip: {error}")


def _contract_members(members: list[zipfile.ZipInfo], wanted: set[str], submission: Submission) -> dict:
    """Contract name -> member: at the top level, or else under one wrapping folder; every other member is ignored."""
    by_prefix: dict[str, dict[str, list[zipfile.ZipInfo]]] = {}
    for info in members:
        name = info.filename.replace("\\", "/")
        if _UNSAFE.search(name):
            if any(name.endswith("/" + w) or name == w for w in wanted):
                submission.notes.append(f"member {info.filename!r} refused: unsafe path")
            continue
        parts = PurePosixPath(name).parts
        if not parts or parts[0] in IGNORED_TOP:
            continue
        if len(parts) == 2:
            prefix, rest = "", name
        elif len(parts) == 3:
            prefix, rest = parts[0], "/".join(parts[1:])
        else:
            continue
        if rest in wanted:
            by_prefix.setdefault(prefix, {}).setdefault(rest, []).append(info)
    if not by_prefix:
        return {}
    if "" in by_prefix:
        prefix = ""
    elif len(by_prefix) == 1:
        prefix = next(iter(by_prefix))
        submission.notes.append(f"modules taken from the wrapping folder {prefix}/ of the zip")
    else:
        submission.notes.append(f"zip refused: student modules under several folders ({', '.join(sorted(by_prefix))})")
        return {}
    chosen = {}
    for rest, infos in by_prefix[prefix].items():
        if len(infos) > 1:
            submission.notes.append(f"{rest} refused: the zip holds it {len(infos)} times")
        else:
            chosen[rest] = infos[0]
    return chosen


def _read_member(archive: zipfile.ZipFile, info: zipfile.ZipInfo, name: str, submission: Submission) -> bytes | None:
    mode = info.external_attr >> 16
    if stat.S_ISLNK(mode):
        submission.notes.append(f"{name} refused: a symbolic link in the zip")
        return None
    if info.flag_bits & 0x1:
        submission.notes.append(f"{name} refused: encrypted")
        return None
    if info.is_dir() or info.file_size > MAX_MODULE_BYTES:
        submission.notes.append(f"{name} refused: not a file of at most {MAX_MODULE_BYTES} bytes")
        return None
    with archive.open(info) as member:  # the declared size may lie: read at most one byte past the cap
        content = member.read(MAX_MODULE_BYTES + 1)
    if len(content) > MAX_MODULE_BYTES:
        submission.notes.append(f"{name} refused: more than {MAX_MODULE_BYTES} bytes once decompressed")
        return None
    return content
