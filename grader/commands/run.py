"""`grader run EXERCISE...` and `grader all`: grade and show the scoreboard.

The course's own folders (exercises/, solutions/) are graded in this process; a submission, which is not
trusted, in the sandbox of `grader batch`.
"""

from __future__ import annotations

import sys
from pathlib import Path

import click
from rich.console import Console

from grader import course, scoreboard
from grader.commands.options import grading_options, write_exports
from grader.course import CourseError
from grader.i18n import _


def grade_and_report(names: list[str], solutions: bool, submission: Path | None, seed: int | None, device: str,
                     json_path: Path | None, hidden_feedback: str, gradescope_path: Path | None = None,
                     verbose: bool = False) -> int:
    if solutions and submission:
        raise click.UsageError("--solutions and --submission exclude each other")
    root = course.find_root()
    chosen = course.select(root, names)  # before torch is imported: a wrong name answers at once
    if not chosen:
        raise CourseError(f"no exercises in {root / 'exercises'}")
    from grader import session  # imports torch: only once the command line is known good
    from grader.plugin import resolve_device

    try:
        resolve_device(device)
    except ValueError as error:
        raise CourseError(str(error)) from None
    # Bound now: pytest swaps sys.stdout/stderr while it runs, and the bar must still reach the terminal.
    out, err = Console(file=sys.stdout), Console(file=sys.stderr)
    if submission is not None:
        from grader.batch import grade_submission

        with scoreboard.progress(err, _("grading")) as (on_total, on_start, on_check):
            report = grade_submission(root, submission, chosen, seed=seed, device=device, verbose=verbose)
    else:
        with scoreboard.progress(err, _("grading")) as (on_total, on_start, on_check):
            report = session.grade(root, chosen, solutions=solutions, seed=seed, device=device, on_total=on_total,
                                   on_start=on_start, on_check=on_check, verbose=verbose)
    scoreboard.render(report, out, verbose=verbose)
    write_exports(report, json_path, gradescope_path, hidden_feedback)
    return 0 if report.all_passed else 1


@click.command("run")
@click.argument("exercises", nargs=-1, required=True)
@grading_options
def run_exercises(exercises: tuple[str, ...], **options) -> int:
    """Grade the named exercises (e.g. `grader run 05_cnn` or `grader run 05`)."""
    return grade_and_report(list(exercises), **options)


@click.command("all")
@grading_options
def run_all(**options) -> int:
    """Grade every exercise of the course."""
    return grade_and_report([], **options)


COMMANDS = [run_exercises, run_all]
