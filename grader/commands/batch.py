"""`grader batch SUBMISSIONS --out OUT`: grade a whole class, each submission in its own watched process.

Exit codes: 0 every submission was graded (whatever its score), 1 some could not be graded at all,
2 usage error, 130 interrupted (a rerun picks up where it stopped).
"""

from __future__ import annotations

import contextlib
import signal
import statistics
import sys
import threading
import time
from pathlib import Path

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, ProgressColumn, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from grader import course
from grader.batch import Limits, default_jobs, grade_batch, sandbox
from grader.i18n import _
from grader.limits import BUDGET_RULE, rule
from grader.results import format_points
from grader.scoreboard import HEARTBEAT, points_of
from grader.metadata import DEVICES


@click.command("batch")
@click.argument("submissions", type=click.Path(exists=True, file_okay=False, path_type=Path))
@click.option("--out", required=True, type=click.Path(file_okay=False, path_type=Path),
              help="Folder for OUT/<student>.json, grades.csv and histogram.png (created; reruns resume in it).")
@click.option("--jobs", "-j", type=click.IntRange(min=1),
              help="Submissions graded at a time [default: number of cores].")
@click.option("--exercise", "-e", "exercises", multiple=True, metavar="NAME",
              help="Grade only this exercise (`05_cnn` or `05`); repeatable. Default: all of them.")
@click.option("--force", is_flag=True, help="Grade again even the submissions whose result is up to date.")
@click.option("--seed", type=int, help="Base seed of every check (default 0).")
@click.option("--device", type=click.Choice(DEVICES), default="cpu", show_default=True)
@click.option("--check-timeout", type=click.FloatRange(min=0.1), metavar="SECONDS",
              help=f"One time limit for every check without its own marker [default: {rule()}].")
@click.option("--submission-timeout", type=click.FloatRange(min=1), metavar="SECONDS",
              help=f"Wall-clock limit for one submission, all its processes together [default: {BUDGET_RULE}].")
@click.option("--memory-limit", type=click.IntRange(min=64), default=4096, show_default=True, metavar="MiB",
              help="Memory a grading process may use beyond the grader's own.")
@click.option("--output-limit", type=click.IntRange(min=1), default=1024, show_default=True, metavar="KiB",
              help="Output a grading process may print before it is stopped.")
@click.option("--threads", type=click.IntRange(min=1), default=1, show_default=True,
              help="torch threads in each grading process.")
@click.option("--no-histogram", is_flag=True, help="Do not draw OUT/histogram.png.")
@click.option("--dask", "dask_address", metavar="ADDRESS",
              help="Grade on the Dask cluster whose scheduler is at ADDRESS (tcp://host:8786, or a scheduler file), "
                   "or on a LocalCluster of --jobs workers (default 2) for `local`. Needs the dask extra; "
                   "see docs/instructor-guide.md, section 6.")
def batch(submissions: Path, out: Path, jobs: int | None, exercises: tuple[str, ...], force: bool, seed: int | None,
          device: str, check_timeout: float | None, submission_timeout: float | None, memory_limit: int,
          output_limit: int,
          threads: int, no_histogram: bool, dask_address: str | None) -> int:
    """Grade every submission in SUBMISSIONS (one folder shaped like exercises/, or a .zip of one, per student;
    the name is the student id), each in its own process with time, memory and output limits."""
    root = course.find_root()
    limits = Limits(check_timeout=check_timeout, submission_timeout=submission_timeout, memory_mb=memory_limit,
                    output_kb=output_limit, threads=threads)
    err, console = Console(file=sys.stderr), Console(file=sys.stdout)
    workers, jobs = jobs, jobs or default_jobs()
    if dask_address is None and (problem := sandbox.available()):
        err.print(Text(_("{problem} (see docs/instructor-guide.md, section 4)").format(problem=_(problem)),
                       style="bold yellow"))
    with _sigterm_interrupts(), _executor(dask_address, workers, device, err) as executor, \
            _progress(err) as (on_plan, on_event, on_done):
        summary = grade_batch(root, submissions, out, exercises=list(exercises), jobs=jobs, force=force, seed=seed,
                              device=device, limits=limits, histogram=not no_histogram, on_plan=on_plan,
                              on_event=on_event, on_done=on_done, executor=executor)
    render_summary(summary, console)
    return 1 if summary.failed else 0


class _Students(ProgressColumn):
    """The students being graded, each with the check it runs, how long it has run and its limit."""

    def __init__(self, running: dict):
        super().__init__()
        self.running = running

    def render(self, task) -> Text:
        return Text("; ".join(describe(run) for run in list(self.running.values())), style="cyan",
                    overflow="ellipsis", no_wrap=True)


def describe(run) -> str:
    """`alice: test_conv2d_values[1-0] (3 s of 60 s)`, or what the student's grading is doing."""
    if run.current is None:
        return f"{run.student}: starting" if not run.checks else f"{run.student}: between checks"
    limit = run.cut[1] if run.cut else (run.checks[run.current].limit if run.current in run.checks else None)
    elapsed = time.monotonic() - run.current_started
    return f"{run.student}: {run.current.rsplit('::', 1)[-1]} ({elapsed:.0f} s" + (
        f" of {limit:.3g} s)" if limit else ")")


@contextlib.contextmanager
def _progress(err: Console):
    """(on_plan, on_event, on_done) for grade_batch: a bar with the students being graded on a terminal, plain
    lines otherwise (one per student graded, and one for a check still running after a while)."""
    running: dict[str, object] = {}
    if not err.is_terminal:
        done, last = threading.Event(), {}

        def heartbeat() -> None:
            while not done.wait(HEARTBEAT):
                for run in list(running.values()):
                    if run.current is not None and time.monotonic() - run.current_started >= HEARTBEAT:
                        err.print(f"still running: {describe(run)}", highlight=False, markup=False)

        def on_plan(todo: int, unchanged: int) -> None:
            last["todo"], last["done"] = todo, 0
            err.print(f"grading {todo} submission(s)", highlight=False, markup=False)
            if unchanged:
                err.print(_kept(unchanged), highlight=False, markup=False)

        def on_done(run, data) -> None:
            running.pop(run.student, None)
            last["done"] = last.get("done", 0) + 1
            result = (points_of(data["total"], data["max_total"]) if data is not None
                      else f"could not be graded: {run.error}")
            err.print(f"[{last['done']}/{last.get('todo', '?')}] {run.student}: {result}", highlight=False, markup=False)

        watcher = threading.Thread(target=heartbeat, name="grader-batch-progress", daemon=True)
        watcher.start()
        try:
            yield on_plan, (lambda run, what: running.setdefault(run.student, run)), on_done
        finally:
            done.set()
        return
    columns = (TextColumn("[bold]grading"), BarColumn(bar_width=20), MofNCompleteColumn(), TimeElapsedColumn(),
               _Students(running))
    with Progress(*columns, console=err, transient=True, refresh_per_second=4) as bar:
        task = bar.add_task("grading", total=None)

        def on_plan(todo: int, unchanged: int) -> None:
            bar.update(task, total=todo)
            if unchanged:
                err.print(_kept(unchanged))

        def on_done(run, data) -> None:
            running.pop(run.student, None)
            bar.advance(task)
            if data is None:
                err.print(Text(f"{run.student}: could not be graded: {run.error}", style="red"))

        yield on_plan, (lambda run, what: running.setdefault(run.student, run)), on_done


def _kept(unchanged: int) -> str:
    return f"{unchanged} submission(s) unchanged since they were graded: kept (--force grades them again)"


def render_summary(summary, console: Console) -> None:
    """The class at a glance, readable at 80 columns: a row per student, then a row per exercise (the points
    of every student in every exercise are in grades.csv and `grader report`)."""
    graded = set(summary.graded)
    results = summary.results
    table = Table(title=f"Batch results in {summary.out}", title_justify="left")
    table.add_column("student", overflow="fold")
    table.add_column("points", justify="right", no_wrap=True)
    table.add_column("%", justify="right", no_wrap=True)
    table.add_column("checks not passed", overflow="fold")
    table.add_column("this run", no_wrap=True)
    for data in results:
        counts: dict[str, int] = {}
        for ex in data["exercises"]:
            for check in ex["checks"]:
                if check["outcome"] != "passed":
                    counts[check["outcome"]] = counts.get(check["outcome"], 0) + 1
        not_passed = ", ".join(f"{n} {outcome}" for outcome, n in sorted(counts.items())) or "-"
        style = "red" if ("crashed" in counts or "timeout" in counts) else ""
        table.add_row(Text(str(data["student"])), points_of(data["total"], data["max_total"]),
                      _percent(data["total"], data["max_total"]), Text(not_passed, style=style),
                      "graded" if data["student"] in graded else "unchanged")
    console.print(table)
    by_exercise: dict[str, list[dict]] = {}
    for data in results:
        for ex in data["exercises"]:
            by_exercise.setdefault(ex["name"], []).append(ex)
    if by_exercise:
        exercises = Table(title="By exercise", title_justify="left")
        exercises.add_column("exercise", overflow="fold")
        for column in ("mean", "min", "max", "of", "full marks"):
            exercises.add_column(column, justify="right", no_wrap=True)
        for name, rows in sorted(by_exercise.items()):
            scores = [float(r["score"]) for r in rows]
            top = max(float(r["max_score"]) for r in rows)
            full = sum(1 for r in rows if float(r["score"]) >= float(r["max_score"]) > 0)
            exercises.add_row(name, f"{statistics.mean(scores):.1f}", format_points(min(scores)),
                              format_points(max(scores)), format_points(top), f"{full} / {len(rows)}")
        console.print(exercises)
    if results:
        totals = [float(d["total"]) for d in results]
        console.print(f"{len(totals)} students: mean {statistics.mean(totals):.1f}, "
                      f"median {format_points(statistics.median(totals))}, min {format_points(min(totals))}, "
                      f"max {format_points(max(totals))} (of {format_points(max(d['max_total'] for d in results))})")
    for student, error in sorted(summary.failed.items()):
        console.print(Text(f"not graded: {student}: {error} (a rerun tries again)", style="red"))
    if summary.ignored:
        console.print(Text(f"ignored (neither a folder nor a .zip): {', '.join(summary.ignored)}", style="dim"))
    console.print(f"grades: {summary.csv}" + (f"   histogram: {summary.histogram}" if summary.histogram else ""))


def _percent(total: float, max_total: float) -> str:
    return f"{100 * total / max_total:.0f}" if max_total else "-"


@contextlib.contextmanager
def _executor(address: str | None, workers: int | None, device: str, err: Console):
    """None without --dask; else the Dask cluster the batch is graded on (docs/instructor-guide.md, section 6), closed afterwards."""
    if address is None:
        yield None
        return
    from grader.batch import dask as dask_batch

    with dask_batch.connect(address, workers=workers) as grid:
        err.print(grid.describe())
        if device != "cpu" and not grid.uses_gpu(device):
            err.print(Text("no worker of the cluster has a GPU (`--resources GPU=1`): the checks marked cuda "
                           "are recorded as skipped", style="yellow"))
        yield grid


@contextlib.contextmanager
def _sigterm_interrupts():
    """SIGTERM stops the batch like Ctrl-C: grading processes killed, finished students kept."""

    def interrupt(signum, frame):
        raise KeyboardInterrupt

    try:
        previous = signal.signal(signal.SIGTERM, interrupt)
    except ValueError:  # not the main thread
        yield
        return
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, previous)


COMMANDS = [batch]


def run(argv: list[str] | None = None) -> None:
    """`python -m grader.batch ...`: the same as `grader batch ...`."""
    from grader import cli

    cli.run(["batch", *(sys.argv[1:] if argv is None else argv)])
