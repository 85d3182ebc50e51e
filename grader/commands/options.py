"""Options shared by the commands that grade."""

from __future__ import annotations

from pathlib import Path

import click

from grader import i18n

from grader.results import HIDDEN_FEEDBACK, Report, write_json_atomic
from grader.metadata import DEVICES


def _set_language(ctx: click.Context, param: click.Parameter, value: str | None) -> None:
    if value:
        try:
            i18n.set_language(value)
        except ValueError as error:
            raise click.BadParameter(str(error), ctx, param) from None


lang_option = click.option(
    "--lang", metavar="|".join(i18n.LANGUAGES), envvar="GRADER_LANG", expose_value=False, is_eager=True,
    callback=_set_language,
    help="Language of the messages [default: the locale's: zh_CN where LANG or LC_ALL starts with zh, else en].")


def grading_options(command):
    options = [
        lang_option,
        click.option("--solutions", is_flag=True, help="Grade the reference solutions/ instead of exercises/."),
        click.option(
            "--submission",
            type=click.Path(exists=True, path_type=Path),
            help="Grade a student's submission (a folder or a .zip; only the student modules are taken from it), "
                 "in the sandbox `grader batch` uses.",
        ),
        click.option("--seed", type=int, help="Base seed of every check (default 0); replays a run."),
        click.option("--device", type=click.Choice(DEVICES), default="cpu", show_default=True,
                     help="Where the checks run; cuda refuses to start without a GPU."),
        click.option("--json", "json_path", type=click.Path(dir_okay=False, path_type=Path),
                     help="Also write the results as JSON to this file."),
        click.option("--hidden-feedback", type=click.Choice(HIDDEN_FEEDBACK), default="outcome", show_default=True,
                     help="What --json and --gradescope show of a hidden check: its points and outcome only "
                          "(its name and message replaced by an opaque id), or its name and message too."),
        click.option("--verbose", "-v", is_flag=True,
                     help="Show the traceback of your own code (never the grader's) for each failing check."),
        click.option("--gradescope", "gradescope_path", type=click.Path(dir_okay=False, path_type=Path),
                     help="Also write Gradescope's results.json to this file."),
    ]
    for option in reversed(options):
        command = option(command)
    return command


def write_exports(report: Report, json_path: Path | None, gradescope_path: Path | None, hidden_feedback: str) -> None:
    """The files a grading command was asked for, hidden checks shown as `hidden_feedback` says."""
    if json_path is not None:
        write_json_atomic(json_path, report.to_dict(hidden_feedback))
    if gradescope_path is not None:
        from grader import gradescope

        gradescope.write(report, gradescope_path, hidden_feedback)
