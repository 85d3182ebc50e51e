"""`grader run EXERCISE...` and `grader all`: grade in this process and show the scoreboard."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from rich.console import Console

from grader import course, scoreboard
from grader.commands.options import grading_options, write_gradescope, write_json
from grader.course import CourseError


def grade_and_report(names: list[str], solutions: bool, submission: Path | None, seed: int | None, device: str,
                     json_path: Path | None, hidden_feedback: str, gradescope_path: Path | None = None) -> int:
    if solutions and submission:
        raise click.UsageError("--solutions and --submission exclude each other")
    from grader import runner  # imports torch: only once the command line is known good
    from grader.plugin import resolve_device

    try:
        resolve_device(device)
    except ValueError as error:
        raise CourseError(str(error)) from None
    root = course.find_root()
    chosen = course.select(root, names)
    if not chosen:
        raise CourseError(f"no exercises in {root / 'exercises'}")
    # Bound now: pytest swaps sys.stdout/stderr while it runs, and the bar must still reach the terminal.
    out, err = Console(file=sys.stdout), Console(file=sys.stderr)
    with scoreboard.progress(err, "grading") as (on_total, on_check):
        report = runner.grade(root, chosen, solutions=solutions, submission=submission, seed=seed, device=device,
                              on_total=on_total, on_check=on_check)
    report.hidden_messages = hidden_feedback == "message"
    scoreboard.render(report, out)
    write_json(report, json_path)
    write_gradescope(report, gradescope_path)
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
    """Grade every exercise of the course in one process."""
    return grade_and_report([], **options)
COMMANDS = [run_exercises, run_all]
