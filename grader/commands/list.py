"""`grader list [EXERCISE...]`: the exercises of the course, their student modules and checks; with names, every
check of those exercises with its points, visibility and time limit."""

from __future__ import annotations

import sys

import click
from rich import box
from rich.console import Console
from rich.table import Table

from grader import course
from grader.limits import RULE, Timings
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
        table = Table(title=f"Exercises in {root}", title_justify="left", box=box.SIMPLE_HEAD)
        for column in ("exercise", "module", "public checks", "hidden checks"):
            table.add_column(column, overflow="fold")
        for ex in chosen:
            mine = [m for m in checks if m.exercise == ex.name]
            table.add_row(ex.name, f"{ex.module}.py", _count([m for m in mine if not m.hidden]),
                          _count([m for m in mine if m.hidden]))
        console.print(table)
        console.print("Public checks are in exercises/NN_name/test_<module>.py, hidden ones in "
                      "test_<module>_hidden.py. `grader list NN` lists an exercise's checks.")
        return 0
    timings = Timings.load(root)
    for ex in chosen:
        mine = [m for m in checks if m.exercise == ex.name]
        table = Table(title=f"{ex.name}: {_count(mine)} (limits on this machine now)", title_justify="left",
                      box=box.SIMPLE_HEAD)
        table.add_column("check", overflow="fold")
        table.add_column("pt", justify="right", no_wrap=True)
        table.add_column("", no_wrap=True)
        table.add_column("limit", justify="right", no_wrap=True)
        table.add_column("ref", justify="right", no_wrap=True)
        for meta in mine:
            reference = timings.checks.get(meta.id)
            table.add_row(meta.id.rsplit("::", 1)[-1], format_points(meta.points),
                          ("hidden" if meta.hidden else "public") + (" gpu" if meta.cuda else ""),
                          f"{meta.limit:.2g} s" + ("*" if meta.timeout else ""),
                          f"{reference:.2g} s" if reference is not None else "-")
        console.print(table)
    console.print(f"limit: {RULE}; * the check sets its own.")
    return 0


def _count(checks: list) -> str:
    return f"{len(checks)} checks, {format_points(sum(m.points for m in checks))} pt" if checks else "-"


COMMANDS = [list_exercises]
