"""Grading submissions without trusting them: each in a sandboxed grading process, `jobs` at a time, resumable.

    from grader.batch import grade_batch, grade_submission, Limits
    summary = grade_batch(root, Path("submissions"), Path("out"), exercises=["05_cnn"], jobs=2)
    report = grade_submission(root, Path("alice.zip"), course.select(root, ["05"]))   # one, for `grader run`

Modules: `grader.intake` (what is taken from a submission), `sandbox` (the sandbox and the limits of a grading
process), `zygote` (a slot's preloaded process, in the sandbox), `worker` (the grading process), `tamper`
(replaced library functions), `pool` (the parent: slots, processes, deadlines, verdicts), `store` (the output
folder: per-student JSON, grades.csv, histogram.png).
"""

from __future__ import annotations

import os
import shutil
import sys
import tempfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

from grader import course, intake
from grader.batch import store
from grader.batch.pool import Pool, StudentRun
from grader.batch import sandbox
from grader.batch.sandbox import Limits
from grader.course import CourseError, Exercise
from grader.i18n import _
from grader.results import Report, submission_target

__all__ = ["BatchSummary", "Limits", "default_jobs", "grade_batch", "grade_submission"]


def default_jobs() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


WORK_PREFIX = "grader-batch-"  # + the parent's pid: the slots' folders, in the system's temp dir


def _remove_stale_work_roots() -> None:
    """Remove the temporary folders of batches whose parent is gone (killed with -9: it could not clean up)."""
    for folder in Path(tempfile.gettempdir()).glob(f"{WORK_PREFIX}*-*"):
        pid = folder.name[len(WORK_PREFIX):].split("-", 1)[0]
        if pid.isdigit() and not Path(f"/proc/{pid}").exists():
            shutil.rmtree(folder, ignore_errors=True)


@dataclass
class BatchSummary:
    out: Path
    graded: list[str] = field(default_factory=list)  # graded in this run
    unchanged: list[str] = field(default_factory=list)  # skipped: same submission, same grading
    failed: dict[str, str] = field(default_factory=dict)  # could not be graded at all (no file written)
    ignored: list[str] = field(default_factory=list)  # entries of the submissions folder that are not submissions
    results: list[dict] = field(default_factory=list)  # every student file in `out`, after the run
    csv: Path | None = None
    histogram: Path | None = None


def grade_batch(
    root: Path,
    submissions: Path,
    out: Path,
    *,
    exercises: list[str] | tuple[str, ...] = (),
    jobs: int | None = None,
    force: bool = False,
    seed: int | None = None,
    device: str = "cpu",
    limits: Limits | None = None,
    histogram: bool = True,
    on_plan: Callable[[int, int], None] | None = None,
    on_event: Callable[[StudentRun, str], None] | None = None,
    on_done: Callable[[StudentRun, dict | None], None] | None = None,
    executor=None,
) -> BatchSummary:
    """Grade every submission in the folder `submissions` into `out`; see docs/instructor-guide.md, section 5.

    `on_plan(to_grade, unchanged)` is called once before grading, `on_done(run, data)` as each student's
    file is written (`data` is None when the student could not be graded). `executor` grades elsewhere than
    in local processes: `grader.batch.dask.connect(address)`, a Dask cluster (docs/instructor-guide.md, section 6).
    """
    chosen = course.select(root, list(exercises))
    if not chosen:
        raise CourseError(f"no exercises in {root / 'exercises'}")
    entries, ignored = intake.discover(submissions)
    out = Path(out)
    entries = [e for e in entries if e.resolve() != out.resolve()]  # OUT may live inside SUBMISSIONS
    summary = BatchSummary(out, ignored=ignored)
    _grade(root, [(intake.student_id(e), e) for e in entries], chosen, out, summary, jobs=jobs, force=force,
           seed=seed, device=device, limits=limits or Limits(), on_plan=on_plan, on_event=on_event, on_done=on_done,
           executor=executor)
    if histogram:
        summary.histogram = store.write_histogram(out, summary.results)
    return summary


def grade_submission(root: Path, entry: Path, exercises: list[Exercise], *, seed: int | None = None,
                     device: str = "cpu", limits: Limits | None = None, verbose: bool = False,
                     on_event: Callable[[StudentRun, str], None] | None = None) -> Report:
    """Grade one submission (a folder or a .zip) in the sandbox, as `grader batch` grades each of a class.

    The report's notes say what intake adjusted or refused, and whether there was no sandbox; `verbose` keeps
    the student's own frames of each failure."""
    student = intake.student_id(Path(entry))
    with tempfile.TemporaryDirectory(prefix="grader-submission-") as out:
        summary = BatchSummary(Path(out))
        _grade(root, [(student, Path(entry))], exercises, Path(out), summary, jobs=1, force=True, seed=seed,
               device=device, limits=limits or Limits(), on_event=on_event, csv=False, verbose=verbose)
    if summary.failed:
        raise CourseError(f"{entry} could not be graded: {summary.failed[student]}")
    return store.report_of(summary.results[0])


def _linux_only() -> None:
    if not sys.platform.startswith("linux"):
        raise CourseError(_("grading submissions (grader batch, grader run --submission) needs Linux, where their "
                            "sandbox runs; on {platform}, grade your own exercises/ with `grader run`").format(
            platform=sys.platform))


def _grade(root: Path, entries: list[tuple[str, Path]], chosen: list[Exercise], out: Path, summary: BatchSummary, *,
           jobs: int | None, force: bool, seed: int | None, device: str, limits: Limits,
           on_plan: Callable | None = None, on_event: Callable | None = None, on_done: Callable | None = None,
           executor=None, csv: bool = True, verbose: bool = False) -> None:
    if executor is None:  # a Dask cluster's workers run the sandboxes
        _linux_only()
    contract = {ex.name: ex.module for ex in chosen}
    out.mkdir(parents=True, exist_ok=True)
    store.clean_stale(out)
    key_device = executor.key_device(device) if executor is not None else device
    key = store.grading_key(root, chosen, seed, key_device, limits.as_dict())
    sandboxed = executor is None and sandbox.available() is None  # a Dask cluster's workers decide theirs
    todo = []
    for student, entry in entries:
        submission = intake.read(entry, contract, student)
        existing = store.load(store.result_path(out, submission.student))
        if not force and store.is_current(existing, submission.hash, key, sandboxed):
            summary.unchanged.append(submission.student)
        else:
            todo.append(submission)
    if on_plan:
        on_plan(len(todo), len(summary.unchanged))
    def finished(run: StudentRun) -> None:
        if run.error is not None:
            summary.failed[run.student] = run.error
            if on_done:
                on_done(run, None)
            return
        sub = run.submission
        notes = [*sub.notes, *run.notes, *([run.sandbox] if run.sandbox else [])]
        report = Report.from_checks(submission_target(run.student), run.seed if run.seed is not None else 0,
                                    run.device or device, run.checks_in_order(), notes=notes)
        data = store.student_record(report, student=sub.student, entry=sub.entry, submission_hash=sub.hash, key=key,
                                    sandbox=run.sandbox or store.SANDBOXED, events=run.events,
                                    output=bytes(run.output), output_total=run.output_total,
                                    processes=run.processes, wall_time=run.wall_time(), cpu_time=run.cpu_time,
                                    time_limits={"submission": run.budget, "slowness": round(run.slowness, 3),
                                                 "checks": (f"{limits.check_timeout:g} s each" if limits.check_timeout
                                                            else "from the reference's times (grader/limits.py)")})
        store.save(out, sub.student, data)
        summary.graded.append(sub.student)
        if on_done:
            on_done(run, data)

    work_root = None
    try:
        if todo:
            _remove_stale_work_roots()
            work_root = Path(tempfile.mkdtemp(prefix=f"{WORK_PREFIX}{os.getpid()}-"))
            if executor is not None:
                executor.run(root, todo, chosen, limits=limits, seed=seed, device=device, on_done=finished,
                             on_event=on_event, preload=course.preload_modules(course.exercise_texts(root, chosen)))
            else:
                pool = Pool(root, chosen, limits, seed=seed, device=device, jobs=jobs or default_jobs(),
                            work_root=work_root, on_done=finished, on_event=on_event,
                            preload=course.preload_modules(course.exercise_texts(root, chosen)), verbose=verbose)
                try:
                    pool.run(todo)
                finally:
                    pool.close()
    finally:
        try:
            summary.results = store.collect(out)
            if csv:
                summary.csv = store.write_csv(out, summary.results)
        finally:
            if work_root is not None:
                shutil.rmtree(work_root, ignore_errors=True)
