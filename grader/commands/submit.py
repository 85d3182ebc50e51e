"""`grader submit [EXERCISE...]`: hand in the student modules as one zip that every grading path reads.

Exit codes: 0 handed in (public checks that fail are a warning), 1 refused because it would certainly score 0
(nothing written), 2 usage error.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click
from rich.console import Console

from grader import course, scoreboard, submit as handin
from grader.course import CourseError
from grader.results import format_points
from grader.i18n import _


@click.command("submit")
@click.argument("exercises", nargs=-1)
@click.option("--out", type=click.Path(path_type=Path), metavar="FILE.zip",
              help="The zip to write [default: submission-STUDENT.zip in the course folder].")
@click.option("--id", "student", metavar="STUDENT",
              help=f"Your student id [default: the one in {handin.STUDENT_ID_FILE}, else asked once and kept there].")
@click.option("--allow-stubs", is_flag=True, help="Hand in modules that are still the untouched stub too.")
def submit(exercises: tuple[str, ...], out: Path | None, student: str | None, allow_stubs: bool) -> int:
    """Hand in the exercises named (`05_cnn` or `05`; default: all): their modules and a manifest, zipped.

    Refuses what would score 0 (a module missing, misnamed, not parsing, or still the stub); runs the public
    checks and warns when some fail."""
    root = course.find_root()
    chosen = course.select(root, list(exercises))
    if not chosen:
        raise CourseError(f"no exercises in {root / 'exercises'}")
    modules = [handin.check_module(ex) for ex in chosen]
    handin.refuse(modules, allow_stubs)
    if out is not None:
        handin.check_out(out)
    student = handin.valid_student_id(student) if student is not None else _student_id(root)
    out = handin.check_out(out if out is not None else handin.default_out(root, student))

    from grader import session  # imports torch: only once nothing is refused

    err = Console(file=sys.stderr)
    with scoreboard.progress(err, _("public checks")) as (on_total, on_start, on_check):
        report = session.grade(root, chosen, hidden=False, on_total=on_total, on_start=on_start, on_check=on_check)
    checks = handin.public_checks(report)
    handin.write_zip(out, handin.zip_bytes(handin.members(modules, handin.manifest(student, modules, checks))),
                     modules)
    click.echo(_("handed in {modules} for {student}: {zip} (upload this file)").format(
        modules=", ".join(m.name for m in modules), student=student, zip=_shown(out)))
    failing = [_("{exercise} {passed} of {checks} ({points} / {max} points)").format(
        exercise=name, passed=c["passed"], checks=c["checks"], points=format_points(c["points"]),
        max=format_points(c["max_points"])) for name, c in checks.items() if c["passed"] < c["checks"]]
    if failing:
        names = " ".join(name.split("_", 1)[0] for name, c in checks.items() if c["passed"] < c["checks"])
        click.echo(_("warning: public checks not all passed: {checks}; handed in anyway (`grader run {names}` "
                     "shows why)").format(checks=", ".join(failing), names=names), err=True)
    return 0


def _student_id(root: Path) -> str:
    """The remembered id; else asked once on a terminal and remembered."""
    remembered = handin.remembered_student_id(root)
    if remembered is not None:
        return remembered
    if not _interactive():
        raise click.UsageError(_("no student id: pass --id STUDENT (it is asked only on a terminal)"))
    student = click.prompt(_("Your student id"), value_proc=_prompted_id)
    handin.remember_student_id(root, student)
    click.echo(_("remembered in {file}: the next hand-in will not ask").format(file=handin.STUDENT_ID_FILE))
    return student


def _prompted_id(value: str) -> str:
    try:
        return handin.valid_student_id(value)
    except CourseError as error:
        raise click.BadParameter(str(error)) from None  # click asks again


def _interactive() -> bool:
    return sys.stdin.isatty()


def _shown(path: Path) -> str:
    """`path` relative to the working folder when it lies below it."""
    try:
        return str(path.resolve().relative_to(Path.cwd().resolve()))
    except ValueError:
        return str(path)


COMMANDS = [submit]
