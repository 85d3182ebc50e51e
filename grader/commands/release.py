"""`grader release OUT`: write the student repository (no solutions, no hidden checks) and prove it."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from rich.console import Console
from rich.text import Text

from grader import course, release


@click.command("release")
@click.argument("out", type=click.Path(file_okay=False, path_type=Path))
@click.argument("exercises", nargs=-1)
@click.option("--force", is_flag=True, help="Replace what OUT holds (a .git folder in it is kept).")
@click.option("--allow-modified-stubs", is_flag=True,
              help="Release stubs that differ from their committed version or pass a hidden check.")
def release_course(out: Path, exercises: tuple[str, ...], force: bool, allow_modified_stubs: bool) -> int:
    """Write the student release of the course (or of the EXERCISES named) to OUT.

    OUT gets each exercise's stub, README and public checks, the grader package, datasets/, pyproject.toml
    and a student README; never solutions/, tests/, docs/ or a hidden check. A stub that differs from its
    committed version or passes a hidden check refuses the release (exit 1). The release is then searched
    for every hidden check's name and text and every solution's code: any find fails the command.
    """
    made = release.write_release(course.find_root(), out, list(exercises), force=force,
                                 allow_modified_stubs=allow_modified_stubs)
    console = Console(file=sys.stdout)
    for warning in made.warnings:
        console.print(Text(f"warning: {warning}", style="yellow"))
    console.print(
        f"Released {len(made.exercises)} exercise(s) ({', '.join(ex.name for ex in made.exercises)}) with "
        f"{made.public_checks} public check file(s) to {out}: {len(made.files)} files, {made.size / 1e6:.1f} MB."
    )
    if made.leaks:
        console.print(Text(f"The release leaks {len(made.leaks)} hidden or solution item(s); do not publish it:",
                           style="bold red"))
        for leak in made.leaks:
            console.print(f"  {leak}")
        return 1
    console.print(Text(f"Searched it for {made.secrets.summary}: none found.", style="green"))
    return 0


COMMANDS = [release_course]
