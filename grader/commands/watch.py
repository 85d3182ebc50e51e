"""`grader watch EXERCISE`: grade an exercise on every save of its module, with torch kept imported."""

from __future__ import annotations

from pathlib import Path

import click

from grader import course
from grader.course import CourseError


@click.command("watch")
@click.argument("exercise")
@click.option("--solutions", is_flag=True, help="Watch and grade the reference solutions/ instead of exercises/.")
@click.option("--submission", type=click.Path(exists=True, file_okay=False, path_type=Path),
              help="Watch and grade a student's copy of exercises/ (only the student module is taken from it).")
@click.option("--seed", type=int, help="Base seed of every check (default 0); replays a run.")
@click.option("--start-method", type=click.Choice(["auto", "fork", "spawn"]), default="auto", show_default=True,
              help="How each run's fresh process starts: auto forks on Linux and spawns elsewhere.")
def watch_exercise(exercise: str, solutions: bool, submission: Path | None, seed: int | None, start_method: str) -> int:
    """Grade EXERCISE now and on every save of its module, each run in a fresh process; Ctrl-C stops.

    The last line of every run is the scoreboard's total line. A save while a run is going stops that run.
    """
    if solutions and submission:
        raise click.UsageError("--solutions and --submission exclude each other")
    root = course.find_root()
    chosen = course.select(root, [exercise])
    if len(chosen) != 1:
        raise click.UsageError(f"{exercise!r} names {len(chosen)} exercises; watch one")
    from grader import watch  # imports watchfiles; torch comes later, in the watcher

    job = watch.Job(root, chosen[0], solutions=solutions, submission=submission, seed=seed)
    if not job.module.parent.is_dir():
        raise CourseError(f"{job.module.parent} does not exist: nothing to watch")
    return watch.Watcher(job, None if start_method == "auto" else start_method).run()


COMMANDS = [watch_exercise]
