"""`grader report OUT`: the instructor's HTML view of a batch (OUT/report/index.html), with item analysis and
similarity."""

from __future__ import annotations

import sys
from pathlib import Path

import click
from rich.console import Console

from grader import course, similarity
from grader.errors import CourseError
from grader.results import HIDDEN_FEEDBACK


@click.command("report")
@click.argument("out", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--hidden-feedback", type=click.Choice(HIDDEN_FEEDBACK), default="message", show_default=True,
              help="What the pages show of a hidden check: its name and message (for the instructor), or only its "
                   "outcome and points under an opaque id (for a report you share).")
@click.option("--similarity-threshold", type=click.FloatRange(0, 1), default=similarity.DEFAULT_THRESHOLD,
              show_default=True, metavar="FRACTION",
              help="Report two submissions as alike when this share of one's own code (the stub left out) is in "
                   "the other's.")
@click.option("--no-similarity", is_flag=True,
              help="Leave out the similarity section (it needs the course and the submissions on disk).")
def report(out: Path, hidden_feedback: str, similarity_threshold: float, no_similarity: bool) -> int:
    """Write OUT/report/index.html from the results of `grader batch SUBMISSIONS --out OUT`: the class's
    totals and each exercise's distribution, the item analysis of every check, a page per student and the
    pairs of submissions whose code is alike (evidence for a person: it never changes a grade)."""
    from grader.batch import store
    from grader.report import write_report

    records = store.collect(out)
    if not records:
        raise CourseError(f"{out}: no student results in it (the OUT folder of `grader batch`)")
    found = None
    if not no_similarity:
        try:
            import copydetect
        except ImportError:
            raise CourseError("the similarity section needs copydetect: pip install copydetect "
                              "(or leave it out with --no-similarity)") from None
        found = similarity.analyse(records, course.find_root(), similarity_threshold)
    index = write_report(out, records, hidden_feedback=hidden_feedback, similarity=found)
    console = Console(file=sys.stdout)
    for result in found or []:
        console.print(f"{result.exercise}: {len(result.compared)} compared, {len(result.matches)} pair(s) at or above "
                      f"{similarity_threshold:.0%}" + (f", {len(result.not_compared)} not compared"
                                                       if result.not_compared else ""))
    console.print(f"report of {len(records)} students: {index}")
    return 0


COMMANDS = [report]
