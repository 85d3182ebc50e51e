"""`grader list`: the exercises of the course, their student modules and checks."""

from __future__ import annotations

import click
from rich.console import Console
from rich.table import Table

from grader import course


@click.command("list")
def list_exercises() -> int:
    """List the exercises, the module students edit in each, and their public/hidden check files."""
    root = course.find_root()
    table = Table(title=f"Exercises in {root}", title_justify="left")
    for column in ("exercise", "student module", "public checks", "hidden checks"):
        table.add_column(column)
    for ex in course.exercises(root):
        public = [f.name for f in ex.check_files if not course.is_hidden(f)]
        hidden = [f.name for f in ex.check_files if course.is_hidden(f)]
        table.add_row(ex.name, f"{ex.name}/{ex.module}.py", ", ".join(public) or "-", ", ".join(hidden) or "-")
    Console().print(table)
    return 0
COMMANDS = [list_exercises]
