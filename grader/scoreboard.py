"""The rich scoreboard, and the progress shown while checks run.

Readable at 80 columns: columns wrap, names are never cut. On a console that cannot show the marks (a GBK
console on Windows), plain ASCII marks are used. Without a terminal (CI, a pipe), progress is plain lines.
"""

from __future__ import annotations

import contextlib
import threading
import time
from typing import Callable, Iterator

from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, ProgressColumn, TextColumn, TimeElapsedColumn
from rich.table import Table
from rich.text import Text

from grader.i18n import N_, _
from grader.metadata import CheckMeta
from grader.results import CheckResult, Report, format_points, hidden_lines, shown_target

STATUS_STYLE = {"passed": "green", "failed": "red", "error": "red", "timeout": "yellow", "skipped": "dim", "crashed": "red"}
STATUS = {"passed": N_("passed"), "failed": N_("failed"), "error": N_("error"), "timeout": N_("timeout"),
          "skipped": N_("skipped"), "crashed": N_("crashed")}
MARK = {"passed": "✔", "failed": "✘", "error": "!", "timeout": "⏱", "skipped": "–", "crashed": "‼"}
ASCII_MARK = {"passed": "ok", "failed": "x", "error": "!", "timeout": "T", "skipped": "-", "crashed": "!!"}
HEARTBEAT = 15.0  # seconds between "still running" lines without a terminal


def marks(console: Console) -> dict[str, str]:
    """The outcome marks this console can print."""
    try:
        "".join(MARK.values()).encode(console.encoding)
        return MARK
    except (UnicodeEncodeError, LookupError):
        return ASCII_MARK


def render(report: Report, console: Console, verbose: bool = False) -> None:
    mark = marks(console)
    table = Table(title=_("Scoreboard: {target}").format(target=shown_target(report.target)), title_justify="left",
                  show_footer=True)
    table.add_column(_("exercise"), footer=_("total"), overflow="fold")
    table.add_column(_("checks passed"), justify="right", footer=_checks_footer(report))
    table.add_column(_("points"), justify="right", footer=points_of(report.total, report.max_total))
    table.add_column(_("time"), justify="right", footer=f"{sum(e.duration for e in report.exercises):.1f} s")
    table.add_column(_("status"), footer=_percent(report))
    for ex in report.exercises:
        table.add_row(
            ex.name,
            f"{ex.passed} / {len(ex.checks)}",
            points_of(ex.score, ex.max_score),
            f"{ex.duration:.1f} s",
            Text(f"{mark[ex.status]} {_(STATUS[ex.status])}", style=STATUS_STYLE[ex.status]),
        )
    console.print(table)
    failing = [c for c in report.checks if c.outcome not in ("passed", "skipped")]
    if failing:
        console.print(Text(_("Checks that did not pass"), style="bold"))
        for group in _same_reason(failing, keep=verbose):
            console.print(_failure_line(group, mark))
            if verbose and group[0].traceback:
                console.print(Text(group[0].traceback, style="dim"))
    skipped = [c for c in report.checks if c.outcome == "skipped"]
    if skipped:
        console.print(Text(_("{n} check(s) skipped: {reason}").format(n=len(skipped), reason=skipped[0].message),
                           style="dim"))
    for note in [*report.notes, *hidden_lines(report)]:
        console.print(Text(note, style="yellow"))
    console.print(
        Text.assemble(
            (_("Total {points} points ({percent})").format(points=points_of(report.total, report.max_total),
                                                          percent=_percent(report)), "bold"),
            "   " + _("seed {seed} (replay: --seed {seed})   device {device}   target {target}").format(
                seed=report.seed, device=report.device, target=shown_target(report.target)),
        )
    )


GROUPED = 3  # this many failing checks of an exercise with the same reason are one line


def _same_reason(failing: list[CheckResult], keep: bool) -> list[list[CheckResult]]:
    """The failing checks, those of an exercise that fail for the same reason together (a module that does not
    load fails every check alike: one line, not hundreds); `keep` keeps every check on its own line."""
    groups: dict[tuple, list[CheckResult]] = {}
    for check in failing:
        key = (check.exercise, check.outcome, check.message) if not keep else (check.id,)
        groups.setdefault(key, []).append(check)
    lines = []
    for group in groups.values():
        lines += [group] if len(group) >= GROUPED else [[check] for check in group]
    return sorted(lines, key=lambda group: failing.index(group[0]))


def _failure_line(group: list[CheckResult], mark: dict[str, str]) -> Text:
    check = group[0]
    line = Text(f"  {mark[check.outcome]} ", style=STATUS_STYLE[check.outcome])
    if len(group) == 1:
        line.append(f"{check.exercise} {check.name}", style="bold")
        if check.hidden:
            line.append(" " + _("[hidden]"), style="magenta")
    else:
        hidden = sum(c.hidden for c in group)
        line.append(_("{exercise}: {n} checks").format(exercise=check.exercise, n=len(group)), style="bold")
        if hidden:
            line.append(" " + _("[{n} hidden]").format(n=hidden), style="magenta")
    line.append(_(" ({points} pt): ").format(points=format_points(sum(c.max_points for c in group))))
    line.append(check.message)
    return line


def points_of(score: float, max_score: float) -> str:
    return f"{format_points(score)} / {format_points(max_score)}"


def _checks_footer(report: Report) -> str:
    checks = report.checks
    return f"{sum(c.outcome == 'passed' for c in checks)} / {len(checks)}"


def _percent(report: Report) -> str:
    return f"{100 * report.total / report.max_total:.0f}%" if report.max_total else "-"


# --- progress ------------------------------------------------------------------------------------------------

class _Running:
    """The check that runs now, shared between the grading thread and the display."""

    def __init__(self) -> None:
        self.meta: CheckMeta | None = None
        self.started = 0.0

    def start(self, meta: CheckMeta) -> None:
        self.meta, self.started = meta, time.monotonic()

    def describe(self) -> str:
        meta = self.meta
        if meta is None:
            return ""
        elapsed = time.monotonic() - self.started
        name = meta.id.rsplit("::", 1)[-1]
        if meta.limit:
            return _("{exercise} {check} ({elapsed} s of {limit} s)").format(
                exercise=meta.exercise, check=name, elapsed=f"{elapsed:.0f}", limit=f"{meta.limit:.3g}")
        return _("{exercise} {check} ({elapsed} s)").format(exercise=meta.exercise, check=name, elapsed=f"{elapsed:.0f}")


class _RunningColumn(ProgressColumn):
    def __init__(self, running: _Running):
        super().__init__()
        self.running = running

    def render(self, task) -> Text:
        return Text(self.running.describe(), style="cyan", overflow="ellipsis", no_wrap=True)


@contextlib.contextmanager
def progress(console: Console, label: str) -> Iterator[tuple[Callable, Callable, Callable]]:
    """Progress while checks run; yields the (on_total, on_start, on_check) callbacks of `session.grade`.

    On a terminal: a bar, then the running check with its elapsed time and limit. Otherwise: a line per
    exercise as it starts, and a "still running" line for a check that takes long."""
    running = _Running()
    if not console.is_terminal:
        yield from _plain_progress(console, label, running)
        return
    columns = (TextColumn(f"[bold]{label}"), BarColumn(bar_width=20), MofNCompleteColumn(), TimeElapsedColumn(),
               _RunningColumn(running))
    with Progress(*columns, console=console, transient=True, refresh_per_second=4) as bar:
        task = bar.add_task(label, total=None)
        yield (lambda n: bar.update(task, total=n)), running.start, (lambda result: bar.advance(task))


def _plain_progress(console: Console, label: str, running: _Running):
    seen: set[str] = set()
    done = threading.Event()

    def on_start(meta: CheckMeta) -> None:
        running.start(meta)
        if meta.exercise not in seen:
            seen.add(meta.exercise)
            console.print(f"{label} {meta.exercise}", highlight=False)

    def heartbeat() -> None:
        while not done.wait(HEARTBEAT):
            if running.meta is not None and time.monotonic() - running.started >= HEARTBEAT:
                console.print(_("still running: {check}").format(check=running.describe()), highlight=False)

    watcher = threading.Thread(target=heartbeat, name="grader-progress", daemon=True)
    watcher.start()
    try:
        yield (lambda n: None), on_start, (lambda result: None)
    finally:
        done.set()
