"""Options shared by the commands that grade."""

from __future__ import annotations

from pathlib import Path

import click

from grader.results import Report, write_json_atomic


def grading_options(command):
    options = [
        click.option("--solutions", is_flag=True, help="Grade the reference solutions/ instead of exercises/."),
        click.option(
            "--submission",
            type=click.Path(exists=True, file_okay=False, path_type=Path),
            help="Grade a student's copy of exercises/ (only the student modules are taken from it).",
        ),
        click.option("--seed", type=int, help="Base seed of every check (default 0); replays a run."),
        click.option("--device", type=click.Choice(["cpu", "cuda", "auto"]), default="cpu", show_default=True,
                     help="Where the checks run; cuda refuses to start without a GPU."),
        click.option("--json", "json_path", type=click.Path(dir_okay=False, path_type=Path),
                     help="Also write the results as JSON to this file."),
        click.option("--hidden-feedback", type=click.Choice(["message", "outcome"]), default="message",
                     show_default=True, help="What a failing hidden check shows: its message, or only its outcome."),
        click.option("--gradescope", "gradescope_path", type=click.Path(dir_okay=False, path_type=Path),
                     help="Also write Gradescope's results.json to this file (hidden checks: after_published)."),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def write_json(report: Report, path: Path | None) -> None:
    if path is not None:
        write_json_atomic(path, report.to_dict())


def write_gradescope(report: Report, path: Path | None) -> None:
    if path is not None:
        from grader import gradescope

        gradescope.write(report, path)
