"""Where the course lives on disk: its exercises, their student modules and the graded targets."""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass
from pathlib import Path

from grader.errors import CourseError
from grader.i18n import _

EXERCISE_NAME = re.compile(r"^\d\d_[a-z0-9_]+$")
HIDDEN_SUFFIX = "_hidden.py"
# In a student release: how many hidden checks and points each exercise has beyond its public ones.
HIDDEN_SUMMARY = "exercises/hidden-checks.json"


@dataclass(frozen=True)
class Exercise:
    name: str  # "05_cnn"
    path: Path  # .../exercises/05_cnn

    @property
    def module(self) -> str:
        """The one module students edit: the folder's only .py file that is not a check."""
        return student_module_name(self.path)

    @property
    def check_files(self) -> list[Path]:
        return sorted(self.path.glob("test_*.py"))


def student_module_name(exercise_dir: Path) -> str:
    modules = [
        p.stem
        for p in exercise_dir.glob("*.py")
        if not p.name.startswith("test_") and p.name != "conftest.py"
    ]
    if len(modules) != 1:
        raise CourseError(_("{folder} must hold exactly one student module, found {modules}").format(
            folder=exercise_dir, modules=sorted(modules)))
    return modules[0]


def is_hidden(check_file: Path | str) -> bool:
    return str(check_file).endswith(HIDDEN_SUFFIX)


def in_exercise(path: Path) -> bool:
    """Whether `path` (a check file) lies in an exercise folder (the grader's own tests do not)."""
    return any(EXERCISE_NAME.match(part) for part in Path(path).parts[:-1])


def check_key(check_id: str) -> str:
    """A check's id without its folders: `exercises/05_cnn/test_cnn.py::test_x[1-0]` -> `test_cnn.py::test_x[1-0]`."""
    file, sep, rest = check_id.partition("::")
    return Path(file).name + sep + rest


def exercise_of(path: Path) -> str:
    """The exercise a check file belongs to: its nearest `NN_name` folder."""
    path = Path(path)
    for part in reversed(path.parts[:-1]):
        if EXERCISE_NAME.match(part):
            return part
    return path.parent.name


# Heavy imports that runs of an exercise make, by what its checks or modules contain: a process that forks runs
# (`grader watch`, a batch slot's zygote) imports them once instead of in every run. torch._dynamo (1 to 2 s) is
# imported by the first torch.optim optimizer of a process and the first random draw on the meta device.
OPTIONAL_PRELOAD = {"torchvision": re.compile(r"\b(import|from) torchvision\b"),
                    "matplotlib": re.compile(r"\b(import|from) matplotlib\b"),
                    "sklearn": re.compile(r"\b(import|from) sklearn\b"),
                    "torch._dynamo": re.compile(r"optim|[\"']meta[\"']")}


def preload_modules(texts: list[str]) -> list[str]:
    """The OPTIONAL_PRELOAD modules that the code in `texts` (check files, student modules) needs."""
    return [name for name, used in OPTIONAL_PRELOAD.items() if any(used.search(text) for text in texts)]


def exercise_texts(root: Path, exercises: list[Exercise], modules: Path | None = None) -> list[str]:
    """The check files of the exercises and their modules in `modules` (default: the reference solutions)."""
    folder = modules or root / "solutions"
    files = [*(p for ex in exercises for p in ex.check_files), *(folder / ex.name / f"{ex.module}.py" for ex in exercises)]
    return [p.read_text(encoding="utf-8", errors="replace") for p in files if p.is_file()]


def find_root(start: Path | None = None) -> Path:
    """The course root: the nearest folder, from `start` upwards, that holds `exercises/`."""
    start = (start or Path.cwd()).resolve()
    for folder in (start, *start.parents):
        if (folder / "exercises").is_dir():
            return folder
    raise CourseError(_("no course here: no exercises/ folder in {folder} or above").format(folder=start))


def exercises(root: Path) -> list[Exercise]:
    folder = root / "exercises"
    return [Exercise(p.name, p) for p in sorted(folder.iterdir()) if p.is_dir() and EXERCISE_NAME.match(p.name)]


def select(root: Path, names: list[str]) -> list[Exercise]:
    """The exercises named (`05_cnn` or just `05`), in course order; all of them when none are named."""
    known = exercises(root)
    if not names:
        return known
    chosen = []
    for name in names:
        match = [ex for ex in known if ex.name == name or ex.name.split("_", 1)[0] == name.zfill(2)]
        if not match:
            guess, names = _did_you_mean(name, known), ", ".join(ex.name for ex in known)
            raise CourseError(
                _("unknown exercise {name}: did you mean {guess}? Known: {known}").format(
                    name=repr(name), guess=guess, known=names) if guess
                else _("unknown exercise {name}. Known: {known}").format(name=repr(name), known=names))
        chosen.extend(ex for ex in match if ex not in chosen)
    return sorted(chosen, key=lambda ex: ex.name)


def _did_you_mean(name: str, known: list[Exercise]) -> str | None:
    """`5_cnn`, `cnn` or `05-cnn` -> 05_cnn; None when nothing is close."""
    names = [ex.name for ex in known]
    by_topic = {ex.name.split("_", 1)[1]: ex.name for ex in known}
    digits = name.split("_", 1)[0].lstrip("0")
    guesses = [n for n in names if digits and n.split("_", 1)[0].lstrip("0") == digits]
    guesses += [by_topic[t] for t in difflib.get_close_matches(name.lower(), list(by_topic), n=1, cutoff=0.6)]
    guesses += difflib.get_close_matches(name.lower().replace("-", "_"), names, n=1, cutoff=0.6)
    return guesses[0] if guesses else None
