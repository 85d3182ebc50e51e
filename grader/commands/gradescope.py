"""`grader gradescope OUT.zip [EXERCISE...]`: Gradescope's autograder, grading there as `grader batch` grades here."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from rich.console import Console

from grader import course, gradescope
from grader.results import HIDDEN_FEEDBACK


@click.command("gradescope")
@click.argument("out", type=click.Path(dir_okay=False, path_type=Path))
@click.argument("exercises", nargs=-1)
@click.option("--hidden-feedback", type=click.Choice(HIDDEN_FEEDBACK), default="outcome", show_default=True,
              help="What students see of a hidden check: an opaque id, its points and outcome only, "
                   "or its name and message too.")
@click.option("--submission-timeout", type=click.FloatRange(min=1), default=gradescope.DEFAULT_SUBMISSION_TIMEOUT,
              show_default=True, metavar="SECONDS",
              help="Wall-clock limit for grading one submission; keep it below the assignment's autograder "
                   "timeout on Gradescope (10 minutes unless you raise it).")
@click.option("--check-timeout", type=click.FloatRange(min=0.1), metavar="SECONDS",
              help="Time limit of a check without its own (default: the course's, 60 s).")
@click.option("--memory-limit", type=click.IntRange(min=64), default=gradescope.DEFAULT_MEMORY_MB, show_default=True,
              metavar="MiB",
              help="Memory a grading process may use beyond the grader's own.")
@click.option("--seed", type=int, help="Base seed of every check (default 0).")
def gradescope_autograder(out: Path, exercises: tuple[str, ...], hidden_feedback: str, submission_timeout: float,
                          check_timeout: float | None, memory_limit: int, seed: int | None) -> int:
    """Write Gradescope's autograder zip for the EXERCISES named (default: all) to OUT.

    OUT holds setup.sh (Python, the CPU build of torch, bubblewrap and the course, installed once when
    Gradescope builds the image), run_autograder (grades each submission in the sandbox into
    results.json, always writing one) and course/: the exercises with their hidden checks, the grader,
    datasets/ and pyproject.toml, never solutions/ or tests/. Upload it on the assignment's Configure
    Autograder page.
    """
    made = gradescope.write_autograder(course.find_root(), out, list(exercises), hidden_feedback=hidden_feedback,
                                       seed=seed, submission_timeout=submission_timeout, check_timeout=check_timeout,
                                       memory_mb=memory_limit)
    shown = "names and messages" if hidden_feedback == "message" else "opaque ids, points and outcomes only"
    console = Console(file=sys.stdout)
    console.print(
        f"Wrote the Gradescope autograder of {len(made.exercises)} exercise(s) "
        f"({', '.join(ex.name for ex in made.exercises)}) to {out}: {len(made.files)} files, {made.size / 1e6:.1f} MB; "
        f"hidden checks show {shown}. Set the assignment's autograder timeout above {submission_timeout:g} s.",
        highlight=False,
    )
    return 0


COMMANDS = [gradescope_autograder]
