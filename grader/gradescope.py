"""Gradescope's results.json from a grading report (see docs/instructor-guide.md, "Gradescope").

    grader all --submission /autograder/submission --gradescope /autograder/results/results.json

Every check is one Gradescope test: its points, "passed" or "failed", its one-line message, and a
visibility: public checks "visible", hidden checks "after_published" (students see them once the
instructor publishes grades). A hidden check's name and message stay hidden even then (an opaque id and its
outcome) unless `--hidden-feedback message`. A skipped check is listed with no points on offer. Also usable on a batch result, and to report that grading itself failed:

    python -m grader.gradescope from-batch OUT/student.json /autograder/results/results.json
    python -m grader.gradescope failure /autograder/results/results.json "the grader stopped: ..."
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from grader.results import HIDDEN_FEEDBACK, Report, format_points, write_json_atomic

PUBLIC, HIDDEN = "visible", "after_published"


def results(report: Report, hidden_feedback: str = "outcome") -> dict:
    """The results.json document for `report`. With `hidden_feedback="outcome"` (the default) a hidden check is
    listed by an opaque id with its points and outcome only; "message" shows its name and message too."""
    tests = []
    for exercise in report.to_dict(hidden_feedback)["exercises"]:
        for check in exercise["checks"]:
            outcome, message = check["outcome"], check["message"]
            # A skipped check (a GPU check without a GPU) offers no points, as in the report's totals.
            status = "passed" if outcome in ("passed", "skipped") else "failed"
            output = message if outcome in ("passed", "failed") else f"{outcome}: {message}".rstrip(": ")
            tests.append({
                "name": f"{exercise['name']}: {check['id'].rsplit('::', 1)[-1]}",
                "score": check["points"],
                "max_score": 0.0 if outcome == "skipped" else check["max_points"],
                "status": status,
                "output": output,
                "tags": [exercise["name"]] + (["hidden"] if check["hidden"] else []),
                "visibility": HIDDEN if check["hidden"] else PUBLIC,
            })
    lines = [f"{format_points(report.total)} / {format_points(report.max_total)} points"]
    lines += [f"{e.name}: {format_points(e.score)} / {format_points(e.max_score)} ({e.status})" for e in report.exercises]
    lines += report.notes
    lines.append(f"seed {report.seed}, device {report.device}")
    return {
        "score": report.total,
        "execution_time": round(sum(e.duration for e in report.exercises)),
        "output": "\n".join(lines),
        "output_format": "text",
        "test_output_format": "text",
        "stdout_visibility": "hidden",
        "tests": tests,
    }


def write(report: Report, path: Path, hidden_feedback: str = "outcome") -> None:
    write_json_atomic(Path(path), results(report, hidden_feedback))


def write_failure(path: Path, message: str) -> None:
    """A results.json that says grading did not finish: score 0, the reason shown to the student."""
    write_json_atomic(Path(path), {"score": 0, "output": f"The autograder could not grade this submission: {message}",
                                   "output_format": "text", "stdout_visibility": "hidden", "tests": []})


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m grader.gradescope", description=__doc__.split("\n\n")[0])
    commands = parser.add_subparsers(dest="command", required=True)
    convert = commands.add_parser("from-batch", help="results.json from a `grader batch` student file")
    convert.add_argument("student_json", type=Path)
    convert.add_argument("results_json", type=Path)
    convert.add_argument("--hidden-feedback", choices=HIDDEN_FEEDBACK, default="outcome")
    failure = commands.add_parser("failure", help="results.json saying that grading failed")
    failure.add_argument("results_json", type=Path)
    failure.add_argument("message")
    args = parser.parse_args(argv)
    if args.command == "failure":
        write_failure(args.results_json, args.message)
        return 0
    try:
        data = json.loads(args.student_json.read_text(encoding="utf-8"))
        report = Report.from_dict(data)
    except (OSError, ValueError, KeyError, TypeError) as error:
        print(f"grader.gradescope: cannot read {args.student_json}: {error}", file=sys.stderr)
        return 2
    write(report, args.results_json, args.hidden_feedback)
    return 0


if __name__ == "__main__":
    sys.exit(main())
