"""The `grader` command. `run()` maps every known error to an exit code and one line, never a traceback;
the codes are in `grader.errors`. Any other exception is a bug in the grader and keeps its traceback.
"""

from __future__ import annotations

import importlib
import sys

import click

from grader import __version__, i18n
from grader.commands.options import lang_option
from grader.errors import EXIT_INTERRUPTED, EXIT_IO, EXIT_USAGE, GraderError

# Click's own messages for usage errors, exactly as click spells them. Click translates them through gettext's
# global domain, which i18n.set_language points at the grader catalog; they are marked here only so that Babel
# extracts them into it (and `pybabel update` keeps their translations). Nothing reads this tuple.
CLICK_MESSAGES = (
    i18n.N_("Error: {message}"),
    i18n.N_("Try '{command} {option}' for help."),
    i18n.N_("Missing argument"),
    i18n.N_("Missing option"),
    i18n.N_("Missing parameter"),
    i18n.N_("Missing {param_type}"),
    i18n.N_("Missing parameter: {param_name}"),
    i18n.N_("Missing command."),
    i18n.N_("No such command {name!r}."),
    i18n.N_("No such option {name!r}."),
    i18n.N_("Invalid value: {message}"),
    i18n.N_("Invalid value for {param_hint}: {message}"),
    i18n.N_("Option {name!r} does not take a value."),
    i18n.N_("{value!r} is not a valid {number_type}."),
    i18n.N_("{value} is not in the range {range}."),
    # Click's plural messages (ngettext): marked the same way; n=1 only picks the singular here.
    i18n.ngettext("{value!r} is not {choice}.", "{value!r} is not one of {choices}.", 1),
    i18n.ngettext("Did you mean {possibility}?", "(Did you mean one of: {possibilities}?)", 1),
    i18n.ngettext("Option {name!r} requires an argument.", "Option {name!r} requires {nargs} arguments.", 1),
    i18n.ngettext("Got unexpected extra argument ({args})", "Got unexpected extra arguments ({args})", 1),
)


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, prog_name="grader")
@lang_option
def main() -> None:
    """Grade the PyTorch course: students' exercises, the reference solutions, or submissions."""


# Each module in grader/commands/ that defines a subcommand lists it in COMMANDS. None of them imports torch.
COMMAND_MODULES = ("list", "run", "release", "check", "notebooks", "batch", "watch", "report", "submit", "gradescope")


def _register() -> None:
    for name in COMMAND_MODULES:
        for command in importlib.import_module(f"grader.commands.{name}").COMMANDS:
            main.add_command(command)


def run(argv: list[str] | None = None) -> None:
    _tolerate_console_encoding()
    i18n.set_language(None)  # the locale's, until --lang says otherwise
    _register()
    try:
        code = main.main(args=argv, prog_name="grader", standalone_mode=False)
    except click.ClickException as error:  # usage errors included
        _die(error.format_message(), EXIT_USAGE)
    except (click.Abort, KeyboardInterrupt):
        _die(i18n._("interrupted"), EXIT_INTERRUPTED)
    except GraderError as error:
        _die(str(error), error.exit_code)
    except OSError as error:  # a full disk, a folder we may not write: not the user's command line
        where = f": {error.filename}" if error.filename else ""
        _die(f"{error.strerror or error}{where}", EXIT_IO)
    sys.exit(code if isinstance(code, int) else 0)


def _tolerate_console_encoding() -> None:
    """On a console that cannot encode every character (GBK on Chinese Windows), print a replacement
    character instead of crashing; the scoreboard also switches to ASCII marks there."""
    for stream in (sys.stdout, sys.stderr):
        encoding = (getattr(stream, "encoding", None) or "").lower().replace("-", "")
        if encoding != "utf8" and hasattr(stream, "reconfigure"):
            stream.reconfigure(errors="replace")


def _die(message: str, code: int) -> None:
    click.echo(i18n._("grader: error: {message}").format(message=message), err=True)
    sys.exit(code)
