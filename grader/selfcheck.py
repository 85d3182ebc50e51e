"""`grader check`: the course checks itself before a release.

Seven points, each passed or failed with details:

1. every check passes on the reference solutions;
2. every hidden check fails on the untouched stubs (a check that cannot fail gives free points);
3. two runs on the solutions give the same outcome, points and message for every check (determinism);
4. every threshold check (one that called `expect_at_least`/`expect_at_most`) passes on the solutions under
   seeds 0..N-1, and the smallest margin to each threshold is reported;
5. the exercise contract holds (`grader.contract`): the layout of every exercise, every exercise in the
   curriculum, and the public names it promises defined in each stub and solution (read with `ast`);
6. a fresh student release holds no hidden check and no solution code (see `grader.release`);
7. every message of the grader and the checks has its translation in each catalog (see `grader.i18n`).

Only the threshold checks are run again for the extra seeds. `run()` returns a `SelfCheck`; `render()`
prints it; `SelfCheck.to_dict()` is the `--json` form.
"""

from __future__ import annotations

import contextlib
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, ContextManager, Iterator, Sequence

from rich.console import Console
from rich.padding import Padding
from rich.text import Text

from grader import contract, course, release
from grader.course import CourseError, Exercise
from grader.results import CheckResult, Report

DEFAULT_SEEDS = 5
CURRICULUM = Path("docs") / "curriculum.md"
SHOWN_DETAILS = 8  # detail lines per point in the table; --json has them all

TITLES = {
    1: "every check passes on the solutions",
    2: "every hidden check fails on the stubs",
    3: "two runs give identical outcomes",
    4: "threshold checks pass under every seed",
    5: "the contract holds (layout, curriculum)",
    6: "the release holds nothing hidden",
    7: "every message has its translations",
}

Progress = Callable[[str], ContextManager[tuple]]  # label -> (on_total, on_start, on_check), as scoreboard.progress


@dataclass
class Point:
    number: int
    title: str
    ok: bool = True
    details: list[str] = field(default_factory=list)
    duration: float = 0.0

    def fail(self, detail: str) -> None:
        self.ok = False
        self.details.append(detail)


@dataclass
class Threshold:
    """One threshold (`what` of an expect_at_least/at_most call) of one check, over the seeds."""

    check: str  # the check's id
    what: str
    bar: float
    at_least: bool
    margins: dict[int, float] = field(default_factory=dict)  # seed -> value's margin to the bar (< 0: missed)
    values: dict[int, float] = field(default_factory=dict)
    failed_seeds: list[int] = field(default_factory=list)  # seeds under which the check did not pass

    @property
    def smallest(self) -> tuple[int, float] | None:
        """(seed, margin) of the smallest margin."""
        return min(self.margins.items(), key=lambda item: (item[1], item[0])) if self.margins else None

    @property
    def relation(self) -> str:
        return ">=" if self.at_least else "<="

    def ok(self, seeds: Sequence[int]) -> bool:
        return not self.failed_seeds and all(s in self.margins and self.margins[s] >= 0 for s in seeds)


@dataclass
class SelfCheck:
    root: Path
    seeds: list[int]
    points: list[Point]
    thresholds: list[Threshold]
    duration: float = 0.0
    timings: Path | None = None  # where the reference's check times were written

    @property
    def ok(self) -> bool:
        return all(p.ok for p in self.points)

    def to_dict(self) -> dict:
        return {
            "root": str(self.root),
            "ok": self.ok,
            "seeds": self.seeds,
            "duration": round(self.duration, 3),
            "timings": str(self.timings) if self.timings else None,
            "points": [
                {"number": p.number, "title": p.title, "ok": p.ok, "details": p.details,
                 "duration": round(p.duration, 3)}
                for p in self.points
            ],
            "thresholds": [
                {"check": t.check, "what": t.what, "bar": t.bar, "relation": t.relation,
                 "values": {str(s): v for s, v in sorted(t.values.items())},
                 "margins": {str(s): m for s, m in sorted(t.margins.items())},
                 "smallest_margin": t.smallest[1] if t.smallest else None,
                 "smallest_margin_seed": t.smallest[0] if t.smallest else None,
                 "failed_seeds": t.failed_seeds, "ok": t.ok(self.seeds)}
                for t in self.thresholds
            ],
        }


@contextlib.contextmanager
def _no_progress(label: str) -> Iterator[tuple]:
    yield None, None, None


def run(
    root: Path,
    names: Sequence[str] = (),
    *,
    seeds: int = DEFAULT_SEEDS,
    curriculum: Path | None = None,
    device: str | None = None,
    progress: Progress = _no_progress,
) -> SelfCheck:
    """Self-check the exercises named (all by default) of the course at `root`."""
    if seeds < 1:
        raise CourseError("--seeds must be at least 1")
    root = Path(root)
    if not (root / "solutions").is_dir():
        raise CourseError(f"no solutions/ folder in {root}: `grader check` needs the instructor's course, "
                          "not a student release")
    chosen = course.select(root, list(names))
    if not chosen:
        raise CourseError(f"no exercises in {root / 'exercises'}")
    started = time.perf_counter()

    def grade(label: str, **kw) -> Report:
        with progress(label) as (on_total, on_start, on_check):
            from grader import session  # imports torch: not needed to parse the command line

            return session.grade(root, chosen, device=device, on_total=on_total, on_start=on_start, on_check=on_check,
                                 **kw)

    points = {n: Point(n, TITLES[n]) for n in TITLES}
    with _timed(points[1]):
        first = grade("solutions, run 1", solutions=True, seed=0, reference_limits=False)
        _every_check_passes(first, points[1])
    with _timed(points[2]):
        _hidden_checks_fail(grade("stubs", seed=0), chosen, points[2])
    with _timed(points[3]):
        second = grade("solutions, run 2", solutions=True, seed=0, reference_limits=False)
        _identical(first, second, points[3])
    timings = record_times(root, chosen, [first, second]) if points[1].ok else None
    with _timed(points[4]):
        thresholds = _thresholds(first, list(range(seeds)), grade, points[4])
    with _timed(points[5]):
        _contract(root, curriculum or root / CURRICULUM, chosen, bool(names), points[5])
    with _timed(points[6]):
        _release_is_clean(root, chosen, points[6])
    with _timed(points[7]):
        _translated(root, points[7])
    return SelfCheck(root, list(range(seeds)), list(points.values()), thresholds, time.perf_counter() - started,
                     timings)


def record_times(root: Path, chosen: Sequence[Exercise], reports: Sequence[Report]) -> Path:
    """Write the reference's time for every check of the chosen exercises (the faster of the runs) into the
    course's timings file, from which time limits follow (grader/limits.py). Other exercises' times are kept,
    rescaled to this machine's calibration, so that their limits stay what they were."""
    from grader import limits

    timings = limits.Timings.load(root)
    calibration = limits.workload()
    scale = calibration / timings.calibration if timings.calibration else 1.0
    names = {ex.name for ex in chosen}
    timings.checks = {cid: t * scale for cid, t in timings.checks.items()
                      if course.exercise_of(Path(cid.split("::")[0])) not in names}
    for report in reports:
        for check in report.checks:
            if check.outcome == "passed":
                timings.checks[check.id] = min(check.duration, timings.checks.get(check.id, check.duration))
    timings.calibration = calibration
    return timings.save(root)


@contextlib.contextmanager
def _timed(point: Point) -> Iterator[None]:
    started = time.perf_counter()
    try:
        yield
    finally:
        point.duration = time.perf_counter() - started


def _checks(report: Report) -> list[CheckResult]:
    return [c for e in report.exercises for c in e.checks]


def shown(check_id: str) -> str:
    """A check as the self-check names it: `05_cnn test_x[1-0]`, which wraps at the space at 80 columns."""
    return f"{course.exercise_of(Path(check_id.split('::')[0]))} {check_id.rsplit('::', 1)[-1]}"


def _describe(check: CheckResult, message: str | None = None) -> str:
    message = check.message if message is None else message
    return f"{shown(check.id)}: {check.outcome}" + (f": {message}" if message else "")


# --- 1. the solutions pass ------------------------------------------------------------------------------

def _every_check_passes(report: Report, point: Point) -> None:
    checks = _checks(report)
    if not checks:
        point.fail("no checks were collected")
        return
    bad = [c for c in checks if c.outcome not in ("passed", "skipped")]
    for check in bad:
        point.fail(_describe(check))
    skipped = [c for c in checks if c.outcome == "skipped"]
    if not bad:
        point.details.insert(0, f"{len(checks) - len(skipped)} of {len(checks)} checks pass on solutions/")
    if skipped:
        point.details.append(f"{len(skipped)} skipped, not verified here: {skipped[0].message}")


# --- 2. the hidden checks fail on the stubs --------------------------------------------------------------

def _hidden_checks_fail(report: Report, chosen: Sequence[Exercise], point: Point) -> None:
    checks = _checks(report)
    hidden = [c for c in checks if c.hidden]
    for ex in chosen:
        if not any(c.exercise == ex.name for c in hidden):
            point.fail(f"{ex.name} has no hidden checks")
    for check in hidden:
        if check.outcome == "passed":
            point.fail(f"{shown(check.id)} passes on the untouched stub: it cannot fail")
    if point.ok:
        point.details.insert(0, f"all {len(hidden)} hidden checks fail on the untouched stubs")
    free = [c for c in checks if not c.hidden and c.outcome == "passed"]
    if free:
        point.details.append(f"note: {len(free)} public check(s) pass on the stubs (free points): "
                             + ", ".join(c.id for c in free))


# --- 3. determinism ---------------------------------------------------------------------------------------

def _identical(first: Report, second: Report, point: Point) -> None:
    one = {c.id: (c.outcome, c.points, c.message) for c in _checks(first)}
    two = {c.id: (c.outcome, c.points, c.message) for c in _checks(second)}
    for check_id in sorted(one.keys() | two.keys()):
        a, b = one.get(check_id), two.get(check_id)
        if a == b:
            continue
        if a is None or b is None:
            point.fail(f"{shown(check_id)}: only in run {1 if b is None else 2} (was the course edited meanwhile?)")
        else:
            point.fail(f"{shown(check_id)}: run 1 {_outcome(a)}, run 2 {_outcome(b)}")
    if point.ok:
        point.details.append(f"{len(one)} checks: same outcome, points and message in both runs")


def _outcome(entry: tuple[str, float, str]) -> str:
    outcome, points, message = entry
    return f"{outcome} ({points:g} pt)" + (f" {message!r}" if message else "")


# --- 4. thresholds under several seeds ----------------------------------------------------------------------

def _thresholds(first: Report, seeds: list[int], grade, point: Point) -> list[Threshold]:
    ids = [c.id for c in _checks(first) if c.thresholds]
    found: dict[tuple[str, str], Threshold] = {}
    reports = {seeds[0]: first}
    if ids and len(seeds) > 1:
        for seed in seeds[1:]:
            reports[seed] = grade(f"thresholds, seed {seed}", solutions=True, seed=seed, node_ids=ids)
    for seed, report in reports.items():
        results = {c.id: c for c in _checks(report)}
        for check_id in ids:
            check = results.get(check_id)
            if check is None:
                point.fail(f"{shown(check_id)}: did not run under seed {seed}")
                continue
            for record in check.thresholds:
                key = (check_id, record["what"])
                at_least = abs(record["margin"] - (record["value"] - record["bar"])) <= 1e-12 * max(
                    1.0, abs(record["value"]), abs(record["bar"]))
                t = found.setdefault(key, Threshold(check_id, record["what"], record["bar"], at_least))
                if seed not in t.margins or record["margin"] < t.margins[seed]:
                    t.margins[seed], t.values[seed] = record["margin"], record["value"]
            if check.outcome != "passed":
                for t in (t for (cid, _), t in found.items() if cid == check_id):
                    t.failed_seeds.append(seed)
                point.fail(f"{shown(check_id)} under seed {seed}: {check.outcome}: {check.message}")
    thresholds = sorted(found.values(), key=lambda t: (t.check, t.what))
    for t in thresholds:
        seed, margin = t.smallest
        missing = [s for s in seeds if s not in t.margins]
        line = (f"{shown(t.check)}: {t.what} {t.relation} {t.bar:g}: smallest margin {margin:+.4g} under seed {seed} "
                f"(value {t.values[seed]:.4g}); {len(seeds) - len(set(t.failed_seeds) | set(missing))}/{len(seeds)} "
                "seeds pass")
        if t.ok(seeds):
            point.details.append(line)
        else:
            point.fail(line)
    if not ids:
        point.details.append("no threshold checks (none called expect_at_least or expect_at_most)")
    return thresholds


# --- 5. the contract ---------------------------------------------------------------------------------

def _contract(root: Path, curriculum: Path, chosen: Sequence[Exercise], selected: bool, point: Point) -> None:
    found = contract.check(root, curriculum, chosen, selected)
    for problem in found.problems:
        point.fail(problem)
    if point.ok:
        point.details.append(found.summary)


# --- 6. the release -------------------------------------------------------------------------------------

def _release_is_clean(root: Path, chosen: Sequence[Exercise], point: Point) -> None:
    ready = []
    for ex in chosen:
        try:
            ex.module  # an unfinished exercise cannot be released; the others are still scanned
            ready.append(ex.name)
        except CourseError as error:
            point.fail(f"{ex.name} cannot be released: {error}")
    if not ready:
        return
    with tempfile.TemporaryDirectory(prefix="grader-release-") as tmp:
        try:
            # Point 2 graded the stubs already: the release need not grade them again.
            made = release.write_release(root, Path(tmp) / "release", ready, allow_modified_stubs=True)
        except CourseError as error:
            point.fail(f"the release cannot be made: {error}")
            return
        for leak in made.leaks:
            point.fail(str(leak))
        for warning in made.warnings:
            point.details.append(f"note: {warning}")
        if not made.leaks:
            point.details.insert(0, f"release of {len(ready)} exercise(s): {len(made.files)} files "
                                    f"({made.size / 1e6:.1f} MB) searched for {made.secrets.summary}: none found")


# --- 7. the translations ---------------------------------------------------------------------------------

def _translated(root: Path, point: Point) -> None:
    from grader import i18n

    problems = i18n.catalog_problems(root)
    for problem in problems:
        point.fail(problem)
    if not problems:
        point.details.append(f"every message of the grader and the checks is translated into "
                             f"{', '.join(i18n.LANGUAGES[1:])} (grader/locale/)")


# --- the report ----------------------------------------------------------------------------------------------

def render(report: SelfCheck, console: Console) -> None:
    """The points, then the thresholds, as lines (readable at 80 columns; names are never broken)."""
    console.print(Text(f"Self-check of {report.root}", style="bold"))
    for p in report.points:
        details = p.details[:SHOWN_DETAILS]
        if len(p.details) > SHOWN_DETAILS:
            details.append(f"... and {len(p.details) - SHOWN_DETAILS} more (see --json)")
        console.print(Text.assemble(("  ✔ " if p.ok else "  ✘ ", "green" if p.ok else "red"),
                                    (f"{p.number} {p.title}", "bold" if p.ok else "bold red"), f"  ({p.duration:.1f} s)"))
        if details:
            console.print(Padding(Text("\n".join(details)), (0, 0, 0, 6)))
    if report.thresholds:
        seeds = report.seeds
        console.print(Text(f"Thresholds on solutions/ under seeds {seeds[0]}..{seeds[-1]}", style="bold"))
        for t in report.thresholds:  # a few lines each: readable at 80 columns, names never broken
            seed, margin = t.smallest
            values = [t.values[s] for s in seeds if s in t.values]
            passed = len(seeds) - len(set(t.failed_seeds) | {s for s in seeds if s not in t.margins})
            console.print(Text.assemble(("  ✔ " if t.ok(seeds) else "  ✘ ", "green" if t.ok(seeds) else "red"),
                                        (shown(t.check), "bold")))
            console.print(Padding(Text.assemble(
                f"{t.what} {t.relation} {t.bar:g}\nvalues {min(values):.4g} .. {max(values):.4g}; smallest margin ",
                (f"{margin:+.4g} (seed {seed})", "green" if margin >= 0 else "red"),
                f"; {passed} / {len(seeds)} seeds passed"), (0, 0, 0, 6)))
    if report.timings is not None:
        console.print(f"The reference's time for every check is written to {report.timings}: commit it with the "
                      "course (time limits follow from it).")
    failed = [str(p.number) for p in report.points if not p.ok]
    verdict = (Text("Self-check passed: the course is ready to release", style="bold green") if not failed else
               Text(f"Self-check failed: point{'s' if len(failed) > 1 else ''} {', '.join(failed)}", style="bold red"))
    console.print(verdict, Text(f"  ({report.duration:.0f} s)"))
