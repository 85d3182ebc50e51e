"""`grader check`: the course's self-check before a release (see grader.selfcheck)."""

from __future__ import annotations

import functools
import sys
from pathlib import Path

import click
from rich.console import Console

from grader import course, scoreboard, selfcheck
from grader.results import write_json_atomic
from grader.metadata import DEVICES


@click.command("check")
@click.argument("exercises", nargs=-1)
@click.option("--seeds", type=click.IntRange(min=1), default=selfcheck.DEFAULT_SEEDS, show_default=True,
              help="Run the threshold checks on the solutions under seeds 0..N-1.")
@click.option("--curriculum", type=click.Path(exists=True, dir_okay=False, path_type=Path),
              help="The curriculum whose public names must exist [default: docs/curriculum.md].")
@click.option("--device", type=click.Choice(DEVICES), default="cpu", show_default=True,
              help="Where the checks run.")
@click.option("--json", "json_path", type=click.Path(dir_okay=False, path_type=Path),
              help="Also write the self-check as JSON to this file.")
def check_course(exercises: tuple[str, ...], seeds: int, curriculum: Path | None, device: str,
                 json_path: Path | None) -> int:
    """Self-check the course (or the EXERCISES named) before a release; exit 0 only if every point holds.

    1 every check passes on solutions/; 2 every hidden check fails on the stubs; 3 two runs agree;
    4 threshold checks pass under every seed (smallest margins shown); 5 the contract holds (layout, the
    curriculum's names); 6 a fresh release holds no hidden check or solution code; 7 every message has its
    translations. It also writes the reference's time for every check (exercises/reference-times.json).
    """
    out, err = Console(file=sys.stdout), Console(file=sys.stderr)
    report = selfcheck.run(course.find_root(), list(exercises), seeds=seeds, curriculum=curriculum, device=device,
                           progress=functools.partial(scoreboard.progress, err))
    selfcheck.render(report, out)
    if json_path is not None:
        write_json_atomic(json_path, report.to_dict())
    return 0 if report.ok else 1


COMMANDS = [check_course]
