"""The rich scoreboard, and the progress bar shown while checks run."""

from __future__ import annotations

import contextlib
from typing import Iterator

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table
from rich.text import Text

from grader.results import Report

STATUS_STYLE = {"passed": "green", "failed": "red", "error": "red", "timeout": "yellow", "skipped": "dim", "crashed": "red"}
MARK = {"passed": "✔", "failed": "✘", "error": "!", "timeout": "⏱", "skipped": "–", "crashed": "‼"}


def render(report: Report, console: Console) -> None:
    table = Table(title=f"Scoreboard: {report.target}", title_justify="left", show_footer=True)
    table.add_column("exercise", footer="total")
    table.add_column("checks passed", justify="right", footer=_checks_footer(report))
    table.add_column("points", justify="right", footer=f"{_num(report.total)} / {_num(report.max_total)}")
    table.add_column("time", justify="right", footer=f"{sum(e.duration for e in report.exercises):.1f} s")
    table.add_column("status", footer=_percent(report))
    for ex in report.exercises:
        style = STATUS_STYLE[ex.status]
        table.add_row(
            ex.name,
            f"{ex.passed} / {len(ex.checks)}",
            f"{_num(ex.score)} / {_num(ex.max_score)}",
            f"{ex.duration:.1f} s",
            Text(f"{MARK[ex.status]} {ex.status}", style=style),
        )
    console.print(table)
    failing = [(ex.name, c) for ex in report.exercises for c in ex.checks if c.outcome not in ("passed", "skipped")]
    if failing:
        console.print(Text("Checks that did not pass", style="bold"))
        for exercise, check in failing:
            line = Text(f"  {MARK[check.outcome]} ", style=STATUS_STYLE[check.outcome])
            line.append(f"{exercise} {check.name}", style="bold")
            if check.hidden:
                line.append(" [hidden]", style="magenta")
            line.append(f" ({_num(check.max_points)} pt): ")
            line.append(report.shown_message(check))
            console.print(line)
    skipped = [c for ex in report.exercises for c in ex.checks if c.outcome == "skipped"]
    if skipped:
        console.print(Text(f"{len(skipped)} check(s) skipped: {skipped[0].message}", style="dim"))
    console.print(
        Text.assemble(
            ("Total ", "bold"),
            (f"{_num(report.total)} / {_num(report.max_total)} points ({_percent(report)})", "bold"),
            f"   seed {report.seed} (replay: --seed {report.seed})   device {report.device}   target {report.target}",
        )
    )


def _checks_footer(report: Report) -> str:
    checks = [c for ex in report.exercises for c in ex.checks]
    return f"{sum(c.outcome == 'passed' for c in checks)} / {len(checks)}"


def _percent(report: Report) -> str:
    return f"{100 * report.total / report.max_total:.0f}%" if report.max_total else "-"


def _num(value: float) -> str:
    return f"{value:g}"


@contextlib.contextmanager
def progress(console: Console, label: str) -> Iterator[tuple]:
    """A progress bar with ETA; yields (on_total, on_check) callbacks for `runner.grade`."""
    columns = (
        TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
        TimeElapsedColumn(), TextColumn("eta"), TimeRemainingColumn(),
    )
    with Progress(*columns, console=console, transient=True, disable=not console.is_terminal) as bar:
        task = bar.add_task(label, total=None)

        def on_total(n: int) -> None:
            bar.update(task, total=n)

        def on_check(nodeid: str) -> None:
            bar.update(task, advance=1, description=f"{label} {nodeid.split('/')[-2] if '/' in nodeid else ''}")

        yield on_total, on_check
