"""Gradescope: its results.json from a grading report, and the autograder zip that grades on Gradescope as
`grader batch` grades here (see docs/instructor-guide.md, "Gradescope").

    grader all --submission /autograder/submission --gradescope /autograder/results/results.json

Every check is one Gradescope test: its points, "passed" or "failed", its one-line message, and a
visibility: public checks "visible", hidden checks "after_published" (students see them once the
instructor publishes grades). A hidden check's name and message stay hidden even then (an opaque id and its
outcome) unless `--hidden-feedback message`. A skipped check is listed with no points on offer. Also usable on a batch result, and to report that grading itself failed:

    python -m grader.gradescope from-batch OUT/student.json /autograder/results/results.json
    python -m grader.gradescope failure /autograder/results/results.json "the grader stopped: ..."

The autograder (`grader gradescope autograder.zip 05_cnn`, `write_autograder`) is `setup.sh`, `run_autograder`
and `course/` (the course without solutions/ or tests/). Its `run_autograder` grades each submission with

    python -m grader.gradescope grade /autograder/submission /autograder/results/results.json --exercise 05_cnn

which grades in the sandbox (`grader.batch.grade_submission`) and writes a results.json even when grading fails.
"""

from __future__ import annotations

import argparse
import io
import json
import shlex
import stat
import sys
import traceback
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Sequence

from grader import course, intake, release
from grader.course import Exercise
from grader.errors import CourseError, GraderError
from grader.results import HIDDEN_FEEDBACK, Report, format_points, write_atomic, write_json_atomic

if TYPE_CHECKING:
    from grader.batch import Limits

PUBLIC, HIDDEN = "visible", "after_published"


def results(report: Report, hidden_feedback: str = "outcome") -> dict:
    """The results.json document for `report`. With `hidden_feedback="outcome"` (the default) a hidden check is
    listed by an opaque id with its points and outcome only; "message" shows its name and message too."""
    tests = []
    for exercise in report.to_dict(hidden_feedback)["exercises"]:
        for check in exercise["checks"]:
            outcome, message = check["outcome"], check["message"]
            # A skipped check (a GPU check without a GPU) offers no points, as in the report's totals.
            status = "passed" if outcome in ("passed", "skipped") else "failed"
            output = message if outcome in ("passed", "failed") else f"{outcome}: {message}".rstrip(": ")
            tests.append({
                "name": f"{exercise['name']}: {check['id'].rsplit('::', 1)[-1]}",
                "score": check["points"],
                "max_score": 0.0 if outcome == "skipped" else check["max_points"],
                "status": status,
                "output": output,
                "tags": [exercise["name"]] + (["hidden"] if check["hidden"] else []),
                "visibility": HIDDEN if check["hidden"] else PUBLIC,
            })
    lines = [f"{format_points(report.total)} / {format_points(report.max_total)} points"]
    lines += [f"{e.name}: {format_points(e.score)} / {format_points(e.max_score)} ({e.status})" for e in report.exercises]
    lines += report.notes
    lines.append(f"seed {report.seed}, device {report.device}")
    return {
        "score": report.total,
        "execution_time": round(sum(e.duration for e in report.exercises)),
        "output": "\n".join(lines),
        "output_format": "text",
        "test_output_format": "text",
        "stdout_visibility": "hidden",
        "tests": tests,
    }


def write(report: Report, path: Path, hidden_feedback: str = "outcome") -> None:
    write_json_atomic(Path(path), results(report, hidden_feedback))


def failure(message: str) -> dict:
    """The results.json document that says grading did not finish: score 0, the reason shown to the student."""
    return {"score": 0, "output": f"The autograder could not grade this submission: {message}",
            "output_format": "text", "stdout_visibility": "hidden", "tests": []}


def write_failure(path: Path, message: str) -> None:
    write_json_atomic(Path(path), failure(message))


def _entry(submission: Path) -> Path:
    """What to grade of Gradescope's submission folder: the folder, or the one .zip that is all it holds."""
    if submission.is_dir():
        entries = [p for p in submission.iterdir() if not intake.skipped(p.name)]
        if len(entries) == 1 and entries[0].name.lower().endswith(".zip") and entries[0].is_file() \
                and not entries[0].is_symlink():
            return entries[0]
    return submission


def grade(submission: Path, results_json: Path, exercises: Sequence[str] = (), *, hidden_feedback: str = "outcome",
          seed: int | None = None, limits: Limits | None = None) -> dict:
    """Grade a submission (a folder in any layout intake reads, or a .zip) of the course in the current folder in
    the sandbox, as `grader batch` grades it, into `results_json`; returns the document written. A grading that
    fails writes one too: score 0 and the reason (a bug in the grader: its traceback goes to stderr)."""
    try:
        from grader.batch import grade_submission

        root = course.find_root()
        chosen = course.select(root, list(exercises))
        if not chosen:
            raise CourseError(f"no exercises in {root / 'exercises'}")
        document = results(grade_submission(root, _entry(Path(submission)), chosen, seed=seed, limits=limits),
                           hidden_feedback)
    except GraderError as error:
        document = failure(str(error))
    except Exception as error:  # Gradescope must get a results.json whatever went wrong
        traceback.print_exc()
        document = failure(f"the grader failed ({type(error).__name__}); please tell your instructor")
    write_json_atomic(Path(results_json), document)
    return document


# --- the autograder zip ------------------------------------------------------------------------------------

SETUP_SH = """\
#!/usr/bin/env bash
# Written by `grader gradescope`. Gradescope runs it once, as root, when it builds the autograder's image.
set -euxo pipefail
AUTOGRADER="${AUTOGRADER_ROOT:-/autograder}"
export DEBIAN_FRONTEND=noninteractive
apt-get update
# bubblewrap is the grader's sandbox; without it submissions are graded with process isolation only.
apt-get install -y python3 python3-venv python3-pip bubblewrap
python3 -m venv "$AUTOGRADER/venv"
"$AUTOGRADER/venv/bin/pip" install --upgrade pip
# The CPU build of PyTorch: Gradescope's machines have no GPU, and it is far smaller.
"$AUTOGRADER/venv/bin/pip" install torch torchvision --index-url https://download.pytorch.org/whl/cpu
"$AUTOGRADER/venv/bin/pip" install -e "$AUTOGRADER/source/course"
# Fails the build if the course is broken.
cd "$AUTOGRADER/source/course"
"$AUTOGRADER/venv/bin/grader" list
"""

RUN_AUTOGRADER = """\
#!/usr/bin/env bash
# Written by `grader gradescope`. Gradescope runs it for every submission: the student's files are in
# $AUTOGRADER/submission; $AUTOGRADER/results/results.json is written whatever happens.
set -u
AUTOGRADER="${AUTOGRADER_ROOT:-/autograder}"
RESULTS="$AUTOGRADER/results/results.json"
export PATH="$AUTOGRADER/venv/bin:$PATH"  # the environment setup.sh made
mkdir -p "$AUTOGRADER/results"
rm -f "$RESULTS"
cd "$AUTOGRADER/source/course" && python3 -m grader.gradescope grade "$AUTOGRADER/submission" "$RESULTS" @OPTIONS@
# No results.json: the grader could not start, or it was killed (out of memory, say).
[ -s "$RESULTS" ] || printf '%s\\n' @FAILURE@ > "$RESULTS"
"""

SCRIPTS = ("setup.sh", "run_autograder")
COURSE_FILES = (*release.TOP_FILES, "README.md")  # copied when the course has them (pyproject.toml names README.md)
DEFAULT_SUBMISSION_TIMEOUT = 480.0  # seconds: below Gradescope's default autograder timeout of 10 minutes
DEFAULT_MEMORY_MB = 4096  # as `grader batch --memory-limit`
NEVER_INTO = ("exercises", "grader", "datasets")  # folders of the course that go into the zip


@dataclass
class Autograder:
    out: Path
    exercises: list[Exercise]
    files: list[str]  # the zip's members: the two scripts, then course/ sorted
    size: int  # bytes


def course_files(root: Path, chosen: Sequence[Exercise]) -> dict[str, Path | bytes]:
    """The course the autograder grades with, by path in `course/`: the chosen exercises with their hidden checks
    (and the other files of exercises/, a shared conftest.py), the grader package, datasets/ and pyproject.toml;
    never solutions/, tests/, .git or caches (the skip rules of the student release)."""
    files: dict[str, Path | bytes] = dict(release.course_tree(root, chosen, hidden=True))
    for name in COURSE_FILES:
        if (root / name).is_file():
            files[name] = root / name
    if "pyproject.toml" not in files:
        raise CourseError(f"{root / 'pyproject.toml'} is missing: the autograder installs the course with it")
    files["pyproject.toml"] = release.release_pyproject((root / "pyproject.toml").read_text(encoding="utf-8")).encode()
    return dict(sorted(files.items()))


def run_autograder_script(chosen: Sequence[Exercise], *, hidden_feedback: str, seed: int | None,
                          submission_timeout: float, check_timeout: float | None, memory_mb: int) -> str:
    options = [arg for ex in chosen for arg in ("--exercise", ex.name)]
    options += ["--hidden-feedback", hidden_feedback, "--submission-timeout", f"{submission_timeout:g}",
                "--memory-limit", str(memory_mb)]
    if check_timeout is not None:
        options += ["--check-timeout", f"{check_timeout:g}"]
    if seed is not None:
        options += ["--seed", str(seed)]
    stopped = failure("the grader stopped before it wrote the results; please tell your instructor")
    return (RUN_AUTOGRADER.replace("@OPTIONS@", " ".join(shlex.quote(o) for o in options))
            .replace("@FAILURE@", shlex.quote(json.dumps(stopped))))


def write_autograder(root: Path, out: Path, names: Sequence[str] = (), *, hidden_feedback: str = "outcome",
                     seed: int | None = None, submission_timeout: float = DEFAULT_SUBMISSION_TIMEOUT,
                     check_timeout: float | None = None, memory_mb: int = DEFAULT_MEMORY_MB) -> Autograder:
    """Write Gradescope's autograder zip of the exercises named (all by default) to `out`: `setup.sh` and
    `run_autograder` at its top level, the course in `course/`. The same course gives the same bytes."""
    root, out = Path(root), Path(out)
    chosen = course.select(root, list(names))
    if not chosen:
        raise CourseError(f"no exercises in {root / 'exercises'}")
    for ex in chosen:
        ex.module  # raises unless the folder holds exactly one student module
    if out.is_dir():
        raise CourseError(f"{out} is a folder: name the zip to write, e.g. {out / 'autograder.zip'}")
    for name in NEVER_INTO:
        if out.resolve().is_relative_to((root / name).resolve()):
            raise CourseError(f"{out} is inside the course's {name}/, which goes into the zip: write it elsewhere")
    script = run_autograder_script(chosen, hidden_feedback=hidden_feedback, seed=seed,
                                   submission_timeout=submission_timeout, check_timeout=check_timeout,
                                   memory_mb=memory_mb)
    files: dict[str, Path | bytes] = {"setup.sh": SETUP_SH.encode(), "run_autograder": script.encode()}
    files |= {f"course/{rel}": source for rel, source in course_files(root, chosen).items()}
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, source in files.items():
            info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))  # no timestamps: the same bytes each time
            executable = name in SCRIPTS or (isinstance(source, Path) and source.stat().st_mode & 0o111)
            info.external_attr = (stat.S_IFREG | (0o755 if executable else 0o644)) << 16
            info.create_system = 3  # Unix: unzip restores the modes
            info.compress_type = zipfile.ZIP_DEFLATED
            archive.writestr(info, source if isinstance(source, bytes) else source.read_bytes())
    write_atomic(out, buffer.getvalue())
    return Autograder(out, chosen, list(files), out.stat().st_size)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m grader.gradescope", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    convert = commands.add_parser("from-batch", help="results.json from a `grader batch` student file")
    convert.add_argument("student_json", type=Path)
    convert.add_argument("results_json", type=Path)
    convert.add_argument("--hidden-feedback", choices=HIDDEN_FEEDBACK, default="outcome")
    failed = commands.add_parser("failure", help="results.json saying that grading failed")
    failed.add_argument("results_json", type=Path)
    failed.add_argument("message")
    grading = commands.add_parser("grade", help="grade a submission (a folder or a .zip) of the course in the "
                                                "current folder into results.json; always writes one")
    grading.add_argument("submission", type=Path)
    grading.add_argument("results_json", type=Path)
    grading.add_argument("--exercise", action="append", default=[], metavar="NAME",
                         help="an exercise to grade (repeatable; default: all)")
    grading.add_argument("--hidden-feedback", choices=HIDDEN_FEEDBACK, default="outcome")
    grading.add_argument("--seed", type=int)
    grading.add_argument("--submission-timeout", type=float, metavar="SECONDS")
    grading.add_argument("--check-timeout", type=float, metavar="SECONDS")
    grading.add_argument("--memory-limit", type=int, default=DEFAULT_MEMORY_MB, metavar="MiB")
    args = parser.parse_args(argv)
    if args.command == "failure":
        write_failure(args.results_json, args.message)
        return 0
    if args.command == "grade":
        from grader.batch import Limits

        limits = Limits(check_timeout=args.check_timeout, submission_timeout=args.submission_timeout,
                        memory_mb=args.memory_limit)
        document = grade(args.submission, args.results_json, args.exercise, hidden_feedback=args.hidden_feedback,
                         seed=args.seed, limits=limits)
        print(document["output"])  # Gradescope shows the autograder's stdout to instructors only
        return 0
    try:
        data = json.loads(args.student_json.read_text(encoding="utf-8"))
        report = Report.from_dict(data)
    except (OSError, ValueError, KeyError, TypeError) as error:
        print(f"grader.gradescope: cannot read {args.student_json}: {error}", file=sys.stderr)
        return 2
    write(report, args.results_json, args.hidden_feedback)
    return 0


if __name__ == "__main__":
    sys.exit(main())
