"""`grader notebooks OUT`: the course as an nbgrader course directory, graded by the same checks."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from rich.console import Console
from rich.text import Text

from grader import course
from grader.commands.options import lang_option


@click.command("notebooks")
@click.argument("out", type=click.Path(file_okay=False, path_type=Path))
@click.argument("exercises", nargs=-1)
@click.option("--course-id", default="pytorch-course", show_default=True, help="nbgrader's course id.")
@click.option("--force", is_flag=True, help="Replace notebooks and nbgrader_config.py that OUT already has.")
@lang_option
def notebooks_command(out: Path, exercises: tuple[str, ...], course_id: str, force: bool) -> int:
    """Write an nbgrader course directory to OUT: nbgrader_config.py and source/NN_name/NN_name.ipynb for
    every exercise (or the EXERCISES named).

    Each notebook has the README, the stub with the reference solution in solution regions (so that
    `nbgrader generate_assignment` releases exactly the stub) and one autograded cell per check, worth the
    points `grader run` gives it. Hidden checks appear in the release as a comment only. The kernel that
    runs the notebooks needs this course installed (`pip install -e .`); see docs/nbgrader.md.
    """
    from grader import nbcourse

    root = course.find_root()
    written = nbcourse.write_course(root, out, list(exercises), course_id=course_id, force=force)
    console = Console(file=sys.stdout, soft_wrap=True)
    for item in written:
        console.print(f"{item.path}: {item.checks} checks, {item.points:g} points")
    leaks = nbcourse.release_leaks(root, [w.path for w in written])
    if leaks:
        console.print(Text(f"The released notebooks would leak {len(leaks)} hidden or solution item(s):",
                           style="bold red"))
        for leak in leaks:
            console.print(f"  {leak}")
        return 1
    console.print(Text(f"Wrote {out / 'nbgrader_config.py'}. Released notebooks searched for hidden checks and "
                       "solution code: none found.", style="green"))
    console.print(f"Next: cd {out} && nbgrader generate_assignment {written[0].path.parent.name}")
    return 0


COMMANDS = [notebooks_command]
