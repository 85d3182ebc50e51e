"""Time `nbgrader autograde` against `grader batch` per submission, on the same exercise and the same code.

    python benchmarks/nbgrader_vs_batch.py [--exercise 05_cnn] [--students 2] [--repeat 3] [--threads N]

Half the submissions are the reference solution, half the untouched stub. nbgrader gets notebooks made by
`grader notebooks` (the source notebook, and the release notebook from `nbgrader generate_assignment`);
`grader batch` gets, as `<student>/<exercise>/<module>.py`, exactly the code those notebooks define
(`grader.nbcourse.notebook_code`). Each tool grades
- every submission with a command of its own (`nbgrader autograde EX --student S`, `grader batch` over a
  folder holding only S): what one late submission costs;
- all of them with one command, divided by their number: what a class costs per student.
Both tools' scores are printed side by side and must agree. Timings are wall clock, medians of `--repeat`
runs; commands run one after the other, the two tools alternating (jobs 1), so that both see the same machine. `--threads` is the torch threads of a batch grading
process (default: torch's own default, as in a notebook kernel). Without `grader batch` (an older grader)
it times `grader run EX --submission S` instead.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from grader import cli, course, nbcourse

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent


def sh(*args: str, cwd: Path, check: bool = True) -> float:
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}  # nbgrader runs `alembic`
    start = time.perf_counter()
    done = subprocess.run(args, cwd=cwd, env=env, capture_output=True, text=True, check=False)
    took = time.perf_counter() - start
    if check and done.returncode != 0:
        raise SystemExit(f"{' '.join(args)} failed ({done.returncode}):\n{done.stdout[-2000:]}\n{done.stderr[-2000:]}")
    return took


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--exercise", default="05_cnn")
    parser.add_argument("--students", type=int, default=2, help="submissions (half solution, half stub)")
    parser.add_argument("--repeat", type=int, default=1, help="runs of every measurement (medians are shown)")
    parser.add_argument("--threads", type=int, default=None, help="torch threads per batch process")
    args = parser.parse_args()
    import torch

    threads = args.threads or torch.get_num_threads()
    ex = course.select(ROOT, [args.exercise])[0]
    has_batch = "batch" in cli.COMMAND_MODULES
    students = [f"{'solution' if i % 2 == 0 else 'stub'}{i // 2 + 1}" for i in range(args.students)]

    with tempfile.TemporaryDirectory(prefix="nbgrader-vs-batch-") as tmp:
        tmp = Path(tmp)
        nb_course, subs = tmp / "course", tmp / "submissions"
        sh(str(BIN / "grader"), "notebooks", str(nb_course), ex.name, cwd=ROOT)
        sh(str(BIN / "nbgrader"), "generate_assignment", ex.name, cwd=nb_course)
        notebook_of = {"solution": nb_course / "source" / ex.name / f"{ex.name}.ipynb",
                       "stub": nb_course / "release" / ex.name / f"{ex.name}.ipynb"}
        for student in students:
            kind = student.rstrip("0123456789")
            target = nb_course / "submitted" / student / ex.name
            target.mkdir(parents=True)
            shutil.copy(notebook_of[kind], target / f"{ex.name}.ipynb")
            code = nbcourse.notebook_code(json.loads(notebook_of[kind].read_text()))
            (subs / student / ex.name).mkdir(parents=True)
            (subs / student / ex.name / f"{ex.module}.py").write_text(code)

        def batch_cmd(folder: Path, out: Path) -> list[str]:
            if has_batch:
                return [str(BIN / "grader"), "batch", str(folder), "--out", str(out), "-e", ex.name, "--jobs", "1",
                        "--threads", str(threads), "--force", "--no-histogram"]
            return [str(BIN / "grader"), "run", ex.name, "--submission", str(folder / students[0])]

        for student in students:
            shutil.copytree(subs / student, tmp / "alone" / student / student)
        runs_nb: dict[str, list[float]] = {s: [] for s in students}
        runs_batch: dict[str, list[float]] = {s: [] for s in students}
        class_nb, class_batch = [], []
        for _ in range(args.repeat):
            for student in students:
                runs_nb[student].append(sh(str(BIN / "nbgrader"), "autograde", ex.name, "--student", student,
                                           "--force", cwd=nb_course))
                alone = tmp / "alone" / student
                if has_batch:
                    runs_batch[student].append(sh(*batch_cmd(alone, tmp / "out-alone" / student), cwd=ROOT))
                else:
                    runs_batch[student].append(sh(str(BIN / "grader"), "run", ex.name, "--submission",
                                                  str(alone / student), cwd=ROOT, check=False))
            class_nb.append(sh(str(BIN / "nbgrader"), "autograde", ex.name, "--force", cwd=nb_course))
            if has_batch:
                class_batch.append(sh(*batch_cmd(subs, tmp / "out-all"), cwd=ROOT))
        one_nb = {s: statistics.median(t) for s, t in runs_nb.items()}
        one_batch = {s: statistics.median(t) for s, t in runs_batch.items()}
        all_nb = statistics.median(class_nb)
        all_batch = statistics.median(class_batch) if class_batch else float("nan")

        sh(str(BIN / "nbgrader"), "export", "--to", str(tmp / "nbgrader.csv"), cwd=nb_course)
        nb_scores = {r["student_id"]: float(r["score"]) for r in csv.DictReader((tmp / "nbgrader.csv").open())}
        batch_scores = {}
        if has_batch:
            for student in students:
                data = json.loads((tmp / "out-all" / f"{student}.json").read_text())
                batch_scores[student] = float(data.get("total", data.get("report", {}).get("total", "nan")))

    tool = "grader batch" if has_batch else "grader run --submission"
    print(f"{ex.name}, {len(students)} submissions, medians of {args.repeat} run(s), torch threads per batch "
          f"process: {threads}, {os.cpu_count()} CPUs")
    print(f"{'student':<12} {'nbgrader autograde':>20} {tool:>24} {'nbgrader score':>15} {'batch score':>12}")
    for student in students:
        print(f"{student:<12} {one_nb[student]:>18.1f} s {one_batch[student]:>22.1f} s "
              f"{nb_scores.get(student, float('nan')):>15g} {batch_scores.get(student, float('nan')):>12g}")
    print(f"{'median':<12} {statistics.median(one_nb.values()):>18.1f} s "
          f"{statistics.median(one_batch.values()):>22.1f} s   (one command per submission)")
    print(f"{'class/N':<12} {all_nb / len(students):>18.1f} s {all_batch / len(students):>22.1f} s   "
          "(one command for all, per submission)")
    if batch_scores and batch_scores != nb_scores:
        raise SystemExit(f"the scores differ: nbgrader {nb_scores}, batch {batch_scores}")


if __name__ == "__main__":
    main()
