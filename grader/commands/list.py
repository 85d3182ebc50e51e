"""`grader list [EXERCISE...]`: the exercises of the course, their student modules and checks; with names, every
check of those exercises with its points, visibility and time limit."""

from __future__ import annotations

import sys

import click
from rich import box
from rich.console import Console
from rich.table import Table
from rich.text import Text

from grader import course
from grader.i18n import _, ngettext
from grader.limits import Timings, rule
from grader.results import format_points


@click.command("list")
@click.argument("exercises", nargs=-1)
def list_exercises(exercises: tuple[str, ...]) -> int:
    """List the exercises, the module students edit in each and their checks; name EXERCISES to list every check
    of them with its points and time limit (see grader/limits.py)."""
    root = course.find_root()
    chosen = course.select(root, list(exercises))  # before torch is imported: a wrong name answers at once
    from grader import session  # imports torch: only to collect the checks

    checks = session.collect(root, chosen)
    console = Console(file=sys.stdout)
    if not exercises:
        table = Table(title=_("Exercises in {root}").format(root=root), title_justify="left", box=box.SIMPLE_HEAD)
        for column in (_("exercise"), _("module"), _("public checks"), _("hidden checks")):
            table.add_column(column, overflow="fold")
        for ex in chosen:
            mine = [m for m in checks if m.exercise == ex.name]
            table.add_row(ex.name, f"{ex.module}.py", _count([m for m in mine if not m.hidden]),
                          _count([m for m in mine if m.hidden]))
        console.print(table)
        console.print(_("Public checks are in exercises/NN_name/test_<module>.py, hidden ones in "
                        "test_<module>_hidden.py. `grader list NN` lists an exercise's checks."))
        return 0
    timings = Timings.load(root)
    for ex in chosen:
        mine = [m for m in checks if m.exercise == ex.name]
        table = Table(title=_("{exercise}: {checks} (limits on this machine now)").format(exercise=ex.name, checks=_count(mine)),
                      title_justify="left",
                      box=box.SIMPLE_HEAD)
        table.add_column(_("check"), overflow="fold")
        table.add_column(_("pt"), justify="right", no_wrap=True)
        table.add_column("", no_wrap=True)
        table.add_column(_("limit"), justify="right", no_wrap=True)
        table.add_column(_("ref"), justify="right", no_wrap=True)
        for meta in mine:
            reference = timings.checks.get(meta.id)
            table.add_row(Text(meta.id.rsplit("::", 1)[-1]), format_points(meta.points),
                          (_("hidden") if meta.hidden else _("public")) + (" gpu" if meta.cuda else ""),
                          _seconds(meta.limit) + ("*" if meta.timeout else ""),
                          _seconds(reference) if reference is not None else "-")
        console.print(table)
    console.print(_("limit: {rule}; * the check sets its own.").format(rule=rule()))
    return 0


def _seconds(value: float) -> str:
    return f"{value:.2g} s" if value < 10 else f"{value:.0f} s"


def _count(checks: list) -> str:
    if not checks:
        return "-"
    return ngettext("{n} check, {points} pt", "{n} checks, {points} pt", len(checks)).format(
        n=len(checks), points=format_points(sum(m.points for m in checks)))


COMMANDS = [list_exercises]
