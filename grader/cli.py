"""The `grader` command. `run()` maps every known error to an exit code and one line, never a traceback.

Exit codes: 0 every check passed, 1 some check did not, 2 usage error, 130 interrupted.
"""

from __future__ import annotations

import sys

import click

from grader import __version__
from grader.course import CourseError


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="grader")
def main() -> None:
    """Grade the PyTorch course: students' exercises, the reference solutions, or submissions."""


# Each module in grader/commands/ that defines a subcommand lists it in COMMANDS.
COMMAND_MODULES = ("list", "run", "release", "check", "notebooks", "batch")


def _register() -> None:
    import importlib

    for name in COMMAND_MODULES:
        for command in importlib.import_module(f"grader.commands.{name}").COMMANDS:
            main.add_command(command)


def run(argv: list[str] | None = None) -> None:
    _register()
    try:
        code = main.main(args=argv, prog_name="grader", standalone_mode=False)
    except click.UsageError as error:
        _die(error.format_message(), 2)
    except click.ClickException as error:
        _die(error.format_message(), 2)
    except (click.Abort, KeyboardInterrupt):
        _die("interrupted", 130)
    except (CourseError, OSError) as error:
        _die(str(error), 2)
    except Exception as error:  # data errors and the like: still one line
        if type(error).__module__.startswith("grader"):
            _die(str(error), 2)
        raise
    sys.exit(code if isinstance(code, int) else 0)


def _die(message: str, code: int) -> None:
    click.echo(f"grader: error: {message}", err=True)
    sys.exit(code)
