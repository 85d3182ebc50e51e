"""The batch's output folder: one JSON file per student, written atomically when the student is done, and
the exports rebuilt from those files (grades.csv, histogram.png).

A student's file is the `--json` schema (`Report.to_dict("message")`: everything, hidden checks included)
plus the batch's own keys (student, submission_hash, grading_key, sandbox, ...). A rerun skips a student whose file holds the same submission hash and
grading key; everything else is graded again.
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
from datetime import datetime, timezone
from pathlib import Path

import grader
from grader import data
from grader.limits import TIMINGS
from grader.course import Exercise
from grader.results import Report, format_points, write_atomic

SCHEMA = "grader-batch/2"
SANDBOXED = "bubblewrap"  # a record's `sandbox` when it was graded in one; else why not


def result_path(out: Path, student: str) -> Path:
    return out / f"{student}.json"


def clean_stale(out: Path) -> list[Path]:
    """Remove the temporary files a killed run left behind (never a finished student's file)."""
    stale = [p for p in out.glob(".*.tmp") if p.is_file()]
    for path in stale:
        path.unlink(missing_ok=True)
    return stale


def grading_key(root: Path, exercises: list[Exercise], seed: int | None, device: str, limits: dict) -> str:
    """What, besides the submission, decides a grade: the grader (its version and its code), the course's
    configuration and data, the exercises and their check files, the seed, the device and the limits."""
    digest = hashlib.sha256()
    settings = {"grader": grader.__version__, "exercises": [ex.name for ex in exercises], "seed": seed,
                "device": device, "limits": {k: None if limits[k] is None else float(limits[k])
                                             for k in ("check_timeout", "submission_timeout", "memory_mb")}}
    digest.update(json.dumps(settings, sort_keys=True).encode())
    package = Path(grader.__file__).resolve().parent
    files = [("grader/" + p.relative_to(package).as_posix(), p) for p in sorted(package.rglob("*.py"))]
    files += [(name, root / name) for name in ("pyproject.toml", "exercises/conftest.py", TIMINGS)]
    files += [(f"exercises/{ex.name}/{p.name}", p) for ex in exercises for p in ex.check_files]
    files += [("datasets/SHA256SUMS", data.data_dir() / "SHA256SUMS")]
    for name, path in files:
        if path.is_file():
            digest.update(f"{name}\0".encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()


def load(path: Path) -> dict | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) and data.get("schema") == SCHEMA else None


def is_current(data: dict | None, submission_hash: str, key: str, sandboxed: bool = False) -> bool:
    """Whether a student's file holds this submission's grade as it would be graded now: `sandboxed`, a grade
    from without a sandbox is not (bubblewrap was installed since)."""
    return (bool(data) and data.get("submission_hash") == submission_hash and data.get("grading_key") == key
            and not (sandboxed and data.get("sandbox") != SANDBOXED))


def student_record(report: Report, *, student: str, entry: Path, submission_hash: str, key: str, sandbox: str,
                   events: list[str], output: bytes, output_total: int, processes: int, wall_time: float,
                   cpu_time: float = 0.0, time_limits: dict | None = None) -> dict:
    """The student's file: the full report (hidden checks included: it is the instructor's) and the batch's keys."""
    data = report.to_dict("message")
    kept = output.decode("utf-8", errors="replace")
    if output_total > len(output):
        kept += f"\n[... {output_total - len(output)} more bytes not kept]"
    data.update({
        "schema": SCHEMA,
        "student": student,
        "submission": str(entry),
        "submission_hash": submission_hash,
        "grading_key": key,
        "sandbox": sandbox,
        "graded_at": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "wall_time": round(wall_time, 3),
        "cpu_time": round(cpu_time, 3),
        "processes": processes,
        "time_limits": time_limits or {},
        "events": events,
        "output": kept,
    })
    return data


def report_of(record: dict) -> Report:
    """The report in a student's file (checked as untrusted JSON)."""
    return Report.from_dict(record)


def save(out: Path, student: str, data: dict) -> Path:
    """Write OUT/<student>.json atomically (as `write_json_atomic`, with the usual file permissions)."""
    path = result_path(out, student)
    write_atomic(path, (json.dumps(data, indent=2) + "\n").encode())
    return path


def collect(out: Path) -> list[dict]:
    """Every student's result in `out`, by student id."""
    found = [load(p) for p in sorted(out.glob("*.json")) if not p.name.startswith(".")]
    return sorted((d for d in found if d and "student" in d), key=lambda d: str(d["student"]))


def write_csv(out: Path, results: list[dict]) -> Path:
    """grades.csv: student, total, max_total, then one column of points per exercise."""
    names = sorted({e["name"] for d in results for e in d.get("exercises", [])})
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(["student", "total", "max_total", *names])
    for data in results:
        scores = {e["name"]: e["score"] for e in data.get("exercises", [])}
        writer.writerow([data["student"], format_points(data["total"]), format_points(data["max_total"]),
                         *(format_points(scores[n]) if n in scores else "" for n in names)])
    path = out / "grades.csv"
    write_atomic(path, buffer.getvalue().encode())
    return path


def write_histogram(out: Path, results: list[dict]) -> Path | None:
    """histogram.png: how many students reached each total (matplotlib, Agg backend)."""
    if not results:
        return None
    import matplotlib

    matplotlib.use("Agg")
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    totals = [float(d["total"]) for d in results]
    top = max(float(d["max_total"]) for d in results) or 1.0
    figure = Figure(figsize=(7, 4), dpi=100)
    axes = figure.subplots()
    bins = min(20, max(5, int(top)))
    axes.hist(totals, bins=bins, range=(0, top), color="#4c72b0", edgecolor="white")
    mean = sum(totals) / len(totals)
    axes.axvline(mean, color="#dd8452", linestyle="--", label=f"mean {mean:.1f}")
    axes.set_xlabel(f"total points (of {top:g})")
    axes.set_ylabel("students")
    axes.yaxis.set_major_locator(MaxNLocator(integer=True))
    axes.set_title(f"{len(totals)} students")
    axes.legend()
    figure.tight_layout()
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png")
    path = out / "histogram.png"
    write_atomic(path, buffer.getvalue())
    return path
